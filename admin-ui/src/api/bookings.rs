//! Booking through the API: book, list and cancel one's bookings, read notifications
//! (any signed-in user), and decide on this institution's bookings (instrument managers and
//! institution admins).

use alliance_protocol::booking::ManagerDecision;
use alliance_protocol::booking::{BookingRules, Training};
use axum::{Json, extract::State};
use serde::Deserialize;

use super::{ApiError, ApiJson, ApiPath, ApiUser, error::ErrorBody};
use crate::{
    AppState, auth,
    backend::{
        ActionFailure, Backend, BookingOutcome, ManagedBooking, MyBooking, NotificationView,
        Session,
    },
    booking_input,
    validate::{FieldError, Problem},
};

impl From<ActionFailure> for ApiError {
    fn from(e: ActionFailure) -> Self {
        match e {
            ActionFailure::Invalid { field, message } => {
                ApiError::Invalid(vec![FieldError::new(&field, Problem::Other(message))])
            }
            ActionFailure::Unreachable => ApiError::Unreachable,
            ActionFailure::Refused { code, message } => ApiError::Refused { code, message },
            ActionFailure::NotFound => ApiError::NotFound,
            ActionFailure::Forbidden => ApiError::Forbidden,
            ActionFailure::Internal(detail) => {
                tracing::error!(%detail, "booking operation failed");
                ApiError::Internal
            }
        }
    }
}

fn require_manager(session: &Session) -> Result<(), ApiError> {
    if auth::decides_bookings(session.account.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// `POST /api/v1/bookings` with a [`BookingForm`]: the owner's answer (confirmed, held,
/// rejected, or a conflict with `alternatives`), always `200`.
#[utoipa::path(
    post,
    path = "/api/v1/bookings",
    tag = "bookings",
    security(("session" = [], "csrf" = [])),
    request_body = booking_input::BookingForm,
    responses(
        (status = 200, description = "The owner's answer: confirmed, held for approval, rejected, or a conflict with alternatives.", body = BookingOutcome),
        (status = 404, description = "`not_found`: no such instrument.", body = ErrorBody),
        (status = 409, description = "The owner refused; `code` says why (e.g. `too_late`, `not_cancellable`).", body = ErrorBody),
        (status = 503, description = "`unreachable`: the owner's node could not be reached; nothing was done.", body = ErrorBody),
    )
)]
pub(super) async fn book<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(form): ApiJson<booking_input::BookingForm>,
) -> Result<Json<BookingOutcome>, ApiError> {
    let detail = state
        .backend
        .instrument(&form.instrument_id)
        .await
        .ok_or(ApiError::NotFound)?;
    let asked =
        booking_input::parse(&form, &detail.record.service_modes).map_err(ApiError::Invalid)?;
    let outcome = state
        .backend
        .book(&session.account, asked.ask, asked.booking_id)
        .await?;
    Ok(Json(outcome))
}

/// `GET /api/v1/bookings`: the user's bookings, newest start first.
#[utoipa::path(
    get,
    path = "/api/v1/bookings",
    tag = "bookings",
    security(("session" = [])),
    responses((status = 200, description = "The user's bookings, newest start first.", body = Vec<MyBooking>))
)]
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Json<Vec<MyBooking>> {
    Json(state.backend.my_bookings(&session.account).await)
}

/// Body of a cancellation.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(super) struct CancelRequest {
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/bookings/{booking_id}/cancel` with `{reason}`: the cancelled booking.
#[utoipa::path(
    post,
    path = "/api/v1/bookings/{booking_id}/cancel",
    tag = "bookings",
    security(("session" = [], "csrf" = [])),
    params(("booking_id" = String, Path, description = "The booking's id.")),
    request_body = CancelRequest,
    responses(
        (status = 200, description = "The cancelled booking.", body = MyBooking),
        (status = 404, description = "`not_found`: no such booking of this user.", body = ErrorBody),
        (status = 409, description = "The owner refused; `code` says why (e.g. `too_late`, `not_cancellable`).", body = ErrorBody),
        (status = 503, description = "`unreachable`: the owner's node could not be reached; nothing was done.", body = ErrorBody),
    )
)]
pub(super) async fn cancel<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(booking_id): ApiPath<String>,
    ApiJson(request): ApiJson<CancelRequest>,
) -> Result<Json<MyBooking>, ApiError> {
    let cancelled = state
        .backend
        .cancel_booking(&session.account, &booking_id, request.reason.trim())
        .await?;
    Ok(Json(cancelled))
}

/// `GET /api/v1/notifications`: newest first.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "bookings",
    security(("session" = [])),
    responses((status = 200, description = "The user's notifications, newest first.", body = Vec<NotificationView>))
)]
pub(super) async fn notifications<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Json<Vec<NotificationView>> {
    Json(state.backend.notifications(&session.account).await)
}

/// `GET /api/v1/manage/bookings`: this institution's bookings, held ones first.
#[utoipa::path(
    get,
    path = "/api/v1/manage/bookings",
    tag = "manage",
    security(("session" = [])),
    responses(
        (status = 200, description = "This institution's bookings, held ones first.", body = Vec<ManagedBooking>),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin.", body = ErrorBody),
    )
)]
pub(super) async fn managed<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Vec<ManagedBooking>>, ApiError> {
    require_manager(&session)?;
    Ok(Json(state.backend.managed_bookings().await))
}

/// Body of a decision.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct DecisionRequest {
    decision: ManagerDecision,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/manage/bookings/{home}/{booking_id}` with `{decision, note}`: the booking
