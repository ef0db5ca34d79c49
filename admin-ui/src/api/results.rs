//! The province's publications through the API: the evaluation results of a period
//! (public), the subsidy allocation of a budget and reporting compliance (province
//! admins). A member's node answers `404 not_found`, saying the province publishes them.

use axum::{Json, extract::State};
use serde::Deserialize;

use super::{ApiError, ApiJson, ApiQuery, ApiUser, error::ErrorBody};
use crate::{
    AppState,
    backend::{
        AccountRole, AllocationView, Backend, ComplianceRow, DisputePage, EvidencePage, LogPage,
        ResultsFailure, ResultsView, Session, StatementView,
    },
    i18n::{Lang, Strings},
    results_input,
    validate::{FieldError, Problem},
};

/// API messages are English.
fn english() -> &'static Strings {
    Lang::En.strings()
}

impl From<ResultsFailure> for ApiError {
    fn from(e: ResultsFailure) -> Self {
        match e {
            ResultsFailure::NotHere => ApiError::NotHere,
            ResultsFailure::BadPeriod(detail) => {
                ApiError::Invalid(vec![FieldError::new("period", Problem::Other(detail))])
            }
            ResultsFailure::AlreadyPublished => ApiError::Refused {
                code: "already_published".into(),
                message: e.to_string(),
            },
            ResultsFailure::NotEnded => ApiError::Refused {
                code: "not_ended".into(),
                message: e.to_string(),
            },
            ResultsFailure::NoSuchStatement => ApiError::NotFound,
            ResultsFailure::Internal(detail) => {
                tracing::error!(%detail, "results operation failed");
                ApiError::Internal
            }
        }
    }
}

fn require_province_admin(session: &Session) -> Result<(), ApiError> {
    if session.account.role == AccountRole::ProvinceAdmin {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// `?period=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct PeriodQuery {
    /// `2026` or `2026-Q3`; empty for the current year.
    period: String,
}

/// `GET /api/v1/results?period=2026-Q3` (public): a [`ResultsView`]; an empty period is
/// the current year.
#[utoipa::path(
    get,
    path = "/api/v1/results",
    tag = "province",
    params(PeriodQuery),
    responses(
        (status = 200, description = "The evaluation results of the period.", body = ResultsView,
            headers(("ETag" = String, description = "Of the content; send it in `If-None-Match`."))),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "`invalid`: a bad period.", body = ErrorBody),
        (status = 404, description = "`not_found`: this is a member's node; the province's node publishes these.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for results from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(super) async fn results<B: Backend>(
    State(state): State<AppState<B>>,
    ApiQuery(query): ApiQuery<PeriodQuery>,
) -> Result<Json<ResultsView>, ApiError> {
    Ok(Json(state.backend.results(query.period.trim()).await?))
}

/// Body of a publication.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PublishRequest {
    /// `2026` or `2026-Q3`: a period that has ended.
    #[schema(min_length = 4, max_length = 16)]
    period: String,
}

/// What a publication answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(super) struct PublishedPeriod {
    period: String,
}

/// `POST /api/v1/results/publish` with `{period}` (province admins): freezes the
/// period's results as a signed statement. Later evidence shows as corrections beside
/// them, never as a change.
#[utoipa::path(
    post,
    path = "/api/v1/results/publish",
    tag = "province",
    security(("session" = [], "csrf" = [])),
    request_body = PublishRequest,
    responses(
        (status = 200, description = "The period published.", body = PublishedPeriod),
        (status = 400, description = "`invalid`: a bad period.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a province admin.", body = ErrorBody),
        (status = 404, description = "`not_found`: this is a member's node; the province's node publishes results.", body = ErrorBody),
        (status = 409, description = "`already_published`, or `not_ended`: the period has not ended.", body = ErrorBody),
    )
)]
pub(super) async fn publish<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(request): ApiJson<PublishRequest>,
) -> Result<Json<PublishedPeriod>, ApiError> {
    require_province_admin(&session)?;
    let bad = results_input::check_period(&request.period, english());
    if bad.is_some() || request.period.trim().is_empty() {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "period",
            Problem::Other("a year (2026) or a quarter (2026-Q3)".into()),
        )]));
    }
    let period = state.backend.publish(request.period.trim()).await?;
    tracing::info!(account = %session.account.username, %period, "results published");
    Ok(Json(PublishedPeriod { period }))
}

