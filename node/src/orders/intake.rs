//! What an owner takes as an order: one its own offer stands behind. A home names the
//! offer it accepted; the owner checks that offer is its own, still standing, made in
//! time for the same need, and that instrument, mode, service item and price are the
//! ones it signed — a home cannot order at a price or on an instrument it chose.

use alliance_protocol::{InstitutionId, order::OrderPlaced, record::ServiceMode};

use crate::board::view::BoardView;

/// Why an order does not match the owner's offer (shown to the home).
pub(super) fn mismatch(
    board: &BoardView,
    own: &InstitutionId,
    placed: &OrderPlaced,
) -> Option<String> {
    let need_id = format!("{}/{}", placed.home, placed.order_id);
    let Some(offer) = board.offer(&need_id, own) else {
        return Some(format!("{own} made no offer for {need_id}"));
    };
    let need = board.need(&need_id);
    let checks = [
        (offer.withdrawn, "the offer was withdrawn"),
        (
            offer.revision < placed.offer_revision,
            "the order names an offer revision never made",
        ),
        (
            offer.mode != ServiceMode::StaffRun,
            "the offer is not for entrusted testing",
        ),
        (
            offer.instrument_local_id != placed.instrument_local_id,
            "the instrument is not the one offered",
        ),
        (
            offer.service_item != placed.service_item,
            "the service item is not the one offered",
        ),
        (
            offer.price_fen != placed.price_fen,
            "the price is not the one offered",
        ),
        (
            !board.in_time(&offer),
            "the offer came after the need closed",
        ),
        (
            need.as_ref()
                .is_some_and(|n| placed.sample_count() > n.sample_count),
            "more samples than the need asked for",
        ),
    ];
    checks
        .into_iter()
        .find(|(failed, _)| *failed)
        .map(|(_, why)| why.to_owned())
}
