//! `/manage/bookings`: instrument managers and institution admins decide on the bookings of
//! this institution's instruments — approve or reject held ones (a reason is required to
//! reject), then record start, no-show, completion, or cancel one.

use alliance_protocol::booking::BookingState;
use alliance_protocol::booking::ManagerDecision;
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, Layout, PageForm, Refusal, bookings::status_class, day_filter::DayFilter,
    encode_component, instruments::pick, labels,
};
use crate::{
    AppState,
    auth::BOOKING_MANAGERS,
    backend::{Backend, ManagedBooking, ManagedSection, StartSpan},
    booking_input::needs_note,
    i18n::Strings,
    instrument_input::snake,
    render::Page,
    time,
};

/// What a manager may decide on a booking in `status`.
pub(crate) fn decisions(status: BookingState) -> &'static [ManagerDecision] {
    use ManagerDecision::*;
    match status {
        BookingState::Requested | BookingState::Held => &[Approve, Reject],
        BookingState::Confirmed => &[Start, NoShow, Complete, CancelByOwner],
        BookingState::InUse => &[Complete],
        _ => &[],
    }
}

struct Button {
    value: String,
    label: &'static str,
    danger: bool,
}

struct HistoryLine {
    at: String,
    by: String,
    status: &'static str,
    note: String,
}

struct Item {
    booking_id: String,
    action: String,
    instrument: String,
    instrument_href: String,
    time: String,
    status: &'static str,
    status_class: &'static str,
    hold_until: String,
    user: String,
    home: String,
    tier: &'static str,
    mode: &'static str,
    samples: u32,
    purpose: String,
    history: Vec<HistoryLine>,
    buttons: Vec<Button>,
    /// The form that records what happened in the use (and so completes the booking).
    complete_href: Option<String>,
}

#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The day filter as typed.
    from: String,
    to: String,
    sections: Vec<Section>,
}

/// Held bookings, confirmed ones, closed ones.
struct Section {
    id: &'static str,
    title: &'static str,
    /// This page's part of the section.
    items: Vec<Item>,
    /// All of the section, on every page.
    total: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// Bookings shown at once in each section.
const PER_PAGE: usize = 20;

/// Where each section's page starts (`?held=&active=&closed=`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub(super) struct Offsets {
    held: usize,
    active: usize,
    closed: usize,
}

impl Offsets {
    fn with(self, dates: &DayFilter, section: &str, offset: usize) -> String {
        let mut o = self;
        match section {
            "held" => o.held = offset,
            "active" => o.active = offset,
            _ => o.closed = offset,
        }
        format!(
            "/manage/bookings?{}held={}&active={}&closed={}#section-{section}",
            dates.query(),
            o.held,
            o.active,
            o.closed
        )
    }

    fn of(self, section: &str) -> usize {
        match section {
            "held" => self.held,
            "active" => self.active,
            _ => self.closed,
        }
    }
}

/// What the lists show: the page of each section, and the days their bookings start.
#[derive(Debug, Clone, Default)]
struct Shown {
    offsets: Offsets,
    dates: DayFilter,
}

/// `?from=&to=`: bookings starting on those days (Beijing time, inclusive).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DatesQuery {
    from: String,
    to: String,
}

/// One section, its page as `shown` asks, with links to the pages beside.
async fn section<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    (id, title, of): (&'static str, &'static str, ManagedSection),
    shown: &Shown,
    node: &str,
) -> Section {
    let (from, to) = shown.dates.bounds();
    let offset = shown.offsets.of(id);
    let page = state
        .backend
        .managed_page(of, StartSpan { from, to }, offset, PER_PAGE)
        .await;
    let items: Vec<Item> = page
        .items
        .iter()
        .map(|b| {
            let mut it = item(ctx, b);
            it.instrument_href = format!("/instruments/{node}/{}", b.local_id);
            it
        })
        .collect();
    let (offsets, dates) = (shown.offsets, &shown.dates);
    Section {
        id,
        title,
        prev_href: (offset > 0 && page.total > 0).then(|| {
            let back = offset.min(page.total).saturating_sub(PER_PAGE);
            offsets.with(dates, id, back)
        }),
        next_href: (offset.saturating_add(items.len()) < page.total)
            .then(|| offsets.with(dates, id, offset.saturating_add(PER_PAGE))),
        items,
        total: page.total,
    }
}

