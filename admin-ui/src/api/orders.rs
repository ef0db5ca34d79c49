//! Entrusted-testing orders through the API: the user's orders, and a report's file
//! through the home (checked against the SHA-256 its owner signed into the receipt).

use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use super::{ApiError, ApiPath, ApiUser, error::ErrorBody};
use crate::{
    AppState,
    backend::{Backend, OrderView},
    links::encode_component,
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
    Ok((
        [
            (header::CONTENT_TYPE, file.media_type),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename*=UTF-8''{}",
                    encode_component(&file.name)
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        file.bytes,
    )
        .into_response())
}
