//! Booking through the API: book, list and cancel one's bookings, read notifications
//! (any signed-in user), and decide on this institution's bookings (instrument managers and
//! institution admins).

use axum::{
    Json,
    extract::{Path, State},
};
use serde::Deserialize;

use super::{ApiError, ApiJson, ApiUser};
use crate::{
    AppState, auth,
    backend::{
        Backend, BookingFailure, BookingForm, BookingOutcome, ManagedBooking, ManagerDecision,
        MyBooking, NotificationView, RulesView, Session, TrainingView,
    },
    booking_input,
    validate::{FieldError, Problem},
};

impl From<BookingFailure> for ApiError {
    fn from(e: BookingFailure) -> Self {
        match e {
            BookingFailure::Invalid { field, message } => {
                ApiError::Invalid(vec![FieldError::new(&field, Problem::Other(message))])
            }
            BookingFailure::Unreachable => ApiError::Unreachable,
            BookingFailure::Refused { code, message } => ApiError::Refused { code, message },
            BookingFailure::NotFound => ApiError::NotFound,
            BookingFailure::Forbidden => ApiError::Forbidden,
            BookingFailure::Internal(detail) => {
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
pub(super) async fn book<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(form): ApiJson<BookingForm>,
) -> Result<Json<BookingOutcome>, ApiError> {
    let detail = state
        .backend
        .instrument(&form.instrument_id)
        .await
        .ok_or(ApiError::NotFound)?;
    let errors = booking_input::check(&form, &detail.record.service_modes);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    Ok(Json(state.backend.book(&session.account, form).await?))
}

/// `GET /api/v1/bookings`: the user's bookings, newest start first.
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Json<Vec<MyBooking>> {
    Json(state.backend.my_bookings(&session.account).await)
}

/// Body of a cancellation.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CancelRequest {
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/bookings/{booking_id}/cancel` with `{reason}`: the cancelled booking.
pub(super) async fn cancel<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    Path(booking_id): Path<String>,
    ApiJson(request): ApiJson<CancelRequest>,
) -> Result<Json<MyBooking>, ApiError> {
    let cancelled = state
        .backend
        .cancel_booking(&session.account, &booking_id, request.reason.trim())
        .await?;
    Ok(Json(cancelled))
}

/// `GET /api/v1/notifications`: newest first.
pub(super) async fn notifications<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Json<Vec<NotificationView>> {
    Json(state.backend.notifications(&session.account).await)
}

/// `GET /api/v1/manage/bookings`: this institution's bookings, held ones first.
pub(super) async fn managed<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Vec<ManagedBooking>>, ApiError> {
    require_manager(&session)?;
    Ok(Json(state.backend.managed_bookings().await))
}

/// Body of a decision.
#[derive(Debug, Deserialize)]
pub(super) struct DecisionRequest {
    decision: ManagerDecision,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/manage/bookings/{home}/{booking_id}` with `{decision, note}`: the booking
/// after the decision. Rejecting or cancelling needs a note.
pub(super) async fn decide<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    Path((home, booking_id)): Path<(String, String)>,
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
pub(super) async fn rules<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    Path(local_id): Path<String>,
) -> Result<Json<RulesView>, ApiError> {
    require_manager(&session)?;
    let rules = state.backend.booking_rules(&local_id).await;
    Ok(Json(rules.ok_or(ApiError::NotFound)?))
}

/// `PUT /api/v1/manage/instruments/{local_id}/rules` with a [`RulesView`]: the rules as
/// stored; blackouts show in every node's calendar.
pub(super) async fn set_rules<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    Path(local_id): Path<String>,
    ApiJson(rules): ApiJson<RulesView>,
) -> Result<Json<RulesView>, ApiError> {
    require_manager(&session)?;
    Ok(Json(
        state.backend.set_booking_rules(&local_id, rules).await?,
    ))
}

/// `GET /api/v1/manage/trainings`: the training certifications recorded here.
pub(super) async fn trainings<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Vec<TrainingView>>, ApiError> {
    require_manager(&session)?;
    Ok(Json(state.backend.trainings().await))
}

/// `POST /api/v1/manage/trainings` with a [`TrainingView`]: records that a user was
/// trained, so they may book the instrument for self-operated use until `valid_until`.
pub(super) async fn record_training<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(training): ApiJson<TrainingView>,
) -> Result<Json<TrainingView>, ApiError> {
    require_manager(&session)?;
    Ok(Json(
        state
            .backend
            .record_training(&session.account, training)
            .await?,
    ))
}
