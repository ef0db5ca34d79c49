//! Failure counting with a growing lock-out, per key: what stops password guessing.
//!
//! A [`Throttle`] counts the failed attempts of each key (an account name, a client
//! address). Once a key reaches `after` failures it is locked for `base`, and every further
//! failure doubles the lock, up to `max`. While locked, attempts are refused before the
//! password is looked at, so the right password is refused too and a locked key costs no
//! argon2 work. Attempts in flight count as if they will fail, so a burst of concurrent
//! guesses cannot slip past the limit before the first one is answered.
//!
//! [`SignInThrottle`] pairs two throttles, per account and per client address, for the
//! sign-in and change-password forms and API. The account is the username as typed
//! (lowercased) whether or not it exists, so a lock-out reveals nothing about accounts.
//! Maps are bounded: when full, quiet keys go first, then the least recently seen.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use crate::client::ClientAddr;

/// How a [`Throttle`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Failures that lock the key (at least 1).
    pub after: u32,
    /// Length of the first lock.
    pub base: Duration,
    /// Longest lock.
    pub max: Duration,
    /// A key with no attempt for this long, and no lock running, is forgotten.
    pub forget_after: Duration,
    /// Most keys remembered.
    pub max_keys: usize,
}

/// What became of an attempt begun with [`Throttle::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A wrong password: counts towards the lock.
    Failed,
    /// The right password: the key starts afresh.
    Reset,
    /// Neither (the backend was busy or failed, or a success that must not reset this
    /// key): only the attempt in flight is released.
    Released,
}

#[derive(Debug, Clone)]
struct Entry {
    failures: u32,
    in_flight: u32,
    locked_until: Option<Instant>,
    last_seen: Instant,
}

impl Entry {
    fn fresh(now: Instant) -> Self {
        Entry {
            failures: 0,
            in_flight: 0,
            locked_until: None,
            last_seen: now,
        }
    }

    fn locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// Whether the entry can be dropped without losing anything that matters.
    fn forgettable(&self, now: Instant, forget_after: Duration) -> bool {
        self.in_flight == 0
            && !self.locked(now)
            && (self.failures == 0 || now.saturating_duration_since(self.last_seen) >= forget_after)
    }
}

/// Failure counts with a growing lock-out, per key.
#[derive(Debug)]
pub(crate) struct Throttle<K> {
    policy: Policy,
    entries: Mutex<HashMap<K, Entry>>,
}

/// Waiting time before another attempt while earlier ones of the same key are in flight.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub(crate) fn new(policy: Policy) -> Self {
        Throttle {
            policy: Policy {
                after: policy.after.max(1),
                max_keys: policy.max_keys.max(1),
                ..policy
            },
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Entry>> {
        // A panic while holding the lock leaves the counts consistent enough to go on.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts an attempt for `key`, or says how long to wait. Every `Ok` must be followed
    /// by one [`Throttle::end`] with the same key.
    pub(crate) fn begin(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut entries = self.lock();
        if !entries.contains_key(key) && entries.len() >= self.policy.max_keys {
            evict(&mut entries, now, &self.policy);
            if entries.len() >= self.policy.max_keys {
                return Err(IN_FLIGHT_WAIT);
            }
        }
        let entry = entries
            .entry(key.clone())
            .or_insert_with(|| Entry::fresh(now));
        if entry.forgettable(now, self.policy.forget_after) {
            *entry = Entry::fresh(now);
        }
        if let Some(until) = entry.locked_until.filter(|until| *until > now) {
            return Err(until - now);
        }
        // Attempts in flight are counted as failures to come: past the limit only one at a
        // time goes ahead, so its failure locks before the next is tried.
        let room = self.policy.after.saturating_sub(entry.failures).max(1);
        if entry.in_flight >= room {
            return Err(IN_FLIGHT_WAIT);
        }
        entry.in_flight += 1;
        entry.last_seen = now;
        Ok(())
    }

    /// Ends an attempt begun with [`Throttle::begin`]. A failure past the limit returns
    /// the lock it starts.
    pub(crate) fn end(&self, key: &K, outcome: Outcome, now: Instant) -> Option<Duration> {
        let mut entries = self.lock();
        let entry = entries.get_mut(key)?;
        entry.in_flight = entry.in_flight.saturating_sub(1);
        let mut lock = None;
        match outcome {
            Outcome::Failed => {
                entry.failures = entry.failures.saturating_add(1);
                entry.last_seen = now;
                if entry.failures >= self.policy.after {
                    let extra = entry.failures - self.policy.after;
                    let length = lock_length(&self.policy, extra);
                    entry.locked_until = Some(now + length);
                    lock = Some(length);
                }
            }
            Outcome::Reset => {
                entry.failures = 0;
                entry.locked_until = None;
            }
            Outcome::Released => {}
        }
        if entry.in_flight == 0 && entry.failures == 0 && !entry.locked(now) {
            entries.remove(key);
        }
        lock
    }

    /// Forgets `key` (an administrator gave the account a new password).
    pub(crate) fn forget(&self, key: &K) {
        let mut entries = self.lock();
        if let Some(entry) = entries.get_mut(key) {
            entry.failures = 0;
            entry.locked_until = None;
            if entry.in_flight == 0 {
                entries.remove(key);
            }
        }
    }

    /// Number of keys remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// `base × 2^extra`, at most `max`.
fn lock_length(policy: &Policy, extra: u32) -> Duration {
    let factor = 1u32 << extra.min(24);
    policy.base.saturating_mul(factor).min(policy.max)
}

/// Frees room: drops every forgettable key; if that is not enough, drops the least
/// recently seen tenth of the keys not in flight (one sort per many inserts, not one scan
/// per insert).
fn evict<K: Hash + Eq + Clone>(entries: &mut HashMap<K, Entry>, now: Instant, policy: &Policy) {
    entries.retain(|_, e| !e.forgettable(now, policy.forget_after));
    if entries.len() < policy.max_keys {
        return;
    }
    let mut idle: Vec<(Instant, K)> = entries
        .iter()
        .filter(|(_, e)| e.in_flight == 0)
        .map(|(k, e)| (e.last_seen, k.clone()))
        .collect();
    let drop = (policy.max_keys / 10).max(1).min(idle.len());
    if drop == 0 {
        return;
    }
    idle.select_nth_unstable_by_key(drop - 1, |(seen, _)| *seen);
    for (_, key) in idle.into_iter().take(drop) {
        entries.remove(&key);
    }
}

/// The limits of [`SignInThrottle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SignInPolicy {
    pub account: Policy,
    pub address: Policy,
    /// How long a refusal is held (see [`SignInThrottle::hold_refusal`]).
    pub locked_answer_delay: Duration,
}

/// Sign-in attempts counted per account and per client address. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct SignInThrottle {
    inner: Arc<Pair>,
}

