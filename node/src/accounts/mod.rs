//! Accounts at their home node: argon2id password hashes, server-side sessions, roles.
//!
//! Session tokens are stored only as SHA-256 hashes, so a copy of the database does not
//! hand out live sessions. Hashing runs on the blocking pool behind a process-wide limit:
//! argon2 is deliberately slow and memory-hungry.
//!
//! - `password.rs` — argon2id hashing and its limit.
//! - `sessions.rs` — opening, resolving and ending sessions; idle timeout; purging.
//! - `limits.rs` — the `[sign_in]` config section ([`SignInLimits`]).
//!
//! A registration whose username is taken costs the same hashing as a new one and stores
//! nothing; the web layer answers both alike, so registering does not reveal accounts.

mod limits;
mod password;
mod sessions;

use std::sync::Arc;

use alliance_protocol::UnixTime;
use alliance_web::{
    backend::{
        Account, AccountError, AccountRole, AccountState, NewAccount, PriceCategory, Registration,
        Session,
    },
    validate::{self, FieldError},
};
use serde::{Deserialize, Serialize};

pub use self::limits::SignInLimits;
use crate::store::{Batch, Space, Store};

/// How long a session lasts at most, used or not.
pub const SESSION_LIFETIME_SECS: i64 = 12 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct StoredAccount {
    account: Account,
    password_hash: String,
}

/// The accounts of this node.
#[derive(Debug, Clone)]
pub struct Accounts {
    store: Store,
    /// A session unused for longer ends.
    idle_timeout_secs: i64,
    /// Registrations waiting for approval at most.
    max_pending: usize,
    /// Held across each read-modify-write of account records (a name checked free and
    /// taken, the pending queue counted and added to, a password replaced), never across
    /// hashing.
    writes: Arc<tokio::sync::Mutex<()>>,
}

fn internal(e: impl std::fmt::Display) -> AccountError {
    AccountError::Internal(e.to_string())
}

/// The account rules are the web layer's; the node enforces them on every path.
fn first_problem(problems: Vec<FieldError>) -> Result<(), AccountError> {
    match problems.into_iter().next() {
        Some(problem) => Err(problem.into_account_error()),
        None => Ok(()),
    }
}

impl Accounts {
    /// Accounts kept in `store`, with the default limits.
    pub fn new(store: Store) -> Self {
        Accounts {
            store,
            idle_timeout_secs: 0,
            max_pending: 0,
            writes: Arc::default(),
        }
        .with_limits(&SignInLimits::default())
    }

    /// The same accounts with `limits`' idle timeout and pending queue cap.
    pub fn with_limits(mut self, limits: &SignInLimits) -> Self {
        self.idle_timeout_secs = i64::try_from(limits.idle_timeout.as_secs())
            .unwrap_or(i64::MAX)
            .max(1);
        self.max_pending = limits.max_pending_registrations.max(1);
        self
    }

    fn load(&self, username: &str) -> Result<Option<StoredAccount>, AccountError> {
        self.store
            .get_json(Space::Accounts, username.as_bytes())
            .map_err(internal)
    }

    fn all(&self) -> Result<Vec<StoredAccount>, AccountError> {
        Ok(self
            .store
            .scan_prefix_json::<StoredAccount>(Space::Accounts, b"")
            .map_err(internal)?
            .into_iter()
            .map(|(_, s)| s)
            .collect())
    }

    fn put(batch: &mut Batch, stored: &StoredAccount) -> Result<(), AccountError> {
        batch
            .put_json(Space::Accounts, stored.account.username.as_bytes(), stored)
            .map_err(internal)?;
        Ok(())
    }

    fn pending(&self) -> Result<usize, AccountError> {
        Ok(self
            .all()?
            .iter()
            .filter(|s| s.account.state == AccountState::Pending)
            .count())
    }

    /// Stores a new account under a password already hashed; refuses a taken name.
    async fn insert(
        &self,
        mut account: Account,
        password_hash: String,
    ) -> Result<Account, AccountError> {
        let _writing = self.writes.lock().await;
        if account.state == AccountState::Pending && self.pending()? >= self.max_pending {
            return Err(AccountError::RegistrationsClosed);
        }
        if self.load(&account.username)?.is_some() {
            return Err(AccountError::UsernameTaken);
        }
        account.created_at = UnixTime::now().0;
        let stored = StoredAccount {
            account,
            password_hash,
        };
        let mut batch = Batch::new();
        Self::put(&mut batch, &stored)?;
        self.store.commit(batch).await.map_err(internal)?;
        tracing::info!(username = %stored.account.username, role = stored.account.role.as_str(), state = ?stored.account.state, "account created");
        Ok(stored.account)
    }

    /// Creates an active account with a role (administrators, `alliance user add`, the demo).
    pub async fn create(&self, new: NewAccount) -> Result<Account, AccountError> {
        first_problem(validate::new_account(&new))?;
        let account = Account {
            username: new.username,
            display_name: new.display_name,
            role: new.role,
            state: AccountState::Active,
            organization: new.organization,
            email: new.email,
            phone: new.phone,
            created_at: 0,
            price_category: None,
        };
        let hash = password::hash(new.password).await?;
        self.insert(account, hash).await
    }

