//! `/login` and `/logout`.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{RETRY_AFTER, SET_COOKIE},
    },
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Ctx, ErrorKind, Layout, PageForm, Refusal, safe_next, with_anonymous_token};
use crate::{
    AppState,
    actions::{self, SignInError},
    auth,
    backend::{AccountError, Backend},
    client::ClientAddr,
    cookies,
    i18n::Strings,
    render::Page,
    throttle::retry_after_secs,
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    signed_in_as: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LoginQuery {
    next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LoginForm {
    csrf: String,
    next: String,
    username: String,
    password: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LogoutForm {
    csrf: String,
}

/// What the sign-in form shows besides its fields.
struct View<'a> {
    status: StatusCode,
    next: &'a str,
    username: String,
    error: Option<String>,
}

/// Renders the sign-in form with the anonymous CSRF token.
fn render(ctx: &Ctx, headers: &HeaderMap, secure: bool, view: View<'_>) -> Response {
    with_anonymous_token(headers, secure, |csrf| {
        let page = LoginPage {
            layout: ctx.layout("login"),
            t: ctx.t,
            next: safe_next(view.next).unwrap_or("").to_owned(),
            csrf,
            username: view.username,
            error: view.error,
            signed_in_as: ctx.session.as_ref().map(|s| s.account.username.clone()),
        };
        Page::with_status(view.status, page).into_response()
    })
}

/// `GET /login`.
pub(super) async fn form<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let view = View {
        status: StatusCode::OK,
        next: &query.next,
        username: String::new(),
        error: None,
    };
    render(&ctx, &headers, state.options.secure_cookies, view)
}

/// `POST /login`: signs in and goes to `next` (or the start page); shows the form again
/// with the reason otherwise (`429` with `Retry-After` while locked out).
pub(super) async fn submit<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    headers: HeaderMap,
    client: ClientAddr,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    if !auth::anonymous_csrf_ok(&headers, &form.csrf) {
        tracing::warn!("sign-in form without a valid CSRF token refused");
        return ctx.error(ErrorKind::Csrf);
    }
    let secure = state.options.secure_cookies;
    let username = form.username.trim().to_lowercase();
    let result = actions::sign_in(
        &state.backend,
        &state.sign_in,
        client,
        &username,
        &form.password,
    )
    .await;
    let t = ctx.t;
    let refused = |status, message: String| {
        let view = View {
            status,
            next: &form.next,
            username: username.clone(),
            error: Some(message),
        };
        render(&ctx, &headers, secure, view)
    };
    let session = match result {
        Ok(session) => session,
        Err(e) => {
            tracing::info!(%username, error = ?e, "sign-in refused");
            let e = match e {
                SignInError::Locked(wait) => {
                    let message = t.with_wait(t.login_locked, wait);
                    let mut page = refused(StatusCode::TOO_MANY_REQUESTS, message);
                    page.headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs(wait)));
                    return page;
                }
                SignInError::Refused(e) => e,
            };
            return match e {
                AccountError::Pending => refused(StatusCode::FORBIDDEN, t.login_pending.into()),
                AccountError::Disabled => refused(StatusCode::FORBIDDEN, t.login_disabled.into()),
                AccountError::Busy => {
                    let mut page = refused(StatusCode::SERVICE_UNAVAILABLE, t.busy.into());
                    page.headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from(1u64));
                    page
                }
                AccountError::Internal(detail) => {
                    tracing::error!(%detail, "sign-in failed in the backend");
                    ctx.error(ErrorKind::Internal)
                }
                AccountError::InvalidCredentials
                | AccountError::NotFound
                | AccountError::Invalid { .. }
                | AccountError::UsernameTaken
                | AccountError::RegistrationsClosed => {
                    refused(StatusCode::UNAUTHORIZED, t.login_failed.into())
                }
            };
        }
    };
    if let Some(old) = &ctx.session {
        state.backend.logout(&old.token).await;
    }
    tracing::info!(username = %session.account.username, "signed in");
    let max_age = session.expires_at - chrono::Utc::now().timestamp();
    let target = safe_next(&form.next).unwrap_or("/");
    (
        [(
            SET_COOKIE,
            cookies::session(&session.token, max_age, secure),
        )],
        Redirect::to(target),
    )
        .into_response()
}

/// `POST /logout`: ends the session and goes to the start page.
pub(super) async fn logout<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(form): PageForm<LogoutForm>,
) -> Result<Response, Refusal> {
    let Some(session) = &ctx.session else {
        return Ok(Redirect::to("/").into_response());
    };
    ctx.check_csrf(session, &form.csrf)?;
    state.backend.logout(&session.token).await;
    tracing::info!(username = %session.account.username, "signed out");
    Ok((
        [(
            SET_COOKIE,
            cookies::clear_session(state.options.secure_cookies),
        )],
        Redirect::to("/"),
    )
        .into_response())
}
