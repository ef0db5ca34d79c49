//! Tests of the committer's grouping and error rules, with a stand-in for the engine so
//! that groups are deterministic and failures can be injected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex, atomic::Ordering};

use tokio::sync::{mpsc, oneshot};

use super::{
    Batch, Counters, Space, StoreError, StoreStats,
    committer::{self, GroupWriter, Job, MAX_GROUP_BATCHES, MAX_GROUP_OPS},
};

/// Records the size of every group and whether it was synced; fails every write if
/// `fail` is set, or only the first if `fail_first` is.
#[derive(Clone, Default)]
struct Recorder {
    groups: Arc<Mutex<Vec<usize>>>,
    synced: Arc<Mutex<Vec<bool>>>,
    fail: bool,
    fail_first: bool,
}

impl GroupWriter for Recorder {
    fn write_group(&mut self, group: &mut [Job], sync: bool) -> Result<(), String> {
        self.synced.lock().unwrap().push(sync);
        let mut groups = self.groups.lock().unwrap();
        groups.push(group.len());
        if self.fail || (self.fail_first && groups.len() == 1) {
            Err("disk on fire".into())
        } else {
            Ok(())
        }
    }
}

fn batch(ops: usize) -> Batch {
    let mut batch = Batch::new();
    for i in 0..ops {
        batch.put(Space::Bench, format!("{i}"), "v");
    }
    batch
}

/// Queues `batches` before the committer starts, so that they are all waiting at once,
/// then runs the committer until the queue closes. Returns each writer's answer.
fn run_queued(writer: Recorder, batches: Vec<Batch>) -> (Vec<Result<(), StoreError>>, StoreStats) {
    run_queued_jobs(writer, batches.into_iter().map(|b| (b, true)).collect())
}

/// [`run_queued`] with each batch saying whether its writer waits for an fsync.
fn run_queued_jobs(
    writer: Recorder,
    batches: Vec<(Batch, bool)>,
) -> (Vec<Result<(), StoreError>>, StoreStats) {
    let (jobs, queue) = mpsc::channel(batches.len().max(1));
    let mut answers = Vec::new();
    for (batch, sync) in batches {
        let (reply, answer) = oneshot::channel();
        jobs.try_send(Job { batch, sync, reply }).unwrap();
        answers.push(answer);
    }
    drop(jobs);
    let counters = Arc::new(Counters::default());
    committer::spawn(writer, queue, counters.clone())
        .unwrap()
        .join()
        .unwrap();
    let answers = answers
        .into_iter()
        .map(|a| a.blocking_recv().unwrap())
        .collect();
    let stats = StoreStats {
        sync_rounds: counters
            .sync_rounds
            .load(std::sync::atomic::Ordering::Acquire),
        batches_committed: counters
            .batches_committed
            .load(std::sync::atomic::Ordering::Acquire),
    };
    (answers, stats)
}

#[test]
fn queued_batches_share_one_durable_write() {
    let recorder = Recorder::default();
    let (answers, stats) = run_queued(recorder.clone(), (0..10).map(|_| batch(1)).collect());
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(*recorder.groups.lock().unwrap(), vec![10]);
    assert_eq!(
        stats,
        StoreStats {
            sync_rounds: 1,
            batches_committed: 10
        }
    );
}

#[test]
fn a_failed_write_fails_every_writer_of_the_group() {
    let recorder = Recorder {
        fail: true,
        ..Recorder::default()
    };
    let (answers, stats) = run_queued(recorder.clone(), (0..5).map(|_| batch(2)).collect());
    assert_eq!(answers.len(), 5);
    for answer in answers {
        match answer {
            Err(StoreError::Engine(message)) => assert_eq!(message, "disk on fire"),
            other => panic!("a writer was not told of the failure: {other:?}"),
        }
    }
    assert_eq!(*recorder.groups.lock().unwrap(), vec![5]);
    assert_eq!(
        stats,
        StoreStats::default(),
        "a failed group must not be counted"
    );
}

