//! Sessions: opened at sign-in, resolved on every request, ended at sign-out, by a password
//! change or reset, by disabling the account, after [`SESSION_LIFETIME_SECS`], or after the
//! idle timeout without use. Expired sessions are deleted when next seen and by an hourly
//! purge, so the store does not keep every session ever opened.

use std::time::Duration;

use alliance_protocol::UnixTime;
use alliance_web::backend::{Account, AccountError, AccountState, Session};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::{Accounts, SESSION_LIFETIME_SECS, internal};
use crate::store::{Batch, Space};

/// How often expired sessions are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);

/// Last use is written at most this often per session (and at least four times per idle
/// timeout, so a short timeout still sees the use).
const TOUCH_INTERVAL_SECS: i64 = 60;

#[derive(Debug, Serialize, Deserialize)]
struct StoredSession {
    username: String,
    csrf_token: String,
    expires_at: i64,
    /// Unix seconds of the last request seen with this session, to the nearest
    /// [`Accounts::touch_interval`]. Sessions stored before it existed read 0: "now".
    #[serde(default)]
    last_seen: i64,
}

impl StoredSession {
    /// Whether the session has ended by age or disuse at `now`.
    fn expired(&self, now: i64, idle_timeout: i64) -> bool {
        self.expires_at <= now || (self.last_seen > 0 && now - self.last_seen > idle_timeout)
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
    /// Seconds between two writes of a session's last use.
    fn touch_interval(&self) -> i64 {
        (self.idle_timeout_secs / 4).clamp(1, TOUCH_INTERVAL_SECS)
    }

    /// Opens a session for an account that just proved its password.
    pub(super) async fn open_session(&self, account: Account) -> Result<Session, AccountError> {
        let token = random_token();
        let now = UnixTime::now().0;
        let session = StoredSession {
            username: account.username.clone(),
            csrf_token: random_token(),
            expires_at: now + SESSION_LIFETIME_SECS,
            last_seen: now,
        };
        let mut batch = Batch::new();
        batch
            .put_json(Space::Sessions, token_key(&token), &session)
            .map_err(internal)?;
        self.store.commit(batch).await.map_err(internal)?;
        Ok(Session {
            token,
            csrf_token: session.csrf_token,
            account,
            expires_at: session.expires_at,
        })
    }

    /// The live session for a token; notes its use.
    pub async fn session(&self, token: &str) -> Option<Session> {
        self.session_at(token, UnixTime::now().0).await
    }

    /// [`Accounts::session`] as seen at `now` (Unix seconds).
    pub(super) async fn session_at(&self, token: &str, now: i64) -> Option<Session> {
        let key = token_key(token);
        let mut stored: StoredSession = self.store.get_json(Space::Sessions, &key).ok()??;
        if stored.expired(now, self.idle_timeout_secs) {
            let mut batch = Batch::new();
            batch.delete(Space::Sessions, key);
            // Unsynced: if a crash loses the delete, the session is still expired.
            if let Err(e) = self.store.commit_unsynced(batch).await {
                tracing::warn!(error = %e, "cannot delete an expired session");
            }
            return None;
        }
        let account = self.load(&stored.username).ok()??.account;
        // A disabled account loses its sessions at once.
        if account.state != AccountState::Active {
            return None;
        }
        if now - stored.last_seen >= self.touch_interval() {
            stored.last_seen = now;
            let mut batch = Batch::new();
            if batch.put_json(Space::Sessions, key, &stored).is_ok() {
                // Not fsynced: an fsync per request would be far too dear, and losing a
                // last-use time in a crash only makes the session look idle a little sooner.
                if let Err(e) = self.store.commit_unsynced(batch).await {
                    tracing::warn!(error = %e, "cannot note a session's use");
                }
            }
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

    /// Adds to `batch` the deletion of every session of `username` except `keep`'s.
    pub(super) fn end_sessions(
        &self,
        batch: &mut Batch,
        username: &str,
        keep: Option<&str>,
    ) -> Result<(), AccountError> {
        let keep = keep.map(token_key);
        let sessions = self
            .store
            .scan_prefix_json::<StoredSession>(Space::Sessions, b"")
            .map_err(internal)?;
        for (key, session) in sessions {
            if session.username == username && keep.as_ref() != Some(&key) {
                batch.delete(Space::Sessions, key);
            }
        }
        Ok(())
    }

    /// Deletes every session that has expired by age or disuse; returns how many.
    pub async fn purge_expired(&self) -> Result<usize, AccountError> {
        self.purge_expired_at(UnixTime::now().0).await
    }

    /// [`Accounts::purge_expired`] as seen at `now` (Unix seconds).
    pub(super) async fn purge_expired_at(&self, now: i64) -> Result<usize, AccountError> {
        let mut batch = Batch::new();
        let sessions = self
            .store
            .scan_prefix(Space::Sessions, b"")
            .map_err(internal)?;
        for (key, value) in sessions {
            // An unreadable session cannot be used either.
            let expired = serde_json::from_slice::<StoredSession>(&value)
                .map_or(true, |s| s.expired(now, self.idle_timeout_secs));
            if expired {
                batch.delete(Space::Sessions, key);
            }
        }
        let purged = batch.len();
        self.store.commit(batch).await.map_err(internal)?;
        Ok(purged)
    }

    /// Purges expired sessions every hour until `cancel`.
    pub async fn run_purge(self, cancel: CancellationToken) {
        let mut every = tokio::time::interval(PURGE_INTERVAL);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = every.tick() => match self.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(sessions = n, "expired sessions purged"),
                    Err(e) => tracing::warn!(error = %e, "cannot purge expired sessions"),
                },
            }
        }
    }
}
