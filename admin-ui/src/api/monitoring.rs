//! Instrument monitoring through the API: an instrument agent's state report, authorized
//! by the instrument's token rather than a session (so it needs no CSRF token), and the
//! province's live board (province admins).

use alliance_protocol::heartbeat::{MAX_NOTE_CHARS, is_valid_note};
use axum::{
    Json,
    extract::{DefaultBodyLimit, FromRequestParts, State},
    http::{StatusCode, header::AUTHORIZATION, request::Parts},
};
use serde::Deserialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};

use super::{ApiError, ApiJson, ApiPath, ApiUser, documented, error::ErrorBody};
use crate::{
    AppState,
    backend::{AccountRole, AgentFailure, Backend, BoardView, ResultsFailure},
    validate::{FieldError, Problem},
};

/// Largest body of an agent's report: `{"state", "note"}` with a 100-character note fits
/// many times over.
const MAX_AGENT_BODY: usize = 4 * 1024;

/// Longest token looked up at the backend (issued tokens are 64 hex digits).
const MAX_TOKEN_LEN: usize = 256;

/// The states an agent may report.
const AGENT_STATES: [&str; 4] = ["idle", "running", "maintenance", "fault"];

/// The routes of instrument agents, which carry no session: they must stay outside the
/// CSRF layer of the session routes.
pub(super) fn agent_routes<B: Backend>() -> OpenApiRouter<AppState<B>> {
    OpenApiRouter::new().routes(documented!(B, report).layer(DefaultBodyLimit::max(MAX_AGENT_BODY)))
}

/// The token of `Authorization: Bearer <token>`; `401` when it is missing or malformed.
/// Never logged.
pub(super) struct BearerToken(String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer)
            .map(|token| BearerToken(token.to_owned()))
            .ok_or(ApiError::AgentToken { given: false })
    }
}

/// The token of an `Authorization` value `Bearer <token>` (the scheme in any case), if it
/// is a well-formed RFC 6750 token of at most [`MAX_TOKEN_LEN`] characters.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim_start();
    let well_formed = !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token.trim_end_matches('=').bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        });
    (scheme.eq_ignore_ascii_case("bearer") && well_formed).then_some(token)
}

/// Body of an agent's report.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub(super) struct AgentReport {
    /// `idle`, `running`, `maintenance` or `fault`.
    state: String,
    /// At most 100 characters, no control characters.
    note: String,
}

/// The problems of a report: its state and note.
fn check_report(state: &str, note: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !AGENT_STATES.contains(&state) {
        let message = format!("one of {}", AGENT_STATES.join(", "));
        errors.push(FieldError::new("state", Problem::Other(message)));
    }
    if !is_valid_note(note) {
        let message = format!("at most {MAX_NOTE_CHARS} characters, no control characters");
        errors.push(FieldError::new("note", Problem::Other(message)));
    }
    errors
}

/// `POST /api/v1/agent/instruments/{local_id}/state` with `Authorization: Bearer <token>`
/// and `{"state", "note"}`: `204` once the state is recorded.
#[utoipa::path(
    post,
    path = "/api/v1/agent/instruments/{local_id}/state",
    tag = "monitoring",
    security(("agent_token" = [])),
    params(("local_id" = String, Path, description = "The instrument's id within this institution.")),
    request_body = AgentReport,
    responses(
        (status = 204, description = "The state is recorded."),
        (status = 401, description = "`unauthorized`: no well-formed bearer token, or a wrong or revoked one.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`, with `error=\"invalid_token\"` for a refused token."))),
    )
)]
pub(super) async fn report<B: Backend>(
    State(state): State<AppState<B>>,
    ApiPath(local_id): ApiPath<String>,
    BearerToken(token): BearerToken,
    ApiJson(report): ApiJson<AgentReport>,
) -> Result<StatusCode, ApiError> {
    let (reported, note) = (report.state.trim(), report.note.trim());
    let errors = check_report(reported, note);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    match state
        .backend
        .agent_report(&local_id, &token, reported, note)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(AgentFailure::Unauthorized) => {
            tracing::warn!(%local_id, "agent report with a wrong or revoked token refused");
            Err(ApiError::AgentToken { given: true })
        }
        Err(AgentFailure::Invalid { field, message }) => {
            Err(ApiError::Invalid(vec![FieldError::new(
                &field,
                Problem::Other(message),
            )]))
        }
        Err(AgentFailure::Internal(detail)) => {
            tracing::error!(%detail, %local_id, "agent report failed");
            Err(ApiError::Internal)
        }
    }
}

/// `GET /api/v1/province/monitoring` (province admins): the [`BoardView`], alerts first;
/// `404` on a member's node.
#[utoipa::path(
    get,
    path = "/api/v1/province/monitoring",
    tag = "province",
    security(("session" = [])),
    responses(
        (status = 200, description = "The live board of the alliance's instruments, alerts first.", body = BoardView),
        (status = 403, description = "`forbidden`: not a province admin.", body = ErrorBody),
        (status = 404, description = "`not_found`: this is a member's node; the province's node keeps the board.", body = ErrorBody),
    )
)]
pub(super) async fn board<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<BoardView>, ApiError> {
    if session.account.role != AccountRole::ProvinceAdmin {
        return Err(ApiError::Forbidden);
    }
    match state.backend.monitoring_board().await {
        Ok(board) => Ok(Json(board)),
        Err(ResultsFailure::NotHere) => Err(ApiError::BoardNotHere),
        Err(other) => {
            let detail = other.to_string();
            tracing::error!(%detail, "monitoring board failed");
            Err(ApiError::Internal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_bearer_tokens_are_read() {
        assert_eq!(bearer("Bearer abc123"), Some("abc123"));
        assert_eq!(bearer("bearer  abc-._~+/=="), Some("abc-._~+/=="));
        assert_eq!(bearer("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer a b"), None);
        assert_eq!(bearer("Bearer 令牌"), None);
        assert_eq!(bearer(&format!("Bearer {}", "a".repeat(257))), None);
    }

    #[test]
    fn reports_need_a_known_state_and_a_short_plain_note() {
        assert!(check_report("running", "样品 3/5").is_empty());
        assert!(check_report("fault", &"页".repeat(MAX_NOTE_CHARS)).is_empty());
        let fields = |errors: Vec<FieldError>| -> Vec<String> {
            errors.into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(check_report("broken", "")), ["state"]);
        assert_eq!(fields(check_report("", "")), ["state"]);
        assert_eq!(fields(check_report("idle", "a\nb")), ["note"]);
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(fields(check_report("Idle", &long)), ["state", "note"]);
    }
}
