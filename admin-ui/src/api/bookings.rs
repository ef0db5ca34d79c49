//! Booking through the API: book, list and cancel one's bookings, read notifications
//! (any signed-in user), and decide on this institution's bookings (instrument managers and
//! institution admins).

use alliance_protocol::booking::ManagerDecision;
use alliance_protocol::booking::{BookingRules, Training};
use axum::{Json, extract::State};
use serde::Deserialize;

use super::{
    ApiError, ApiJson, ApiPath, ApiQuery, ApiUser,
    error::ErrorBody,
    paging::{PageQuery, check_limit, paged, start_span},
};
use crate::{
    AppState, auth,
    backend::{
        ActionFailure, Backend, BookingOutcome, ManagedBooking, ManagedSection, MyBooking,
        NotificationView, Session,
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

/// Query of a list of bookings.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct BookingsQuery {
    /// How many to skip (default 0).
    #[serde(default)]
    offset: usize,
    /// How many to give, 1 to 100 (default 50).
    #[serde(default = "fifty")]
    #[param(minimum = 1, maximum = 100)]
    limit: usize,
    /// Only bookings starting from this day on (`YYYY-MM-DD`, Beijing time).
    #[serde(default)]
    from: Option<String>,
    /// Only bookings starting up to this day, inclusive.
    #[serde(default)]
    to: Option<String>,
}

fn fifty() -> usize {
    50
}

/// `GET /api/v1/bookings?from=&to=&offset=&limit=`: the user's bookings, newest start
/// first, a page at a time (`X-Total-Count` says how many there are).
#[utoipa::path(
    get,
    path = "/api/v1/bookings",
    tag = "bookings",
    security(("session" = [])),
    params(BookingsQuery),
    responses(
        (status = 200, description = "A page of the user's bookings, newest start first; `X-Total-Count` says how many.", body = Vec<MyBooking>),
        (status = 400, description = "`invalid`: a limit outside 1 to 100 or a day that is not one.", body = ErrorBody),
    )
)]
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<BookingsQuery>,
) -> Result<axum::response::Response, ApiError> {
    check_limit(query.limit)?;
    let span = start_span(query.from.as_deref(), query.to.as_deref())?;
    let page = state
        .backend
        .my_bookings_page(&session.account, span, query.offset, query.limit)
        .await;
    Ok(paged(&page.items, page.total))
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

/// `GET /api/v1/notifications?offset=&limit=`: newest first, a page at a time
/// (`X-Total-Count` says how many there are).
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "bookings",
    security(("session" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the user's notifications, newest first; `X-Total-Count` says how many.", body = Vec<NotificationView>),
        (status = 400, description = "`invalid`: a limit outside 1 to 100.", body = ErrorBody),
    )
)]
pub(super) async fn notifications<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<axum::response::Response, ApiError> {
    check_limit(query.limit)?;
    let page = state
        .backend
        .notifications_page(&session.account, query.offset, query.limit)
        .await;
    Ok(paged(&page.items, page.total))
}

/// Query of the managers' list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ManagedQuery {
    /// Only bookings of this section: `waiting` (for a decision), `active` (confirmed or
    /// in use) or `closed`; all three, in that order, if absent.
    #[serde(default)]
    #[param(inline)]
    section: Option<ManagedSection>,
    /// How many to skip (default 0), across the sections asked for.
    #[serde(default)]
    offset: usize,
    /// How many to give, 1 to 100 (default 50).
    #[serde(default = "fifty")]
    #[param(minimum = 1, maximum = 100)]
    limit: usize,
    /// Only bookings starting from this day on (`YYYY-MM-DD`, Beijing time).
    #[serde(default)]
    from: Option<String>,
    /// Only bookings starting up to this day, inclusive.
    #[serde(default)]
    to: Option<String>,
}

/// `GET /api/v1/manage/bookings?section=&from=&to=&offset=&limit=`: this institution's
/// bookings — waiting ones first (soonest start first), then active ones (the same),
/// then closed ones (latest start first) — a page at a time (`X-Total-Count`).
#[utoipa::path(
    get,
    path = "/api/v1/manage/bookings",
    tag = "manage",
    security(("session" = [])),
    params(ManagedQuery),
    responses(
        (status = 200, description = "A page of this institution's bookings; `X-Total-Count` says how many.", body = Vec<ManagedBooking>),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin.", body = ErrorBody),
        (status = 400, description = "`invalid`: a limit outside 1 to 100 or a day that is not one.", body = ErrorBody),
    )
)]
pub(super) async fn managed<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<ManagedQuery>,
) -> Result<axum::response::Response, ApiError> {
    require_manager(&session)?;
    let page = query;
    check_limit(page.limit)?;
    let span = start_span(page.from.as_deref(), page.to.as_deref())?;
    let sections = match page.section {
        Some(one) => vec![one],
        None => ManagedSection::ALL.to_vec(),
    };
    // The sections one after another: the offset runs through them in order.
    let (mut skip, mut items, mut total) = (page.offset, Vec::new(), 0);
    for section in sections {
        let room = page.limit.saturating_sub(items.len());
        let part = state.backend.managed_page(section, span, skip, room).await;
        total += part.total;
        skip = skip.saturating_sub(part.total);
        items.extend(part.items);
    }
    Ok(paged(&items, total))
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