/// after the decision. Rejecting or cancelling needs a note.
#[utoipa::path(
    post,
    path = "/api/v1/manage/bookings/{home}/{booking_id}",
    tag = "manage",
    security(("session" = [], "csrf" = [])),
    params(
        ("home" = String, Path, description = "Institution id of the node that holds the booking (the booker's)."),
        ("booking_id" = String, Path, description = "The booking's id at its home node."),
    ),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "The booking after the decision.", body = ManagedBooking),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such booking of this institution.", body = ErrorBody),
        (status = 409, description = "The owner refused; `code` says why (e.g. `too_late`, `not_cancellable`).", body = ErrorBody),
        (status = 503, description = "`unreachable`: the owner's node could not be reached; nothing was done.", body = ErrorBody),
    )
)]
pub(super) async fn decide<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, booking_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<DecisionRequest>,
) -> Result<Json<ManagedBooking>, ApiError> {
    require_manager(&session)?;
    let note = request.note.trim();
    if booking_input::needs_note(request.decision) && note.is_empty() {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "note",
            Problem::Required,
        )]));
    }
    let decided = state
        .backend
        .decide_booking(&session.account, &home, &booking_id, request.decision, note)
        .await?;
    Ok(Json(decided))
}

/// `GET /api/v1/manage/instruments/{local_id}/rules`: the instrument's booking rules.
#[utoipa::path(
    get,
    path = "/api/v1/manage/instruments/{local_id}/rules",
    tag = "manage",
    security(("session" = [])),
    params(("local_id" = String, Path, description = "The instrument's id within this institution.")),
    responses(
        (status = 200, description = "The instrument's booking rules.", body = BookingRules),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such instrument here.", body = ErrorBody),
    )
)]
pub(super) async fn rules<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(local_id): ApiPath<String>,
) -> Result<Json<BookingRules>, ApiError> {
    require_manager(&session)?;
    let rules = state.backend.booking_rules(&local_id).await;
    Ok(Json(rules.ok_or(ApiError::NotFound)?))
}

/// `PUT /api/v1/manage/instruments/{local_id}/rules` with a [`BookingRules`]: the rules as
/// stored; blackouts show in every node's calendar. The rules are replaced as a whole: a field
/// left out takes its default (as `GET` shows for an instrument without rules).
#[utoipa::path(
    put,
    path = "/api/v1/manage/instruments/{local_id}/rules",
    tag = "manage",
    security(("session" = [], "csrf" = [])),
    params(("local_id" = String, Path, description = "The instrument's id within this institution.")),
    request_body = BookingRules,
    responses(
        (status = 200, description = "The rules as stored.", body = BookingRules),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such instrument here.", body = ErrorBody),
    )
)]
pub(super) async fn set_rules<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(local_id): ApiPath<String>,
    ApiJson(rules): ApiJson<BookingRules>,
) -> Result<Json<BookingRules>, ApiError> {
    require_manager(&session)?;
    Ok(Json(
        state.backend.set_booking_rules(&local_id, rules).await?,
    ))
}

/// `GET /api/v1/manage/trainings`: the training certifications recorded here.
#[utoipa::path(
    get,
    path = "/api/v1/manage/trainings",
    tag = "manage",
    security(("session" = [])),
    responses(
        (status = 200, description = "The training certifications recorded here.", body = Vec<Training>),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin.", body = ErrorBody),
    )
)]
pub(super) async fn trainings<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Vec<Training>>, ApiError> {
    require_manager(&session)?;
    Ok(Json(state.backend.trainings().await))
}

/// `POST /api/v1/manage/trainings` with a [`Training`]: records that a user was
/// trained, so they may book the instrument for self-operated use until `valid_until`.
#[utoipa::path(
    post,
    path = "/api/v1/manage/trainings",
    tag = "manage",
    security(("session" = [], "csrf" = [])),
    request_body = Training,
    responses(
        (status = 200, description = "The training as recorded.", body = Training),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such instrument or user.", body = ErrorBody),
    )
)]
pub(super) async fn record_training<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(training): ApiJson<Training>,
) -> Result<Json<Training>, ApiError> {
    require_manager(&session)?;
    Ok(Json(
        state
            .backend
            .record_training(&session.account, training)
            .await?,
    ))
}
