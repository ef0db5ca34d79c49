//! The delivery task: takes notices as they fall due, fans those for managers out into
//! one per person, and sends each by e-mail and webhook until both took it, trying again
//! later (up to every ten minutes) while a server is down. Nothing is lost while it is:
//! a notice leaves the queue only once every configured channel took it, or when its
//! person is gone or does not want it.

use std::time::Duration;

use alliance_protocol::UnixTime;
use alliance_web::backend::{Account, AccountRole, AccountState};
use tokio_util::sync::CancellationToken;

use super::{
    channels::{Smtp, Webhook},
    notice::{Notice, Recipients},
    prefs::Preferences,
    queue::Notices,
    text,
};
use crate::accounts::Accounts;

/// The longest wait between tries of one notice.
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// The longest the task sleeps without looking at the queue.
const IDLE: Duration = Duration::from_secs(30);
/// Seconds after which an undelivered notice is given up (a week).
const GIVE_UP_AFTER: i64 = 7 * 24 * 3600;

/// What delivery works with.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub notices: Notices,
    pub prefs: Preferences,
    pub accounts: Accounts,
    pub smtp: Option<Smtp>,
    pub webhook: Option<Webhook>,
    /// The node's web address for links, ending in `/`.
    pub site: String,
}

/// Seconds before the next try after `attempts` failed ones: 5, 10, 20, … up to
/// [`MAX_BACKOFF`].
fn backoff(attempts: u32) -> i64 {
    let secs = 5u64.saturating_mul(1u64 << attempts.min(16));
    i64::try_from(secs.min(MAX_BACKOFF.as_secs())).unwrap_or(i64::MAX)
}

impl Delivery {
    /// Delivers until `cancel`.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            let round = tokio::select! {
                () = cancel.cancelled() => return,
                round = self.round() => round,
            };
            let wait = match round {
                Ok(Some(next)) => {
                    let secs = next.0.saturating_sub(UnixTime::now().0).max(0);
                    Duration::from_secs(u64::try_from(secs).unwrap_or(0)).min(IDLE)
                }
                Ok(None) => IDLE,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the notices queued");
                    IDLE
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = self.notices.woken() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One round over what is due; when the next notice falls due.
    async fn round(&self) -> Result<Option<UnixTime>, crate::store::StoreError> {
        let due = self.notices.due(UnixTime::now()).await?;
        let worked = !due.due.is_empty();
        for (key, notice) in due.due {
            let next = match &notice.to {
                Recipients::Managers => self.fan_out(notice),
                Recipients::User(username) => self.deliver(username.clone(), notice).await,
            };
            self.notices.replace(&key, &next).await?;
        }
        // More may be due right away (a full round, or a fan-out).
        Ok(if worked { Some(UnixTime(0)) } else { due.next })
    }

    /// One notice per active manager and administrator of this node.
    fn fan_out(&self, notice: Notice) -> Vec<(UnixTime, Notice)> {
        let accounts = match self.accounts.list() {
            Ok(accounts) => accounts,
            Err(e) => return self.later(notice, e.to_string()),
        };
        let now = UnixTime::now();
        accounts
            .into_iter()
            .filter(|a| {
                a.state == AccountState::Active
                    && matches!(
                        a.role,
                        AccountRole::InstrumentManager | AccountRole::InstitutionAdmin
                    )
            })
            .map(|a| {
                let mut one = notice.clone();
                one.event_id = format!("{} to {}", notice.event_id, a.username);
                one.to = Recipients::User(a.username);
                (now, one)
            })
            .collect()
    }

    /// Sends `notice` to `username` on each channel not done yet; what remains of it
    /// (nothing when done), due when it should be tried again.
    async fn deliver(&self, username: String, mut notice: Notice) -> Vec<(UnixTime, Notice)> {
        let account = match self.accounts.get(&username) {
            Ok(Some(account)) if account.state == AccountState::Active => account,
            Ok(_) => return Vec::new(),
            Err(e) => return self.later(notice, e.to_string()),
        };
        let prefs = match self.prefs.get(&username) {
            Ok(prefs) => prefs,
            Err(e) => return self.later(notice, e.to_string()),
        };
        if !prefs.wants(notice.kind) {
            return Vec::new();
        }
        let text = text::render(notice.kind, &notice.facts, prefs.language, &self.site);
        let mut failed = None;
        if let Some(smtp) = &self.smtp
            && !notice.email_sent
            && !account.email.trim().is_empty()
        {
            match smtp.send(account.email.trim(), &text).await {
                Ok(()) => notice.email_sent = true,
                Err(e) if e.is_final() => {
                    // No retry makes a refused address good: the person fixes it.
                    tracing::warn!(user = %username, event = %notice.event_id, error = %e, "an e-mail notice was given up");
                    notice.email_sent = true;
                }
                Err(e) => failed = Some(e.to_string()),
            }
        }
        if let Some(webhook) = &self.webhook
            && !notice.webhook_sent
        {
            match webhook.send(&webhook_body(&notice, &account, &text)).await {
                Ok(()) => notice.webhook_sent = true,
                Err(e) if e.is_final() => {
                    tracing::warn!(user = %username, event = %notice.event_id, error = %e, "a webhook notice was given up");
                    notice.webhook_sent = true;
                }
                Err(e) => failed = Some(e.to_string()),
            }
        }
        match failed {
            None => Vec::new(),
            Some(error) => self.later(notice, error),
        }
    }

    fn later(&self, mut notice: Notice, error: String) -> Vec<(UnixTime, Notice)> {
        // A notice still undelivered after a week tells of the past: given up.
        if UnixTime::now().0.saturating_sub(notice.at.0) > GIVE_UP_AFTER {
            tracing::error!(event = %notice.event_id, %error, attempts = notice.attempts, "a notice undelivered for a week was given up");
            return Vec::new();
        }
        tracing::warn!(event = %notice.event_id, %error, attempts = notice.attempts, "a notice will be tried again");
        let wait = backoff(notice.attempts);
        notice.attempts = notice.attempts.saturating_add(1);
        notice.last_error = Some(error);
        vec![(UnixTime(UnixTime::now().0.saturating_add(wait)), notice)]
    }
}

/// What the webhook receives: enough for an SMS or WeChat gateway to reach the person.
fn webhook_body(notice: &Notice, account: &Account, text: &text::Text) -> serde_json::Value {
    serde_json::json!({
        "event": notice.kind.code(),
        "event_id": notice.event_id,
        "username": account.username,
        "display_name": account.display_name,
        "phone": account.phone,
        "email": account.email,
        "subject": text.subject,
        "text": text.body,
        "at": notice.at.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_back_off_to_ten_minutes() {
        assert_eq!(backoff(0), 5);
        assert_eq!(backoff(1), 10);
        assert_eq!(backoff(7), 600);
        assert_eq!(backoff(u32::MAX), 600);
    }
}
