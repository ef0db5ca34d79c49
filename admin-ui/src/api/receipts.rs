//! Usage receipts through the API: the signed-in user's receipts and their confirmation
//! with a rating (any signed-in user); the receipts issued here with the province's log,
//! completing a booked use and recording a session without a booking (instrument
//! managers and institution admins).

use alliance_protocol::receipt::Verdict;
use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, error::ErrorBody};
use crate::{
    AppState, auth,
    backend::{
        Backend, DeadLetterPage, IssuedFilter, IssuedReceipt, IssuedStanding, LogWatchView,
        ManagedBooking, MyReceipt, MyReceiptList, ReceiptView, Session,
    },
    i18n::{Lang, Strings},
    receipt_input,
    validate::{FieldError, Problem},
};

/// API messages are English.
fn english() -> &'static Strings {
    Lang::En.strings()
}

fn require_manager(session: &Session) -> Result<(), ApiError> {
    if auth::decides_bookings(session.account.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Query of `GET /api/v1/receipts`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct MineQuery {
    /// How many of the newest to skip (default 0).
    #[serde(default)]
    offset: usize,
    /// How many to give, 1 to 100 (default 50).
    #[serde(default = "fifty")]
    #[param(minimum = 1, maximum = 100)]
    limit: usize,
    /// Only receipts of uses starting from this day on (`YYYY-MM-DD`, Beijing time).
    #[serde(default)]
    from: Option<String>,
    /// Only receipts of uses starting up to this day, inclusive.
    #[serde(default)]
    to: Option<String>,
}

/// `GET /api/v1/receipts?from=&to=&offset=&limit=`: the user's receipts from every
/// owner, newest use first, a page at a time (`X-Total-Count` says how many there are).
#[utoipa::path(
    get,
    path = "/api/v1/receipts",
    tag = "receipts",
    security(("session" = [])),
    params(MineQuery),
    responses(
        (status = 200, description = "A page of the user's receipts from every owner, newest use first; the `X-Total-Count` header counts them all.", body = Vec<MyReceipt>),
        (status = 400, description = "`invalid`: a limit outside 1 to 100, or a day that is not one.", body = ErrorBody),
    )
)]
pub(super) async fn mine<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<MineQuery>,
) -> Result<axum::response::Response, ApiError> {
    super::paging::check_limit(query.limit)?;
    let span = super::paging::start_span(query.from.as_deref(), query.to.as_deref())?;
    let page = state
        .backend
        .my_receipts_page(
            &session.account,
            MyReceiptList::All,
            span,
            query.offset,
            query.limit,
        )
        .await;
    Ok(super::paging::paged(&page.items, page.total))
}

/// Body of a confirmation.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub(super) struct ConfirmRequest {
    /// 1 to 5.
    rating: u32,
    comment: String,
}

/// `POST /api/v1/receipts/{owner}/{receipt_id}/confirm` with `{rating, comment}`: the
/// confirmed receipt.
#[utoipa::path(
    post,
    path = "/api/v1/receipts/{owner}/{receipt_id}/confirm",
    tag = "receipts",
    security(("session" = [], "csrf" = [])),
    params(
        ("owner" = String, Path, description = "Institution id of the instrument's owner, which issued the receipt."),
        ("receipt_id" = String, Path, description = "The receipt's id."),
    ),
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "The confirmed receipt.", body = MyReceipt),
        (status = 404, description = "`not_found`: no such receipt of this user.", body = ErrorBody),
        (status = 409, description = "The owner refused; `code` says why.", body = ErrorBody),
        (status = 503, description = "`unreachable`: the owner's node could not be reached; nothing was done.", body = ErrorBody),
    )
)]
pub(super) async fn confirm<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((owner, receipt_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<ConfirmRequest>,
) -> Result<Json<MyReceipt>, ApiError> {
    let comment = request.comment.trim();
    let errors = receipt_input::check_confirmation(request.rating, comment, english());
    let rating = u8::try_from(request.rating)
        .ok()
        .filter(|_| errors.is_empty());
    let Some(rating) = rating else {
        return Err(ApiError::Invalid(errors));
    };
    let verdict = Verdict::Confirmed {
        rating,
        comment: comment.to_owned(),
    };
    let confirmed = state
        .backend
        .confirm_receipt(&session.account, &owner, &receipt_id, verdict)
        .await?;
    Ok(Json(confirmed))
}

/// Body of a dispute.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub(super) struct DisputeRequest {
    /// Why the use was not as the receipt states: 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    reason: String,
}

