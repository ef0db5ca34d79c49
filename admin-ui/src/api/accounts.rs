//! Registration and account administration through the API.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};

use super::{ApiAdmin, ApiError, ApiJson};
use crate::{
    AppState, actions,
    backend::{Account, AccountRole, Backend, NewAccount, Registration},
    client::ClientAddr,
    validate::{self, FieldError, Problem},
};

/// `POST /api/v1/register`. Missing fields count as empty, so they are reported by name.
#[derive(Debug, Default, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
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
#[derive(Debug, Deserialize)]
pub(super) struct StateRequest {
    /// `active`, `pending` or `disabled`.
    state: String,
}

/// The answer to a registration: the same whether the name was free or taken.
#[derive(Debug, Serialize)]
pub(super) struct Registered {
    /// Always `pending`: an administrator approves the account.
    status: &'static str,
    username: String,
}

/// A password reset by an administrator, shown once.
#[derive(Debug, Serialize)]
pub(super) struct PasswordReset {
    username: String,
    password: String,
}

/// Registers an outside user: `202` with `{"status": "pending", "username"}`. A taken
/// username gets the same answer, after the same work, and stores nothing, so registering
/// does not tell which accounts exist.
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
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    ApiAdmin(_admin): ApiAdmin,
) -> Result<Json<Vec<Account>>, ApiError> {
    Ok(Json(actions::list(&state.backend).await?))
}

/// Creates an active account (administrators): `201` with the account.
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
pub(super) async fn set_state<B: Backend>(
    State(state): State<AppState<B>>,
    ApiAdmin(admin): ApiAdmin,
    Path(username): Path<String>,
    ApiJson(request): ApiJson<StateRequest>,
) -> Result<Json<Account>, ApiError> {
    let new_state = validate::parse_state(&request.state)
        .ok_or_else(|| ApiError::Invalid(vec![FieldError::new("state", Problem::State)]))?;
    let account = actions::set_state(&state.backend, &admin.account, &username, new_state).await?;
    Ok(Json(account))
}

/// Gives an account a new random password (administrators): the password, shown once. The
/// account's sessions end.
pub(super) async fn reset_password<B: Backend>(
    State(state): State<AppState<B>>,
    ApiAdmin(admin): ApiAdmin,
    Path(username): Path<String>,
) -> Result<Json<PasswordReset>, ApiError> {
    let password =
        actions::reset_password(&state.backend, &state.sign_in, &admin.account, &username).await?;
    Ok(Json(PasswordReset { username, password }))
}
