//! Signing in and out through the API, and who is signed in.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header::SET_COOKIE},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiJson, ApiUser, error::ErrorBody};
use crate::{
    AppState, actions,
    auth::Visitor,
    backend::{Account, Backend},
    client::ClientAddr,
    cookies,
};

/// `POST /api/v1/session`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct LoginRequest {
    username: String,
    password: String,
}

/// The answer to a sign-in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct LoginResponse {
    /// Send back in `X-CSRF-Token` with every state-changing request.
    csrf_token: String,
    account: Account,
    /// Unix seconds, UTC.
    expires_at: i64,
}

/// `POST /api/v1/me/password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct PasswordRequest {
    current_password: String,
    new_password: String,
}

/// Checks credentials; sets the session cookie and returns the CSRF token. Any earlier
/// session of this client ends. A locked-out name or address is `429` before any check.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: the session cookie is set; send `csrf_token` back in `X-CSRF-Token`.", body = LoginResponse,
            headers(("Set-Cookie" = String, description = "The session cookie (`HttpOnly`, `SameSite=Strict`)."))),
        (status = 401, description = "`invalid_credentials`: wrong username or password.", body = ErrorBody),
        (status = 403, description = "`account_pending` or `account_disabled`; `csrf` when sent with a live session but without its `X-CSRF-Token`; or `cross_origin`.", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failed sign-ins for the name or from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`busy`: too many password checks are waiting.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(super) async fn login<B: Backend>(
    State(state): State<AppState<B>>,
    visitor: Visitor,
    client: ClientAddr,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let username = request.username.trim().to_lowercase();
    let signed_in = actions::sign_in(
        &state.backend,
        &state.sign_in,
        client,
        &username,
        &request.password,
    )
    .await;
    let session = match signed_in {
        Ok(session) => session,
        Err(e) => {
            tracing::info!(%username, error = ?e, "API sign-in refused");
            return Err(ApiError::from_sign_in(e));
        }
    };
    if let Some(old) = visitor.session {
        state.backend.logout(&old.token).await;
    }
    tracing::info!(username = %session.account.username, "signed in (API)");
    let max_age = session.expires_at - chrono::Utc::now().timestamp();
    let cookie = cookies::session(&session.token, max_age, state.options.secure_cookies);
    let body = LoginResponse {
        csrf_token: session.csrf_token,
        account: session.account,
        expires_at: session.expires_at,
    };
    Ok(([(SET_COOKIE, cookie)], Json(body)).into_response())
}

/// `DELETE /api/v1/session`: signs out (a no-op without a session) and clears the cookie.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "session",
    security((), ("session" = [], "csrf" = [])),
    responses(
        (status = 204, description = "Signed out; the cookie is cleared.",
            headers(("Set-Cookie" = String, description = "Clears the session cookie."))),
        (status = 403, description = "`csrf`: with a session, missing or wrong `X-CSRF-Token`; or `cross_origin`.", body = ErrorBody),
    )
)]
pub(super) async fn logout<B: Backend>(
    State(state): State<AppState<B>>,
    visitor: Visitor,
) -> Response {
    if let Some(session) = visitor.session {
        state.backend.logout(&session.token).await;
        tracing::info!(username = %session.account.username, "signed out (API)");
    }
    let cookie = cookies::clear_session(state.options.secure_cookies);
    (StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response()
}

/// `GET /api/v1/me`: the signed-in account.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "session",
    security(("session" = [])),
    responses((status = 200, description = "The signed-in account.", body = Account))
)]
pub(super) async fn me(ApiUser(session): ApiUser) -> Json<Account> {
    Json(session.account)
}

/// `POST /api/v1/me/password`: changes the signed-in user's password (`204`); every other
/// session of the account ends, this one stays. A wrong current password counts as a failed
/// sign-in.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "session",
    security(("session" = [], "csrf" = [])),
    request_body = PasswordRequest,
    responses(
        (status = 204, description = "Changed; the account's other sessions ended."),
        (status = 400, description = "`invalid`: wrong current password, or a new password that is too weak.", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failed password checks.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`busy`: too many password checks are waiting.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(super) async fn change_password<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    client: ClientAddr,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    actions::change_password(
        &state.backend,
        &state.sign_in,
        client,
        &session,
        &request.current_password,
        &request.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
