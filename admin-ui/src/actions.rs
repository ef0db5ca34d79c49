//! Account actions shared by the JSON API and the pages: normalise and check the input,
//! check the acting administrator's rights, apply the limits against guessing and floods,
//! call the backend, and sort its errors.
//!
//! Callers have already checked that the actor is signed in (and an administrator where
//! needed); these functions add the finer rules (no managing roles above one's own, no
//! changing one's own state) so the API and the forms cannot drift apart.

use std::{net::IpAddr, time::Duration};

use crate::{
    auth,
    backend::{
        Account, AccountError, AccountRole, AccountState, Backend, NewAccount, PriceCategory,
        Registration, Session,
    },
    client::ClientAddr,
    rate::RateLimit,
    throttle::SignInThrottle,
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
    /// Too many failed password checks for this account or address: wait this long.
    Locked(Duration),
    /// Too many registrations from this address: wait this long.
    RateLimited(Duration),
    /// Too many password checks are waiting already; try again shortly.
    Busy,
    /// The queue of registrations waiting for approval is full.
    RegistrationsClosed,
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
            AccountError::Busy => ActionError::Busy,
            AccountError::RegistrationsClosed => ActionError::RegistrationsClosed,
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

/// Why a sign-in did not open a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SignInError {
    /// Locked out: nothing was checked; wait this long.
    Locked(Duration),
    /// The backend's answer (wrong credentials, pending, disabled, busy, internal).
    Refused(AccountError),
}

/// Checks `username`'s password and opens a session, within the sign-in throttle: a
/// locked name or address is refused before the password is looked at.
pub(crate) async fn sign_in<B: Backend>(
    backend: &B,
    throttle: &SignInThrottle,
    client: ClientAddr,
    username: &str,
    password: &str,
) -> Result<Session, SignInError> {
    let attempt = match throttle.begin(username, client) {
        Ok(attempt) => attempt,
        Err(wait) => {
            throttle.hold_refusal(wait).await;
            return Err(SignInError::Locked(wait));
        }
    };
    if password.chars().count() > validate::MAX_PASSWORD_CHARS {
        attempt.failed();
        return Err(SignInError::Refused(AccountError::InvalidCredentials));
    }
    match backend.login(username, password).await {
        Ok(session) => {
            attempt.succeeded();
            Ok(session)
        }
        // The password was right; the account just may not sign in.
        Err(e @ (AccountError::Pending | AccountError::Disabled)) => {
            attempt.succeeded();
            Err(SignInError::Refused(e))
        }
        Err(
            e @ (AccountError::InvalidCredentials
            | AccountError::NotFound
            | AccountError::Invalid { .. }),
        ) => {
            attempt.failed();
            Err(SignInError::Refused(e))
        }
        // Busy or failing: nothing was learnt, nothing counts.
        Err(e) => Err(SignInError::Refused(e)),
    }
}

