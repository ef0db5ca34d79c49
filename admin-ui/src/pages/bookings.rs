//! `/bookings` ("my bookings"): the signed-in user's bookings on any institution's
//! instruments with their status, time, quote and the owner's note; cancelling one; the
//! private calendar feed; the notification inbox.

use alliance_protocol::booking::BookingState;
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header::HOST},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, Layout, PageForm, Refusal, day_filter::DayFilter, encode_component,
    instruments::pick, labels,
};
use crate::{
    AppState,
    backend::{ActionFailure, Backend, MyBooking, Session, StartSpan},
    i18n::Strings,
    render::Page,
    time,
};

/// The CSS modifier of a status badge.
pub(crate) fn status_class(status: BookingState) -> &'static str {
    match status {
        BookingState::Requested | BookingState::Held => "pending",
        BookingState::Confirmed | BookingState::InUse | BookingState::Completed => "active",
        BookingState::Rejected | BookingState::Cancelled | BookingState::NoShow => "disabled",
    }
}

/// Whether the user may still cancel a booking in `status`.
pub(crate) fn cancellable(status: BookingState) -> bool {
    matches!(
        status,
        BookingState::Requested | BookingState::Held | BookingState::Confirmed
    )
}

struct Row {
    booking_id: String,
    instrument_href: String,
    instrument: String,
    institution: String,
    time: String,
    mode: &'static str,
    samples: u32,
    status: &'static str,
    status_class: &'static str,
    hold_until: String,
    quote: String,
    note: String,
    cancel_href: Option<String>,
}

struct Notice {
    at: String,
    instrument: String,
    status: &'static str,
    status_class: &'static str,
    note: String,
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct BookingsPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    /// This page of the bookings, latest start first.
    rows: Vec<Row>,
    total: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
    /// The day filter as typed.
    from: String,
    to: String,
    feed_url: String,
    webcal_url: String,
    /// The newest notifications, at most [`INBOX_SHOWN`].
    inbox: Vec<Notice>,
    inbox_total: usize,
}

/// Bookings on one page.
const PER_PAGE: usize = 20;
/// Notifications shown, newest first.
const INBOX_SHOWN: usize = 20;

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
    /// Where the page of bookings starts.
    #[serde(default)]
    offset: usize,
    /// Bookings starting from this day (`YYYY-MM-DD`, Beijing time), inclusive.
    #[serde(default)]
    from: String,
    /// … up to this day, inclusive.
    #[serde(default)]
    to: String,
}

fn row(ctx: &Ctx, b: &MyBooking) -> Row {
    let t = ctx.t.book;
    Row {
        booking_id: b.booking_id.clone(),
        instrument_href: format!("/instruments/{}", b.instrument_id),
        instrument: pick(ctx.lang, &b.instrument_name_zh, &b.instrument_name_en),
        institution: pick(ctx.lang, &b.institution_name_zh, &b.institution_name_en),
        time: time::format_span(b.start, b.end, ctx.lang),
        mode: labels::mode(ctx.t.cat, b.mode),
        samples: b.samples,
        status: t.status(b.status),
        status_class: status_class(b.status),
        hold_until: b
            .hold_until
            .filter(|_| b.status == BookingState::Held)
            .map(|u| time::format_unix(u, ctx.lang))
            .unwrap_or_default(),
        quote: if b.quote_fen > 0 {
            labels::yuan(b.quote_fen)
        } else {
            t.quote_pending.to_owned()
        },
        note: b.note.clone(),
        cancel_href: cancellable(b.status)
            .then(|| format!("/bookings/{}/cancel", encode_component(&b.booking_id))),
    }
}

/// The address calendar apps fetch: this site as the visitor reached it, or just the path.
fn feed_urls(headers: &HeaderMap, secure: bool, token: &str) -> (String, String) {
    let path = format!("/feeds/{token}.ics");
    let host = ["x-forwarded-host", HOST.as_str()]
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && b != b'/'));
    match host {
        Some(host) => {
            let scheme = if secure { "https" } else { "http" };
            (
                format!("{scheme}://{host}{path}"),
                format!("webcal://{host}{path}"),
            )
        }
        None => (path, String::new()),
    }
}

