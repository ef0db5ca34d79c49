//! `/help`: the help desk (一站式服务, R18). Anyone signed in asks for help in plain
//! words and follows each request's steps (writing back, or closing it); a service
//! expert also sees the queue, takes requests, writes to the asker, posts the need for
//! them (perhaps referred to one member) or closes it with a reason, and names their
//! fields.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, Layout, PageForm, Refusal,
    bookings::failure_message,
    encode_component,
    needs::{need_form, value, words},
};
use crate::{
    AppState,
    backend::{AccountRole, Backend, HelpNeedForm, HelpQuery, HelpView, InstitutionOption},
    i18n::{Strings, help::HelpStrings},
    render::Page,
    time,
};

/// A step, ready to show.
struct StepItem {
    kind: &'static str,
    by: String,
    text: String,
    at: String,
    need_href: String,
    referred_to: String,
}

/// A request, ready to show.
struct RequestItem {
    id: String,
    action: String,
    asker_name: String,
    text: String,
    state_code: String,
    state: &'static str,
    expert_name: String,
    mine: bool,
    taken_by_me: bool,
    steps: Vec<StepItem>,
}

fn state_label(h: &HelpStrings, state: &str) -> &'static str {
    match state {
        "open" => h.state_open,
        "taken" => h.state_taken,
        _ => h.state_closed,
    }
}

fn step_label(h: &HelpStrings, kind: &str) -> &'static str {
    match kind {
        "asked" => h.step_asked,
        "taken" => h.step_taken,
        "message" => h.step_message,
        "need_posted" => h.step_need_posted,
        _ => h.step_closed,
    }
}

fn item(ctx: &Ctx, r: &HelpView) -> RequestItem {
    let h = ctx.t.help;
    RequestItem {
        id: r.id.clone(),
        action: format!("/help/{}", encode_component(&r.id)),
        asker_name: r.asker_name.clone(),
        text: r.text.clone(),
        state_code: r.state.clone(),
        state: state_label(h, &r.state),
        expert_name: r.expert_name.clone(),
        mine: r.mine,
        taken_by_me: r.taken_by_me,
        steps: r
            .steps
            .iter()
            .map(|s| StepItem {
                kind: step_label(h, &s.kind),
                by: s.by.clone(),
                text: s.text.clone(),
                at: time::format_unix(s.at, ctx.lang),
                need_href: if s.need_id.is_empty() {
                    String::new()
                } else {
                    format!("/needs/{}", s.need_id)
                },
                referred_to: s.referred_to.clone(),
            })
            .collect(),
    }
}

/// A list of requests with its heading.
struct RequestList {
    id: &'static str,
    heading: &'static str,
    empty: &'static str,
    total: usize,
    items: Vec<RequestItem>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "help.html")]
struct HelpPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    text: String,
    /// The person's requests, and for an expert the queue.
    lists: Vec<RequestList>,
    expert: bool,
    fields: String,
    institutions: Vec<InstitutionOption>,
    today: String,
}

/// Query of `GET /help`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct HelpPageQuery {
    #[serde(default)]
    notice: String,
    /// Where the experts' queue starts.
    #[serde(default)]
    offset: usize,
    /// Where the list of one's own requests starts.
    #[serde(default)]
    mine: usize,
}