/// `POST /api/v1/receipts/{owner}/{receipt_id}/dispute` with `{reason}`: the disputed
/// receipt. The user's home signs the dispute; the receipt then counts for nothing and
/// the province shows the dispute beside the owner's figures.
#[utoipa::path(
    post,
    path = "/api/v1/receipts/{owner}/{receipt_id}/dispute",
    tag = "receipts",
    security(("session" = [], "csrf" = [])),
    params(
        ("owner" = String, Path, description = "Institution id of the instrument's owner, which issued the receipt."),
        ("receipt_id" = String, Path, description = "The receipt's id."),
    ),
    request_body = DisputeRequest,
    responses(
        (status = 200, description = "The disputed receipt.", body = MyReceipt),
        (status = 404, description = "`not_found`: no such receipt of this user.", body = ErrorBody),
        (status = 409, description = "`already_confirmed`: the receipt was already answered.", body = ErrorBody),
    )
)]
pub(super) async fn dispute<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((owner, receipt_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<DisputeRequest>,
) -> Result<Json<MyReceipt>, ApiError> {
    let reason = request.reason.trim();
    let errors = receipt_input::check_dispute(reason, english());
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let verdict = Verdict::Disputed {
        reason: reason.to_owned(),
    };
    let disputed = state
        .backend
        .confirm_receipt(&session.account, &owner, &receipt_id, verdict)
        .await?;
    Ok(Json(disputed))
}

/// The answer of `GET /api/v1/manage/receipts`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct IssuedAnswer {
    log: LogWatchView,
    /// How many receipts of the standing asked for (all, if none) were issued here.
    total: usize,
    offset: usize,
    /// A page of them, newest first.
    issued: Vec<IssuedReceipt>,
    /// How many there are of each standing.
    counts: std::collections::BTreeMap<&'static str, usize>,
}

/// Query of `GET /api/v1/manage/receipts`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct IssuedQuery {
    /// Only receipts of this standing: `awaiting_confirmation`, `confirmed`,
    /// `single_signed` or `disputed` (all if absent).
    #[serde(default)]
    standing: Option<String>,
    /// How many of the newest to skip (default 0).
    #[serde(default)]
    offset: usize,
    /// How many to give, 1 to 100 (default 50).
    #[serde(default = "fifty")]
    #[param(minimum = 1, maximum = 100)]
    limit: usize,
    /// Only receipts issued from this day on (`YYYY-MM-DD`, Beijing time).
    #[serde(default)]
    from: Option<String>,
    /// Only receipts issued up to this day, inclusive.
    #[serde(default)]
    to: Option<String>,
}

/// `GET /api/v1/manage/receipts?standing=&from=&to=&offset=&limit=`: the province's log as this
/// node checked it, and a page of the receipts issued here, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/manage/receipts",
    tag = "manage",
    security(("session" = [])),
    params(IssuedQuery),
    responses(
        (status = 200, description = "The province's log as this node checked it, and the receipts issued here.", body = IssuedAnswer),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin.", body = ErrorBody),
    )
)]
pub(super) async fn issued<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<IssuedQuery>,
) -> Result<Json<IssuedAnswer>, ApiError> {
    require_manager(&session)?;
    let standing = match query.standing.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => Some(IssuedStanding::parse(name).ok_or_else(|| {
            ApiError::Invalid(vec![FieldError::new(
                "standing",
                Problem::Other(
                    "awaiting_confirmation, confirmed, single_signed or disputed".into(),
                ),
            )])
        })?),
    };
    if !(1..=MAX_DEAD_LETTERS_PER_PAGE).contains(&query.limit) {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "limit",
            Problem::Other("1 to 100".into()),
        )]));
    }
    let filter = IssuedFilter {
        standing,
        from: super::paging::filter_day("from", query.from.as_deref())?,
        // Through the end of that day.
        to: super::paging::filter_day("to", query.to.as_deref())?.map(|t| t + 86_399),
    };
    let (log, page) = tokio::join!(
        state.backend.log_watch(),
        state
            .backend
            .issued_receipts_page(filter, query.offset, query.limit)
    );
    Ok(Json(IssuedAnswer {
        log,
        total: page.total,
        offset: page.offset,
        issued: page.items,
        counts: IssuedStanding::ALL
            .into_iter()
            .map(|s| (s.as_str(), page.counts[s.index()]))
            .collect(),
    }))
}

