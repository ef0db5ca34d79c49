//! Registration and account administration through the API.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{ApiAdmin, ApiError, ApiJson, ApiPath, error::ErrorBody};
use crate::{
    AppState, actions,
    backend::{
        Account, AccountRole, Backend, NewAccount, PriceCategory, PriceCategoryError, Registration,
    },
    client::ClientAddr,
    validate::{self, FieldError, Problem},
};

/// `POST /api/v1/register`. Missing fields count as empty, so they are reported by name.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub(super) struct RegisterRequest {
    username: String,
    password: String,
    display_name: String,
    organization: String,
    email: String,
    phone: String,
}

/// `POST /api/v1/accounts`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub(super) struct CreateRequest {
    username: String,
    password: String,
    display_name: String,
    /// One of the snake_case role names.
    role: String,
    organization: String,
    email: String,
    phone: String,
}

/// `POST /api/v1/accounts/{username}/state`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct StateRequest {
    /// `active`, `pending` or `disabled`.
    state: String,
    /// An outside user's price category: `outside_academic`, `enterprise` (with
    /// `credit_code`) or `individual`. Required to approve an outside user who has none.
    #[serde(default)]
    #[schema(max_length = 32)]
    price_category: Option<String>,
    /// A firm's 18-character unified social credit code.
    #[serde(default)]
    #[schema(max_length = 32)]
    credit_code: String,
}

/// The answer to a registration: the same whether the name was free or taken.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Registered {
    /// Always `pending`: an administrator approves the account.
    #[schema(value_type = String, example = "pending")]
    status: &'static str,
    username: String,
}

/// A password reset by an administrator, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct PasswordReset {
    username: String,
    password: String,
}

/// Registers an outside user: `202` with `{"status": "pending", "username"}`. A taken
/// username gets the same answer, after the same work, and stores nothing, so registering
/// does not tell which accounts exist.
#[utoipa::path(
    post,
    path = "/api/v1/register",
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 202, description = "Registered, waiting for approval (the same answer for a taken name).", body = Registered),
        (status = 429, description = "`rate_limited`: too many registrations from this address.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`registrations_closed`: the queue of registrations is full; or `busy`.", body = ErrorBody),
    )
)]
pub(super) async fn register<B: Backend>(
    State(state): State<AppState<B>>,
    client: ClientAddr,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    let registration = Registration {
        username: request.username,
        password: request.password,
        display_name: request.display_name,
        organization: request.organization,
        email: request.email,
        phone: request.phone,
    };
    let username =
        actions::register(&state.backend, &state.registrations, client, registration).await?;
    let answer = Registered {
        status: "pending",
        username,
    };
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// Every account at this node (administrators).
#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    tag = "accounts",
    security(("session" = [])),
    responses(
        (status = 200, description = "Every account at this node.", body = Vec<Account>),
        (status = 403, description = "`forbidden`: not an administrator.", body = ErrorBody),
    )
)]
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    ApiAdmin(_admin): ApiAdmin,
) -> Result<Json<Vec<Account>>, ApiError> {
    Ok(Json(actions::list(&state.backend).await?))
}

/// Creates an active account (administrators): `201` with the account.
#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "accounts",
    security(("session" = [], "csrf" = [])),
    request_body = CreateRequest,
    responses(
        (status = 201, description = "The account, active.", body = Account),
        (status = 403, description = "`forbidden`: not an administrator; `role_not_allowed`: the role may not create accounts of that role; or `csrf`, `cross_origin`.", body = ErrorBody),
        (status = 409, description = "`username_taken`.", body = ErrorBody),
        (status = 503, description = "`busy`: too many password hashes are waiting.", body = ErrorBody),
    )
)]
pub(super) async fn create<B: Backend>(
    State(state): State<AppState<B>>,
    ApiAdmin(admin): ApiAdmin,
    ApiJson(request): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let role: AccountRole = request
        .role
        .parse()
        .map_err(|_| ApiError::Invalid(vec![FieldError::new("role", Problem::Role)]))?;
    let account = NewAccount {
        username: request.username,
        password: request.password,
        display_name: request.display_name,
        role,
        organization: request.organization,
        email: request.email,
        phone: request.phone,
    };
    let created = actions::create(&state.backend, &admin.account, account).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Approves, disables or re-enables an account (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{username}/state",
    tag = "accounts",
    security(("session" = [], "csrf" = [])),
    params(("username" = String, Path, description = "The account's username.")),
    request_body = StateRequest,
    responses(
        (status = 200, description = "The account in its new state.", body = Account),
        (status = 403, description = "`forbidden`, `role_not_allowed`, `csrf` or `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such account.", body = ErrorBody),
        (status = 409, description = "`own_account`: administrators do not change their own account's state.", body = ErrorBody),
    )
)]
pub(super) async fn set_state<B: Backend>(
    State(state): State<AppState<B>>,
    ApiAdmin(admin): ApiAdmin,
    ApiPath(username): ApiPath<String>,
    ApiJson(request): ApiJson<StateRequest>,
) -> Result<Json<Account>, ApiError> {
    let new_state = validate::parse_state(&request.state)
        .ok_or_else(|| ApiError::Invalid(vec![FieldError::new("state", Problem::State)]))?;
    let price = match &request.price_category {
        Some(name) => Some(
            PriceCategory::parse(name, &request.credit_code)
                .map_err(|e| ApiError::Invalid(vec![price_problem(e)]))?,
        ),
        None => None,
    };
    let account =
        actions::set_state(&state.backend, &admin.account, &username, new_state, price).await?;
    Ok(Json(account))
}

/// Gives an account a new random password (administrators): the password, shown once. The
/// account's sessions end.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{username}/password",
    tag = "accounts",
    security(("session" = [], "csrf" = [])),
    params(("username" = String, Path, description = "The account's username.")),
    responses(
        (status = 200, description = "The new password, shown once.", body = PasswordReset),
        (status = 403, description = "`forbidden`, `role_not_allowed`, `csrf` or `cross_origin`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such account.", body = ErrorBody),
        (status = 409, description = "`own_account`: change your own password with `POST /api/v1/me/password`.", body = ErrorBody),
        (status = 503, description = "`busy`: too many password hashes are waiting.", body = ErrorBody),
    )
)]
pub(super) async fn reset_password<B: Backend>(
    State(state): State<AppState<B>>,
    ApiAdmin(admin): ApiAdmin,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<PasswordReset>, ApiError> {
    let password =
        actions::reset_password(&state.backend, &state.sign_in, &admin.account, &username).await?;
    Ok(Json(PasswordReset { username, password }))
}

/// A price category's problem beside its field.
pub(crate) fn price_problem(e: PriceCategoryError) -> FieldError {
    match e {
        PriceCategoryError::Unknown => FieldError::new("price_category", Problem::Choice),
        PriceCategoryError::CreditCode => {
            FieldError::new("credit_code", Problem::Other(e.to_string()))
        }
    }
}
