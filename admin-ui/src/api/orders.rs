//! Entrusted-testing orders through the API: the user's orders, and a report's file
//! through the home (checked against the SHA-256 its owner signed into the receipt).

use axum::{Json, extract::State, response::Response};

use serde::Deserialize;

use super::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, error::ErrorBody};
use crate::{
    AppState,
    backend::{Backend, CancelForm, ManagedOrderView, OrderStepForm, OrderView, ReportFile},
    time,
    validate::{FieldError, Problem},
};

/// `GET /api/v1/orders`: the signed-in person's orders, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    tag = "orders",
    security(("session" = [])),
    responses((status = 200, description = "The person's orders, newest first.", body = Vec<OrderView>))
)]
pub(super) async fn mine<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Json<Vec<OrderView>> {
    Json(state.backend.my_orders(&session.account).await)
}

/// `GET /api/v1/orders/{order_id}/report`: the report's file.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{order_id}/report",
    tag = "orders",
    security(("session" = [])),
    params(("order_id" = String, Path, description = "The order's id at this home.")),
    responses(
        (status = 200, description = "The report, as issued (PDF, a ZIP-based file or text).", content_type = "application/octet-stream"),
        (status = 404, description = "`not_found`: no such order of the person's, or no report yet.", body = ErrorBody),
        (status = 503, description = "`unreachable`: the owner's node could not be reached.", body = ErrorBody),
    )
)]
pub(super) async fn report<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(order_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let file = state
        .backend
        .order_report(&session.account, &order_id)
        .await?;
    Ok(crate::downloads::uploaded(file))
}

/// `GET /api/v1/manage/orders`: the orders placed with this institution (managers).
#[utoipa::path(
    get,
    path = "/api/v1/manage/orders",
    tag = "orders",
    security(("session" = [])),
    responses(
        (status = 200, description = "The orders, newest first, with whom to contact.", body = Vec<ManagedOrderView>),
        (status = 403, description = "`forbidden`: not an instrument manager.", body = ErrorBody),
    )
)]
pub(super) async fn managed<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Vec<ManagedOrderView>>, ApiError> {
    Ok(Json(state.backend.managed_orders(&session.account).await?))
}

/// `POST /api/v1/manage/orders/{home}/{order_id}/state`: one step of an order.
#[utoipa::path(
    post,
    path = "/api/v1/manage/orders/{home}/{order_id}/state",
    tag = "orders",
    security(("session" = [], "csrf" = [])),
    params(("home" = String, Path), ("order_id" = String, Path)),
    request_body = OrderStepForm,
    responses(
        (status = 200, description = "The order after the step; its home is told.", body = ManagedOrderView),
        (status = 400, description = "`invalid`: an unknown state, or a refusal without its reason.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an instrument manager.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`out_of_order`: not the next step.", body = ErrorBody),
    )
)]
pub(super) async fn step<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, order_id)): ApiPath<(String, String)>,
    ApiJson(form): ApiJson<OrderStepForm>,
) -> Result<Json<ManagedOrderView>, ApiError> {
    Ok(Json(
        state
            .backend
            .advance_order(&session.account, &home, &order_id, form)
            .await?,
    ))
}

/// Query of a report upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ReportQuery {
    /// The report's file name.
    file_name: String,
    /// When the measurement began and ended on the instrument, `YYYY-MM-DDTHH:MM`
    /// (Beijing).
    start: String,
    end: String,
}

