//! How the JSON API reports a failure: a status code and
//! `{"error": {"code": "...", "message": "...", "field": "...", "fields": [...]}}`.
//!
//! Messages are English and never carry internal detail; backend failures are logged here
//! and answered with a generic `internal` error.

use std::time::Duration;

use axum::{
    Json,
    http::{
        HeaderValue, StatusCode,
        header::{RETRY_AFTER, WWW_AUTHENTICATE},
    },
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{
    actions::{ActionError, SignInError},
    backend::AccountError,
    i18n::Lang,
    throttle::retry_after_secs,
    validate::{FieldError, Problem},
};

/// How long a client should wait after `503 busy`.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// A failed API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// The request body could not be read (malformed JSON, wrong content type).
    BadRequest { status: StatusCode, message: String },
    /// Fields with problems (`400 invalid`, or `409 username_taken`).
    Invalid(Vec<FieldError>),
    /// Not signed in.
    Unauthorized,
    /// Wrong username or password.
    InvalidCredentials,
    /// The account waits for approval.
    AccountPending,
    /// The account is disabled.
    AccountDisabled,
    /// Signed in, but the role does not allow this.
    Forbidden,
    /// The role may not manage accounts of the target's role.
    RoleNotAllowed,
    /// An administrator tried to change the state of their own account.
    OwnAccount,
    /// Missing or wrong `X-CSRF-Token`.
    Csrf,
    /// A state-changing request from a page of another origin.
    CrossOrigin,
    /// No such resource.
    NotFound,
    /// Only the province's node publishes results, subsidies and compliance (`404`).
    NotHere,
    /// An instrument agent's report without a well-formed `Authorization: Bearer` token
    /// (`given: false`), or with a wrong or revoked one: `401` with `WWW-Authenticate`.
    AgentToken { given: bool },
    /// Only the province's node keeps the monitoring board (`404`).
    BoardNotHere,
    /// The owner of an instrument could not be reached; nothing was done.
    Unreachable,
    /// The owner refused; `code` is its stable reason (e.g. `too_late`).
    Refused { code: String, message: String },
    /// Too many failed password checks for the name or the client's address (`429`
    /// `too_many_attempts` with `Retry-After`); nothing was checked.
    TooManyAttempts { retry_after: Duration },
    /// Too many requests of this kind from the client's address (`429` `rate_limited`
    /// with `Retry-After`).
    RateLimited { retry_after: Duration },
    /// Too many password checks are waiting (`503` `busy` with `Retry-After`).
    Busy,
    /// The queue of registrations waiting for approval is full (`503`).
    RegistrationsClosed,
    /// The backend failed; detail logged.
    Internal,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

/// What went wrong.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail<'a> {
    /// Stable, snake_case: `invalid`, `unauthorized`, `forbidden`, `csrf`, `not_found`,
    /// `rate_limited`, an owner's refusal such as `too_late`…
    code: &'a str,
    /// English, for people.
    message: String,
    /// The first field with a problem (`invalid`, `username_taken`).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Every field with a problem (`invalid`, `username_taken`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldDetail<'a>>,
}

