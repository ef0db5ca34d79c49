//! The help desk through the API (R18): a signed-in person asks for help in plain words
//! and follows every step; service experts take requests, write, and post the need for
//! the asker. Only the asker and experts see a request.

use axum::{Json, extract::State, http::StatusCode};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, error::ErrorBody};
use crate::{
    AppState,
    backend::{
        Backend, ExpertFields, HelpForm, HelpNeedForm, HelpPageView, HelpQuery, HelpTextForm,
        HelpView,
    },
};

/// `GET /api/v1/help`: the requests the signed-in person asked, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/help",
    tag = "help",
    security(("session" = [])),
    params(HelpQuery),
    responses((status = 200, description = "A page of the person's requests.", body = HelpPageView))
)]
pub(super) async fn mine<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<HelpQuery>,
) -> Json<HelpPageView> {
    Json(
        state
            .backend
            .my_help_requests(&session.account, &query)
            .await,
    )
}

/// `POST /api/v1/help`: asks for help in plain words.
#[utoipa::path(
    post,
    path = "/api/v1/help",
    tag = "help",
    security(("session" = [], "csrf" = [])),
    request_body = HelpForm,
    responses(
        (status = 201, description = "The request, waiting for an expert.", body = HelpView),
        (status = 400, description = "`invalid`: too short, too long, or an unknown field.", body = ErrorBody),
        (status = 409, description = "`full`: too many requests open.", body = ErrorBody),
    )
)]
pub(super) async fn ask<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(form): ApiJson<HelpForm>,
) -> Result<(StatusCode, Json<HelpView>), ApiError> {
    let request = state.backend.ask_help(&session.account, form).await?;
    Ok((StatusCode::CREATED, Json(request)))
}

/// `GET /api/v1/help/queue`: every request, newest first (service experts).
#[utoipa::path(
    get,
    path = "/api/v1/help/queue",
    tag = "help",
    security(("session" = [])),
    params(HelpQuery),
    responses(
        (status = 200, description = "A page of the requests.", body = HelpPageView),
        (status = 403, description = "`forbidden`: not a service expert.", body = ErrorBody),
    )
)]
pub(super) async fn queue<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<HelpQuery>,
) -> Result<Json<HelpPageView>, ApiError> {
    Ok(Json(
        state.backend.help_queue(&session.account, &query).await?,
    ))
}

/// `GET /api/v1/help/fields`: the fields the signed-in service expert knows.
#[utoipa::path(
    get,
    path = "/api/v1/help/fields",
    tag = "help",
    security(("session" = [])),
    responses(
        (status = 200, description = "The expert's fields.", body = ExpertFields),
        (status = 403, description = "`forbidden`: not a service expert.", body = ErrorBody),
    )
)]
pub(super) async fn fields<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<ExpertFields>, ApiError> {
    let fields = state.backend.expert_fields(&session.account).await?;
    Ok(Json(ExpertFields { fields }))
}

/// `POST /api/v1/help/fields`: a service expert names the fields they know.
#[utoipa::path(
    post,
    path = "/api/v1/help/fields",
    tag = "help",
    security(("session" = [], "csrf" = [])),
    request_body = ExpertFields,
    responses(
        (status = 200, description = "The fields kept.", body = ExpertFields),
        (status = 400, description = "`invalid`: an unknown category, or too many.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a service expert.", body = ErrorBody),
    )
)]
pub(super) async fn set_fields<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(form): ApiJson<ExpertFields>,
) -> Result<Json<ExpertFields>, ApiError> {
    let fields = state
        .backend
        .set_expert_fields(&session.account, form.fields)
        .await?;
    Ok(Json(ExpertFields { fields }))
}

/// `GET /api/v1/help/{id}`: one request with its steps (its asker, or an expert).
#[utoipa::path(
    get,
    path = "/api/v1/help/{id}",
    tag = "help",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The request.", body = HelpView),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(super) async fn detail<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<HelpView>, ApiError> {
    Ok(Json(
        state.backend.help_request(&session.account, &id).await?,
    ))
}

/// `POST /api/v1/help/{id}/take`: a service expert takes an open request.
#[utoipa::path(
    post,
    path = "/api/v1/help/{id}/take",
    tag = "help",
    security(("session" = [], "csrf" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The request, taken; its asker is told.", body = HelpView),
        (status = 403, description = "`forbidden`: not a service expert, or another expert took it.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`request_closed`.", body = ErrorBody),
    )
)]
pub(super) async fn take<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<HelpView>, ApiError> {
    Ok(Json(state.backend.take_help(&session.account, &id).await?))
}

/// `POST /api/v1/help/{id}/messages`: the asker or the expert who took it writes.
#[utoipa::path(
    post,
    path = "/api/v1/help/{id}/messages",
    tag = "help",
    security(("session" = [], "csrf" = [])),
    params(("id" = String, Path)),
    request_body = HelpTextForm,
    responses(
        (status = 200, description = "The request with the message; an expert's reaches the asker by notice.", body = HelpView),
        (status = 400, description = "`invalid`: empty or too long.", body = ErrorBody),
        (status = 403, description = "`forbidden`: neither the asker nor the expert who took it.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`request_closed`.", body = ErrorBody),
    )
)]
pub(super) async fn write<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(form): ApiJson<HelpTextForm>,
) -> Result<Json<HelpView>, ApiError> {
    Ok(Json(
        state
            .backend
            .write_help(&session.account, &id, &form.text)
            .await?,
    ))
}

/// `POST /api/v1/help/{id}/need`: the expert who took it posts the need for the asker,
/// perhaps referred to a member.
#[utoipa::path(
    post,
    path = "/api/v1/help/{id}/need",
    tag = "help",
    security(("session" = [], "csrf" = [])),
    params(("id" = String, Path)),
    request_body = HelpNeedForm,
    responses(
        (status = 200, description = "The request, closed with the need posted.", body = HelpView),
        (status = 400, description = "`invalid`: the need's fields, or a referral to a non-member.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the expert who took it.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`request_closed`, `full` or `price_category_missing` (the asker's).", body = ErrorBody),
    )
)]
pub(super) async fn post_need<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(form): ApiJson<HelpNeedForm>,
) -> Result<Json<HelpView>, ApiError> {
    Ok(Json(
        state
            .backend
            .post_help_need(&session.account, &id, form)
            .await?,
    ))
}

/// `POST /api/v1/help/{id}/close`: the asker, or the expert who took it (with a
/// reason), closes a request.
#[utoipa::path(
    post,
    path = "/api/v1/help/{id}/close",
    tag = "help",
    security(("session" = [], "csrf" = [])),
    params(("id" = String, Path)),
    request_body = HelpTextForm,
    responses(
        (status = 200, description = "The request, closed.", body = HelpView),
        (status = 400, description = "`invalid`: an expert gave no reason.", body = ErrorBody),
        (status = 403, description = "`forbidden`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`request_closed`.", body = ErrorBody),
    )
)]
pub(super) async fn close<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(form): ApiJson<HelpTextForm>,
) -> Result<Json<HelpView>, ApiError> {
    Ok(Json(
        state
            .backend
            .close_help(&session.account, &id, &form.text)
            .await?,
    ))
}
