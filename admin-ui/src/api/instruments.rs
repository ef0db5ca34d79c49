//! The catalogue through the API: search and instrument pages (public), the
//! institution's own records, import and export (institution admins), and the province's
//! review (province admins).

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, error::ErrorBody};
use crate::{
    AppState,
    backend::{
        AccountRole, Backend, CatalogueFailure, Facets, ImportSummary, InstrumentDetail,
        InstrumentPage, Overview, Session,
    },
    downloads::{download, sheet_format},
    instrument_input::InstrumentInput,
    search_query::SearchQuery,
    validate::{FieldError, Problem},
};

impl From<CatalogueFailure> for ApiError {
    fn from(e: CatalogueFailure) -> Self {
        match e {
            CatalogueFailure::Invalid { field, message } => {
                let problem = if field == "classification_code" {
                    Problem::Category
                } else {
                    Problem::Other(message)
                };
                ApiError::Invalid(vec![FieldError::new(&field, problem)])
            }
            CatalogueFailure::BadFile(message) => ApiError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                message,
            },
            CatalogueFailure::NotFound => ApiError::NotFound,
            CatalogueFailure::Forbidden => ApiError::Forbidden,
            CatalogueFailure::Unavailable(message) => ApiError::BadRequest {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message,
            },
            CatalogueFailure::Internal(detail) => {
                tracing::error!(%detail, "catalogue operation failed");
                ApiError::Internal
            }
        }
    }
}

fn require(session: &Session, role: AccountRole) -> Result<(), ApiError> {
    if session.account.role == role {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// `GET /api/v1/instruments?q=…`: `{total, page, per_page, items}`.
#[utoipa::path(
    get,
    path = "/api/v1/instruments",
    tag = "catalogue",
    params(SearchQuery),
    responses(
        (status = 200, description = "One page of the instruments found.", body = InstrumentPage),
        (status = 400, description = "`invalid`: a bad parameter (`fields` names each).", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many searches by free time from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(super) async fn search<B: Backend>(
    State(state): State<AppState<B>>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<InstrumentPage>, ApiError> {
    let params = query.params().map_err(ApiError::Invalid)?;
    Ok(Json(state.backend.search_instruments(params).await?))
}

/// `GET /api/v1/instruments/{institution}/{local_id}`.
#[utoipa::path(
    get,
    path = "/api/v1/instruments/{institution}/{local_id}",
    tag = "catalogue",
    params(
        ("institution" = String, Path, description = "The owner's institution id."),
        ("local_id" = String, Path, description = "The instrument's id within its institution."),
    ),
    responses(
        (status = 200, description = "Everything about the instrument.", body = InstrumentDetail),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(super) async fn detail<B: Backend>(
    State(state): State<AppState<B>>,
    ApiPath((institution, local_id)): ApiPath<(String, String)>,
) -> Result<Json<InstrumentDetail>, ApiError> {
    let id = format!("{institution}/{local_id}");
    state
        .backend
        .instrument(&id)
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// `GET /api/v1/instruments/{id}` with the id's slash encoded as `%2F`.
#[utoipa::path(
    get,
    path = "/api/v1/instruments/{id}",
    tag = "catalogue",
    params(("id" = String, Path, description = "`institution/local_id`, the slash encoded as `%2F`.")),
    responses(
        (status = 200, description = "Everything about the instrument.", body = InstrumentDetail),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(super) async fn detail_by_id<B: Backend>(
    State(state): State<AppState<B>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InstrumentDetail>, ApiError> {
    state
        .backend
        .instrument(&id)
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// `GET /api/v1/catalogue/facets`: categories, institutions and cities to filter by.
#[utoipa::path(
    get,
    path = "/api/v1/catalogue/facets",
    tag = "catalogue",
    responses((status = 200, description = "Categories, institutions and cities to filter by.", body = Facets))
)]
pub(super) async fn facets<B: Backend>(State(state): State<AppState<B>>) -> Json<Facets> {
    Json(state.backend.facets().await)
}

/// `GET /api/v1/catalogue/overview`.
#[utoipa::path(
    get,
    path = "/api/v1/catalogue/overview",
    tag = "catalogue",
    responses((status = 200, description = "The alliance's instruments counted by institution, category and city.", body = Overview))
)]
pub(super) async fn overview<B: Backend>(State(state): State<AppState<B>>) -> Json<Overview> {
    Json(state.backend.overview().await)
}

/// `GET /api/v1/own/instruments`: every record of this institution, with review state.
#[utoipa::path(
    get,
    path = "/api/v1/own/instruments",
    tag = "own",
    security(("session" = [])),
    responses(
        (status = 200, description = "Every record of this institution, with its review state.", body = Vec<InstrumentDetail>),
        (status = 403, description = "`forbidden`: not an institution admin.", body = ErrorBody),
    )
)]
pub(super) async fn own_list<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Vec<InstrumentDetail>>, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    Ok(Json(state.backend.own_instruments().await))
}

/// `PUT /api/v1/own/instruments/{local_id}` with an instrument as JSON: signs and
/// publishes it; answers with the stored record.
#[utoipa::path(
    put,
    path = "/api/v1/own/instruments/{local_id}",
    tag = "own",
    security(("session" = [], "csrf" = [])),
    params(("local_id" = String, Path, description = "The instrument's id within this institution.")),
    request_body = InstrumentInput,
    responses(
        (status = 200, description = "The signed record as stored.", body = Object),
        (status = 403, description = "`forbidden`: not an institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
    )
)]
pub(super) async fn own_put<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(local_id): ApiPath<String>,
    ApiJson(mut input): ApiJson<InstrumentInput>,
) -> Result<Response, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    input.local_id = local_id;
    let institution = state
        .backend
        .status()
        .await
        .institution_id
        .parse()
        .map_err(|_| ApiError::Internal)?;
    let record = input.to_record(&institution).map_err(ApiError::Invalid)?;
    let saved = state.backend.save_instrument(record).await?;
    Ok(Json(saved).into_response())
}

