//! `/me`: the signed-in user's own account, changing its password, and the notices it
//! receives.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Ctx, ErrorKind, FormErrors, Layout, PageForm, Refusal};
use crate::{
    AppState,
    actions::{self, ActionError},
    backend::{Backend, NoticeKind, NoticeLanguage, NoticePrefs, Session},
    client::ClientAddr,
    i18n::Strings,
    render::Page,
    throttle::retry_after_secs,
    time,
    validate::{FieldError, Problem},
};

/// Fields of the change-password form.
const SHOWN: [&str; 3] = ["current_password", "new_password", "new_password_again"];

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    /// Why the password was not changed, besides the fields (lock-out, busy).
    refusal: Option<String>,
    errors: FormErrors,
    other_errors: Vec<String>,
    username: String,
    display_name: String,
    role: &'static str,
    state: &'static str,
    organization: String,
    email: String,
    phone: String,
    created_at: String,
    expires_at: String,
    /// Each kind of notice: its code, label and whether it is on.
    notice_kinds: Vec<(&'static str, &'static str, bool)>,
    /// `zh` or `en`.
    notice_language: &'static str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NoticeQuery {
    notice: String,
}

/// The change-password form as submitted (never shown again).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
    new_password_again: String,
}

/// What the page shows besides the account.
struct View {
    status: StatusCode,
    notice: Option<&'static str>,
    refusal: Option<String>,
    errors: Vec<FieldError>,
}

fn render(ctx: &Ctx, session: &Session, prefs: &NoticePrefs, view: View) -> Response {
    let account = &session.account;
    let errors = FormErrors::new(ctx.t, view.errors);
    let page = MePage {
        layout: ctx.layout("me"),
        t: ctx.t,
        csrf: session.csrf_token.clone(),
        notice: view.notice,
        refusal: view.refusal,
        other_errors: errors.other(&SHOWN),
        errors,
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        role: ctx.t.role_name(account.role),
        state: ctx.t.state_name(account.state),
        organization: account.organization.clone(),
        email: account.email.clone(),
        phone: account.phone.clone(),
        created_at: time::format_unix(account.created_at, ctx.lang),
        expires_at: time::format_unix(session.expires_at, ctx.lang),
        notice_kinds: NoticeKind::ALL
            .iter()
            .map(|&kind| (kind.code(), ctx.t.notice_kind(kind), prefs.wants(kind)))
            .collect(),
        notice_language: match prefs.language {
            NoticeLanguage::Zh => "zh",
            NoticeLanguage::En => "en",
        },
    };
    Page::with_status(view.status, page).into_response()
}

/// The account's notice choices, for the page.
async fn prefs_of<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    session: &Session,
) -> Result<NoticePrefs, Refusal> {
    state
        .backend
        .notice_prefs(&session.account.username)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "notice preferences unavailable");
            ctx.refuse(ErrorKind::Internal)
        })
}

/// `GET /me`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let notice = match query.notice.as_str() {
        "password" => Some(ctx.t.notice_password_changed),
        "notifications" => Some(ctx.t.notice_notices_saved),
        _ => None,
    };
    let view = View {
        status: StatusCode::OK,
        notice,
        refusal: None,
        errors: Vec::new(),
    };
    let prefs = prefs_of(&state, &ctx, session).await?;
    Ok(render(&ctx, session, &prefs, view))
}

/// `POST /me/notifications`: the kinds ticked (`kind`, repeated) stay on, the others go
/// off; `language` is `zh` or `en`.
pub(super) async fn save_notices<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    ctx.check_csrf(session, csrf)?;
    let ticked: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "kind")
        .map(|(_, v)| v.as_str())
        .collect();
    let language = match pairs.iter().find(|(k, _)| k == "language") {
        Some((_, v)) if v == "en" => NoticeLanguage::En,
        _ => NoticeLanguage::Zh,
    };
    let prefs = NoticePrefs {
        language,
        off: NoticeKind::ALL
            .into_iter()
            .filter(|kind| !ticked.contains(&kind.code()))
            .collect(),
    };
    state
        .backend
        .set_notice_prefs(&session.account.username, prefs)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "notice preferences not stored");
            ctx.refuse(ErrorKind::Internal)
        })?;
    Ok(Redirect::to("/me?notice=notifications").into_response())
}

/// `POST /me/password`: changes the password (the current one is checked within the
/// sign-in throttle) and ends the user's other sessions; shows the page again with the
/// reason otherwise.
pub(super) async fn change_password<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    client: ClientAddr,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, &form.csrf)?;
    let prefs = prefs_of(&state, &ctx, session).await?;
    let t = ctx.t;
    let refused = |status, errors, refusal| View {
        status,
        notice: None,
        refusal,
        errors,
    };
    if form.new_password != form.new_password_again {
        let errors = vec![FieldError::new(
            "new_password_again",
            Problem::PasswordMismatch,
        )];
        let view = refused(StatusCode::UNPROCESSABLE_ENTITY, errors, None);
        return Ok(render(&ctx, session, &prefs, view));
    }
    let changed = actions::change_password(
        &state.backend,
        &state.sign_in,
        client,
        session,
        &form.current_password,
        &form.new_password,
    )
    .await;
    let (view, retry_after) = match changed {
        Ok(()) => return Ok(Redirect::to("/me?notice=password").into_response()),
        Err(ActionError::Fields(errors)) => (
            refused(StatusCode::UNPROCESSABLE_ENTITY, errors, None),
            None,
        ),
        Err(ActionError::Locked(wait)) => {
            let message = t.with_wait(t.login_locked, wait);
            let view = refused(StatusCode::TOO_MANY_REQUESTS, Vec::new(), Some(message));
            (view, Some(wait))
        }
        Err(ActionError::Busy) => {
            let view = refused(
                StatusCode::SERVICE_UNAVAILABLE,
                Vec::new(),
                Some(t.busy.to_owned()),
            );
            (view, Some(std::time::Duration::from_secs(1)))
        }
        Err(other) => {
            tracing::error!(error = ?other, "unexpected password change failure");
            return Err(ctx.refuse(ErrorKind::Internal));
        }
    };
    let mut response = render(&ctx, session, &prefs, view);
    if let Some(wait) = retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs(wait)));
    }
    Ok(response)
}
