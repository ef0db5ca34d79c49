//! The `[sign_in]` section of the config: limits against password guessing and
//! registration floods, and how long an unused session lasts.

use std::time::Duration;

use alliance_web::SignInOptions;
use serde::{Deserialize, Serialize};

/// Sign-in lock-out, registration limits and the session idle timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignInLimits {
    /// Failed sign-ins in a row that lock an account name (whether or not the account
    /// exists, so a lock-out tells nothing). A successful sign-in starts the count afresh.
    pub account_lockout_after: u32,
    /// Failed sign-ins from one client address (IPv6: its /64) that lock the address,
    /// whatever names were tried.
    pub address_lockout_after: u32,
    /// The first lock; each further failure doubles it. While locked even the right
    /// password is refused (`429` with `Retry-After`).
    #[serde(with = "humantime_serde")]
    pub lockout_base: Duration,
    /// The longest lock.
    #[serde(with = "humantime_serde")]
    pub lockout_max: Duration,
    /// Registrations one client address may send per `registration_period`.
    pub registrations_per_address: u32,
    #[serde(with = "humantime_serde")]
    pub registration_period: Duration,
    /// Registrations waiting for approval at most; beyond it registering is refused
    /// (`503 registrations_closed`) until administrators have decided on some.
    pub max_pending_registrations: usize,
    /// A session not used for this long ends (besides its 12-hour lifetime).
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// How long a locked-out attempt is held before its `429` is sent (at most as long as
    /// the lock runs; `0s` answers at once). Slows a guesser's loop to one refusal per
    /// held connection, and connections per address are capped.
    #[serde(with = "humantime_serde")]
    pub locked_answer_delay: Duration,
}

impl Default for SignInLimits {
    fn default() -> Self {
        let web = SignInOptions::default();
        SignInLimits {
            account_lockout_after: web.account_lockout_after,
            address_lockout_after: web.address_lockout_after,
            lockout_base: web.lockout_base,
            lockout_max: web.lockout_max,
            registrations_per_address: web.registrations_per_address,
            registration_period: web.registration_period,
            max_pending_registrations: 1000,
            idle_timeout: Duration::from_secs(3600),
            locked_answer_delay: web.locked_answer_delay,
        }
    }
}

/// Longest lock or period accepted: beyond a day a limit only locks people out.
const MAX_LIMIT: Duration = Duration::from_secs(24 * 3600);
/// Longest hold of a locked-out answer: longer only keeps honest users who mistyped waiting.
const MAX_LOCKED_ANSWER_DELAY: Duration = Duration::from_secs(10);
/// Shortest lock, period or timeout accepted.
const MIN_LIMIT: Duration = Duration::from_secs(1);

impl SignInLimits {
    /// Refuses zero and absurd values, naming the field.
    pub fn check(&self) -> Result<(), String> {
        let counts = [
            ("account_lockout_after", self.account_lockout_after),
            ("address_lockout_after", self.address_lockout_after),
            ("registrations_per_address", self.registrations_per_address),
        ];
        for (field, value) in counts {
            if value == 0 {
                return Err(format!("sign_in.{field} must be at least 1"));
            }
        }
        if self.max_pending_registrations == 0 {
            return Err("sign_in.max_pending_registrations must be at least 1".into());
        }
        let durations = [
            ("lockout_base", self.lockout_base),
            ("lockout_max", self.lockout_max),
            ("registration_period", self.registration_period),
            ("idle_timeout", self.idle_timeout),
        ];
        for (field, value) in durations {
            if value < MIN_LIMIT {
                return Err(format!("sign_in.{field} must be at least 1s"));
            }
            if value > MAX_LIMIT {
                return Err(format!("sign_in.{field} must be at most 24h"));
            }
        }
        if self.locked_answer_delay > MAX_LOCKED_ANSWER_DELAY {
            return Err("sign_in.locked_answer_delay must be at most 10s".into());
        }
        if self.lockout_max < self.lockout_base {
            return Err("sign_in.lockout_max must be at least sign_in.lockout_base".into());
        }
        Ok(())
    }

    /// What the web layer enforces.
    pub fn web(&self) -> SignInOptions {
        SignInOptions {
            account_lockout_after: self.account_lockout_after,
            address_lockout_after: self.address_lockout_after,
            lockout_base: self.lockout_base,
            lockout_max: self.lockout_max,
            registrations_per_address: self.registrations_per_address,
            registration_period: self.registration_period,
            locked_answer_delay: self.locked_answer_delay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_durations_are_human_readable() {
        assert_eq!(SignInLimits::default().check(), Ok(()));
        let limits: SignInLimits =
            toml::from_str("lockout_base = \"2s\"\nidle_timeout = \"30m\"").unwrap();
        assert_eq!(limits.lockout_base, Duration::from_secs(2));
        assert_eq!(limits.idle_timeout, Duration::from_secs(1800));
        assert_eq!(
            limits.account_lockout_after, 5,
            "the rest keeps its default"
        );
        assert!(toml::from_str::<SignInLimits>("lockout = \"2s\"").is_err());
    }

    /// A change to the defaults, and the start of the error it must cause.
    type Case = (fn(&mut SignInLimits), &'static str);

    #[test]
    fn zero_and_absurd_values_are_refused_by_name() {
        let cases: [Case; 6] = [
            (
                |l| l.lockout_base = Duration::ZERO,
                "sign_in.lockout_base must be at least 1s",
            ),
            (
                |l| l.account_lockout_after = 0,
                "sign_in.account_lockout_after",
            ),
            (
                |l| l.max_pending_registrations = 0,
                "sign_in.max_pending_registrations",
            ),
            (
                |l| l.idle_timeout = Duration::from_secs(7 * 86400),
                "sign_in.idle_timeout must be at most",
            ),
            (
                |l| l.lockout_max = Duration::from_secs(30),
                "sign_in.lockout_max must be at least",
            ),
            (
                |l| l.locked_answer_delay = Duration::from_secs(60),
                "sign_in.locked_answer_delay must be at most 10s",
            ),
        ];
        for (change, expected) in cases {
            let mut limits = SignInLimits::default();
            change(&mut limits);
            let err = limits.check().unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
    }
}