fn item(ctx: &Ctx, b: &ManagedBooking) -> Item {
    let t = ctx.t.book;
    Item {
        booking_id: b.booking_id.clone(),
        action: format!(
            "/manage/bookings/{}/{}",
            encode_component(&b.home),
            encode_component(&b.booking_id)
        ),
        instrument: pick(ctx.lang, &b.instrument_name_zh, &b.instrument_name_en),
        instrument_href: String::new(),
        time: time::format_span(b.start, b.end, ctx.lang),
        status: t.status(b.status),
        status_class: status_class(b.status),
        hold_until: b
            .hold_until
            .filter(|_| b.status == BookingState::Held)
            .map(|u| time::format_unix(u, ctx.lang))
            .unwrap_or_default(),
        user: b.user_name.clone(),
        home: pick(ctx.lang, &b.home_name_zh, &b.home_name_en),
        tier: labels::tier(ctx.t.cat, b.tier),
        mode: labels::mode(ctx.t.cat, b.mode),
        samples: b.samples,
        purpose: b.purpose.clone(),
        history: b
            .history
            .iter()
            .map(|(at, by, status, note)| HistoryLine {
                at: time::format_unix(*at, ctx.lang),
                by: by.clone(),
                status: t.status(*status),
                note: note.clone(),
            })
            .collect(),
        buttons: decisions(b.status)
            .iter()
            // Completing records what happened, on a form of its own.
            .filter(|d| **d != ManagerDecision::Complete)
            .map(|d| Button {
                value: snake(*d),
                label: t.decision(*d),
                danger: matches!(
                    d,
                    ManagerDecision::Reject
                        | ManagerDecision::CancelByOwner
                        | ManagerDecision::NoShow
                ),
            })
            .collect(),
        complete_href: decisions(b.status)
            .contains(&ManagerDecision::Complete)
            .then(|| {
                format!(
                    "/manage/bookings/{}/{}/complete",
                    encode_component(&b.home),
                    encode_component(&b.booking_id)
                )
            }),
    }
}

async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    csrf: &str,
    notice: Option<&'static str>,
    error: Option<(StatusCode, String)>,
    shown: Shown,
) -> Response {
    let node = state.backend.status().await.institution_id;
    let t = ctx.t.book;
    let (held, active, closed) = tokio::join!(
        section(
            state,
            ctx,
            ("held", t.manage_held, ManagedSection::Waiting),
            &shown,
            &node
        ),
        section(
            state,
            ctx,
            ("active", t.manage_active, ManagedSection::Active),
            &shown,
            &node
        ),
        section(
            state,
            ctx,
            ("closed", t.manage_closed, ManagedSection::Closed),
            &shown,
            &node
        ),
    );
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = ManagePage {
        layout: ctx.layout("manage"),
        t: ctx.t,
        csrf: csrf.to_owned(),
        notice,
        error,
        from: shown.dates.from.clone(),
        to: shown.dates.to.clone(),
        sections: vec![held, active, closed],
    };
    Page::with_status(status, page).into_response()
}

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// `GET /manage/bookings`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(notice): Query<NoticeQuery>,
    Query(offsets): Query<Offsets>,
    Query(dates): Query<DatesQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    let dates = DayFilter::parse(&dates.from, &dates.to)
        .ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?;
    let notice = match notice.notice.as_str() {
        "decided" => Some(ctx.t.book.decided),
        "completed" => Some(ctx.t.receipts.completed),
        _ => None,
    };
    let shown = Shown { offsets, dates };
    Ok(render(&state, &ctx, &session.csrf_token, notice, None, shown).await)
}

/// A decision form.
#[derive(Debug, Deserialize)]
pub(super) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    /// `approve`, `reject`, `start`, `no_show`, `complete` or `cancel_by_owner`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /manage/bookings/{home}/{booking_id}`.
pub(super) async fn decide<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, booking_id)): Path<(String, String)>,
    PageForm(form): PageForm<DecisionForm>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    ctx.check_csrf(session, &form.csrf)?;
    let csrf = session.csrf_token.as_str();
    let Ok(decision) = serde_json::from_value::<ManagerDecision>(serde_json::Value::String(
        form.decision.trim().to_owned(),
    )) else {
        return Err(ctx.refuse(ErrorKind::BadRequest));
    };
    let note = form.note.trim();
    let t = ctx.t.book;
    if needs_note(decision) && note.is_empty() {
        let error = (
            StatusCode::UNPROCESSABLE_ENTITY,
            t.err_note_required.to_owned(),
        );
        return Ok(render(&state, &ctx, csrf, None, Some(error), Shown::default()).await);
    }
    let error = match state
        .backend
        .decide_booking(&session.account, &home, &booking_id, decision, note)
        .await
    {
        Ok(_) => return Ok(Redirect::to("/manage/bookings?notice=decided").into_response()),
        Err(failure) => super::bookings::failure_message(&ctx, failure, "decision")?,
    };
    Ok(render(&state, &ctx, csrf, None, Some(error), Shown::default()).await)
}
