//! The JSON API under `/api/v1`, for the pages' dynamic parts, mobile apps and scripts.
//!
//! Sign in with `POST /api/v1/session`; the answer sets the session cookie and carries the
//! session's `csrf_token`, which every later POST/PUT/DELETE must send back in the
//! `X-CSRF-Token` header. Errors are JSON (see [`ApiError`]). An instrument agent's
//! report carries the instrument's token in `Authorization: Bearer` instead of a session,
//! so it needs no CSRF token.

mod accounts;
mod badges;
mod board;
mod bookings;
mod error;
mod events;
mod help;
pub(crate) mod instruments;
mod monitoring;
mod notices;
pub(crate) mod openapi;
mod orders;
mod paging;
mod publications;
mod receipts;
mod results;
mod session;

use axum::{
    Json, Router,
    extract::{FromRequest, FromRequestParts, Path, Query, Request, State},
    http::request::Parts,
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use utoipa_axum::router::UtoipaMethodRouterExt;

pub(crate) use self::error::ApiError;
use self::openapi::documented;
use crate::{
    AppState,
    auth::{self, Visitor},
    backend::{Backend, NodeStatus, Session},
};

/// Header that carries the session's CSRF token.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// The `/api/v1` routes and their OpenAPI document. Each route comes with its handler's
/// `#[utoipa::path]`, so a route cannot be added without being documented.
pub(crate) fn routes<B: Backend>() -> (Router<AppState<B>>, utoipa::openapi::OpenApi) {
    openapi::router()
        .routes(documented!(B, status))
        .routes(documented!(B, openapi::document))
        .routes(documented!(B, session::login))
        .routes(documented!(B, session::logout))
        .routes(documented!(session::me))
        .routes(documented!(B, session::change_password))
        .routes(documented!(B, badges::badges))
        .routes(documented!(B, notices::notice_prefs))
        .routes(documented!(B, notices::set_notice_prefs))
        .routes(documented!(B, accounts::register))
        .routes(documented!(B, accounts::list))
        .routes(documented!(B, accounts::create))
        .routes(documented!(B, accounts::set_state))
        .routes(documented!(B, accounts::reset_password))
        .routes(documented!(B, instruments::search))
        .routes(documented!(B, instruments::detail_by_id))
        .routes(documented!(B, instruments::detail))
        .routes(documented!(B, instruments::facets))
        .routes(documented!(B, instruments::overview))
        .routes(documented!(B, instruments::template))
        .routes(documented!(B, instruments::own_list))
        .routes(documented!(B, instruments::own_import).layer(
            axum::extract::DefaultBodyLimit::max(crate::uploads::MAX_UPLOAD_BYTES + 64 * 1024),
        ))
        .routes(documented!(B, instruments::own_export))
        .routes(documented!(B, instruments::own_put))
        .routes(documented!(B, instruments::own_delete))
        .routes(documented!(B, instruments::own_photo_add).layer(
            axum::extract::DefaultBodyLimit::max(crate::uploads::MAX_UPLOAD_BYTES + 64 * 1024),
        ))
        .routes(documented!(B, instruments::own_photo_remove))
        .routes(documented!(B, instruments::review_queue))
        .routes(documented!(B, instruments::review))
        .routes(documented!(B, bookings::list))
        .routes(documented!(B, bookings::book))
        .routes(documented!(B, bookings::cancel))
        .routes(documented!(B, bookings::notifications))
        .routes(documented!(B, bookings::managed))
        .routes(documented!(B, bookings::decide))
        .routes(documented!(B, bookings::rules))
        .routes(documented!(B, bookings::set_rules))
        .routes(documented!(B, bookings::trainings))
        .routes(documented!(B, bookings::record_training))
        .routes(documented!(B, receipts::mine))
        .routes(documented!(B, receipts::confirm))
        .routes(documented!(B, receipts::dispute))
        .routes(documented!(B, results::log_entries))
        .routes(documented!(B, publications::mine))
        .routes(documented!(B, publications::register))
        .routes(documented!(B, receipts::issued))
        .routes(documented!(B, receipts::dead_letters))
        .routes(documented!(B, receipts::complete))
        .routes(documented!(B, receipts::record_session))
        .routes(documented!(B, results::results))
        .routes(documented!(B, results::publish))
        .routes(documented!(B, results::statement))
        .routes(documented!(B, results::evidence))
        .routes(documented!(B, results::disputes))
        .routes(documented!(B, results::subsidy))
        .routes(documented!(B, results::compliance))
        .routes(documented!(B, monitoring::board))
        .routes(documented!(B, board::list))
        .routes(documented!(B, board::mine))
        .routes(documented!(B, board::stats))
        .routes(documented!(B, board::post))
        .routes(documented!(B, board::detail))
        .routes(documented!(B, board::withdraw))
        .routes(documented!(B, board::accept))
        .routes(documented!(B, board::offer))
        .routes(documented!(B, board::withdraw_offer))
        .routes(documented!(B, board::attachment))
        .routes(
            documented!(B, board::attach).layer(axum::extract::DefaultBodyLimit::max(
                alliance_protocol::board::MAX_NEED_FILE_BYTES + 64 * 1024,
            )),
        )
        .routes(documented!(B, events::list))
        .routes(documented!(B, events::announce))
        .routes(documented!(B, events::detail))
        .routes(documented!(B, events::cancel))
        .routes(documented!(B, events::register))
        .routes(documented!(B, events::unregister))
        .routes(documented!(B, help::mine))
        .routes(documented!(B, help::ask))
        .routes(documented!(B, help::queue))
        .routes(documented!(B, help::fields))
        .routes(documented!(B, help::set_fields))
        .routes(documented!(B, help::detail))
        .routes(documented!(B, help::take))
        .routes(documented!(B, help::write))
        .routes(documented!(B, help::post_need))
        .routes(documented!(B, help::close))
        .routes(documented!(B, orders::mine))
        .routes(documented!(B, orders::report))
        .routes(documented!(B, orders::photo))
        .routes(
            documented!(B, orders::upload_photo).layer(axum::extract::DefaultBodyLimit::max(
                alliance_protocol::board::MAX_NEED_FILE_BYTES + 64 * 1024,
            )),
        )
        .routes(documented!(B, orders::cancel))
        .routes(documented!(B, orders::managed))
        .routes(documented!(B, orders::step))
        .routes(
            documented!(B, orders::upload_report).layer(axum::extract::DefaultBodyLimit::max(
                alliance_protocol::order::MAX_REPORT_BYTES + 64 * 1024,
            )),
        )
        .route_layer(middleware::from_fn(require_csrf))
        // Authorized by an instrument's bearer token, not by a cookie: nothing to forge, so
        // merged after the CSRF layer, which covers only the routes above.
        .merge(monitoring::agent_routes::<B>())
        .split_for_parts()
}

/// `GET /api/v1/status`: who this node is and whom it is connected to (public).
#[utoipa::path(
    get,
    path = "/api/v1/status",
    tag = "node",
    responses((status = 200, description = "This node and the verified members it is connected to.", body = NodeStatus))
)]
async fn status<B: Backend>(State(state): State<AppState<B>>) -> Json<NodeStatus> {
    Json(state.backend.status().await)
}

