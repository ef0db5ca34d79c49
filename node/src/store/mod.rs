//! Durable storage for the node, over the fjall LSM engine. Nothing outside this module
//! names the engine.
//!
//! - [`Space`]: typed keyspaces, one engine keyspace each.
//! - [`Store`]: reads go straight to the engine; writes take one path only,
//!   [`Store::commit`] (or [`Store::commit_blocking`]), which returns after the batch is
//!   written atomically *and* fsynced. There is no non-durable write.
//! - [`Batch`] (`batch.rs`): the writes of one commit.
//! - `committer.rs`: the thread that owns every write and does group commit — batches
//!   that queue up while one fsync runs are written together and share the next fsync,
//!   so durability does not cap the throughput of concurrent writers.
//! - [`StoreError`] (`error.rs`).
//! - Tests: `tests.rs` against the engine, `committer_tests.rs` for grouping and errors.
//!
//! A group becomes visible to readers only after its fsync returned: a reader never sees
//! a write that a crash could still take back.

mod batch;
mod committer;
#[cfg(test)]
mod committer_tests;
mod durable;
mod error;
pub mod intervals;
#[cfg(test)]
mod tests;
pub mod time_index;

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread::JoinHandle,
};

use fjall::{Database, Keyspace, KeyspaceCreateOptions};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};

pub use batch::Batch;
pub use durable::Durable;
pub use error::StoreError;

use committer::Job;

/// Declares [`Space`]: each line is a variant and its keyspace name on disk.
macro_rules! spaces {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)+) => {
        /// The node's keyspaces, one engine keyspace each. Adding one is one line.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Space {
            $($(#[$doc])* $variant,)+
        }

        impl Space {
            /// Every space, in declaration order.
            pub const ALL: &'static [Space] = &[$(Space::$variant,)+];

            /// The keyspace's name on disk.
            pub fn name(self) -> &'static str {
                match self {
                    $(Space::$variant => $name,)+
                }
            }
        }
    };
}

