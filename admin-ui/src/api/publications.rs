//! Publications through the API (R13): the signed-in user's papers, patents and reports
//! that used alliance instruments, and registering one; the node signs it and sends it to
//! the province.

use axum::{Json, extract::State, http::StatusCode};

use super::{ApiError, ApiJson, ApiUser, error::ErrorBody};
use crate::{
    AppState,
    backend::{Backend, PublicationForm, PublicationView},
    i18n::{Lang, Strings},
    publication_input, time,
};

/// API messages are English.
fn english() -> &'static Strings {
    Lang::En.strings()
}

/// `GET /api/v1/publications`: the user's publications, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/publications",
    tag = "publications",
    security(("session" = [])),
    responses((status = 200, description = "The user's publications, newest first.", body = Vec<PublicationView>))
)]
pub(super) async fn mine<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Json<Vec<PublicationView>> {
    Json(state.backend.my_publications(&session.account).await)
}

/// `POST /api/v1/publications` with a [`PublicationForm`]: `201` with the registered
/// publication; a paper's DOI may be a `https://doi.org/` link and is stored bare.
#[utoipa::path(
    post,
    path = "/api/v1/publications",
    tag = "publications",
    security(("session" = [], "csrf" = [])),
    request_body = PublicationForm,
    responses(
        (status = 201, description = "The registered publication, signed and sent to the province.", body = PublicationView),
        (status = 409, description = "The owner refused; `code` says why.", body = ErrorBody),
        (status = 503, description = "`unreachable`: the owner's node could not be reached; nothing was done.", body = ErrorBody),
    )
)]
pub(super) async fn register<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(form): ApiJson<PublicationForm>,
) -> Result<(StatusCode, Json<PublicationView>), ApiError> {
    let form = publication_input::normalize(form);
    let known = publication_input::known_instruments(&state.backend, &form).await;
    let known = |id: &str| known.iter().any(|k| k == id);
    let errors = publication_input::check(&form, time::today(), known, english());
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let publication = state
        .backend
        .register_publication(&session.account, form)
        .await?;
    Ok((StatusCode::CREATED, Json(publication)))
}
