//! Account actions shared by the JSON API and the pages: normalise and check the input,
//! check the acting administrator's rights, call the backend, and sort its errors.
//!
//! Callers have already checked that the actor is signed in and an administrator; these
//! functions add the finer rules (no managing roles above one's own, no changing one's own
//! state) so the API and the forms cannot drift apart.

use crate::{
    auth,
    backend::{Account, AccountError, AccountState, Backend, NewAccount, Registration},
    validate::{self, FieldError, Problem},
};

/// Why an account action did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionError {
    /// The input has problems; nothing was stored.
    Fields(Vec<FieldError>),
    /// The actor's role may not manage accounts of the target role.
    RoleNotAllowed,
    /// Administrators cannot change the state of their own account.
    OwnAccount,
    /// No such account.
    NotFound,
    /// The backend failed; the detail has been logged.
    Internal,
}

impl From<AccountError> for ActionError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::UsernameTaken => {
                ActionError::Fields(vec![FieldError::new("username", Problem::UsernameTaken)])
            }
            AccountError::Invalid { field, message } => {
                ActionError::Fields(vec![FieldError::new(&field, Problem::Other(message))])
            }
            AccountError::NotFound => ActionError::NotFound,
            AccountError::Internal(detail) => {
                tracing::error!(%detail, "account backend failed");
                ActionError::Internal
            }
            other @ (AccountError::InvalidCredentials
            | AccountError::Pending
            | AccountError::Disabled) => {
                tracing::error!(error = %other, "unexpected answer from the account backend");
                ActionError::Internal
            }
        }
    }
}

/// Registers an outside user; the account starts pending.
pub(crate) async fn register<B: Backend>(
    backend: &B,
    registration: Registration,
) -> Result<Account, ActionError> {
    let registration = validate::normalize_registration(registration);
    let errors = validate::registration(&registration);
    if !errors.is_empty() {
        return Err(ActionError::Fields(errors));
    }
    let account = backend.register(registration).await?;
    tracing::info!(username = %account.username, "registration received");
    Ok(account)
}

/// All accounts at this node, pending first.
pub(crate) async fn list<B: Backend>(backend: &B) -> Result<Vec<Account>, ActionError> {
    Ok(backend.accounts().await?)
}

/// Creates an active account on behalf of the administrator `actor`.
pub(crate) async fn create<B: Backend>(
    backend: &B,
    actor: &Account,
    account: NewAccount,
) -> Result<Account, ActionError> {
    let account = validate::normalize_new_account(account);
    let errors = validate::new_account(&account);
    if !errors.is_empty() {
        return Err(ActionError::Fields(errors));
    }
    if !auth::may_manage(actor.role, account.role) {
        return Err(ActionError::RoleNotAllowed);
    }
    let created = backend.create_account(account).await?;
    tracing::info!(
        actor = %actor.username,
        username = %created.username,
        role = created.role.as_str(),
        "account created"
    );
    Ok(created)
}

/// Approves, disables or re-enables the account `username` on behalf of `actor`.
pub(crate) async fn set_state<B: Backend>(
    backend: &B,
    actor: &Account,
    username: &str,
    state: AccountState,
) -> Result<Account, ActionError> {
    let accounts = backend.accounts().await?;
    let target = accounts
        .iter()
        .find(|a| a.username == username)
        .ok_or(ActionError::NotFound)?;
    if target.username == actor.username {
        return Err(ActionError::OwnAccount);
    }
    if !auth::may_manage(actor.role, target.role) {
        return Err(ActionError::RoleNotAllowed);
    }
    let changed = backend.set_account_state(username, state).await?;
    tracing::info!(
        actor = %actor.username,
        username = %changed.username,
        state = ?changed.state,
        "account state changed"
    );
    Ok(changed)
}