spaces! {
    /// Small node-level facts.
    Meta => "meta",
    /// The newest roster held.
    Roster => "roster",
    /// The province's issued certificates and authority state.
    Certificates => "certificates",
    /// User accounts.
    Accounts => "accounts",
    /// Sessions, keyed by token hash.
    Sessions => "sessions",
    /// Catalogue entries (records, reviews, availability), keyed `origin \0 slot`, valued
    /// `revision (u64 BE) ‖ signed entry`.
    Entries => "entries",
    /// The same entries by revision, keyed `origin \0 revision (u64 BE)`, valued by slot:
    /// what anti-entropy pages through.
    EntryLog => "entry_log",
    /// Per origin, the revision up to which this node holds everything (u64 BE).
    Watermarks => "watermarks",
    /// Per origin, the newest checkpoint it signed that this node holds (the signed
    /// bytes): relayed while the origin is away.
    Checkpoints => "checkpoints",
    /// Bookings of this node's instruments, keyed `home \0 booking id`, valued JSON.
    Bookings => "bookings",
    /// The same bookings by section (waiting, active, closed) and start, for managers'
    /// lists (`booking::ledger::sections`).
    BookingsBySection => "bookings_by_section",
    /// Slots those bookings take, keyed `local id \0 start`, valued `end ‖ booking key`.
    BookingSlots => "booking_slots",
    /// Cancels that arrived before their request, by booking key.
    BookingCancels => "booking_cancels",
    /// Booking rules of this institution's instruments, by local id (JSON).
    BookingRules => "booking_rules",
    /// Training certifications, keyed `local id \0 home \0 user id` (JSON).
    Trainings => "trainings",
    /// Mail to other institutions until taken, keyed `to \0 thread \0 sequence`.
    Outbox => "outbox",
    /// Mail refused for good, by its outbox key, with the reason (JSON).
    DeadLetters => "dead_letters",
    /// This node's users' bookings at other institutions (and its own), by booking id.
    HomeBookings => "home_bookings",
    /// The same by user and start, newest first, for a user's list (`booking::home`).
    HomeBookingsByUser => "home_bookings_by_user",
    /// The same, those not over, by state and start (`booking::home`).
    HomeBookingsByState => "home_bookings_by_state",
    /// Trainings of this node's users that owners told it of, keyed
    /// `user id \0 owner \0 local id` (JSON).
    HomeTrainings => "home_trainings",
    /// At the province: each record as it last approved it (JSON), keyed by instrument
    /// id, so the review queue shows what changed since.
    ApprovedRecords => "approved_records",
    /// Notifications of booking changes, keyed `user id \0 time \0 booking id`.
    Inbox => "inbox",
    /// Private calendar feed tokens: `user:<name>` → token and `token:<token>` → name.
    FeedTokens => "feed_tokens",
    /// The province's receipt log: submissions by index (u64 BE), in log order.
    LogEntries => "log_entries",
    /// The same by receipt, keyed `owner \0 receipt id`, valued `index (u64 BE) ‖ SHA-256`.
    LogIndex => "log_index",
    /// No-shows and late cancels per user at this owner, keyed `home \0 user \0 when (u64
    /// BE) booking id`, valued the kind.
    BookingStrikes => "booking_strikes",
    /// When this node first stored each instrument's record, need and offer, keyed like
    /// `Entries` (`origin \0 slot`), valued Unix seconds (u64 BE): on the province, the
    /// instrument's networked date, and the times members take to answer needs.
    FirstSeen => "first_seen",
    /// The logged receipts' times of use per instrument, which may not overlap (see
    /// `store::intervals`).
    LogUses => "log_uses",
    /// The same for the receipts this node issued as an owner.
    IssuedUses => "issued_uses",
    /// What the receipts this node issued add up to per month and instrument
    /// (`YYYY-MM \0 local_id`, JSON; `receipts::issued::MonthFigures`).
    IssuedMonths => "issued_months",
    /// The same receipts by standing and time of issue, newest first (`group \0
    /// inverted time, receipt id`; `receipts::issued::by_time`).
    IssuedByTime => "issued_by_time",
    /// Receipts this node issued as an owner, by receipt id, with their confirmation
    /// state (JSON).
    IssuedReceipts => "issued_receipts",
    /// Receipts to submit to the province until a verified proof of inclusion is held,
    /// keyed `owner \0 receipt id` (JSON).
    ReceiptOutbox => "receipt_outbox",
    /// The verified proofs of inclusion of this node's receipts, same keys (JSON).
    ReceiptProofs => "receipt_proofs",
    /// A member's view of the province's log: the latest tree head it verified, and the
    /// evidence if the province ever showed two inconsistent histories (JSON).
    LogWatch => "log_watch",
    /// Receipts of this node's users, from owners, to confirm and rate, keyed
    /// `user id \0 owner \0 receipt id` (JSON).
    ReceivedReceipts => "received_receipts",
    /// The same by user and start of the use, latest first: all, waiting for the user's
    /// answer, answered (`receipts::received_by_user`).
    ReceivedByUser => "received_by_user",
    /// SHA-256 of each instrument's monitoring agent token, by local id.
    AgentTokens => "agent_tokens",
    /// The latest state each of this node's instrument agents reported, by local id (JSON).
    InstrumentStates => "instrument_states",
    /// The province's live board: per instrument (`i \0 institution/local id`) its latest
    /// state and when it was last seen, and per institution (`s \0 institution`) the
    /// newest heartbeat's time (JSON).
    MonitorBoard => "monitor_board",
    /// Seconds each instrument was online, keyed `institution/local id \0 YYYY-MM-DD`
    /// (Asia/Shanghai day), valued u64 BE.
    MonitorUptime => "monitor_uptime",
    /// Publications this node's users registered, keyed `user id \0 publication id`
    /// (JSON, with the signed bytes).
    Publications => "publications",
    /// On the province: publications members sent, keyed `home \0 publication id` (JSON).
    RegisteredPublications => "registered_publications",
    /// On the province: each member's latest booking service statistics, by institution
    /// (JSON).
    ServiceStatistics => "service_statistics",
    /// On the province: the signed bytes of each of those publications and statistics,
    /// same keys, for the evidence of a results statement.
    SignedPublications => "signed_publications",
    SignedStatistics => "signed_statistics",
    /// On the province: each published period's signed results statement and figures,
    /// keyed by period (JSON).
    PublishedStatements => "published_statements",
    /// The evidence items of those statements, keyed `period \0 index (u64 BE)`.
    PublishedEvidence => "published_evidence",
    /// Notices of events for this node's people waiting to go out by e-mail and webhook,
    /// keyed `due (u64 BE) \0 event id` (JSON); see `notify`.
    Notices => "notices",
    /// Each account's choice of notices and their language, by username (JSON).
    NoticePrefs => "notice_prefs",
    /// Events already told of by a reminder (a hold lapsing, a booking tomorrow), by
    /// event id, valued when (u64 BE): each is told once.
    NoticeMarks => "notice_marks",
    /// Who posted each need of this home (`a \0 local id` → username) and each
    /// person's needs (`u \0 username \0 local id`): the signed need names no one.
    NeedAuthors => "need_authors",
    /// Entrusted-testing orders (JSON): at the owner keyed `o \0 home \0 order id`, at
    /// the user's home `h \0 order id`.
    Orders => "orders",
    /// Their reports' bytes, same keys.
    Reports => "reports",
    /// The help desk (R18): requests for help (`r \0 id`, JSON), each asker's
    /// (`u \0 username \0 id`), service experts' fields (`x \0 username`).
    Help => "help",
    /// Matching events: at the organiser, registrations (`r \0 event \0 home \0
    /// registrant`, JSON); at a registrant's home, who registered (`m \0 event id \0
    /// username`).
    Events => "events",
    /// Files attached to needs (`home \0 need \0 index` → bytes): at the home the
    /// originals, elsewhere copies fetched through it and checked by their SHA-256.
    NeedFiles => "need_files",
    /// Instrument photos and thumbnails by SHA-256: this institution's own (`o` +
    /// digest) and copies of other members' fetched and checked (`c` + digest).
    Photos => "photos",
    /// Spreadsheets imported into the catalogue, newest first (`catalogue::import::
    /// history`).
    ImportLog => "import_log",
    /// Scratch space for benchmarks and tests.
    Bench => "bench",
}