#[derive(Debug)]
struct Pair {
    accounts: Throttle<String>,
    addresses: Throttle<IpAddr>,
    locked_answer_delay: Duration,
}

/// Longest account key kept: usernames are at most 32 characters, so longer typed names
/// all fall together and cannot grow the memory per key.
const MAX_ACCOUNT_KEY_CHARS: usize = 64;

/// The account key of a username as typed.
fn account_key(username: &str) -> String {
    username
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_ACCOUNT_KEY_CHARS)
        .collect()
}

impl SignInThrottle {
    pub(crate) fn new(policy: SignInPolicy) -> Self {
        SignInThrottle {
            inner: Arc::new(Pair {
                accounts: Throttle::new(policy.account),
                addresses: Throttle::new(policy.address),
                locked_answer_delay: policy.locked_answer_delay,
            }),
        }
    }

    /// Starts an attempt to prove the password of `username` from `client`, or says how
    /// long to wait (`429` with `Retry-After`).
    pub(crate) fn begin(&self, username: &str, client: ClientAddr) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let account = account_key(username);
        let address = client.bucket();
        self.inner.addresses.begin(&address, now)?;
        if let Err(wait) = self.inner.accounts.begin(&account, now) {
            self.inner.addresses.end(&address, Outcome::Released, now);
            return Err(wait);
        }
        Ok(Attempt {
            throttle: self.clone(),
            account,
            address,
            done: false,
        })
    }

    /// Waits before a locked-out attempt is answered, at most as long as the lock still
    /// runs. The task sleeps, so the cost is a held connection, and connections per
    /// address are capped by the server.
    pub(crate) async fn hold_refusal(&self, wait: Duration) {
        tokio::time::sleep(self.inner.locked_answer_delay.min(wait)).await;
    }

    /// Lifts any lock on `username` (its password was just reset by an administrator).
    pub(crate) fn forget_account(&self, username: &str) {
        self.inner.accounts.forget(&account_key(username));
    }
}

/// An attempt in progress. Say how it went with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropping it (busy or failing backend) counts nothing.
#[derive(Debug)]
pub(crate) struct Attempt {
    throttle: SignInThrottle,
    account: String,
    address: IpAddr,
    done: bool,
}

impl Attempt {
    /// A wrong password: counts for the account and the address.
    pub(crate) fn failed(mut self) {
        self.finish(Outcome::Failed, Outcome::Failed);
    }

    /// The right password: the account starts afresh. The address keeps its count, so
    /// one known password cannot launder guesses at other accounts.
    pub(crate) fn succeeded(mut self) {
        self.finish(Outcome::Reset, Outcome::Released);
    }