/// Registers an outside user; the account starts pending. Answers with the username
/// either way when the name is taken: the applicant learns nothing about other accounts
/// (and nothing is stored), and simply cannot sign in with it later.
pub(crate) async fn register<B: Backend>(
    backend: &B,
    limit: &RateLimit<IpAddr>,
    client: ClientAddr,
    registration: Registration,
) -> Result<String, ActionError> {
    let registration = validate::normalize_registration(registration);
    let errors = validate::registration(&registration);
    if !errors.is_empty() {
        return Err(ActionError::Fields(errors));
    }
    // Counted only once the form is right, so typing mistakes do not use the allowance.
    limit
        .check(&client.bucket(), std::time::Instant::now())
        .map_err(ActionError::RateLimited)?;
    let username = registration.username.clone();
    match backend.register(registration).await {
        Ok(account) => {
            tracing::info!(username = %account.username, "registration received");
            Ok(account.username)
        }
        Err(AccountError::UsernameTaken) => {
            tracing::info!(%username, "registration for a taken username answered as received; nothing stored");
            Ok(username)
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes the password of `session`'s account, checking `current` within the sign-in
/// throttle; the backend ends every other session of the account.
pub(crate) async fn change_password<B: Backend>(
    backend: &B,
    throttle: &SignInThrottle,
    client: ClientAddr,
    session: &Session,
    current: &str,
    new: &str,
) -> Result<(), ActionError> {
    let errors = validate::new_password("new_password", new);
    if !errors.is_empty() {
        return Err(ActionError::Fields(errors));
    }
    let username = &session.account.username;
    let attempt = match throttle.begin(username, client) {
        Ok(attempt) => attempt,
        Err(wait) => {
            throttle.hold_refusal(wait).await;
            return Err(ActionError::Locked(wait));
        }
    };
    let wrong = || {
        ActionError::Fields(vec![FieldError::new(
            "current_password",
            Problem::CurrentPassword,
        )])
    };
    if current.chars().count() > validate::MAX_PASSWORD_CHARS {
        attempt.failed();
        return Err(wrong());
    }
    match backend.change_password(&session.token, current, new).await {
        Ok(()) => {
            attempt.succeeded();
            tracing::info!(%username, "password changed; other sessions ended");
            Ok(())
        }
        Err(AccountError::InvalidCredentials) => {
            attempt.failed();
            tracing::info!(%username, "password change refused: wrong current password");
            Err(wrong())
        }
        Err(e) => Err(e.into()),
    }
}

/// Gives the account `username` a new random password on behalf of `actor` and returns
/// it (to be shown once). Ends the account's sessions and lifts its sign-in lock.
pub(crate) async fn reset_password<B: Backend>(
    backend: &B,
    throttle: &SignInThrottle,
    actor: &Account,
    username: &str,
) -> Result<String, ActionError> {
    check_may_manage(backend, actor, username).await?;
    let password = random_password();
    backend.reset_password(username, &password).await?;
    throttle.forget_account(username);
    tracing::info!(actor = %actor.username, %username, "password reset; the account's sessions ended");
    Ok(password)
}

/// Letters and digits that cannot be mistaken for one another (no `l`, `o`, `0`, `1`):
/// 32 of them, so a random byte masked to 5 bits picks one without bias.
const PASSWORD_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A random password of 16 characters (80 bits) in groups of four: `k7mq-3xw9-…`.
fn random_password() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(PASSWORD_ALPHABET[usize::from(b & 31)]))
        .collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
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
    price: Option<PriceCategory>,
) -> Result<Account, ActionError> {
    let target = check_may_manage(backend, actor, username).await?;
    // An outside user pays what the approving administrator decides, never a guess: no
    // active outside account without a price category.
    if state == AccountState::Active
        && target.role == AccountRole::ExternalUser
        && target.price_category.is_none()
        && price.is_none()
    {
        return Err(ActionError::Fields(vec![FieldError::new(
            "price_category",
            Problem::Required,
        )]));
    }
    if let Some(price) = price {
        backend.set_price_category(username, price).await?;
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

/// Whether `actor` may change the account `username`: it exists, is not the actor's own,
/// and has a role the actor manages.
async fn check_may_manage<B: Backend>(
    backend: &B,
    actor: &Account,
    username: &str,
) -> Result<Account, ActionError> {
    let accounts = backend.accounts().await?;
    let target = accounts
        .into_iter()
        .find(|a| a.username == username)
        .ok_or(ActionError::NotFound)?;
    if target.username == actor.username {
        return Err(ActionError::OwnAccount);
    }
    if !auth::may_manage(actor.role, target.role) {
        return Err(ActionError::RoleNotAllowed);
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_passwords_are_long_random_and_unambiguous() {
        let (a, b) = (random_password(), random_password());
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        assert!(validate::new_password("password", &a).is_empty());
        assert!(
            a.chars()
                .all(|c| c == '-' || PASSWORD_ALPHABET.contains(&(c as u8)))
        );
    }
}
