//! argon2id password hashing on the blocking pool, behind a process-wide limit.
//!
//! Each hash or verification holds 19 MiB and a core for tens of milliseconds. Without a
//! limit, a burst of sign-in attempts would run hundreds at once on the blocking pool:
//! gigabytes of memory and no CPU left to answer anyone. So at most one fewer than the
//! cores run at a time (leaving a core for serving requests, at least one), at most
//! [`MAX_WAITING`] wait for their turn, and any beyond that fail at once with
//! [`AccountError::Busy`] (`503` with `Retry-After`) instead of queueing without bound.

use std::sync::{
    Arc, LazyLock,
    atomic::{AtomicUsize, Ordering},
};

use alliance_web::backend::AccountError;
use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

/// Hashings that may wait for a turn; more fail fast as busy.
pub(super) const MAX_WAITING: usize = 64;

/// The limit every hash and verification of this process goes through.
static LIMIT: LazyLock<Limiter> = LazyLock::new(|| Limiter::new(running_at_once(), MAX_WAITING));

/// One fewer than the cores, at least one: a core stays free to serve requests.
fn running_at_once() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .saturating_sub(1)
        .max(1)
}

/// At most `running` blocking jobs at once, at most `max_waiting` waiting for a turn.
#[derive(Debug)]
struct Limiter {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Counts a caller among the waiting while it exists (also when its future is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Limiter {
    fn new(running: usize, max_waiting: usize) -> Self {
        Limiter {
            permits: Arc::new(Semaphore::new(running.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// Runs `work` on the blocking pool when a turn is free; [`AccountError::Busy`] at once
    /// if too many already wait.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(AccountError::Busy);
                }
                let _waiting = Waiting(&self.waiting);
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| AccountError::Internal(e.to_string()))?
            }
        };
        // The permit moves into the job: if the caller goes away, the turn is still held
        // until the work really ends.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))
    }
}

/// Hashes a password (PHC string format, argon2id, default parameters).
pub(super) async fn hash(password: String) -> Result<String, AccountError> {
    LIMIT
        .run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| AccountError::Internal(e.to_string()))
        })
        .await?
}

/// Whether `password` matches `hash`. A malformed hash never matches.
pub(super) async fn verify(password: String, hash: String) -> Result<bool, AccountError> {
    LIMIT
        .run(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
}

/// A valid hash of a random password, to spend the same time on unknown usernames.
pub(super) fn dummy_hash() -> String {
    // Parameters match the real hashes so the verification cost is the same.
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2mr0D0AHkSPPZGjPuT5x0wvVN/SLXsR1DsAyJaJJrrA".to_owned()
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{Condvar, Mutex},
        time::Duration,
    };

    use super::*;

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // If it did not parse, unknown usernames would be answered without the argon2 work
        // and timing would tell which usernames exist.
        let dummy = dummy_hash();
        let parsed = PasswordHash::new(&dummy).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(parsed.hash.is_some());
    }

    #[test]
    fn a_core_is_left_for_serving() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(running_at_once() >= 1);
        assert!(running_at_once() < cores || cores == 1);
    }

    /// A gate the blocking jobs wait at until the test opens it.
    #[derive(Default)]
    struct Gate {
        open: Mutex<bool>,
        opened: Condvar,
        /// Jobs running now, and the most ever seen at once.
        running: Mutex<(usize, usize)>,
    }

    impl Gate {
        fn pass(&self) {
            {
                let mut running = self.running.lock().unwrap();
                running.0 += 1;
                running.1 = running.1.max(running.0);
            }
            let mut open = self.open.lock().unwrap();
            while !*open {
                open = self.opened.wait(open).unwrap();
            }
            drop(open);
            self.running.lock().unwrap().0 -= 1;
        }

        fn open(&self) {
            *self.open.lock().unwrap() = true;
            self.opened.notify_all();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_the_permitted_jobs_run_and_the_queue_is_bounded() {
        let limiter = Arc::new(Limiter::new(2, 3));
        let gate = Arc::new(Gate::default());
        let (done_tx, mut done) = tokio::sync::mpsc::channel(10);
        for _ in 0..10 {
            let (limiter, gate, done_tx) = (limiter.clone(), gate.clone(), done_tx.clone());
            tokio::spawn(async move {
                let result = limiter.run(move || gate.pass()).await;
                let _ = done_tx.send(result).await;
            });
        }
        // Two run and three wait at the gate; the other five are refused at once.
        let within = Duration::from_secs(10);
        for _ in 0..5 {
            let result = tokio::time::timeout(within, done.recv()).await.unwrap();
            assert_eq!(result, Some(Err(AccountError::Busy)));
        }
        let both_running = async {
            while gate.running.lock().unwrap().0 < 2 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(within, both_running).await.unwrap();
        assert_eq!(limiter.waiting.load(Ordering::Acquire), 3);
        gate.open();
        for _ in 0..5 {
            let result = tokio::time::timeout(within, done.recv()).await.unwrap();
            assert_eq!(result, Some(Ok(())));
        }
        assert_eq!(
            gate.running.lock().unwrap().1,
            2,
            "never more than two at once"
        );
        assert_eq!(limiter.waiting.load(Ordering::Acquire), 0);
    }
}