/// `GET /api/v1/results/statement?period=` (public): the province's signed statement of
/// the period's results — the published one, or a provisional one signed now — with the
/// figures it states. `alliance verify-results` starts here.
#[utoipa::path(
    get,
    path = "/api/v1/results/statement",
    tag = "province",
    params(PeriodQuery),
    responses(
        (status = 200, description = "The statement and its figures.", body = StatementView),
        (status = 400, description = "`invalid`: a bad period.", body = ErrorBody),
        (status = 404, description = "`not_found`: this is a member's node; the province's node publishes results.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for results from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(super) async fn statement<B: Backend>(
    State(state): State<AppState<B>>,
    ApiQuery(query): ApiQuery<PeriodQuery>,
) -> Result<Json<StatementView>, ApiError> {
    Ok(Json(state.backend.statement(query.period.trim()).await?))
}

/// `?period=&digest=&from=&limit=` of a statement's evidence.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EvidenceQuery {
    /// The statement's period.
    #[serde(default)]
    period: String,
    /// The statement's `evidence_digest` (64 hex digits).
    #[param(min_length = 64, max_length = 64)]
    digest: String,
    /// The first item's index (default 0).
    #[serde(default)]
    from: u64,
    /// How many items, 1 to 1,000 (default 1,000).
    #[serde(default = "thousand")]
    #[param(minimum = 1, maximum = 1000)]
    limit: usize,
}

/// `GET /api/v1/results/evidence?period=&digest=&from=&limit=` (public): a page of the
/// evidence a statement names, each item exactly as its digest covers it.
#[utoipa::path(
    get,
    path = "/api/v1/results/evidence",
    tag = "province",
    params(EvidenceQuery),
    responses(
        (status = 200, description = "A page of the statement's evidence.", body = EvidencePage),
        (status = 400, description = "`invalid`: a bad period, digest or limit.", body = ErrorBody),
        (status = 404, description = "`not_found`: no statement of the period has that evidence (a provisional one was superseded: ask for the statement again), or this is a member's node.", body = ErrorBody),
    )
)]
pub(super) async fn evidence<B: Backend>(
    State(state): State<AppState<B>>,
    ApiQuery(query): ApiQuery<EvidenceQuery>,
) -> Result<Json<EvidencePage>, ApiError> {
    let mut errors = Vec::new();
    let digest = hex::decode(query.digest.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok());
    if digest.is_none() {
        errors.push(FieldError::new(
            "digest",
            Problem::Other("64 hex digits".into()),
        ));
    }
    errors.extend(bad_limit(query.limit));
    match digest {
        Some(digest) if errors.is_empty() => Ok(Json(
            state
                .backend
                .evidence(query.period.trim(), digest, query.from, query.limit)
                .await?,
        )),
        _ => Err(ApiError::Invalid(errors)),
    }
}

/// `?period=&from=&limit=` of the disputes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DisputesQuery {
    /// `2026` or `2026-Q3`; empty for the current year.
    #[serde(default)]
    period: String,
    /// The first dispute's place in the list (default 0).
    #[serde(default)]
    from: u64,
    /// How many, 1 to 1,000 (default 1,000).
    #[serde(default = "thousand")]
    #[param(minimum = 1, maximum = 1000)]
    limit: usize,
}

/// `GET /api/v1/results/disputes?period=&from=&limit=` (public): the period's receipts
/// their users' homes disputed, with each home's reason, beside the figures they would
/// have changed.
#[utoipa::path(
    get,
    path = "/api/v1/results/disputes",
    tag = "province",
    params(DisputesQuery),
    responses(
        (status = 200, description = "A page of the period's disputed receipts.", body = DisputePage),
        (status = 400, description = "`invalid`: a bad period or limit.", body = ErrorBody),
        (status = 404, description = "`not_found`: this is a member's node; the province's node publishes results.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for results from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(super) async fn disputes<B: Backend>(
    State(state): State<AppState<B>>,
    ApiQuery(query): ApiQuery<DisputesQuery>,
) -> Result<Json<DisputePage>, ApiError> {
    if let Some(bad) = bad_limit(query.limit) {
        return Err(ApiError::Invalid(vec![bad]));
    }
    Ok(Json(
        state
            .backend
            .disputes(query.period.trim(), query.from, query.limit)
            .await?,
    ))
}

/// `?from=&limit=` of the log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LogQuery {
    /// The first entry's index (default 0).
    #[serde(default)]
    from: u64,
    /// How many entries, 1 to 1,000 (default 1,000).
    #[serde(default = "thousand")]
    #[param(minimum = 1, maximum = 1000)]
    limit: usize,
}

