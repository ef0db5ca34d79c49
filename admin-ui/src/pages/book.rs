//! `POST /bookings`: books from an instrument page's form and shows the owner's answer —
//! confirmed, held until a time, rejected with the reason, or a conflict with the nearest
//! free slots, each bookable in one click — with the fee quote.

use alliance_protocol::booking::BookingState;
use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::{
    Ctx, ErrorKind, Layout, PageForm, Refusal,
    instruments::{Fact, detail_page, pick, viewer},
    labels,
};
use crate::{
    AppState,
    backend::{ActionFailure, Backend, BookingOutcome, InstrumentDetail, QuoteView},
    booking_input::BookingForm,
    booking_input::{self, BookingInput},
    i18n::Strings,
    instrument_input::snake,
    render::Page,
    time,
    validate::{FieldError, Problem},
};

/// The refusal code of a taken slot.
pub(crate) const CONFLICT: &str = "conflict";

/// A free slot offered after a conflict, as a one-click form.
struct Alternative {
    label: String,
    start: String,
    booking_id: String,
}

/// One line of the quote table, amounts in yuan.
pub(crate) struct QuoteRow {
    pub item: String,
    pub quantity: String,
    pub materials: String,
    pub operating: String,
    pub labour: String,
    pub total: String,
}

pub(crate) struct QuoteTable {
    pub tier: &'static str,
    pub lines: Vec<QuoteRow>,
    pub total: QuoteRow,
}

#[derive(Template)]
#[template(path = "booking_result.html")]
struct ResultPage {
    layout: Layout,
    t: &'static Strings,
    instrument_name: String,
    instrument_href: String,
    /// `success`, `info` or `error`.
    alert: &'static str,
    headline: String,
    /// The owner's reason (rejection, refusal).
    reason: String,
    hold_until: String,
    facts: Vec<Fact>,
    is_conflict: bool,
    alternatives: Vec<Alternative>,
    /// What every alternative's form sends again.
    form: BookingForm,
    mode: String,
    csrf: String,
    quote: Option<QuoteTable>,
}

/// The quote as a table in the visitor's language.
pub(crate) fn quote_table(ctx: &Ctx, quote: &QuoteView) -> QuoteTable {
    let c = ctx.t.cat;
    let quantity = |unit: &str, n: u32| match unit {
        "hour" => ctx.t.book.length(n),
        "sample" => format!("{n} {}", c.unit_sample),
        "session" => format!("{n} {}", c.unit_session),
        _ => n.to_string(),
    };
    QuoteTable {
        tier: labels::tier(c, quote.tier),
        lines: quote
            .lines
            .iter()
            .map(|l| QuoteRow {
                item: pick(ctx.lang, &l.item_zh, &l.item_en),
                quantity: quantity(&l.unit, l.quantity),
                materials: labels::yuan(l.amount.materials_fen),
                operating: labels::yuan(l.amount.operating_fen),
                labour: labels::yuan(l.amount.labour_fen),
                total: labels::yuan(l.amount.total_fen()),
            })
            .collect(),
        total: QuoteRow {
            item: ctx.t.book.total.to_owned(),
            quantity: String::new(),
            materials: labels::yuan(quote.total.materials_fen),
            operating: labels::yuan(quote.total.operating_fen),
            labour: labels::yuan(quote.total.labour_fen),
            total: labels::yuan(quote.total.total_fen()),
        },
    }
}

/// Whether an outcome says the slot was taken.
pub(crate) fn is_conflict(outcome: &BookingOutcome) -> bool {
    outcome.code.as_deref() == Some(CONFLICT)
        || (!outcome.alternatives.is_empty()
            && !matches!(
                outcome.booking.status,
                BookingState::Confirmed | BookingState::Held
            ))
}

fn base_page(ctx: &Ctx, d: &InstrumentDetail, form: BookingForm, csrf: &str) -> ResultPage {
    ResultPage {
        layout: ctx.layout("bookings"),
        t: ctx.t,
        instrument_name: pick(ctx.lang, &d.summary.name_zh, &d.summary.name_en),
        instrument_href: format!("/instruments/{}", d.summary.id),
        alert: "info",
        headline: String::new(),
        reason: String::new(),
        hold_until: String::new(),
        facts: Vec::new(),
        is_conflict: false,
        alternatives: Vec::new(),
        mode: snake(form.mode),
        form,
        csrf: csrf.to_owned(),
        quote: None,
    }
}

