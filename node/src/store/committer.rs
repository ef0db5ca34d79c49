//! The committer: one OS thread that owns every write to the store, and does group commit.
//!
//! Writers send a [`Job`] (a batch and a reply channel) on a bounded queue. The thread
//! blocks for the first job, takes every other job already queued (up to a cap), writes
//! them as one atomic engine batch, fsyncs once (`PersistMode::SyncAll`), and only then
//! answers every writer of the group. Batches that queue up while one fsync runs thus
//! share the next one. If the write or the fsync fails, every writer of the group gets
//! the error: nothing is acknowledged that is not durable. Every later batch is refused
//! with it too, so batches are durable in the order they were queued or not at all.
//!
//! The thread ends when the queue closes, i.e. when the last `Store` clone is dropped.

use std::{
    sync::{Arc, atomic::Ordering},
    thread::JoinHandle,
};

use fjall::{Database, Keyspace, PersistMode};
use tokio::sync::{mpsc, oneshot};

use super::{Batch, Counters, StoreError, batch::Op, error::describe};

/// Most batches made durable by one fsync.
pub(super) const MAX_GROUP_BATCHES: usize = 1024;
/// Most writes in one group (a single larger batch still goes through, alone). Bounds the
/// memory of a group when many bulk writers queue up at once.
pub(super) const MAX_GROUP_OPS: usize = 100_000;

/// One writer's request.
#[derive(Debug)]
pub(super) struct Job {
    pub batch: Batch,
    /// Whether the writer waits for an fsync; if not, the batch is handed to the OS and
    /// becomes durable with the next group that is fsynced.
    pub sync: bool,
    pub reply: oneshot::Sender<Result<(), StoreError>>,
}

/// Where groups go: the engine, or a stand-in in tests.
pub(super) trait GroupWriter: Send + 'static {
    /// Writes every batch of `group` atomically and, if `sync`, makes them durable with
    /// one fsync (otherwise hands them to the OS). The batches may be emptied. The error
    /// is a readable message.
    fn write_group(&mut self, group: &mut [Job], sync: bool) -> Result<(), String>;
}

/// Writes groups to fjall.
pub(super) struct EngineWriter {
    db: Database,
    spaces: Vec<Keyspace>,
}

impl EngineWriter {
    pub(super) fn new(db: Database, spaces: Vec<Keyspace>) -> Self {
        EngineWriter { db, spaces }
    }
}

impl GroupWriter for EngineWriter {
    fn write_group(&mut self, group: &mut [Job], sync: bool) -> Result<(), String> {
        // The engine fsyncs its journal under the journal lock, before the writes reach the
        // memtables: readers see a synced group only once it is durable.
        let ops = group.iter().map(|job| job.batch.len()).sum();
        let persist = if sync {
            PersistMode::SyncAll
        } else {
            PersistMode::Buffer
        };
        let mut batch =
            fjall::OwnedWriteBatch::with_capacity(self.db.clone(), ops).durability(Some(persist));
        for job in group.iter_mut() {
            for Op { space, key, value } in job.batch.take_ops() {
                let keyspace = self
                    .spaces
                    .get(space.index())
                    .ok_or_else(|| format!("keyspace {} is not open", space.name()))?;
                match value {
                    Some(value) => batch.insert(keyspace, key, value),
                    None => batch.remove(keyspace, key),
                }
            }
        }
        batch.commit().map_err(|e| describe(&e))
    }
}

/// Starts the committer thread.
pub(super) fn spawn(
    writer: impl GroupWriter,
    queue: mpsc::Receiver<Job>,
    counters: Arc<Counters>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("store-committer".into())
        .spawn(move || run(writer, queue, &counters))
}

fn run(mut writer: impl GroupWriter, mut queue: mpsc::Receiver<Job>, counters: &Counters) {
    let mut group: Vec<Job> = Vec::new();
    // Set by the first failed group; every later batch gets it (fail-stop).
    let mut failed: Option<String> = None;
    // A job that would have made the previous group too large; it opens the next one.
    let mut carried: Option<Job> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            // This is a plain thread, outside any async runtime: blocking is its job.
            None => match queue.blocking_recv() {
                Some(job) => job,
                None => break,
            },
        };
        if let Some(error) = &failed {
            let _ = first.reply.send(Err(StoreError::Engine(error.clone())));
            continue;
        }
        let mut ops = first.batch.len();
        group.push(first);
        while group.len() < MAX_GROUP_BATCHES && ops < MAX_GROUP_OPS {
            let Ok(job) = queue.try_recv() else { break };
            if ops + job.batch.len() > MAX_GROUP_OPS {
                carried = Some(job);
                break;
            }
            ops += job.batch.len();
            group.push(job);
        }
        if let Err(error) = commit_group(&mut writer, &mut group, ops, counters) {
            counters.refusing_writes.store(true, Ordering::Release);
            failed = Some(format!(
                "an earlier write failed ({error}); writes are refused until the store is reopened"
            ));
        }
    }
    tracing::debug!("store committer stopped");
}

/// Writes one group durably, counts it, then answers each of its writers.
fn commit_group(
    writer: &mut impl GroupWriter,
    group: &mut Vec<Job>,
    ops: usize,
    counters: &Counters,
) -> Result<(), String> {
    // One writer waiting for an fsync makes the whole group synced.
    let sync = group.iter().any(|job| job.sync);
    let result = writer.write_group(group, sync);
    match &result {
        Ok(()) => {
            if sync {
                counters.sync_rounds.fetch_add(1, Ordering::AcqRel);
            }
            counters
                .batches_committed
                .fetch_add(group.len() as u64, Ordering::AcqRel);
            tracing::trace!(batches = group.len(), ops, "group committed");
        }
        Err(error) => tracing::error!(
            %error,
            batches = group.len(),
            ops,
            "durable commit failed; every writer of the group gets the error"
        ),
    }
    for job in group.drain(..) {
        // A writer that stopped waiting (its future was dropped) needs no answer.
        let _ = job.reply.send(result.clone().map_err(StoreError::Engine));
    }
    result
}
