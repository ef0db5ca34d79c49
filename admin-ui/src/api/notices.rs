//! A person's choice of notices (e-mail and webhook) and their language.

use axum::{Json, extract::State, http::StatusCode};

use super::{ApiError, ApiJson, ApiUser, error::ErrorBody};
use crate::{
    AppState,
    backend::{AccountError, Backend, NoticePrefs},
};

fn internal(e: AccountError) -> ApiError {
    tracing::error!(error = %e, "notice preferences unavailable");
    ApiError::Internal
}

/// `GET /api/v1/me/notifications`: which notices the signed-in account receives.
#[utoipa::path(
    get,
    path = "/api/v1/me/notifications",
    tag = "session",
    security(("session" = [])),
    responses(
        (status = 200, description = "The kinds turned off (every other kind is sent) and the language.", body = NoticePrefs),
    )
)]
pub(super) async fn notice_prefs<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<NoticePrefs>, ApiError> {
    Ok(Json(
        state
            .backend
            .notice_prefs(&session.account.username)
            .await
            .map_err(internal)?,
    ))
}

/// `PUT /api/v1/me/notifications` with the kinds to turn off (`booking_request`,
/// `hold_lapsing`, `booking_decision`, `booking_tomorrow`, `receipt_to_confirm`) and the
/// language (`zh` or `en`): `204`.
#[utoipa::path(
    put,
    path = "/api/v1/me/notifications",
    tag = "session",
    security(("session" = [], "csrf" = [])),
    request_body = NoticePrefs,
    responses(
        (status = 204, description = "Stored."),
        (status = 422, description = "`bad_request`: an unknown kind or language, or a kind listed twice.", body = ErrorBody),
    )
)]
pub(super) async fn set_notice_prefs<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(prefs): ApiJson<NoticePrefs>,
) -> Result<StatusCode, ApiError> {
    state
        .backend
        .set_notice_prefs(&session.account.username, prefs)
        .await
        .map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}