    /// Registers an outside user, pending until an administrator approves.
    ///
    /// Refused with [`AccountError::RegistrationsClosed`] while the pending queue is full.
    /// A taken username is [`AccountError::UsernameTaken`] only after the password has been
    /// hashed like a new one's, so the time taken does not tell it apart.
    pub async fn register(&self, reg: Registration) -> Result<Account, AccountError> {
        first_problem(validate::registration(&reg))?;
        // Checked before hashing too, so a full queue costs no argon2 work.
        if self.pending()? >= self.max_pending {
            return Err(AccountError::RegistrationsClosed);
        }
        let account = Account {
            username: reg.username,
            display_name: reg.display_name,
            role: AccountRole::ExternalUser,
            state: AccountState::Pending,
            organization: reg.organization,
            email: reg.email,
            phone: reg.phone,
            created_at: 0,
            price_category: None,
        };
        let hash = password::hash(reg.password).await?;
        self.insert(account, hash).await
    }

    /// Checks a password and opens a session.
    pub async fn login(&self, username: &str, password: &str) -> Result<Session, AccountError> {
        let stored = self.load(username)?;
        // Verify against a dummy hash when the user is unknown, so timing does not reveal
        // which usernames exist.
        let hash = stored
            .as_ref()
            .map_or_else(password::dummy_hash, |s| s.password_hash.clone());
        let ok = password::verify(password.to_owned(), hash).await?;
        let stored = match stored {
            Some(stored) if ok => stored,
            _ => return Err(AccountError::InvalidCredentials),
        };
        match stored.account.state {
            AccountState::Active => {}
            AccountState::Pending => return Err(AccountError::Pending),
            AccountState::Disabled => return Err(AccountError::Disabled),
        }
        self.open_session(stored.account).await
    }

    /// Changes the password of the account signed in with `token`, if `current` is right,
    /// and ends the account's other sessions; `token`'s stays.
    pub async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
    ) -> Result<(), AccountError> {
        first_problem(validate::new_password("new_password", new))?;
        let session = self.session(token).await.ok_or(AccountError::NotFound)?;
        let username = session.account.username;
        let stored = self.load(&username)?.ok_or(AccountError::NotFound)?;
        if !password::verify(current.to_owned(), stored.password_hash).await? {
            return Err(AccountError::InvalidCredentials);
        }
        let hash = password::hash(new.to_owned()).await?;
        self.replace_password(&username, hash, Some(token)).await?;
        tracing::info!(%username, "password changed; the account's other sessions ended");
        Ok(())
    }

    /// Gives `username` a new password and ends all its sessions (an administrator's reset).
    pub async fn reset_password(&self, username: &str, new: &str) -> Result<(), AccountError> {
        first_problem(validate::new_password("password", new))?;
        if self.load(username)?.is_none() {
            return Err(AccountError::NotFound);
        }
        let hash = password::hash(new.to_owned()).await?;
        self.replace_password(username, hash, None).await?;
        tracing::info!(%username, "password reset; the account's sessions ended");
        Ok(())
    }

    /// Stores a new password hash and, in the same commit, ends every session of the
    /// account but `keep`.
    async fn replace_password(
        &self,
        username: &str,
        hash: String,
        keep: Option<&str>,
    ) -> Result<(), AccountError> {
        let _writing = self.writes.lock().await;
        let mut stored = self.load(username)?.ok_or(AccountError::NotFound)?;
        stored.password_hash = hash;
        let mut batch = Batch::new();
        Self::put(&mut batch, &stored)?;
        self.end_sessions(&mut batch, username, keep)?;
        self.store.commit(batch).await.map_err(internal)
    }

    /// The account named `username`, if there is one.
    pub fn get(&self, username: &str) -> Result<Option<Account>, AccountError> {
        Ok(self.load(username)?.map(|s| s.account))
    }

    /// All accounts, pending first, then by username.
    pub fn list(&self) -> Result<Vec<Account>, AccountError> {
        let mut accounts: Vec<Account> = self.all()?.into_iter().map(|s| s.account).collect();
        accounts.sort_by_key(|a| (a.state != AccountState::Pending, a.username.clone()));
        Ok(accounts)
    }

    /// Sets an outside user's price category, as the approving administrator decided.
    pub async fn set_price_category(
        &self,
        username: &str,
        category: PriceCategory,
    ) -> Result<Account, AccountError> {
        let _writing = self.writes.lock().await;
        let mut stored = self.load(username)?.ok_or(AccountError::NotFound)?;
        if stored.account.role != AccountRole::ExternalUser {
            return Err(AccountError::Invalid {
                field: "price_category".into(),
                message: "only outside users have a price category".into(),
            });
        }
        stored.account.price_category = Some(category);
        let mut batch = Batch::new();
        Self::put(&mut batch, &stored)?;
        self.store.commit(batch).await.map_err(internal)?;
        tracing::info!(%username, "price category set");
        Ok(stored.account)
    }

    /// Approves, disables or re-enables an account. Disabling ends its sessions for good
    /// (enabling it again does not bring them back).
    pub async fn set_state(
        &self,
        username: &str,
        state: AccountState,
    ) -> Result<Account, AccountError> {
        let _writing = self.writes.lock().await;
        let mut stored = self.load(username)?.ok_or(AccountError::NotFound)?;
        stored.account.state = state;
        let mut batch = Batch::new();
        Self::put(&mut batch, &stored)?;
        if state != AccountState::Active {
            self.end_sessions(&mut batch, username, None)?;
        }
        self.store.commit(batch).await.map_err(internal)?;
        tracing::info!(%username, ?state, "account state changed");
        Ok(stored.account)
    }
}

#[cfg(test)]
mod tests;