/// `POST /api/v1/manage/orders/{home}/{order_id}/report?file_name=&start=&end=` with the
/// file as the body: issues the report of an order in testing.
#[utoipa::path(
    post,
    path = "/api/v1/manage/orders/{home}/{order_id}/report",
    tag = "orders",
    security(("session" = [], "csrf" = [])),
    params(("home" = String, Path), ("order_id" = String, Path), ReportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "The order with its report; the receipt carries the report's SHA-256.", body = ManagedOrderView),
        (status = 400, description = "`invalid`: times, size or type of the file.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an instrument manager.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`out_of_order`: the order is not in testing.", body = ErrorBody),
    )
)]
pub(super) async fn upload_report<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, order_id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ReportQuery>,
    body: axum::body::Bytes,
) -> Result<Json<ManagedOrderView>, ApiError> {
    let (Some(start), Some(end)) = (
        time::parse_local_input(&query.start),
        time::parse_local_input(&query.end),
    ) else {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "start",
            Problem::Other("a time written YYYY-MM-DDTHH:MM (Beijing)".into()),
        )]));
    };
    let file = ReportFile {
        name: query.file_name,
        media_type: String::new(),
        bytes: body.to_vec(),
    };
    Ok(Json(
        state
            .backend
            .issue_report(&session.account, &home, &order_id, file, (start, end))
            .await?,
    ))
}

/// `POST /api/v1/orders/{order_id}/cancel`: the user takes back an order before the
/// samples arrive; its owner is asked at once, and its update follows.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{order_id}/cancel",
    tag = "orders",
    security(("session" = [], "csrf" = [])),
    params(("order_id" = String, Path, description = "The order's id at this home.")),
    request_body = CancelForm,
    responses(
        (status = 204, description = "The owner took the cancellation."),
        (status = 400, description = "`invalid`: no reason given.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such order of the person's.", body = ErrorBody),
        (status = 409, description = "`out_of_order`: the samples are already in.", body = ErrorBody),
        (status = 503, description = "`unreachable`: the owner's node could not be reached; nothing was done.", body = ErrorBody),
    )
)]
pub(super) async fn cancel<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(order_id): ApiPath<String>,
    ApiJson(form): ApiJson<CancelForm>,
) -> Result<axum::http::StatusCode, ApiError> {
    state
        .backend
        .cancel_order(&session.account, &order_id, &form.reason)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /api/v1/orders/{order_id}/photos/{n}`: intake photo `n` (from 1).
#[utoipa::path(
    get,
    path = "/api/v1/orders/{order_id}/photos/{n}",
    tag = "orders",
    security(("session" = [])),
    params(("order_id" = String, Path), ("n" = u32, Path, description = "The photo's number, from 1.")),
    responses(
        (status = 200, description = "The photo (JPEG or PNG), checked against the SHA-256 its owner signed.", content_type = "application/octet-stream"),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 503, description = "`unreachable`: the owner's node could not be reached.", body = ErrorBody),
    )
)]
pub(super) async fn photo<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((order_id, n)): ApiPath<(String, u32)>,
) -> Result<Response, ApiError> {
    let file = state
        .backend
        .order_photo(&session.account, &order_id, n)
        .await?;
    Ok(crate::downloads::uploaded(file))
}

/// Query of a photo upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PhotoQuery {
    /// The photo's file name.
    file_name: String,
}

/// `POST /api/v1/manage/orders/{home}/{order_id}/photos?file_name=` with the photo as
/// the body: a photo of the samples taken in (managers; at most 3).
#[utoipa::path(
    post,
    path = "/api/v1/manage/orders/{home}/{order_id}/photos",
    tag = "orders",
    security(("session" = [], "csrf" = [])),
    params(("home" = String, Path), ("order_id" = String, Path), PhotoQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A JPEG or PNG photo, at most 2 MiB."),
    responses(
        (status = 200, description = "The order with the photo; its home is told.", body = ManagedOrderView),
        (status = 400, description = "`invalid`: not a JPEG or PNG, too large, or a fourth photo.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an instrument manager.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`out_of_order`: the samples are not in.", body = ErrorBody),
    )
)]
pub(super) async fn upload_photo<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, order_id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PhotoQuery>,
    body: axum::body::Bytes,
) -> Result<Json<ManagedOrderView>, ApiError> {
    let file = ReportFile {
        name: query.file_name,
        media_type: String::new(),
        bytes: body.to_vec(),
    };
    Ok(Json(
        state
            .backend
            .add_intake_photo(&session.account, &home, &order_id, file)
            .await?,
    ))
}