/// A state-changing request made with a live session must echo its CSRF token in
/// `X-CSRF-Token`; without a session there is nothing to forge.
async fn require_csrf(visitor: Visitor, request: Request, next: Next) -> Response {
    if let Some(session) = &visitor.session
        && auth::is_unsafe(request.method())
    {
        let given = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !auth::session_csrf_ok(session, given) {
            tracing::warn!(
                username = %session.account.username,
                path = %request.uri().path(),
                "API request without a valid CSRF token refused"
            );
            return ApiError::Csrf.into_response();
        }
    }
    next.run(request).await
}

/// The signed-in session of an API call; `401` otherwise.
#[derive(Debug)]
pub(crate) struct ApiUser(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(visitor) = Visitor::from_request_parts(parts, state).await;
        visitor.session.map(ApiUser).ok_or(ApiError::Unauthorized)
    }
}

/// The signed-in session of an administrator; `401` when not signed in, `403` for other
/// roles.
#[derive(Debug)]
pub(crate) struct ApiAdmin(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for ApiAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ApiUser(session) = ApiUser::from_request_parts(parts, state).await?;
        if session.account.role.is_admin() {
            Ok(ApiAdmin(session))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// Path parameters whose rejection (such as a percent-encoded byte that is not UTF-8) is an
/// [`ApiError`], not axum's plain text.
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::BadRequest {
                status: rejection.status(),
                message: rejection.body_text(),
            }),
        }
    }
}

/// A query string whose rejection (such as a repeated parameter) is an [`ApiError`].
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::BadRequest {
                status: rejection.status(),
                message: rejection.body_text(),
            }),
        }
    }
}

/// A JSON body whose rejection is an [`ApiError`].
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match Json::<serde_json::Value>::from_request(request, state).await {
            Ok(Json(value)) => value,
            Err(rejection) => {
                return Err(ApiError::BadRequest {
                    status: rejection.status(),
                    message: rejection.body_text(),
                });
            }
        };
        // Every body is an object: serde would also read a struct from an array of its
        // fields (`[]` being every field's default), which no client means.
        if !value.is_object() {
            return Err(ApiError::BadRequest {
                status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                message: "the body must be a JSON object".into(),
            });
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest {
                status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                message: format!("Failed to deserialize the JSON body into the target type: {e}"),
            })
    }
}
