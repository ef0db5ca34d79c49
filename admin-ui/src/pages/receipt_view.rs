//! What the receipt pages share: a usage receipt as people read it (Beijing time,
//! effective minutes as preparation + test + post-processing, fees in yuan with their
//! parts), a rating as stars, and how a failed receipt operation shows on a form page.

use axum::http::StatusCode;

use super::{Ctx, Refusal, encode_component, instruments::pick, labels};
use crate::{
    backend::{ActionFailure, ReceiptView},
    i18n::receipts::stars,
    time,
    validate::{FieldError, Problem},
};

/// A receipt, every value ready to show.
pub(super) struct ReceiptItem {
    pub receipt_id: String,
    pub owner: String,
    /// The owner's institution id.
    pub owner_id: String,
    pub instrument: String,
    pub instrument_href: String,
    /// Empty for a session without a booking.
    pub booking_id: String,
    pub user: String,
    pub user_id: String,
    pub home: String,
    pub tier: &'static str,
    pub time: String,
    /// `120 分钟`.
    pub effective: String,
    /// `准备 10 + 测试 100 + 后处理 10`.
    pub effective_parts: String,
    pub samples: u32,
    pub fees_total: String,
    /// `材料费 100.00 · 运行费 200.00 · 人工费 50.00`.
    pub fees_parts: String,
    pub external: bool,
    pub issued_at: String,
}

pub(super) fn item(ctx: &Ctx, r: &ReceiptView) -> ReceiptItem {
    let t = ctx.t.receipts;
    let total = u64::from(r.preparation_minutes)
        + u64::from(r.test_minutes)
        + u64::from(r.post_processing_minutes);
    ReceiptItem {
        receipt_id: r.receipt_id.clone(),
        owner: pick(ctx.lang, &r.owner_name_zh, &r.owner_name_en),
        owner_id: r.owner.clone(),
        instrument: pick(ctx.lang, &r.instrument_name_zh, &r.instrument_name_en),
        instrument_href: format!("/instruments/{}", r.instrument_id),
        booking_id: r.booking_id.clone(),
        user: r.user_name.clone(),
        user_id: r.user_id.clone(),
        home: r.home.clone(),
        tier: labels::tier(ctx.t.cat, r.tier),
        time: time::format_span(r.start, r.end, ctx.lang),
        effective: format!("{total} {}", ctx.t.book.unit_minutes),
        effective_parts: format!(
            "{} {} + {} {} + {} {}",
            t.preparation,
            r.preparation_minutes,
            t.test,
            r.test_minutes,
            t.post_processing,
            r.post_processing_minutes
        ),
        samples: r.samples,
        fees_total: labels::yuan(r.fees.total_fen()),
        fees_parts: format!(
            "{} {} · {} {} · {} {}",
            t.materials,
            labels::yuan(r.fees.materials_fen),
            t.operating,
            labels::yuan(r.fees.operating_fen),
            t.labour,
            labels::yuan(r.fees.labour_fen)
        ),
        external: r.external,
        issued_at: time::format_unix(r.issued_at, ctx.lang),
    }
}

/// A rating as the pages draw it: the stars, and what a screen reader says instead.
pub(super) struct Stars {
    pub drawn: String,
    pub label: String,
}

pub(super) fn rating(ctx: &Ctx, rating: u8) -> Stars {
    Stars {
        drawn: stars(rating),
        label: ctx.t.receipts.stars_label(rating),
    }
}

/// The address of a receipt's answer form: `confirm` or `dispute`.
pub(super) fn answer_url(owner: &str, receipt_id: &str, answer: &str) -> String {
    format!(
        "/receipts/{}/{}/{answer}",
        encode_component(owner),
        encode_component(receipt_id)
    )
}

/// Problems to show beside a form's fields, and a message with its status.
pub(super) type Shown = (Vec<FieldError>, Option<(StatusCode, String)>);

/// What a failed receipt operation shows on a form page: the node's problem beside its
/// field when the form shows that field (a `facts.` prefix is ignored), else a message with
/// its status; the failures that have a page of their own end the handler.
pub(super) fn failure(
    ctx: &Ctx,
    failure: ActionFailure,
    shown: &[&str],
    what: &str,
) -> Result<Shown, Refusal> {
    match failure {
        ActionFailure::Invalid { field, message } => {
            let field = field.strip_prefix("facts.").unwrap_or(&field);
            if shown.contains(&field) {
                let error = FieldError::new(field, Problem::Other(message));
                Ok((vec![error], None))
            } else {
                Ok((
                    Vec::new(),
                    Some((StatusCode::UNPROCESSABLE_ENTITY, message)),
                ))
            }
        }
        other => super::bookings::failure_message(ctx, other, what).map(|e| (Vec::new(), Some(e))),
    }
}