impl Space {
    /// Position in [`Space::ALL`], which is also the declaration order.
    fn index(self) -> usize {
        self as usize
    }
}

/// A key and its value, as returned by [`Store::scan_prefix`].
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// Counters for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Successful fsync rounds (one `persist(SyncAll)` per group) since the store opened.
    pub sync_rounds: u64,
    /// Batches made durable since the store opened.
    pub batches_committed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    sync_rounds: AtomicU64,
    batches_committed: AtomicU64,
    /// Set once a write failed: the committer refuses every later one (fail-stop).
    refusing_writes: AtomicBool,
}

/// Most batches waiting for the committer; further writers wait to enqueue.
const QUEUE_DEPTH: usize = 1024;

struct Inner {
    /// The directory, to wait for the engine's lock at drop.
    dir: std::path::PathBuf,
    /// Indexed by [`Space::index`].
    spaces: Vec<Keyspace>,
    /// `None` only while dropping.
    jobs: Option<mpsc::Sender<Job>>,
    committer: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("spaces", &Space::ALL)
            .field("stats", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the committer once it has answered everything queued;
        // joining it releases the engine, so the same directory can be opened again at once.
        drop(self.jobs.take());
        if let Some(handle) = self.committer.take()
            && handle.join().is_err()
        {
            tracing::error!("the store's committer thread panicked");
        }
        // The engine's background threads may let go of its lock a moment after its last
        // handle: wait for that (bounded), so a reopen in this process never finds it held.
        drop(std::mem::take(&mut self.spaces));
        wait_for_lock_release(&self.dir.join(ENGINE_LOCK_FILE), LOCK_RELEASE_WAIT);
    }
}

/// The engine's lock file inside the store's directory.
const ENGINE_LOCK_FILE: &str = "lock";

/// Longest a dropped store waits for the engine to release its lock.
const LOCK_RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Returns once nobody holds the lock on `path` (or it cannot be read), or after `limit`.
fn wait_for_lock_release(path: &Path, limit: std::time::Duration) {
    let Ok(file) = std::fs::File::open(path) else {
        return;
    };
    let deadline = std::time::Instant::now() + limit;
    loop {
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                return;
            }
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                tracing::warn!(path = %path.display(), "the storage engine still holds its lock");
                return;
            }
            Err(std::fs::TryLockError::Error(_)) => return,
        }
    }
}

/// Writes a keyspace holds in memory before flushing them to disk. The engine's default
/// (64 MiB) kept a whole synced catalogue in memory, twice over with the journal.
const MEMTABLE_BYTES: u64 = 16 * 1024 * 1024;