/// `DELETE /api/v1/own/instruments/{local_id}`: `204`.
#[utoipa::path(
    delete,
    path = "/api/v1/own/instruments/{local_id}",
    tag = "own",
    security(("session" = [], "csrf" = [])),
    params(("local_id" = String, Path, description = "The instrument's id within this institution.")),
    responses(
        (status = 204, description = "Withdrawn: a tombstone is published."),
        (status = 403, description = "`forbidden`: not an institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(super) async fn own_delete<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(local_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    state.backend.delete_instrument(&local_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of an import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ImportQuery {
    /// The file's name; its extension (`.xlsx` or `.csv`) says how to read it.
    file_name: String,
    /// Only check and preview (default `true`).
    #[serde(default = "yes")]
    dry_run: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/v1/own/instruments/import?file_name=…&dry_run=…` with the file as the body.
#[utoipa::path(
    post,
    path = "/api/v1/own/instruments/import",
    tag = "own",
    security(("session" = [], "csrf" = [])),
    params(ImportQuery),
    request_body(description = "The spreadsheet, as it is.", content(("application/octet-stream"))),
    responses(
        (status = 200, description = "Each row checked; unless a dry run, the good rows imported.", body = ImportSummary),
        (status = 400, description = "`bad_request`: the file is not a spreadsheet of the template's layout; or `invalid`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 413, description = "`bad_request`: the file is too large.", body = ErrorBody),
    )
)]
pub(super) async fn own_import<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportSummary>, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    let summary = state
        .backend
        .import_instruments(
            &session.account.username,
            &query.file_name,
            body.to_vec(),
            query.dry_run,
        )
        .await?;
    Ok(Json(summary))
}

/// `POST /api/v1/own/instruments/{local_id}/photos` with the photo as the body.
#[utoipa::path(
    post,
    path = "/api/v1/own/instruments/{local_id}/photos",
    tag = "own",
    security(("session" = [], "csrf" = [])),
    params(("local_id" = String, Path, description = "The instrument's id within this institution.")),
    request_body(description = "A JPEG or PNG photo of at most 10 MB, as it is; it is published resized, without its camera data.", content(("image/jpeg"), ("image/png"), ("application/octet-stream"))),
    responses(
        (status = 200, description = "The record with the photo, signed anew (it goes to the province's review).", body = Object),
        (status = 400, description = "`invalid`: not a JPEG or PNG, too large, or the instrument has 4 photos already.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such instrument of this institution.", body = ErrorBody),
        (status = 413, description = "`bad_request`: the body is too large.", body = ErrorBody),
    )
)]
pub(super) async fn own_photo_add<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath(local_id): ApiPath<String>,
    body: Bytes,
) -> Result<Json<InstrumentDetail>, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    state
        .backend
        .add_instrument_photo(&local_id, body.to_vec())
        .await?;
    let detail = state
        .backend
        .own_instrument(&local_id)
        .await
        .ok_or(ApiError::NotFound)?;
    Ok(Json(detail))
}

/// `DELETE /api/v1/own/instruments/{local_id}/photos/{sha256}`: `204`.
#[utoipa::path(
    delete,
    path = "/api/v1/own/instruments/{local_id}/photos/{sha256}",
    tag = "own",
    security(("session" = [], "csrf" = [])),
    params(
        ("local_id" = String, Path, description = "The instrument's id within this institution."),
        ("sha256" = String, Path, description = "The photo's SHA-256, hex, as the record names it."),
    ),
    responses(
        (status = 204, description = "Removed: the record is signed anew without it."),
        (status = 403, description = "`forbidden`: not an institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such instrument, or no such photo of it.", body = ErrorBody),
    )
)]
pub(super) async fn own_photo_remove<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((local_id, sha256)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    state
        .backend
        .remove_instrument_photo(&local_id, &sha256)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of a download.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct FormatQuery {
    /// `xlsx` (default) or `csv`.
    #[serde(default)]
    format: String,
}

/// `GET /api/v1/own/instruments/export?format=xlsx|csv`.
#[utoipa::path(
    get,
    path = "/api/v1/own/instruments/export",
    tag = "own",
    security(("session" = [])),
    params(FormatQuery),
    responses(
        (status = 200, description = "Every record of this institution, as an attachment.", content(
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("text/csv; charset=utf-8"),
        )),
        (status = 400, description = "`invalid`: an unknown format.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an institution admin.", body = ErrorBody),
    )
)]
pub(super) async fn own_export<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    let format = sheet_format(&query.format).map_err(|e| ApiError::Invalid(vec![e]))?;
    Ok(download(state.backend.export_instruments(format).await?))
}

/// `GET /api/v1/catalogue/template?format=xlsx|csv`: the empty import template (public).
#[utoipa::path(
    get,
    path = "/api/v1/catalogue/template",
    tag = "catalogue",
    params(FormatQuery),
    responses(
        (status = 200, description = "The empty import template, as an attachment.", content(
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("text/csv; charset=utf-8"),
        )),
        (status = 400, description = "`invalid`: an unknown format.", body = ErrorBody),
    )
)]
pub(super) async fn template<B: Backend>(
    State(state): State<AppState<B>>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    let format = sheet_format(&query.format).map_err(|e| ApiError::Invalid(vec![e]))?;
    Ok(download(state.backend.import_template(format).await?))
}

/// Query of `GET /api/v1/reviews`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct QueueQuery {
    /// How many of the queue to skip (default 0).
    #[serde(default)]
    offset: usize,
    /// How many to give, 1 to 100 (default 100).
    #[serde(default = "hundred")]
    #[param(minimum = 1, maximum = 100)]
    limit: usize,
}

fn hundred() -> usize {
    100
}

/// `GET /api/v1/reviews?offset=&limit=`: records waiting for the province, voluntary ones
/// first, a page at a time (`X-Total-Count` says how many wait in all).
#[utoipa::path(
    get,
    path = "/api/v1/reviews",
    tag = "province",
    security(("session" = [])),
    params(QueueQuery),
    responses(
        (status = 200, description = "A page of the records waiting for the province's review; the `X-Total-Count` header counts them all.", body = Vec<InstrumentDetail>),
        (status = 403, description = "`forbidden`: not a province admin.", body = ErrorBody),
    )
)]
pub(super) async fn review_queue<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> Result<Response, ApiError> {
    require(&session, AccountRole::ProvinceAdmin)?;
    let queue = state.backend.review_queue().await;
    super::paging::page_of(queue, query.offset, query.limit)
}

/// `POST /api/v1/reviews`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct ReviewRequest {
    /// `institution/local_id`.
    id: String,
    /// `approved` or `needs_correction`.
    verdict: alliance_protocol::ReviewVerdict,
    #[serde(default)]
    comment: String,
}

/// `POST /api/v1/reviews`: signs the province's verdict on the current version; `204`.
#[utoipa::path(
    post,
    path = "/api/v1/reviews",
    tag = "province",
    security(("session" = [], "csrf" = [])),
    request_body = ReviewRequest,
    responses(
        (status = 204, description = "The verdict is signed and published."),
        (status = 403, description = "`forbidden`: not a province admin; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such record.", body = ErrorBody),
    )
)]
pub(super) async fn review<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> Result<StatusCode, ApiError> {
    require(&session, AccountRole::ProvinceAdmin)?;
    let reviewer = if session.account.display_name.is_empty() {
        session.account.username.clone()
    } else {
        session.account.display_name.clone()
    };
    state
        .backend
        .review_instrument(&request.id, request.verdict, request.comment, reviewer)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
