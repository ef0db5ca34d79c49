//! `/manage/bookings/{home}/{booking_id}/complete`: an instrument manager records what
//! actually happened in a booked use — actual times, preparation, test and post-processing
//! minutes, samples, a note — prefilled from the booking; the node completes the booking
//! and issues its usage receipt.

use alliance_protocol::booking::BookingState;
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, FormErrors, Layout, PageForm, Refusal, encode_component, instruments::pick,
    labels, receipt_view,
};
use crate::{
    AppState,
    auth::BOOKING_MANAGERS,
    backend::{Backend, ManagedBooking},
    i18n::Strings,
    receipt_input::{FACTS_FIELDS, FactsInput},
    render::Page,
    time,
    validate::FieldError,
};

/// The booking as the form page recalls it.
struct Booked {
    booking_id: String,
    instrument: String,
    time: String,
    user: String,
    home: String,
    tier: &'static str,
    mode: &'static str,
    samples: u32,
    purpose: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "complete.html")]
struct CompletePage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    action: String,
    booked: Booked,
    /// Whether the booking's state allows recording its use.
    completable: bool,
    error: Option<String>,
    facts: FactsInput,
    errors: FormErrors,
    other_errors: Vec<String>,
}

/// Whether the use of a booking in `status` may be recorded.
fn completable(status: BookingState) -> bool {
    matches!(status, BookingState::Confirmed | BookingState::InUse)
}

/// The booking `{home}/{booking_id}` of one of this institution's instruments, or the
/// 404 page.
async fn find<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    home: &str,
    booking_id: &str,
) -> Result<ManagedBooking, Refusal> {
    state
        .backend
        .managed_booking(home, booking_id)
        .await
        .ok_or_else(|| ctx.refuse(ErrorKind::NotFound))
}

/// What the page shows besides the booking.
struct View {
    facts: FactsInput,
    errors: Vec<FieldError>,
    /// A refusal, with its status.
    error: Option<(StatusCode, String)>,
}

fn render(ctx: &Ctx, csrf: &str, b: &ManagedBooking, view: View) -> Response {
    let t = ctx.t;
    let booked = Booked {
        booking_id: b.booking_id.clone(),
        instrument: pick(ctx.lang, &b.instrument_name_zh, &b.instrument_name_en),
        time: time::format_span(b.start, b.end, ctx.lang),
        user: b.user_name.clone(),
        home: pick(ctx.lang, &b.home_name_zh, &b.home_name_en),
        tier: labels::tier(t.cat, b.tier),
        mode: labels::mode(t.cat, b.mode),
        samples: b.samples,
        purpose: b.purpose.clone(),
        status: t.book.status(b.status),
    };
    let errors = FormErrors::new(t, view.errors);
    let status = errors.status(view.error.as_ref().map(|(status, _)| *status));
    let page = CompletePage {
        layout: ctx.layout("manage"),
        t,
        csrf: csrf.to_owned(),
        action: format!(
            "/manage/bookings/{}/{}/complete",
            encode_component(&b.home),
            encode_component(&b.booking_id)
        ),
        booked,
        completable: completable(b.status),
        error: view.error.map(|(_, message)| message),
        facts: view.facts,
        other_errors: errors.other(&FACTS_FIELDS),
        errors,
    };
    Page::with_status(status, page).into_response()
}

/// `GET /manage/bookings/{home}/{booking_id}/complete`: the form, prefilled from the
/// booking; a booking whose use cannot be recorded now says so (409).
pub(super) async fn form<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, booking_id)): Path<(String, String)>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    let booking = find(&state, &ctx, &home, &booking_id).await?;
    let error = (!completable(booking.status)).then(|| {
        let message = ctx.t.receipts.not_completable.to_owned();
        (StatusCode::CONFLICT, message)
    });
    let view = View {
        facts: FactsInput::from_booking(&booking),
        errors: Vec::new(),
        error,
    };
    Ok(render(&ctx, &session.csrf_token, &booking, view))
}

/// The completion form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct CompleteForm {
    csrf: String,
    #[serde(flatten)]
    facts: FactsInput,
}

/// `POST /manage/bookings/{home}/{booking_id}/complete`.
pub(super) async fn submit<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, booking_id)): Path<(String, String)>,
    PageForm(form): PageForm<CompleteForm>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    ctx.check_csrf(session, &form.csrf)?;
    let csrf = session.csrf_token.as_str();
    let booking = find(&state, &ctx, &home, &booking_id).await?;
    let facts = match form.facts.to_facts(ctx.t) {
        Ok(facts) => facts,
        Err(errors) => {
            let view = View {
                facts: form.facts,
                errors,
                error: None,
            };
            return Ok(render(&ctx, csrf, &booking, view));
        }
    };
    let (errors, error) = match state
        .backend
        .complete_booking(&session.account, &home, &booking_id, facts)
        .await
    {
        Ok(_) => return Ok(Redirect::to("/manage/bookings?notice=completed").into_response()),
        Err(failure) => receipt_view::failure(&ctx, failure, &FACTS_FIELDS, "complete")?,
    };
    let view = View {
        facts: form.facts,
        errors,
        error,
    };
    Ok(render(&ctx, csrf, &booking, view))
}
