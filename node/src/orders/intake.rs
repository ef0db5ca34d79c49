//! What an owner takes as an order: one its own offer stands behind. A home names the
//! offer it accepted; the owner checks that offer is its own, still standing, made in
//! time for the same need, and that instrument, mode, service item and price are the
//! ones it signed — a home cannot order at a price or on an instrument it chose.

use alliance_protocol::{InstitutionId, Need, NeedState, order::OrderPlaced, record::ServiceMode};

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
            need.as_deref().is_some_and(|n| closed_for(n, own)),
            "the need was withdrawn, or accepted for another institution",
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

/// Whether `need`, as held here, rules out an order with `own`: withdrawn, or accepted
/// for another institution. (The home places the order before it signs the acceptance,
/// so an order may arrive while the need still shows open; the owner checks again
/// before the samples are taken in.)
pub(super) fn closed_for(need: &Need, own: &InstitutionId) -> bool {
    match &need.state {
        NeedState::Open => false,
        NeedState::Withdrawn { .. } => true,
        NeedState::Accepted { institution, .. } => institution != own,
    }
}
