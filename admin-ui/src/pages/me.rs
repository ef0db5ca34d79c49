//! `/me`: the signed-in user's own account.

use askama::Template;
use axum::response::{IntoResponse, Response};

use super::{Ctx, Layout, Refusal};
use crate::{i18n::Strings, render::Page, time};

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    layout: Layout,
    t: &'static Strings,
    username: String,
    display_name: String,
    role: &'static str,
    state: &'static str,
    organization: String,
    email: String,
    phone: String,
    created_at: String,
    expires_at: String,
}

/// `GET /me`.
pub(super) async fn page(ctx: Ctx) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let account = &session.account;
    let page = MePage {
        layout: ctx.layout("me"),
        t: ctx.t,
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        role: ctx.t.role_name(account.role),
        state: ctx.t.state_name(account.state),
        organization: account.organization.clone(),
        email: account.email.clone(),
        phone: account.phone.clone(),
        created_at: time::format_unix(account.created_at, ctx.lang),
        expires_at: time::format_unix(session.expires_at, ctx.lang),
    };
    Ok(Page::ok(page).into_response())
}