    fn finish(&mut self, account: Outcome, address: Outcome) {
        if self.done {
            return;
        }
        self.done = true;
        let now = Instant::now();
        let pair = &self.throttle.inner;
        if let Some(lock) = pair.accounts.end(&self.account, account, now) {
            tracing::warn!(account = %self.account, seconds = lock.as_secs(), "sign-in locked for an account after repeated failures");
        }
        if let Some(lock) = pair.addresses.end(&self.address, address, now) {
            tracing::warn!(address = %self.address, seconds = lock.as_secs(), "sign-in locked for a client address after repeated failures");
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.finish(Outcome::Released, Outcome::Released);
    }
}

/// Whole seconds for `Retry-After`: rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn policy(after: u32) -> Policy {
        Policy {
            after,
            base: MIN,
            max: 60 * MIN,
            forget_after: 24 * 60 * MIN,
            max_keys: 100,
        }
    }

    fn fail(t: &Throttle<&'static str>, key: &'static str, now: Instant) -> Option<Duration> {
        t.begin(&key, now).unwrap();
        t.end(&key, Outcome::Failed, now)
    }

    #[test]
    fn the_lock_starts_at_the_limit_and_doubles_up_to_the_cap() {
        let t = Throttle::new(policy(5));
        let mut now = Instant::now();
        for _ in 0..4 {
            assert_eq!(fail(&t, "wang", now), None);
        }
        assert_eq!(fail(&t, "wang", now), Some(MIN));
        // Locked: refused before any password is checked, the right one included.
        assert_eq!(t.begin(&"wang", now + MIN / 2), Err(MIN / 2));
        let mut expected = MIN;
        for _ in 0..8 {
            now += expected;
            expected = (expected * 2).min(60 * MIN);
            assert_eq!(fail(&t, "wang", now), Some(expected));
        }
        assert_eq!(expected, 60 * MIN, "capped at an hour");
        // Other keys are not affected.
        assert!(t.begin(&"li", now).is_ok());
    }

    #[test]
    fn a_success_resets_and_refused_attempts_do_not_count() {
        let t = Throttle::new(policy(3));
        let now = Instant::now();
        fail(&t, "wang", now);
        fail(&t, "wang", now);
        t.begin(&"wang", now).unwrap();
        t.end(&"wang", Outcome::Reset, now);
        assert_eq!(t.len(), 0, "a clean key is not remembered");
        fail(&t, "wang", now);
        fail(&t, "wang", now);
        assert_eq!(fail(&t, "wang", now), Some(MIN));
        for _ in 0..10 {
            assert!(t.begin(&"wang", now).is_err());
        }
        // After the lock, the next failure locks for twice as long, not more.
        assert_eq!(fail(&t, "wang", now + MIN), Some(2 * MIN));
    }

    #[test]
    fn concurrent_attempts_cannot_pass_the_limit() {
        let t = Throttle::new(policy(3));
        let now = Instant::now();
        for _ in 0..3 {
            t.begin(&"wang", now).unwrap();
        }
        assert_eq!(t.begin(&"wang", now), Err(IN_FLIGHT_WAIT));
        // A released attempt (busy backend) frees its place without counting.
        t.end(&"wang", Outcome::Released, now);
        t.begin(&"wang", now).unwrap();
        for _ in 0..3 {
            t.end(&"wang", Outcome::Failed, now);
        }
        assert!(
            t.begin(&"wang", now).is_err(),
            "locked after three failures"
        );
        // Once the lock lapses, one attempt at a time.
        t.begin(&"wang", now + 2 * MIN).unwrap();
        assert_eq!(t.begin(&"wang", now + 2 * MIN), Err(IN_FLIGHT_WAIT));
    }

    #[test]
    fn quiet_keys_are_forgotten() {
        let t = Throttle::new(policy(5));
        let now = Instant::now();
        for _ in 0..4 {
            fail(&t, "wang", now);
        }
        let later = now + 24 * 60 * MIN;
        // Four old failures no longer count: four more are needed again.
        for _ in 0..4 {
            assert_eq!(fail(&t, "wang", later), None);
        }
        assert_eq!(fail(&t, "wang", later), Some(MIN));
    }

    #[test]
    fn the_map_is_bounded_and_keeps_recent_locks() {
        let t = Throttle::new(Policy {
            max_keys: 10,
            ..policy(1)
        });
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let keys: Vec<&'static str> = (0..35)
            .map(|i| &*Box::leak(format!("random-{i}").into_boxed_str()))
            .collect();
        for (i, key) in keys[..30].iter().enumerate() {
            fail(&t, key, at(i as u64));
            assert!(t.len() <= 10);
        }
        assert_eq!(fail(&t, "target", at(30)), Some(MIN));
        for (i, key) in keys[30..35].iter().enumerate() {
            fail(&t, key, at(31 + i as u64));
            assert!(t.len() <= 10);
        }
        assert!(
            t.begin(&"target", at(40)).is_err(),
            "the least recently seen go first; a recent lock stays"
        );
    }

    #[test]
    fn account_keys_ignore_case_and_length() {
        assert_eq!(account_key(" Wang "), "wang");
        assert_eq!(
            account_key(&"x".repeat(10_000)).len(),
            MAX_ACCOUNT_KEY_CHARS
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
