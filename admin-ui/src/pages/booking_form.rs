//! The booking box of an instrument page: the form for a signed-in user, a sign-in link for
//! a visitor, or why the instrument takes no bookings.

use alliance_protocol::{FeeUnit, InstrumentStatus, ServiceMode};

use super::{Ctx, FormErrors, instruments::Choice, labels};
use crate::{
    backend::InstrumentDetail,
    booking_input::{self, BookingInput},
    instrument_input::snake,
    validate::FieldError,
};

/// Fields the form shows an error beside.
const SHOWN: [&str; 6] = [
    "start",
    "minutes",
    "mode",
    "samples",
    "purpose",
    "service_item",
];

/// Length chosen when the visitor has not chosen one.
const DEFAULT_MINUTES: &str = "60";

/// What the instrument page shows under "Book time"; exactly one part is set.
pub(crate) struct BookingBox {
    /// Why this instrument takes no bookings.
    pub closed: Option<&'static str>,
    /// Not signed in: the sign-in link, coming back here.
    pub sign_in_href: Option<String>,
    pub form: Option<BookingFormView>,
    /// Self-operated use is offered but not to this user (no training known here).
    pub untrained: bool,
}

/// The form as the template fills it.
pub(crate) struct BookingFormView {
    pub csrf: String,
    pub instrument_id: String,
    pub booking_id: String,
    pub start: String,
    pub lengths: Vec<Choice>,
    pub modes: Vec<Choice>,
    /// The instrument's service items (priced by the hour or the sample), to choose one.
    pub items: Vec<Choice>,
    pub samples: String,
    pub purpose: String,
    pub errors: FormErrors,
    pub other_errors: Vec<String>,
}

fn choice(value: String, label: String, current: &str) -> Choice {
    Choice {
        selected: value == current,
        value,
        label,
    }
}

/// The booking box of `d`, keeping what was typed in `input` and showing `errors`.
pub(crate) fn booking_box(
    ctx: &Ctx,
    d: &InstrumentDetail,
    trained: bool,
    input: &BookingInput,
    errors: Vec<FieldError>,
) -> BookingBox {
    let offered = booking_input::offered(&d.record.service_modes);
    // Self-operated use only for those trained on it (the owner checks it again).
    let signed_in = ctx.session.is_some();
    let modes: Vec<ServiceMode> = offered
        .iter()
        .copied()
        .filter(|m| trained || !signed_in || *m != ServiceMode::SelfOperated)
        .collect();
    let untrained = offered.len() != modes.len();
    let closed = if d.record.status == InstrumentStatus::Retired {
        Some(ctx.t.book.retired)
    } else if offered.is_empty() {
        Some(ctx.t.book.no_modes)
    } else if modes.is_empty() {
        Some(ctx.t.book.training_first)
    } else {
        None
    };
    let session = ctx.session.as_ref();
    let mut part = BookingBox {
        closed,
        sign_in_href: None,
        form: None,
        untrained,
    };
    if part.closed.is_some() {
        return part;
    }
    let Some(session) = session else {
        part.sign_in_href = Some(format!("{}%23book", ctx.login_href()));
        return part;
    };
    let minutes = if input.minutes.is_empty() {
        DEFAULT_MINUTES
    } else {
        input.minutes.as_str()
    };
    // One offered mode needs no choosing.
    let mode = match modes.as_slice() {
        [only] if input.mode.is_empty() => snake(*only),
        _ => input.mode.clone(),
    };
    let errors = FormErrors::new(ctx.t, errors);
    part.form = Some(BookingFormView {
        csrf: session.csrf_token.clone(),
        instrument_id: d.summary.id.clone(),
        booking_id: if input.booking_id.is_empty() {
            booking_input::new_booking_id()
        } else {
            input.booking_id.clone()
        },
        start: input.start.clone(),
        lengths: lengths(d)
            .into_iter()
            .map(|m| choice(m.to_string(), ctx.t.book.length(m), minutes))
            .collect(),
        modes: modes
            .iter()
            .map(|m| choice(snake(*m), labels::mode(ctx.t.cat, *m).to_owned(), &mode))
            .collect(),
        items: service_items(ctx, d, &input.service_item),
        samples: input.samples.clone(),
        purpose: input.purpose.clone(),
        other_errors: errors.other(&SHOWN),
        errors,
    });
    part
}

/// The lengths to offer: those on the owner's grid up to its longest booking (with the
/// grid itself and the longest), or the common ones when the owner does not say.
fn lengths(d: &InstrumentDetail) -> Vec<u32> {
    let Some(w) = d.window else {
        return booking_input::lengths().collect();
    };
    let grid = w.granularity_minutes.max(1);
    let mut fit: Vec<u32> = booking_input::lengths()
        .filter(|m| m.is_multiple_of(grid) && *m <= w.max_duration_minutes)
        .chain([grid, w.max_duration_minutes - w.max_duration_minutes % grid])
        .filter(|m| *m > 0)
        .collect();
    fit.sort_unstable();
    fit.dedup();
    fit
}

/// The service items to choose between: every fee item priced by the hour or the sample,
/// with its unit (the owner checks that it fits the mode chosen). One needs no choosing.
fn service_items(ctx: &Ctx, d: &InstrumentDetail, current: &str) -> Vec<Choice> {
    let items: Vec<_> = d
        .record
        .fees
        .iter()
        .filter(|f| f.unit != FeeUnit::Session)
        .collect();
    let current = match items.as_slice() {
        [only] if current.is_empty() => only.item_zh.as_str(),
        _ => current,
    };
    items
        .iter()
        .map(|f| {
            let label = match ctx.lang {
                crate::i18n::Lang::En if !f.item_en.is_empty() => f.item_en.clone(),
                _ => f.item_zh.clone(),
            };
            choice(
                f.item_zh.clone(),
                format!("{label}（{}）", labels::unit(ctx.t.cat, f.unit)),
                current,
            )
        })
        .collect()
}
