//! `/events`: the alliance's matching events (对接会, R17), soonest first, with a form
//! for administrators to announce one. `/events/{organiser}/{id}`: one event with the
//! open needs of its field and the offers made for them; registering (anyone signed
//! in), and for the organiser's administrators the list of registrations and calling
//! the event off.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, Layout, PageForm, Refusal,
    bookings::failure_message,
    encode_component,
    needs::{Item as NeedItem, item as need_item, value},
};
use crate::{
    AppState,
    backend::{Backend, EventForm, EventQuery, EventView},
    event_input,
    i18n::{Strings, events::EventStrings},
    render::Page,
    time,
};

/// Events a page lists.
const PER_PAGE: usize = 20;

/// An event, ready to show.
struct EventItem {
    href: String,
    title: String,
    description: String,
    organiser: String,
    when: String,
    place: String,
    link: String,
    field: String,
    capacity: String,
    cancelled: String,
    registered: bool,
    organised_here: bool,
}

fn event_item(ctx: &Ctx, e: &EventView) -> EventItem {
    let s: &EventStrings = ctx.t.events;
    let (organiser, local) = e.event_id.split_once('/').unwrap_or((&e.event_id, ""));
    EventItem {
        href: format!(
            "/events/{}/{}",
            encode_component(organiser),
            encode_component(local)
        ),
        title: e.title.clone(),
        description: e.description.clone(),
        organiser: e.organiser_name.clone(),
        when: time::format_span(e.starts_at, e.ends_at, ctx.lang),
        place: e.place.clone(),
        link: e.link.clone(),
        field: if e.field_name.is_empty() {
            e.field.clone()
        } else {
            format!("{} {}", e.field, e.field_name)
        },
        capacity: if e.capacity == 0 {
            s.unlimited.to_owned()
        } else {
            e.capacity.to_string()
        },
        cancelled: e.cancelled.clone(),
        registered: e.registered,
        organised_here: e.organised_here,
    }
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    layout: Layout,
    t: &'static Strings,
    csrf: Option<String>,
    notice: Option<&'static str>,
    error: Option<String>,
    items: Vec<EventItem>,
    total: usize,
    all: bool,
    next: Option<String>,
    may_announce: bool,
    form: EventForm,
}

/// Query of `GET /events`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    all: String,
    #[serde(default)]
    offset: usize,
    #[serde(default)]
    notice: String,
}

async fn render_list<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    list: &ListQuery,
    form: EventForm,
    error: Option<(StatusCode, String)>,
) -> Response {
    let viewer = ctx.session.as_ref().map(|s| &s.account);
    let all = list.all == "1";
    let page = state
        .backend
        .events(
            viewer,
            &EventQuery {
                all,
                offset: list.offset,
                limit: PER_PAGE,
            },
        )
        .await;
    let s = ctx.t.events;
    let next = list.offset + PER_PAGE;
    Page::with_status(
        error.as_ref().map_or(StatusCode::OK, |(s, _)| *s),
        EventsPage {
            layout: ctx.layout("events"),
            t: ctx.t,
            csrf: ctx.session.as_ref().map(|s| s.csrf_token.clone()),
            notice: (list.notice == "announced").then_some(s.notice_announced),
            error: error.map(|(_, m)| m),
            items: page.items.iter().map(|e| event_item(ctx, e)).collect(),
            total: page.total,
            all,
            next: (next < page.total)
                .then(|| format!("/events?all={}&offset={next}", u8::from(all))),
            may_announce: viewer.is_some_and(|a| a.role.is_admin()),
            form,
        },
    )
    .into_response()
}

/// `GET /events`.
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(list): Query<ListQuery>,
) -> Response {
    render_list(&state, &ctx, &list, EventForm::default(), None).await
}

/// `POST /events`: announces an event (administrators).
pub(super) async fn announce<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    if !session.account.role.is_admin() {
        return Err(ctx.refuse(ErrorKind::Forbidden));
    }
    let form = EventForm {
        title: value(&pairs, "title").to_owned(),
        description: value(&pairs, "description").to_owned(),
        field: value(&pairs, "field").to_owned(),
        starts_at: value(&pairs, "starts_at").to_owned(),
        ends_at: value(&pairs, "ends_at").to_owned(),
        place: value(&pairs, "place").to_owned(),
        link: value(&pairs, "link").to_owned(),
        capacity: 0,
    };
    let list = ListQuery::default();
    let form = match value(&pairs, "capacity").trim() {
        "" => form,
        typed => match typed.parse() {
            Ok(capacity) => EventForm { capacity, ..form },
            Err(_) => {
                let error = (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{}: {}", ctx.t.events.f_capacity, ctx.t.board.bad_number),
                );
                return Ok(render_list(&state, &ctx, &list, form, Some(error)).await);
            }
        },
    };
    let event = match event_input::read(form.clone()) {
        Ok(event) => event,
        Err((field, problem)) => {
            let error = (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{field}: {problem}"),
            );
            return Ok(render_list(&state, &ctx, &list, form, Some(error)).await);
        }
    };
    match state.backend.announce_event(&session.account, event).await {
        Ok(_) => Ok(Redirect::to("/events?notice=announced").into_response()),
        Err(failure) => {
            let error = failure_message(&ctx, failure, "event")?;
            Ok(render_list(&state, &ctx, &list, form, Some(error)).await)
        }
    }
}