/// Query of `GET /api/v1/manage/dead-letters`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DeadLetterQuery {
    /// How many of the newest to skip (default 0).
    #[serde(default)]
    offset: usize,
    /// How many to give, 1 to 100 (default 50).
    #[serde(default = "fifty")]
    #[param(minimum = 1, maximum = 100)]
    limit: usize,
}

fn fifty() -> usize {
    50
}

/// Most dead letters one answer gives.
pub(crate) const MAX_DEAD_LETTERS_PER_PAGE: usize = 100;

/// `GET /api/v1/manage/dead-letters?offset=&limit=`: the messages this node gave up
/// delivering (a receipt its user's home refused for good, statistics for a province that
/// refused them, mail to an institution that left), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/manage/dead-letters",
    tag = "manage",
    security(("session" = [])),
    params(DeadLetterQuery),
    responses(
        (status = 200, description = "One page of dead letters, newest first, and how many are kept.", body = DeadLetterPage),
        (status = 400, description = "`invalid`: a limit outside 1 to 100.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin.", body = ErrorBody),
    )
)]
pub(super) async fn dead_letters<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiQuery(query): ApiQuery<DeadLetterQuery>,
) -> Result<Json<DeadLetterPage>, ApiError> {
    require_manager(&session)?;
    if !(1..=MAX_DEAD_LETTERS_PER_PAGE).contains(&query.limit) {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "limit",
            Problem::Other("1 to 100".into()),
        )]));
    }
    let page = state
        .backend
        .dead_letters(query.offset, query.limit)
        .await?;
    Ok(Json(page))
}

/// `POST /api/v1/manage/bookings/{home}/{booking_id}/complete` with a
/// [`SessionFactsForm`]: the booking, completed; its receipt is issued.
#[utoipa::path(
    post,
    path = "/api/v1/manage/bookings/{home}/{booking_id}/complete",
    tag = "manage",
    security(("session" = [], "csrf" = [])),
    params(
        ("home" = String, Path, description = "Institution id of the node that holds the booking (the booker's)."),
        ("booking_id" = String, Path, description = "The booking's id at its home node."),
    ),
    request_body = receipt_input::SessionFactsForm,
    responses(
        (status = 200, description = "The booking, completed; its receipt is issued.", body = ManagedBooking),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such booking of this institution.", body = ErrorBody),
        (status = 409, description = "The owner refused; `code` says why.", body = ErrorBody),
        (status = 503, description = "`unreachable`: the owner's node could not be reached; nothing was done.", body = ErrorBody),
    )
)]
pub(super) async fn complete<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, booking_id)): ApiPath<(String, String)>,
    ApiJson(facts): ApiJson<receipt_input::SessionFactsForm>,
) -> Result<Json<ManagedBooking>, ApiError> {
    require_manager(&session)?;
    let facts = receipt_input::parse_facts(&facts, english()).map_err(ApiError::Invalid)?;
    let completed = state
        .backend
        .complete_booking(&session.account, &home, &booking_id, facts)
        .await?;
    Ok(Json(completed))
}

/// `POST /api/v1/manage/sessions` with a [`WalkInForm`]: `201` with the issued receipt.
#[utoipa::path(
    post,
    path = "/api/v1/manage/sessions",
    tag = "manage",
    security(("session" = [], "csrf" = [])),
    request_body = receipt_input::WalkInForm,
    responses(
        (status = 201, description = "The issued receipt.", body = ReceiptView),
        (status = 403, description = "`forbidden`: not an instrument manager or institution admin; or `csrf`, `cross_origin`.", body = ErrorBody),
    )
)]
pub(super) async fn record_session<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(walk_in): ApiJson<receipt_input::WalkInForm>,
) -> Result<(StatusCode, Json<ReceiptView>), ApiError> {
    require_manager(&session)?;
    let own = state.backend.own_instruments().await;
    let own: Vec<&str> = own.iter().map(|d| d.summary.local_id.as_str()).collect();
    let walk_in =
        receipt_input::parse_walk_in(&walk_in, &own, english()).map_err(ApiError::Invalid)?;
    let receipt = state
        .backend
        .record_session(&session.account, walk_in)
        .await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}