async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    headers: &HeaderMap,
    session: &Session,
    notice: Option<&'static str>,
    error: Option<(StatusCode, String)>,
    (offset, dates): (usize, DayFilter),
) -> Response {
    let account = &session.account;
    let (from, to) = dates.bounds();
    let (bookings, notifications, token) = tokio::join!(
        state
            .backend
            .my_bookings_page(account, StartSpan { from, to }, offset, PER_PAGE),
        state.backend.notifications_page(account, 0, INBOX_SHOWN),
        state.backend.feed_token(account),
    );
    let (feed_url, webcal_url) = feed_urls(headers, state.options.secure_cookies, &token);
    let inbox_total = notifications.total;
    let mut inbox = Vec::new();
    for n in &notifications.items {
        let instrument = match state.backend.my_booking(account, &n.booking_id).await {
            Some(b) => pick(ctx.lang, &b.instrument_name_zh, &b.instrument_name_en),
            None => n.instrument_id.clone(),
        };
        inbox.push(Notice {
            at: time::format_unix(n.at, ctx.lang),
            instrument,
            status: ctx.t.book.status(n.status),
            status_class: status_class(n.status),
            note: n.note.clone(),
        });
    }
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let total = bookings.total;
    let href = |at: usize| format!("/bookings?{}offset={at}#my-list", dates.query());
    let page = BookingsPage {
        layout: ctx.layout("bookings"),
        t: ctx.t,
        csrf: session.csrf_token.clone(),
        notice,
        error,
        rows: bookings.items.iter().map(|b| row(ctx, b)).collect(),
        total,
        prev_href: (offset > 0 && total > 0)
            .then(|| href(offset.min(total).saturating_sub(PER_PAGE))),
        next_href: (offset.saturating_add(PER_PAGE) < total)
            .then(|| href(offset.saturating_add(PER_PAGE))),
        from: dates.from.clone(),
        to: dates.to.clone(),
        feed_url,
        webcal_url,
        inbox,
        inbox_total,
    };
    Page::with_status(status, page).into_response()
}

/// `GET /bookings`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(notice): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let dates = DayFilter::parse(&notice.from, &notice.to)
        .ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?;
    let shown = (notice.offset, dates);
    let notice = (notice.notice == "cancelled").then_some(ctx.t.book.cancelled);
    Ok(render(&state, &ctx, &headers, session, notice, None, shown).await)
}

/// The cancel form of one booking.
#[derive(Debug, Deserialize)]
pub(super) struct CancelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /bookings/{booking_id}/cancel`.
pub(super) async fn cancel<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(booking_id): Path<String>,
    PageForm(form): PageForm<CancelForm>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, &form.csrf)?;
    let error = match state
        .backend
        .cancel_booking(&session.account, &booking_id, form.reason.trim())
        .await
    {
        Ok(_) => return Ok(Redirect::to("/bookings?notice=cancelled").into_response()),
        Err(failure) => failure_message(&ctx, failure, "cancel")?,
    };
    let shown = (0, DayFilter::default());
    Ok(render(&state, &ctx, &headers, session, None, Some(error), shown).await)
}

/// What a failed booking operation shows on its page (a status and a message), or the
/// refusal page for the failures that have one.
pub(super) fn failure_message(
    ctx: &Ctx,
    failure: ActionFailure,
    what: &str,
) -> Result<(StatusCode, String), Refusal> {
    let t = ctx.t.book;
    Ok(match failure {
        ActionFailure::Refused { code, .. } if code == "too_late" => {
            (StatusCode::CONFLICT, t.err_too_late.to_owned())
        }
        ActionFailure::Refused { message, .. } => {
            (StatusCode::CONFLICT, format!("{}：{message}", t.refused))
        }
        ActionFailure::Invalid { message, .. } => (StatusCode::UNPROCESSABLE_ENTITY, message),
        ActionFailure::Unreachable => (StatusCode::SERVICE_UNAVAILABLE, t.unreachable.to_owned()),
        ActionFailure::NotFound => return Err(ctx.refuse(ErrorKind::NotFound)),
        ActionFailure::Forbidden => return Err(ctx.refuse(ErrorKind::Forbidden)),
        ActionFailure::Internal(detail) => {
            tracing::error!(%detail, what, "a booking operation failed");
            return Err(ctx.refuse(ErrorKind::Internal));
        }
    })
}
