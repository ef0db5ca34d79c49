//! The JSON API under `/api/v1`, for the pages' dynamic parts, mobile apps and scripts.
//!
//! Sign in with `POST /api/v1/session`; the answer sets the session cookie and carries the
//! session's `csrf_token`, which every later POST/PUT/DELETE must send back in the
//! `X-CSRF-Token` header. Errors are JSON (see [`ApiError`]). An instrument agent's
//! report carries the instrument's token in `Authorization: Bearer` instead of a session,
//! so it needs no CSRF token.

mod accounts;
mod bookings;
mod error;
pub(crate) mod instruments;
mod monitoring;
mod publications;
mod receipts;
mod results;
mod session;

use axum::{
    Json, Router,
    extract::{FromRequest, FromRequestParts, Request, State},
    http::request::Parts,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::de::DeserializeOwned;

pub(crate) use self::error::ApiError;
use crate::{
    AppState,
    auth::{self, Visitor},
    backend::{Backend, NodeStatus, Session},
};

/// Header that carries the session's CSRF token.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// The `/api/v1` routes.
pub(crate) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/api/v1/status", get(status::<B>))
        .route(
            "/api/v1/session",
            post(session::login::<B>).delete(session::logout::<B>),
        )
        .route("/api/v1/me", get(session::me))
        .route("/api/v1/me/password", post(session::change_password::<B>))
        .route("/api/v1/register", post(accounts::register::<B>))
        .route(
            "/api/v1/accounts",
            get(accounts::list::<B>).post(accounts::create::<B>),
        )
        .route(
            "/api/v1/accounts/{username}/state",
            post(accounts::set_state::<B>),
        )
        .route(
            "/api/v1/accounts/{username}/password",
            post(accounts::reset_password::<B>),
        )
        .route("/api/v1/instruments", get(instruments::search::<B>))
        .route(
            "/api/v1/instruments/{id}",
            get(instruments::detail_by_id::<B>),
        )
        .route(
            "/api/v1/instruments/{institution}/{local_id}",
            get(instruments::detail::<B>),
        )
        .route("/api/v1/catalogue/facets", get(instruments::facets::<B>))
        .route(
            "/api/v1/catalogue/overview",
            get(instruments::overview::<B>),
        )
        .route(
            "/api/v1/catalogue/template",
            get(instruments::template::<B>),
        )
        .route("/api/v1/own/instruments", get(instruments::own_list::<B>))
        .route(
            "/api/v1/own/instruments/import",
            post(instruments::own_import::<B>).layer(axum::extract::DefaultBodyLimit::max(
                crate::pages::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/api/v1/own/instruments/export",
            get(instruments::own_export::<B>),
        )
        .route(
            "/api/v1/own/instruments/{local_id}",
            axum::routing::put(instruments::own_put::<B>).delete(instruments::own_delete::<B>),
        )
        .route(
            "/api/v1/reviews",
            get(instruments::review_queue::<B>).post(instruments::review::<B>),
        )
        .route(
            "/api/v1/bookings",
            get(bookings::list::<B>).post(bookings::book::<B>),
        )
        .route(
            "/api/v1/bookings/{booking_id}/cancel",
            post(bookings::cancel::<B>),
        )
        .route("/api/v1/notifications", get(bookings::notifications::<B>))
        .route("/api/v1/manage/bookings", get(bookings::managed::<B>))
        .route(
            "/api/v1/manage/bookings/{home}/{booking_id}",
            post(bookings::decide::<B>),
        )
        .route(
            "/api/v1/manage/instruments/{local_id}/rules",
            get(bookings::rules::<B>).put(bookings::set_rules::<B>),
        )
        .route(
            "/api/v1/manage/trainings",
            get(bookings::trainings::<B>).post(bookings::record_training::<B>),
        )
        .route("/api/v1/receipts", get(receipts::mine::<B>))
        .route(
            "/api/v1/receipts/{owner}/{receipt_id}/confirm",
            post(receipts::confirm::<B>),
        )
        .route(
            "/api/v1/publications",
            get(publications::mine::<B>).post(publications::register::<B>),
        )
        .route("/api/v1/manage/receipts", get(receipts::issued::<B>))
        .route(
            "/api/v1/manage/bookings/{home}/{booking_id}/complete",
            post(receipts::complete::<B>),
        )
        .route(
            "/api/v1/manage/sessions",
            post(receipts::record_session::<B>),
        )
        .route("/api/v1/results", get(results::results::<B>))
        .route("/api/v1/province/subsidy", get(results::subsidy::<B>))
        .route("/api/v1/province/compliance", get(results::compliance::<B>))
        .route("/api/v1/province/monitoring", get(monitoring::board::<B>))
        .route_layer(middleware::from_fn(require_csrf))
        // Authorized by an instrument's bearer token, not by a cookie: nothing to forge, so
        // merged after the CSRF layer, which covers only the routes above.
        .merge(monitoring::agent_routes::<B>())
}

/// `GET /api/v1/status`: who this node is and whom it is connected to (public).
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
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::BadRequest {
                status: rejection.status(),
                message: rejection.body_text(),
            }),
        }
    }
}