/// An offer on the event's page.
struct OfferItem {
    need_href: String,
    institution: String,
    instrument: String,
    instrument_href: String,
}

/// A registration on the event's page.
struct RegistrationItem {
    name: String,
    organization: String,
    kind: &'static str,
    home: String,
    at: String,
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    layout: Layout,
    t: &'static Strings,
    csrf: Option<String>,
    notice: Option<&'static str>,
    error: Option<String>,
    event: EventItem,
    action: String,
    needs: Vec<NeedItem>,
    offers: Vec<OfferItem>,
    count: Option<usize>,
    registrations: Vec<RegistrationItem>,
}

/// Query of `GET /events/{organiser}/{id}`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

async fn render_event<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    (organiser, local): (&str, &str),
    notice: &str,
    error: Option<(StatusCode, String)>,
) -> Result<Response, Refusal> {
    let viewer = ctx.session.as_ref().map(|s| &s.account);
    let id = format!("{organiser}/{local}");
    let detail = match state.backend.event(viewer, &id).await {
        Ok(detail) => detail,
        Err(_) => return Err(ctx.refuse(ErrorKind::NotFound)),
    };
    let s = ctx.t.events;
    let page = EventPage {
        layout: ctx.layout("events"),
        t: ctx.t,
        csrf: ctx.session.as_ref().map(|s| s.csrf_token.clone()),
        notice: match notice {
            "registered" => Some(s.notice_registered),
            "unregistered" => Some(s.notice_unregistered),
            "cancelled" => Some(s.notice_cancelled),
            _ => None,
        },
        error: error.as_ref().map(|(_, m)| m.clone()),
        action: format!(
            "/events/{}/{}",
            encode_component(organiser),
            encode_component(local)
        ),
        event: event_item(ctx, &detail.event),
        needs: detail
            .needs
            .iter()
            .map(|n| need_item(ctx.t, ctx, n))
            .collect(),
        offers: detail
            .offers
            .iter()
            .map(|o| OfferItem {
                need_href: format!("/needs/{}", o.need_id),
                institution: o.institution_name.clone(),
                instrument: o.instrument_name.clone(),
                instrument_href: format!("/instruments/{}", encode_component(&o.instrument_id)),
            })
            .collect(),
        count: detail.registration_count,
        registrations: detail
            .registrations
            .iter()
            .map(|r| RegistrationItem {
                name: r.name.clone(),
                organization: r.organization.clone(),
                kind: if r.kind == "firm" {
                    s.kind_firm
                } else {
                    s.kind_member
                },
                home: r.home_name.clone(),
                at: time::format_unix(r.registered_at, ctx.lang),
            })
            .collect(),
    };
    Ok(Page::with_status(error.map_or(StatusCode::OK, |(status, _)| status), page).into_response())
}

/// `GET /events/{organiser}/{id}`.
pub(super) async fn detail<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((organiser, local)): Path<(String, String)>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    render_event(&state, &ctx, (&organiser, &local), &query.notice, None).await
}

/// `POST /events/{organiser}/{id}/{action}`: `register`, `unregister`, `cancel`
/// (`reason`).
pub(super) async fn act<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((organiser, local, action)): Path<(String, String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    let id = format!("{organiser}/{local}");
    let backend = &state.backend;
    let account = &session.account;
    let (outcome, notice) = match action.as_str() {
        "register" => (
            backend.register_for_event(account, &id, false).await,
            "registered",
        ),
        "unregister" => (
            backend.register_for_event(account, &id, true).await,
            "unregistered",
        ),
        "cancel" => (
            backend
                .cancel_event(account, &id, value(&pairs, "reason"))
                .await,
            "cancelled",
        ),
        _ => return Err(ctx.refuse(ErrorKind::NotFound)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!(
            "/events/{}/{}?notice={notice}",
            encode_component(&organiser),
            encode_component(&local)
        ))
        .into_response()),
        Err(failure) => {
            let error = failure_message(&ctx, failure, "event")?;
            render_event(&state, &ctx, (&organiser, &local), "", Some(error)).await
        }
    }
}
