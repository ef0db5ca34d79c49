//! Accounts at their home node: argon2id password hashes, server-side sessions, roles.
//!
//! Session tokens are stored only as SHA-256 hashes, so a copy of the database does not
//! hand out live sessions. Hashing runs on the blocking pool: argon2 is deliberately slow.

mod password;

use alliance_admin_ui::{
    backend::{
        Account, AccountError, AccountRole, AccountState, NewAccount, Registration, Session,
    },
    validate::{self, FieldError},
};
use alliance_protocol::UnixTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{Batch, Space, Store};

/// How long a session lasts.
pub const SESSION_LIFETIME_SECS: i64 = 12 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct StoredAccount {
    account: Account,
    password_hash: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredSession {
    username: String,
    csrf_token: String,
    expires_at: i64,
}

/// The accounts of this node.
#[derive(Debug, Clone)]
pub struct Accounts {
    store: Store,
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

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

fn token_key(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Accounts {
    /// Accounts kept in `store`.
    pub fn new(store: Store) -> Self {
        Accounts { store }
    }

    fn load(&self, username: &str) -> Result<Option<StoredAccount>, AccountError> {
        self.store
            .get_json(Space::Accounts, username.as_bytes())
            .map_err(internal)
    }

    async fn save(&self, stored: &StoredAccount) -> Result<(), AccountError> {
        let mut batch = Batch::new();
        batch
            .put_json(Space::Accounts, stored.account.username.as_bytes(), stored)
            .map_err(internal)?;
        self.store.commit(batch).await.map_err(internal)
    }

    async fn insert(&self, mut account: Account, password: &str) -> Result<Account, AccountError> {
        account.created_at = UnixTime::now().0;
        if self.load(&account.username)?.is_some() {
            return Err(AccountError::UsernameTaken);
        }
        let password_hash = password::hash(password.to_owned()).await?;
        let stored = StoredAccount {
            account,
            password_hash,
        };
        self.save(&stored).await?;
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
        };
        self.insert(account, &new.password).await
    }

    /// Registers an outside user, pending until an administrator approves.
    pub async fn register(&self, reg: Registration) -> Result<Account, AccountError> {
        first_problem(validate::registration(&reg))?;
        let account = Account {
            username: reg.username,
            display_name: reg.display_name,
            role: AccountRole::ExternalUser,
            state: AccountState::Pending,
            organization: reg.organization,
            email: reg.email,
            phone: reg.phone,
            created_at: 0,
        };
        self.insert(account, &reg.password).await
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
        let token = random_token();
        let session = StoredSession {
            username: stored.account.username.clone(),
            csrf_token: random_token(),
            expires_at: UnixTime::now().0 + SESSION_LIFETIME_SECS,
        };
        let mut batch = Batch::new();
        batch
            .put_json(Space::Sessions, token_key(&token), &session)
            .map_err(internal)?;
        self.store.commit(batch).await.map_err(internal)?;
        Ok(Session {
            token,
            csrf_token: session.csrf_token,
            account: stored.account,
            expires_at: session.expires_at,
        })
    }

    /// The live session for a token.
    pub async fn session(&self, token: &str) -> Option<Session> {
        let stored: StoredSession = self
            .store
            .get_json(Space::Sessions, &token_key(token))
            .ok()??;
        if stored.expires_at <= UnixTime::now().0 {
            return None;
        }
        let account = self.load(&stored.username).ok()??.account;
        // A disabled account loses its sessions at once.
        if account.state != AccountState::Active {
            return None;
        }
        Some(Session {
            token: token.to_owned(),
            csrf_token: stored.csrf_token,
            account,
            expires_at: stored.expires_at,
        })
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) {
        let mut batch = Batch::new();
        batch.delete(Space::Sessions, token_key(token));
        if let Err(e) = self.store.commit(batch).await {
            tracing::warn!(error = %e, "cannot delete session");
        }
    }

    /// All accounts, pending first, then by username.
    pub fn list(&self) -> Result<Vec<Account>, AccountError> {
        let mut accounts: Vec<Account> = self
            .store
            .scan_prefix_json::<StoredAccount>(Space::Accounts, b"")
            .map_err(internal)?
            .into_iter()
            .map(|(_, s)| s.account)
            .collect();
        accounts.sort_by_key(|a| (a.state != AccountState::Pending, a.username.clone()));
        Ok(accounts)
    }

    /// Approves, disables or re-enables an account.
    pub async fn set_state(
        &self,
        username: &str,
        state: AccountState,
    ) -> Result<Account, AccountError> {
        let mut stored = self.load(username)?.ok_or(AccountError::NotFound)?;
        stored.account.state = state;
        self.save(&stored).await?;
        tracing::info!(%username, ?state, "account state changed");
        Ok(stored.account)
    }
}

#[cfg(test)]
mod tests;