fn thousand() -> usize {
    1_000
}

/// The problem of a page's `limit` outside 1 to 1,000, if it is.
fn bad_limit(limit: usize) -> Option<FieldError> {
    (!(1..=1_000).contains(&limit))
        .then(|| FieldError::new("limit", Problem::Other("1 to 1000".into())))
}

/// `GET /api/v1/log/entries?from=&limit=` (public): a page of the province's receipt log
/// with its current signed tree head, so that anyone can verify every entry's
/// signatures, rebuild the tree and recompute the results.
#[utoipa::path(
    get,
    path = "/api/v1/log/entries",
    tag = "province",
    params(LogQuery),
    responses(
        (status = 200, description = "A page of the log and its signed tree head.", body = LogPage),
        (status = 400, description = "`invalid`: a limit outside 1 to 1,000.", body = ErrorBody),
        (status = 404, description = "`not_found`: this is a member's node; the province's node keeps the log.", body = ErrorBody),
    )
)]
pub(super) async fn log_entries<B: Backend>(
    State(state): State<AppState<B>>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    if let Some(bad) = bad_limit(query.limit) {
        return Err(ApiError::Invalid(vec![bad]));
    }
    Ok(Json(
        state.backend.log_entries(query.from, query.limit).await?,
    ))
}

/// `?period=&budget_fen=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct SubsidyQuery {
    /// `2026` or `2026-Q3`.
    period: String,
    /// A whole number of fen, above 0 and at most 10¹⁴ (10¹² yuan).
    budget_fen: String,
}

/// `GET /api/v1/province/subsidy?period=&budget_fen=`: each qualifying institution's
/// [`AllocationView`]; the amounts add up to the budget. Bad input is `400 invalid` and
/// nothing is computed.
#[utoipa::path(
    get,
    path = "/api/v1/province/subsidy",
    tag = "province",
    security(("session" = [])),
    params(SubsidyQuery),
    responses(
        (status = 200, description = "Each qualifying institution's share; the amounts add up to the budget.", body = Vec<AllocationView>),
        (status = 400, description = "`invalid`: a bad budget or period.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a province admin.", body = ErrorBody),
        (status = 404, description = "`not_found`: this is a member's node; the province's node publishes these.", body = ErrorBody),
    )
)]
pub(super) async fn subsidy<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<SubsidyQuery>,
) -> Result<Json<Vec<AllocationView>>, ApiError> {
    require_province_admin(&session)?;
    let mut errors = Vec::new();
    let budget = query
        .budget_fen
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|fen| results_input::budget_in_range(*fen));
    if budget.is_none() {
        let message = format!(
            "budget_fen: a whole number of fen above 0 and at most {}",
            results_input::MAX_BUDGET_FEN
        );
        errors.push(FieldError::new("budget_fen", Problem::Other(message)));
    }
    errors.extend(results_input::check_period(&query.period, english()));
    match budget {
        Some(fen) if errors.is_empty() => {
            Ok(Json(state.backend.subsidy(query.period.trim(), fen).await?))
        }
        _ => Err(ApiError::Invalid(errors)),
    }
}

/// `GET /api/v1/province/compliance`: every [`ComplianceRow`] (late, missing, or beyond
/// the known official calendar).
#[utoipa::path(
    get,
    path = "/api/v1/province/compliance",
    tag = "province",
    security(("session" = [])),
    responses(
        (status = 200, description = "Every late or missing report, and those beyond the known official calendar.", body = Vec<ComplianceRow>),
        (status = 403, description = "`forbidden`: not a province admin.", body = ErrorBody),
        (status = 404, description = "`not_found`: this is a member's node; the province's node publishes these.", body = ErrorBody),
    )
)]
pub(super) async fn compliance<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Vec<ComplianceRow>>, ApiError> {
    require_province_admin(&session)?;
    Ok(Json(state.backend.compliance().await?))
}
