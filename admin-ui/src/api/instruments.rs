//! The catalogue through the API: search and instrument pages (public), the
//! institution's own records, import and export (institution admins), and the province's
//! review (province admins).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{ApiError, ApiJson, ApiUser};
use crate::{
    AppState,
    backend::{
        AccountRole, Backend, CatalogueFailure, Download, Facets, ImportSummary, InstrumentDetail,
        InstrumentPage, Overview, Session, SheetFormat,
    },
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
pub(super) async fn search<B: Backend>(
    State(state): State<AppState<B>>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<InstrumentPage>, ApiError> {
    let params = query.params().map_err(ApiError::Invalid)?;
    Ok(Json(state.backend.search_instruments(params).await?))
}

/// `GET /api/v1/instruments/{institution}/{local_id}`.
pub(super) async fn detail<B: Backend>(
    State(state): State<AppState<B>>,
    Path((institution, local_id)): Path<(String, String)>,
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
pub(super) async fn detail_by_id<B: Backend>(
    State(state): State<AppState<B>>,
    Path(id): Path<String>,
) -> Result<Json<InstrumentDetail>, ApiError> {
    state
        .backend
        .instrument(&id)
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// `GET /api/v1/catalogue/facets`: categories, institutions and cities to filter by.
pub(super) async fn facets<B: Backend>(State(state): State<AppState<B>>) -> Json<Facets> {
    Json(state.backend.facets().await)
}

/// `GET /api/v1/catalogue/overview`.
pub(super) async fn overview<B: Backend>(State(state): State<AppState<B>>) -> Json<Overview> {
    Json(state.backend.overview().await)
}

/// `GET /api/v1/own/instruments`: every record of this institution, with review state.
pub(super) async fn own_list<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Vec<InstrumentDetail>>, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    Ok(Json(state.backend.own_instruments().await))
}

/// `PUT /api/v1/own/instruments/{local_id}` with an instrument as JSON: signs and
/// publishes it; answers with the stored record.
pub(super) async fn own_put<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    Path(local_id): Path<String>,
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
pub(super) async fn own_delete<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    Path(local_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    state.backend.delete_instrument(&local_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of an import.
#[derive(Debug, Deserialize)]
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
pub(super) async fn own_import<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportSummary>, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    let summary = state
        .backend
        .import_instruments(&query.file_name, body.to_vec(), query.dry_run)
        .await?;
    Ok(Json(summary))
}

/// Query of a download.
#[derive(Debug, Deserialize)]
pub(super) struct FormatQuery {
    /// `xlsx` (default) or `csv`.
    #[serde(default)]
    format: String,
}

pub(crate) fn sheet_format(format: &str) -> Result<SheetFormat, ApiError> {
    match format {
        "" | "xlsx" => Ok(SheetFormat::Xlsx),
        "csv" => Ok(SheetFormat::Csv),
        _ => Err(ApiError::Invalid(vec![FieldError::new(
            "format",
            Problem::Choice,
        )])),
    }
}

/// A file as an attachment.
pub(crate) fn download(file: Download) -> Response {
    (
        [
            (header::CONTENT_TYPE, file.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.file_name),
            ),
        ],
        file.bytes,
    )
        .into_response()
}

/// `GET /api/v1/own/instruments/export?format=xlsx|csv`.
pub(super) async fn own_export<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    Query(query): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    require(&session, AccountRole::InstitutionAdmin)?;
    let format = sheet_format(&query.format)?;
    Ok(download(state.backend.export_instruments(format).await?))
}

/// `GET /api/v1/catalogue/template?format=xlsx|csv`: the empty import template (public).
pub(super) async fn template<B: Backend>(
    State(state): State<AppState<B>>,
    Query(query): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    let format = sheet_format(&query.format)?;
    Ok(download(state.backend.import_template(format).await?))
}

/// `GET /api/v1/reviews`: records waiting for the province.
pub(super) async fn review_queue<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Vec<InstrumentDetail>>, ApiError> {
    require(&session, AccountRole::ProvinceAdmin)?;
    Ok(Json(state.backend.review_queue().await))
}

/// `POST /api/v1/reviews`.
#[derive(Debug, Deserialize)]
pub(super) struct ReviewRequest {
    /// `institution/local_id`.
    id: String,
    /// `approved` or `needs_correction`.
    verdict: alliance_protocol::ReviewVerdict,
    #[serde(default)]
    comment: String,
}

/// `POST /api/v1/reviews`: signs the province's verdict on the current version; `204`.
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
