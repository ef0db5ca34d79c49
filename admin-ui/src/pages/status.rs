//! `/`: who this node is and which verified members it is connected to (public).

use askama::Template;
use axum::{extract::State, response::IntoResponse, response::Response};

use super::{Ctx, Layout};
use crate::{
    AppState,
    backend::{Backend, ConnectedMember},
    i18n::{Lang, Strings},
    render::Page,
    time,
};

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    layout: Layout,
    t: &'static Strings,
    /// The institution's name in the page's language, and in the other one.
    name: String,
    other_name: String,
    other_lang_tag: &'static str,
    institution_id: String,
    peer_id: String,
    role: String,
    roster_version: Option<u64>,
    started_at: String,
    listen_addrs: Vec<String>,
    members_connected: usize,
    members: Vec<MemberRow>,
}

struct MemberRow {
    name: String,
    institution_id: String,
    role: String,
    peer_id: String,
}

/// Picks the name in `lang`, falling back to the other one.
fn names(lang: Lang, zh: &str, en: &str) -> (String, String) {
    let (first, second) = match lang {
        Lang::Zh => (zh, en),
        Lang::En => (en, zh),
    };
    if first.is_empty() {
        (second.to_owned(), String::new())
    } else {
        (first.to_owned(), second.to_owned())
    }
}

fn member_row(ctx: &Ctx, m: &ConnectedMember) -> MemberRow {
    MemberRow {
        name: names(ctx.lang, &m.name_zh, &m.name_en).0,
        institution_id: m.institution_id.clone(),
        role: ctx.t.node_role_name(&m.role).to_owned(),
        peer_id: m.peer_id.clone(),
    }
}

/// `GET /`.
pub(super) async fn page<B: Backend>(State(state): State<AppState<B>>, ctx: Ctx) -> Response {
    let status = state.backend.status().await;
    let (name, other_name) = names(ctx.lang, &status.name_zh, &status.name_en);
    let page = StatusPage {
        layout: ctx.layout("status"),
        t: ctx.t,
        name,
        other_name,
        other_lang_tag: ctx.lang.other().tag(),
        institution_id: status.institution_id,
        peer_id: status.peer_id,
        role: ctx.t.node_role_name(&status.role).to_owned(),
        roster_version: (status.roster_version > 0).then_some(status.roster_version),
        started_at: time::format_unix(status.started_at, ctx.lang),
        listen_addrs: status.listen_addrs,
        members_connected: status.members_connected,
        members: status.members.iter().map(|m| member_row(&ctx, m)).collect(),
    };
    Page::ok(page).into_response()
}