/// The node's store. Cheap to clone; every clone shares one engine and one committer.
/// The committer stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Opens the store in `dir`, creating it if missing, and starts its committer thread.
    ///
    /// Fails with [`StoreError::Locked`] if the directory is already open, in this process
    /// or another.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        crate::private_dir::create(dir).map_err(|e| StoreError::open(dir, &e))?;
        // Write batches are persisted explicitly, never flushed on the engine's own terms.
        let db = Database::builder(dir)
            .manual_journal_persist(true)
            .open()
            .map_err(|e| StoreError::from_open(dir, e))?;
        let spaces = Space::ALL
            .iter()
            .map(|space| {
                db.keyspace(space.name(), || {
                    KeyspaceCreateOptions::default().max_memtable_size(MEMTABLE_BYTES)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::from_open(dir, e))?;
        let counters = Arc::new(Counters::default());
        let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
        let writer = committer::EngineWriter::new(db, spaces.clone());
        let committer = committer::spawn(writer, queue, counters.clone())
            .map_err(|e| StoreError::open(dir, &e))?;
        tracing::debug!(dir = %dir.display(), "store opened");
        Ok(Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                spaces,
                jobs: Some(jobs),
                committer: Some(committer),
                counters,
            }),
        })
    }

    fn keyspace(&self, space: Space) -> Result<&Keyspace, StoreError> {
        self.inner
            .spaces
            .get(space.index())
            .ok_or_else(|| StoreError::Engine(format!("keyspace {} is not open", space.name())))
    }

    /// The value at `key` in `space`.
    pub fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.keyspace(space)?.get(key).map_err(StoreError::engine)?;
        Ok(value.map(|v| v.to_vec()))
    }

    /// The value at `key` in `space`, decoded from JSON.
    pub fn get_json<T: DeserializeOwned>(
        &self,
        space: Space,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match self.get(space, key)? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Every pair in `space` whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, space: Space, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        self.keyspace(space)?
            .prefix(prefix)
            .map(|guard| {
                let (key, value) = guard.into_inner().map_err(StoreError::engine)?;
                Ok((key.to_vec(), value.to_vec()))
            })
            .collect()
    }

    /// The keys of `space` that start with `prefix`, in key order, without their values
    /// (for spaces of large values).
    pub fn keys_with_prefix(
        &self,
        space: Space,
        prefix: &[u8],
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        self.keyspace(space)?
            .prefix(prefix)
            .map(|guard| guard.key().map(|k| k.to_vec()).map_err(StoreError::engine))
            .collect()
    }

    /// How many keys of `space` start with `prefix`, without copying their values (for
    /// gauges read on every metrics scrape).
    pub fn count_prefix(&self, space: Space, prefix: &[u8]) -> Result<usize, StoreError> {
        let mut count = 0;
        for guard in self.keyspace(space)?.prefix(prefix) {
            guard.key().map_err(StoreError::engine)?;
            count += 1;
        }
        Ok(count)
    }

    /// At most `limit` pairs of `space` with `start <= key < end`, in key order.
    pub fn scan_range(
        &self,
        space: Space,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        self.keyspace(space)?
            .range(start.to_vec()..end.to_vec())
            .take(limit)
            .map(|guard| {
                let (key, value) = guard.into_inner().map_err(StoreError::engine)?;
                Ok((key.to_vec(), value.to_vec()))
            })
            .collect()
    }

    /// How many keys of `space` lie in `start <= key < end`, without copying values.
    pub fn count_range(&self, space: Space, start: &[u8], end: &[u8]) -> Result<usize, StoreError> {
        let mut count = 0;
        for guard in self.keyspace(space)?.range(start.to_vec()..end.to_vec()) {
            guard.key().map_err(StoreError::engine)?;
            count += 1;
        }
        Ok(count)
    }

    /// At most `limit` pairs of `space` that start with `prefix`, last key first, after
    /// skipping the `offset` last.
    pub fn scan_prefix_back(
        &self,
        space: Space,
        prefix: &[u8],
        offset: usize,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        self.keyspace(space)?
            .prefix(prefix)
            .rev()
            .skip(offset)
            .take(limit)
            .map(|guard| {
                let (key, value) = guard.into_inner().map_err(StoreError::engine)?;
                Ok((key.to_vec(), value.to_vec()))
            })
            .collect()
    }

    /// At most `limit` keys of `space` with `start <= key < end`, in key order, after
    /// skipping the first `offset` (walked past, not copied), without their values.
    pub fn keys_in_range_after(
        &self,
        space: Space,
        start: &[u8],
        end: &[u8],
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut keys = self.keyspace(space)?.range(start.to_vec()..end.to_vec());
        for _ in 0..offset {
            match keys.next() {
                Some(guard) => {
                    guard.key().map_err(StoreError::engine)?;
                }
                None => return Ok(Vec::new()),
            }
        }
        keys.take(limit)
            .map(|guard| guard.key().map(|k| k.to_vec()).map_err(StoreError::engine))
            .collect()
    }

    /// The last pair of `space` with `start <= key < end`, if any.
    pub fn last_in_range(
        &self,
        space: Space,
        start: &[u8],
        end: &[u8],
    ) -> Result<Option<KeyValue>, StoreError> {
        self.keyspace(space)?
            .range(start.to_vec()..end.to_vec())
            .next_back()
            .map(|guard| {
                let (key, value) = guard.into_inner().map_err(StoreError::engine)?;
                Ok((key.to_vec(), value.to_vec()))
            })
            .transpose()
    }

    /// Like [`Store::scan_prefix`], with values decoded from JSON.
    pub fn scan_prefix_json<T: DeserializeOwned>(
        &self,
        space: Space,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, T)>, StoreError> {
        self.scan_prefix(space, prefix)?
            .into_iter()
            .map(|(key, value)| Ok((key, serde_json::from_slice(&value)?)))
            .collect()
    }

    /// Writes `batch` atomically and durably: returns only after it is fsynced
    /// (`PersistMode::SyncAll`). Batches of concurrent callers that queue up while one
    /// fsync runs are written together and share the next fsync.
    ///
    /// On error nothing of the batch is acknowledged; after an engine error the store
    /// refuses further writes until it is reopened. If the future is dropped before it
    /// completes, the batch may still be committed: only `Ok` says that it was.
    pub async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.queue(batch).await?.await
    }

    /// Writes `batch` atomically without waiting for an fsync: readers see it at once and
    /// the OS holds it (it survives the process being killed), but a machine crash before
    /// the next synced commit may lose it. Only for writes that can be had again from
    /// elsewhere, such as a copy of another node's signed answer that is asked for again
    /// if lost.
    pub async fn commit_unsynced(&self, batch: Batch) -> Result<(), StoreError> {
        self.send(batch, false).await?.await
    }

    /// Queues `batch` for the committer and returns once it is queued, with a future that
    /// says when it is durable ([`Store::commit`] in two steps). Batches are written in the
    /// order they were queued, and after a failed one every later one fails too, so a
    /// caller that saw an earlier batch queued may rely on this order: when a later batch
    /// is durable, so is every batch queued before it.
    pub async fn queue(&self, batch: Batch) -> Result<Durable, StoreError> {
        self.send(batch, true).await
    }

    async fn send(&self, batch: Batch, sync: bool) -> Result<Durable, StoreError> {
        if batch.is_empty() {
            return Ok(Durable::new(None));
        }
        let (reply, done) = oneshot::channel();
        let jobs = self.inner.jobs.as_ref().ok_or(StoreError::Closed)?;
        jobs.send(Job { batch, sync, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(Durable::new(Some(done)))
    }

    /// [`Store::commit`] for synchronous callers (CLI, benchmark threads): blocks the
    /// calling thread until the batch is durable. Do not call it from inside an async task;
    /// it would stall that task's runtime thread for the length of an fsync.
    pub fn commit_blocking(&self, batch: Batch) -> Result<(), StoreError> {
        futures::executor::block_on(self.commit(batch))
    }

    /// Whether the store still accepts writes: after a failed write (a full disk, an I/O
    /// error) it refuses every later one until it is reopened.
    pub fn accepts_writes(&self) -> bool {
        !self.inner.counters.refusing_writes.load(Ordering::Acquire)
    }

    /// Counters since the store was opened.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            sync_rounds: self.inner.counters.sync_rounds.load(Ordering::Acquire),
            batches_committed: self
                .inner
                .counters
                .batches_committed
                .load(Ordering::Acquire),
        }
    }
}