#[test]
fn a_group_is_synced_if_one_of_its_writers_waits_for_it() {
    let recorder = Recorder::default();
    let (answers, stats) = run_queued_jobs(
        recorder.clone(),
        vec![(batch(1), false), (batch(1), false), (batch(1), true)],
    );
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(*recorder.synced.lock().unwrap(), vec![true]);
    assert_eq!(stats.sync_rounds, 1);

    let recorder = Recorder::default();
    let (answers, stats) =
        run_queued_jobs(recorder.clone(), vec![(batch(1), false), (batch(2), false)]);
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(*recorder.synced.lock().unwrap(), vec![false]);
    assert_eq!(
        stats,
        StoreStats {
            sync_rounds: 0,
            batches_committed: 2
        }
    );
}

#[test]
fn after_a_failed_write_every_later_batch_is_refused() {
    let recorder = Recorder {
        fail_first: true,
        ..Recorder::default()
    };
    let (answers, _) = run_queued(
        recorder.clone(),
        (0..MAX_GROUP_BATCHES + 3).map(|_| batch(1)).collect(),
    );
    assert!(
        answers.iter().all(Result::is_err),
        "a batch after the failure was acknowledged"
    );
    match answers.last() {
        Some(Err(StoreError::Engine(message))) => {
            assert!(message.contains("disk on fire"), "{message}")
        }
        other => panic!("unexpected answer {other:?}"),
    }
    assert_eq!(
        *recorder.groups.lock().unwrap(),
        vec![MAX_GROUP_BATCHES],
        "batches after the failure reached the disk"
    );
}

#[test]
fn groups_are_capped_in_batches() {
    let recorder = Recorder::default();
    let count = 2 * MAX_GROUP_BATCHES + 7;
    let (answers, stats) = run_queued(recorder.clone(), (0..count).map(|_| batch(1)).collect());
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(
        *recorder.groups.lock().unwrap(),
        vec![MAX_GROUP_BATCHES, MAX_GROUP_BATCHES, 7]
    );
    assert_eq!(
        stats,
        StoreStats {
            sync_rounds: 3,
            batches_committed: count as u64
        }
    );
}

#[test]
fn groups_are_capped_in_writes_but_a_large_batch_still_goes_through() {
    let recorder = Recorder::default();
    let big = MAX_GROUP_OPS / 2 + 1;
    let batches = vec![
        batch(big),
        batch(big),
        batch(MAX_GROUP_OPS + 1),
        batch(1),
        batch(1),
    ];
    let (answers, _) = run_queued(recorder.clone(), batches);
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(*recorder.groups.lock().unwrap(), vec![1, 1, 1, 2]);
}

#[test]
fn the_committer_stops_when_the_queue_closes() {
    let (answers, stats) = run_queued(Recorder::default(), Vec::new());
    assert!(answers.is_empty());
    assert_eq!(stats, StoreStats::default());
}

#[test]
fn a_failed_write_marks_the_store_as_refusing_writes() {
    let (jobs, queue) = mpsc::channel(2);
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (reply, answer) = oneshot::channel();
        jobs.try_send(Job {
            batch: batch(1),
            sync: true,
            reply,
        })
        .unwrap();
        answers.push(answer);
    }
    drop(jobs);
    let counters = Arc::new(Counters::default());
    assert!(!counters.refusing_writes.load(Ordering::Acquire));
    let recorder = Recorder {
        fail_first: true,
        ..Recorder::default()
    };
    committer::spawn(recorder, queue, counters.clone())
        .unwrap()
        .join()
        .unwrap();
    assert!(
        answers
            .into_iter()
            .all(|a| a.blocking_recv().unwrap().is_err())
    );
    // What `Store::accepts_writes`, and so `/healthz`, reads.
    assert!(counters.refusing_writes.load(Ordering::Acquire));
}
