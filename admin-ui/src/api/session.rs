//! Signing in and out through the API, and who is signed in.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header::SET_COOKIE},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiJson, ApiUser};
use crate::{
    AppState, actions,
    auth::Visitor,
    backend::{Account, Backend},
    client::ClientAddr,
    cookies,
};

/// `POST /api/v1/session`.
#[derive(Debug, Deserialize)]
pub(super) struct LoginRequest {
    username: String,
    password: String,
}

/// The answer to a sign-in.
#[derive(Debug, Serialize)]
struct LoginResponse {
    /// Send back in `X-CSRF-Token` with every state-changing request.
    csrf_token: String,
    account: Account,
    /// Unix seconds, UTC.
    expires_at: i64,
}

/// `POST /api/v1/me/password`.
#[derive(Debug, Deserialize)]
pub(super) struct PasswordRequest {
    current_password: String,
    new_password: String,
}

/// Checks credentials; sets the session cookie and returns the CSRF token. Any earlier
/// session of this client ends. A locked-out name or address is `429` before any check.
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
pub(super) async fn me(ApiUser(session): ApiUser) -> Json<Account> {
    Json(session.account)
}

/// `POST /api/v1/me/password`: changes the signed-in user's password (`204`); every other
/// session of the account ends, this one stays. A wrong current password counts as a failed
/// sign-in.
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