fn answer(
    ctx: &Ctx,
    d: &InstrumentDetail,
    form: BookingForm,
    csrf: &str,
    o: &BookingOutcome,
) -> Response {
    let b = &o.booking;
    let t = ctx.t.book;
    let mut page = base_page(ctx, d, form, csrf);
    page.is_conflict = is_conflict(o);
    let (alert, headline) = if page.is_conflict {
        ("error", t.conflict)
    } else {
        match b.status {
            BookingState::Confirmed => ("success", t.confirmed),
            BookingState::Held => ("info", t.held),
            BookingState::Requested => ("info", t.requested),
            BookingState::Rejected => ("error", t.rejected),
            other => ("info", t.status(other)),
        }
    };
    page.alert = alert;
    page.headline = headline.to_owned();
    page.reason = match (
        ctx.lang,
        o.code.as_deref().and_then(labels::refusal_in_english),
    ) {
        (crate::i18n::Lang::En, Some(english)) => english.to_owned(),
        _ => b.note.clone(),
    };
    page.hold_until = b
        .hold_until
        .filter(|_| b.status == BookingState::Held)
        .map(|u| time::format_unix(u, ctx.lang))
        .unwrap_or_default();
    if !page.is_conflict {
        page.facts = vec![
            Fact {
                label: t.booking_id,
                value: b.booking_id.clone(),
            },
            Fact {
                label: t.col_time,
                value: time::format_span(b.start, b.end, ctx.lang),
            },
            Fact {
                label: t.f_mode,
                value: labels::mode(ctx.t.cat, b.mode).to_owned(),
            },
            Fact {
                label: t.f_samples,
                value: b.samples.to_string(),
            },
            Fact {
                label: t.col_status,
                value: t.status(b.status).to_owned(),
            },
        ];
    }
    page.alternatives = o
        .alternatives
        .iter()
        .map(|(start, end)| Alternative {
            label: time::format_span(*start, *end, ctx.lang),
            start: time::local_input(*start),
            booking_id: booking_input::new_booking_id(),
        })
        .collect();
    page.quote = o.quote.as_ref().map(|q| quote_table(ctx, q));
    let status = if page.is_conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    Page::with_status(status, page).into_response()
}

/// The answer when the owner could not be asked or refused.
fn failure_page(
    ctx: &Ctx,
    d: &InstrumentDetail,
    form: BookingForm,
    csrf: &str,
    status: StatusCode,
    headline: &str,
    reason: String,
) -> Response {
    let mut page = base_page(ctx, d, form, csrf);
    page.alert = "error";
    page.headline = headline.to_owned();
    page.reason = reason;
    Page::with_status(status, page).into_response()
}

/// `POST /bookings`: the booking form of an instrument page.
pub(super) async fn submit<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(mut input): PageForm<BookingInput>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, &input.csrf)?;
    let Some(detail) = state.backend.instrument(input.instrument_id.trim()).await else {
        return Err(ctx.refuse(ErrorKind::NotFound));
    };
    let (form, asked) = match input.to_form(&detail.record.service_modes) {
        Ok(read) => read,
        Err(errors) => {
            let ask = viewer(&state, &ctx, &detail, None, None).await;
            return Ok(detail_page(&ctx, &detail, ask, &input, errors));
        }
    };
    let csrf = session.csrf_token.as_str();
    let booked = state
        .backend
        .book(&session.account, asked.ask, asked.booking_id)
        .await;
    match booked {
        Ok(outcome) => Ok(answer(&ctx, &detail, form, csrf, &outcome)),
        Err(ActionFailure::Invalid { field, message }) => {
            // Nothing was booked: a new id keeps the owner from repeating its answer.
            input.booking_id.clear();
            let error = FieldError::new(&field, Problem::Other(message));
            let ask = viewer(&state, &ctx, &detail, None, None).await;
            Ok(detail_page(&ctx, &detail, ask, &input, vec![error]))
        }
        Err(ActionFailure::Unreachable) => Ok(failure_page(
            &ctx,
            &detail,
            form,
            csrf,
            StatusCode::SERVICE_UNAVAILABLE,
            ctx.t.book.unreachable,
            String::new(),
        )),
        Err(ActionFailure::Refused { message, .. }) => Ok(failure_page(
            &ctx,
            &detail,
            form,
            csrf,
            StatusCode::CONFLICT,
            ctx.t.book.refused,
            message,
        )),
        Err(ActionFailure::NotFound) => Err(ctx.refuse(ErrorKind::NotFound)),
        Err(ActionFailure::Forbidden) => Err(ctx.refuse(ErrorKind::Forbidden)),
        Err(ActionFailure::Internal(detail)) => {
            tracing::error!(%detail, "booking failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}