async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    query: &HelpPageQuery,
    text: String,
    error: Option<(StatusCode, String)>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let account = &session.account;
    let expert = account.role == AccountRole::ServiceExpert;
    let page = HelpQuery {
        offset: query.offset,
        limit: 20,
    };
    let mine_page = HelpQuery {
        offset: query.mine,
        limit: 20,
    };
    let mine = state.backend.my_help_requests(account, &mine_page).await;
    let (queue, queue_total, fields, institutions) = if expert {
        let queue = state
            .backend
            .help_queue(account, &page)
            .await
            .unwrap_or_else(|_| crate::backend::HelpPageView {
                total: 0,
                offset: 0,
                items: Vec::new(),
            });
        let fields = state
            .backend
            .expert_fields(account)
            .await
            .unwrap_or_default()
            .join(", ");
        let institutions = state.backend.facets().await.institutions;
        (queue.items, queue.total, fields, institutions)
    } else {
        (Vec::new(), 0, String::new(), Vec::new())
    };
    let h = ctx.t.help;
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let next = query.offset.saturating_add(page.limit());
    let mine_next = query.mine.saturating_add(mine_page.limit());
    let mut lists = vec![RequestList {
        id: "my-requests",
        heading: h.mine_heading,
        empty: h.mine_empty,
        total: mine.total,
        items: mine.items.iter().map(|r| item(ctx, r)).collect(),
        next: (mine_next < mine.total)
            .then(|| format!("/help?mine={mine_next}&offset={}", query.offset)),
    }];
    if expert {
        lists.push(RequestList {
            id: "queue",
            heading: h.queue_heading,
            empty: h.queue_empty,
            total: queue_total,
            items: queue.iter().map(|r| item(ctx, r)).collect(),
            next: (next < queue_total).then(|| format!("/help?offset={next}&mine={}", query.mine)),
        });
    }
    Ok(Page::with_status(
        status,
        HelpPage {
            layout: ctx.layout("help"),
            t: ctx.t,
            csrf: session.csrf_token.clone(),
            notice: match query.notice.as_str() {
                "asked" => Some(h.notice_asked),
                "done" => Some(h.notice_done),
                _ => None,
            },
            error: error.map(|(_, m)| m),
            text,
            lists,
            expert,
            fields,
            institutions,
            today: time::today().to_string(),
        },
    )
    .into_response())
}

/// `GET /help`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<HelpPageQuery>,
) -> Result<Response, Refusal> {
    render(&state, &ctx, &query, String::new(), None).await
}

/// After an action: to the page with a notice, or the page again with the error.
async fn after<B: Backend, T>(
    state: &AppState<B>,
    ctx: &Ctx,
    outcome: Result<T, crate::backend::ActionFailure>,
    notice: &str,
    typed: String,
) -> Result<Response, Refusal> {
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/help?notice={notice}")).into_response()),
        Err(failure) => {
            let error = failure_message(ctx, failure, "help")?;
            render(state, ctx, &HelpPageQuery::default(), typed, Some(error)).await
        }
    }
}

/// `POST /help` (`csrf`, `text`, `field`).
pub(super) async fn ask<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    let form = crate::backend::HelpForm {
        text: value(&pairs, "text").to_owned(),
        field: value(&pairs, "field").to_owned(),
    };
    let typed = form.text.clone();
    let outcome = state.backend.ask_help(&session.account, form).await;
    after(&state, &ctx, outcome, "asked", typed).await
}

/// `POST /help/fields` (`csrf`, `fields`).
pub(super) async fn set_fields<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    let outcome = state
        .backend
        .set_expert_fields(&session.account, words(value(&pairs, "fields")))
        .await;
    after(&state, &ctx, outcome, "done", String::new()).await
}

/// `POST /help/{id}/{action}`: `take`, `messages` (`text`), `close` (`text`), `need`
/// (the need's fields and `referred_to`).
pub(super) async fn act<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    let account = &session.account;
    let backend = &state.backend;
    let text = value(&pairs, "text");
    let outcome = match action.as_str() {
        "take" => backend.take_help(account, &id).await,
        "messages" => backend.write_help(account, &id, text).await,
        "close" => backend.close_help(account, &id, text).await,
        "need" => {
            let form = HelpNeedForm {
                need: need_form(&pairs),
                referred_to: value(&pairs, "referred_to").to_owned(),
            };
            backend.post_help_need(account, &id, form).await
        }
        _ => return Err(ctx.refuse(super::ErrorKind::NotFound)),
    };
    after(&state, &ctx, outcome, "done", String::new()).await
}
