//! A keyed rate limit: at most `burst` events per `period` per key, as a GCRA (the
//! generic cell rate algorithm). One instant per key says when its allowance is full again,
//! so a key at rest costs nothing and is dropped.
//!
//! Used for anonymous registrations per client address. The map is bounded: when full,
//! keys whose allowance is full again go first, then those closest to it.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

/// How many events a key may have in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    /// Events allowed at once, and per `period` (at least 1).
    pub burst: u32,
    pub period: Duration,
}

/// A rate limit per key. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub(crate) struct RateLimit<K> {
    /// Time one event uses up: `period / burst`.
    interval: Duration,
    /// How far ahead of now the theoretical arrival time may run: `period − interval`.
    tolerance: Duration,
    max_keys: usize,
    /// Per key, the theoretical arrival time of its next event.
    due: Arc<Mutex<HashMap<K, Instant>>>,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    pub(crate) fn new(rate: Rate, max_keys: usize) -> Self {
        let interval = rate.period / rate.burst.max(1);
        RateLimit {
            interval,
            tolerance: rate.period.saturating_sub(interval),
            max_keys: max_keys.max(1),
            due: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Instant>> {
        self.due
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts an event of `key` if its rate allows one, or says how long until it does.
    pub(crate) fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut due = self.lock();
        if !due.contains_key(key) && due.len() >= self.max_keys {
            due.retain(|_, at| *at > now);
            if due.len() >= self.max_keys {
                drop_soonest_due(&mut due, self.max_keys / 10);
            }
        }
        let at = due.get(key).copied().filter(|at| *at > now).unwrap_or(now);
        let ahead = at - now;
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        due.insert(key.clone(), at + self.interval);
        Ok(())
    }

    /// Number of keys remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Drops the `count` keys (at least one) whose allowance is closest to full.
fn drop_soonest_due<K: Hash + Eq + Clone>(due: &mut HashMap<K, Instant>, count: usize) {
    let mut all: Vec<(Instant, K)> = due.iter().map(|(k, at)| (*at, k.clone())).collect();
    let count = count.max(1).min(all.len());
    if count == 0 {
        return;
    }
    all.select_nth_unstable_by_key(count - 1, |(at, _)| *at);
    for (_, key) in all.into_iter().take(count) {
        due.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_burst_then_one_per_interval() {
        let limit = RateLimit::new(
            Rate {
                burst: 5,
                period: HOUR,
            },
            100,
        );
        let now = Instant::now();
        for _ in 0..5 {
            assert_eq!(limit.check(&"a", now), Ok(()));
        }
        assert_eq!(limit.check(&"a", now), Err(HOUR / 5));
        assert_eq!(limit.check(&"b", now), Ok(()), "keys are independent");
        assert_eq!(limit.check(&"a", now + HOUR / 10), Err(HOUR / 10));
        assert_eq!(limit.check(&"a", now + HOUR / 5), Ok(()));
        assert!(limit.check(&"a", now + HOUR / 5).is_err());
        // After a whole period at rest the full burst is back.
        let later = now + 2 * HOUR;
        for _ in 0..5 {
            assert_eq!(limit.check(&"a", later), Ok(()));
        }
    }

    #[test]
    fn the_map_is_bounded() {
        let limit = RateLimit::new(
            Rate {
                burst: 2,
                period: HOUR,
            },
            10,
        );
        let now = Instant::now();
        for i in 0..1000u32 {
            assert_eq!(limit.check(&i, now), Ok(()));
            assert!(limit.len() <= 10);
        }
        // A key that used its allowance long ago is dropped first, without harm.
        assert_eq!(limit.check(&0, now + 2 * HOUR), Ok(()));
    }
}
