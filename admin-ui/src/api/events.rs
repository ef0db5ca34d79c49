//! Matching events through the API (R17): anyone lists them and reads one with the needs
//! and offers of its field; administrators announce and call off their institution's;
//! anyone signed in registers at their own node.

use axum::{Json, extract::State, http::StatusCode};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, error::ErrorBody};
use crate::{
    AppState,
    auth::Visitor,
    backend::{
        Backend, EventCancelForm, EventDetail, EventForm, EventPageView, EventQuery, EventView,
    },
    event_input,
    validate::{FieldError, Problem},
};

fn event_id(organiser: &str, local_id: &str) -> String {
    format!("{organiser}/{local_id}")
}

/// `GET /api/v1/events`: events not yet over, soonest first (public).
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    params(EventQuery),
    responses((status = 200, description = "A page of events.", body = EventPageView))
)]
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    visitor: Visitor,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> Json<EventPageView> {
    let viewer = visitor.session.as_ref().map(|s| &s.account);
    Json(state.backend.events(viewer, &query).await)
}

/// `POST /api/v1/events`: announces an event of this institution (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "events",
    security(("session" = [], "csrf" = [])),
    request_body = EventForm,
    responses(
        (status = 201, description = "The event, signed and sent to every member.", body = EventView),
        (status = 400, description = "`invalid`: the fields with problems.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator.", body = ErrorBody),
    )
)]
pub(super) async fn announce<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(form): ApiJson<EventForm>,
) -> Result<(StatusCode, Json<EventView>), ApiError> {
    let event = event_input::read(form).map_err(|(field, problem)| {
        ApiError::Invalid(vec![FieldError::new(field, Problem::Other(problem.into()))])
    })?;
    let view = state
        .backend
        .announce_event(&session.account, event)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /api/v1/events/{organiser}/{local_id}`: one event, with the open needs of its
/// field and the offers made for them (public).
#[utoipa::path(
    get,
    path = "/api/v1/events/{organiser}/{local_id}",
    tag = "events",
    params(("organiser" = String, Path), ("local_id" = String, Path)),
    responses(
        (status = 200, description = "The event and its field's needs and offers.", body = EventDetail),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(super) async fn detail<B: Backend>(
    State(state): State<AppState<B>>,
    visitor: Visitor,
    ApiPath((organiser, local_id)): ApiPath<(String, String)>,
) -> Result<Json<EventDetail>, ApiError> {
    let viewer = visitor.session.as_ref().map(|s| &s.account);
    Ok(Json(
        state
            .backend
            .event(viewer, &event_id(&organiser, &local_id))
            .await?,
    ))
}

/// `POST /api/v1/events/{organiser}/{local_id}/cancel`: calls the event off.
#[utoipa::path(
    post,
    path = "/api/v1/events/{organiser}/{local_id}/cancel",
    tag = "events",
    security(("session" = [], "csrf" = [])),
    params(("organiser" = String, Path), ("local_id" = String, Path)),
    request_body = EventCancelForm,
    responses(
        (status = 200, description = "The event, called off.", body = EventView),
        (status = 400, description = "`invalid`: no reason.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such event of this institution.", body = ErrorBody),
        (status = 409, description = "`event_closed`: already called off.", body = ErrorBody),
    )
)]
pub(super) async fn cancel<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((organiser, local_id)): ApiPath<(String, String)>,
    ApiJson(form): ApiJson<EventCancelForm>,
) -> Result<Json<EventView>, ApiError> {
    Ok(Json(
        state
            .backend
            .cancel_event(
                &session.account,
                &event_id(&organiser, &local_id),
                &form.reason,
            )
            .await?,
    ))
}

/// `POST /api/v1/events/{organiser}/{local_id}/registration`: registers the signed-in
/// person (asked of the organiser at once).
#[utoipa::path(
    post,
    path = "/api/v1/events/{organiser}/{local_id}/registration",
    tag = "events",
    security(("session" = [], "csrf" = [])),
    params(("organiser" = String, Path), ("local_id" = String, Path)),
    responses(
        (status = 200, description = "Registered.", body = EventView),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`event_full`, or `event_closed` (called off or over).", body = ErrorBody),
        (status = 503, description = "`unreachable`: the organiser's node could not be reached.", body = ErrorBody),
    )
)]
pub(super) async fn register<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((organiser, local_id)): ApiPath<(String, String)>,
) -> Result<Json<EventView>, ApiError> {
    Ok(Json(
        state
            .backend
            .register_for_event(&session.account, &event_id(&organiser, &local_id), false)
            .await?,
    ))
}

/// `DELETE /api/v1/events/{organiser}/{local_id}/registration`: takes it back.
#[utoipa::path(
    delete,
    path = "/api/v1/events/{organiser}/{local_id}/registration",
    tag = "events",
    security(("session" = [], "csrf" = [])),
    params(("organiser" = String, Path), ("local_id" = String, Path)),
    responses(
        (status = 200, description = "No longer registered; the place is free.", body = EventView),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`event_closed`.", body = ErrorBody),
        (status = 503, description = "`unreachable`.", body = ErrorBody),
    )
)]
pub(super) async fn unregister<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((organiser, local_id)): ApiPath<(String, String)>,
) -> Result<Json<EventView>, ApiError> {
    Ok(Json(
        state
            .backend
            .register_for_event(&session.account, &event_id(&organiser, &local_id), true)
            .await?,
    ))
}