/// A field with a problem.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FieldDetail<'a> {
    field: &'a str,
    message: String,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &str) {
        match self {
            ApiError::BadRequest { status, .. } => (*status, "bad_request"),
            ApiError::Invalid(errors) if is_taken(errors) => {
                (StatusCode::CONFLICT, "username_taken")
            }
            ApiError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ApiError::AccountPending => (StatusCode::FORBIDDEN, "account_pending"),
            ApiError::AccountDisabled => (StatusCode::FORBIDDEN, "account_disabled"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::RoleNotAllowed => (StatusCode::FORBIDDEN, "role_not_allowed"),
            ApiError::OwnAccount => (StatusCode::CONFLICT, "own_account"),
            ApiError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
            ApiError::CrossOrigin => (StatusCode::FORBIDDEN, "cross_origin"),
            ApiError::NotFound | ApiError::NotHere | ApiError::BoardNotHere => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            ApiError::AgentToken { .. } => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Unreachable => (StatusCode::SERVICE_UNAVAILABLE, "unreachable"),
            ApiError::Refused { code, .. } => (StatusCode::CONFLICT, code.as_str()),
            ApiError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
            }
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::RegistrationsClosed => {
                (StatusCode::SERVICE_UNAVAILABLE, "registrations_closed")
            }
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn message(&self) -> String {
        let t = Lang::En.strings();
        match self {
            ApiError::BadRequest { message, .. } => message.clone(),
            ApiError::Invalid(errors) => errors
                .first()
                .map_or_else(|| t.form_has_errors.to_owned(), |e| t.problem(&e.problem)),
            ApiError::Unauthorized => "sign in first".to_owned(),
            ApiError::InvalidCredentials => t.login_failed.to_owned(),
            ApiError::AccountPending => t.login_pending.to_owned(),
            ApiError::AccountDisabled => t.login_disabled.to_owned(),
            ApiError::Forbidden => t.error_forbidden.to_owned(),
            ApiError::RoleNotAllowed => t.err_role_not_allowed.to_owned(),
            ApiError::OwnAccount => t.err_own_account.to_owned(),
            ApiError::Csrf => {
                "missing or wrong X-CSRF-Token header (use the csrf_token of the session)"
                    .to_owned()
            }
            ApiError::CrossOrigin => "cross-origin request refused".to_owned(),
            ApiError::NotFound => "not found".to_owned(),
            ApiError::NotHere => "evaluation results, subsidies and reporting compliance are published by the province's node; this is a member's node".to_owned(),
            ApiError::AgentToken { given: false } => {
                "send the instrument's agent token as `Authorization: Bearer <token>`".to_owned()
            }
            ApiError::AgentToken { given: true } => {
                "wrong or revoked agent token for this instrument; ask its manager for a new one"
                    .to_owned()
            }
            ApiError::BoardNotHere => "the monitoring board is kept by the province's node; this is a member's node".to_owned(),
            ApiError::Unreachable => {
                "the owner's node is unreachable; nothing was done, try again later".to_owned()
            }
            ApiError::Refused { message, .. } => message.clone(),
            ApiError::TooManyAttempts { retry_after } => format!(
                "too many failed sign-ins for this name or from this address; try again in {} s (until then even the right password is refused)",
                retry_after_secs(*retry_after)
            ),
            ApiError::RateLimited { retry_after } => format!(
                "too many requests from this address; try again in {} s",
                retry_after_secs(*retry_after)
            ),
            ApiError::Busy => t.busy.to_owned(),
            ApiError::RegistrationsClosed => t.register_closed.to_owned(),
            ApiError::Internal => "internal error; please try again later".to_owned(),
        }
    }

    /// When to try again, for the `Retry-After` header.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::TooManyAttempts { retry_after } | ApiError::RateLimited { retry_after } => {
                Some(*retry_after)
            }
            ApiError::Busy => Some(BUSY_RETRY_AFTER),
            _ => None,
        }
    }

    /// The error for a failed sign-in.
    pub(crate) fn from_sign_in(e: SignInError) -> Self {
        match e {
            SignInError::Locked(retry_after) => ApiError::TooManyAttempts { retry_after },
            SignInError::Refused(e) => ApiError::from_login(e),
        }
    }

    /// The error for a sign-in the backend refused.
    pub(crate) fn from_login(e: AccountError) -> Self {
        match e {
            AccountError::InvalidCredentials
            | AccountError::NotFound
            | AccountError::Invalid { .. } => ApiError::InvalidCredentials,
            AccountError::Pending => ApiError::AccountPending,
            AccountError::Disabled => ApiError::AccountDisabled,
            AccountError::Busy => ApiError::Busy,
            AccountError::Internal(detail) => {
                tracing::error!(%detail, "sign-in failed in the backend");
                ApiError::Internal
            }
            other @ (AccountError::UsernameTaken | AccountError::RegistrationsClosed) => {
                tracing::error!(error = %other, "unexpected answer to a sign-in");
                ApiError::Internal
            }
        }
    }
}

fn is_taken(errors: &[FieldError]) -> bool {
    errors.iter().any(|e| e.problem == Problem::UsernameTaken)
}

impl From<ActionError> for ApiError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::Fields(errors) => ApiError::Invalid(errors),
            ActionError::RoleNotAllowed => ApiError::RoleNotAllowed,
            ActionError::OwnAccount => ApiError::OwnAccount,
            ActionError::NotFound => ApiError::NotFound,
            ActionError::Locked(retry_after) => ApiError::TooManyAttempts { retry_after },
            ActionError::RateLimited(retry_after) => ApiError::RateLimited { retry_after },
            ActionError::Busy => ApiError::Busy,
            ActionError::RegistrationsClosed => ApiError::RegistrationsClosed,
            ActionError::Internal => ApiError::Internal,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let t = Lang::En.strings();
        let (field, fields) = match &self {
            ApiError::Invalid(errors) => (
                errors.first().map(|e| e.field.as_str()),
                errors
                    .iter()
                    .map(|e| FieldDetail {
                        field: &e.field,
                        message: t.problem(&e.problem),
                    })
                    .collect(),
            ),
            _ => (None, Vec::new()),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.message(),
                field,
                fields,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(wait) = self.retry_after() {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs(wait)));
        }
        if let ApiError::AgentToken { given } = self {
            // RFC 6750: a presented but refused token is `invalid_token`.
            let challenge = if given {
                "Bearer error=\"invalid_token\""
            } else {
                "Bearer"
            };
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}
