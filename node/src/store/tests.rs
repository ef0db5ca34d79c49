//! The store's own test suite, against the real engine in temporary directories.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::*;

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

fn put(store: &Store, space: Space, key: &str, value: &str) {
    let mut batch = Batch::new();
    batch.put(space, key, value);
    store.commit_blocking(batch).unwrap();
}

#[test]
fn spaces_are_listed_in_declaration_order_with_distinct_names() {
    for (i, space) in Space::ALL.iter().enumerate() {
        assert_eq!(space.index(), i);
    }
    let names: HashSet<_> = Space::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(names.len(), Space::ALL.len());
    assert_eq!(Space::Meta.name(), "meta");
    assert_eq!(Space::Certificates.name(), "certificates");
}

#[test]
fn store_is_cheap_to_share_between_threads() {
    fn shareable<T: Send + Sync + Clone + std::fmt::Debug>() {}
    shareable::<Store>();
}

#[tokio::test]
async fn put_get_delete_and_scan_prefix_in_every_space() {
    let (_dir, store) = open();
    for space in Space::ALL.iter().copied() {
        let name = space.name();
        let mut batch = Batch::new();
        batch
            .put(space, "a/1", format!("{name}-one"))
            .put(space, "a/2", format!("{name}-two"))
            .put(space, "b/1", format!("{name}-other"));
        assert_eq!(batch.len(), 3);
        store.commit(batch).await.unwrap();

        assert_eq!(
            store.get(space, b"a/1").unwrap(),
            Some(format!("{name}-one").into_bytes())
        );
        assert_eq!(store.get(space, b"a/3").unwrap(), None);
        assert_eq!(
            store.scan_prefix(space, b"a/").unwrap(),
            vec![
                (b"a/1".to_vec(), format!("{name}-one").into_bytes()),
                (b"a/2".to_vec(), format!("{name}-two").into_bytes()),
            ]
        );
        assert_eq!(store.scan_prefix(space, b"").unwrap().len(), 3);
        assert!(store.scan_prefix(space, b"c").unwrap().is_empty());
        assert_eq!(store.count_prefix(space, b"a/").unwrap(), 2);
        assert_eq!(store.count_prefix(space, b"").unwrap(), 3);
        assert_eq!(store.count_prefix(space, b"c").unwrap(), 0);

        let mut batch = Batch::new();
        batch.delete(space, "a/1").delete(space, "never-written");
        store.commit(batch).await.unwrap();
        assert_eq!(store.get(space, b"a/1").unwrap(), None);
        assert_eq!(store.scan_prefix(space, b"a/").unwrap().len(), 1);
        assert_eq!(store.count_prefix(space, b"a/").unwrap(), 1);
    }
}

#[test]
fn spaces_are_isolated() {
    let (_dir, store) = open();
    put(&store, Space::Accounts, "k", "account");
    put(&store, Space::Sessions, "k", "session");
    assert_eq!(
        store.get(Space::Accounts, b"k").unwrap(),
        Some(b"account".to_vec())
    );
    assert_eq!(
        store.get(Space::Sessions, b"k").unwrap(),
        Some(b"session".to_vec())
    );
    for space in [
        Space::Meta,
        Space::Roster,
        Space::Certificates,
        Space::Bench,
    ] {
        assert_eq!(store.get(space, b"k").unwrap(), None, "{space:?}");
        assert!(
            store.scan_prefix(space, b"").unwrap().is_empty(),
            "{space:?}"
        );
    }
    let mut batch = Batch::new();
    batch.delete(Space::Accounts, "k");
    store.commit_blocking(batch).unwrap();
    assert_eq!(store.get(Space::Accounts, b"k").unwrap(), None);
    assert_eq!(
        store.get(Space::Sessions, b"k").unwrap(),
        Some(b"session".to_vec())
    );
}

#[test]
fn later_writes_in_a_batch_win() {
    let (_dir, store) = open();
    let mut batch = Batch::new();
    batch
        .put(Space::Meta, "k", "first")
        .put(Space::Meta, "k", "second")
        .put(Space::Meta, "gone", "x")
        .delete(Space::Meta, "gone");
    store.commit_blocking(batch).unwrap();
    assert_eq!(
        store.get(Space::Meta, b"k").unwrap(),
        Some(b"second".to_vec())
    );
    assert_eq!(store.get(Space::Meta, b"gone").unwrap(), None);
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    name: String,
    count: u32,
}

#[tokio::test]
async fn json_helpers_round_trip_and_report_bad_json() {
    let (_dir, store) = open();
    let one = Record {
        name: "one".into(),
        count: 1,
    };
    let two = Record {
        name: "two".into(),
        count: 2,
    };
    let mut batch = Batch::new();
    batch.put_json(Space::Meta, "r/1", &one).unwrap();
    batch.put_json(Space::Meta, "r/2", &two).unwrap();
    batch.put(Space::Meta, "broken", "{not json");
    store.commit(batch).await.unwrap();

    assert_eq!(
        store.get_json::<Record>(Space::Meta, b"r/1").unwrap(),
        Some(one)
    );
    assert_eq!(store.get_json::<Record>(Space::Meta, b"r/9").unwrap(), None);
    let scanned = store
        .scan_prefix_json::<Record>(Space::Meta, b"r/")
        .unwrap();
    assert_eq!(scanned.len(), 2);
    assert_eq!(scanned[1], (b"r/2".to_vec(), two));
    assert!(matches!(
        store.get_json::<Record>(Space::Meta, b"broken"),
        Err(StoreError::Json(_))
    ));
    assert!(matches!(
        store.scan_prefix_json::<Record>(Space::Meta, b""),
        Err(StoreError::Json(_))
    ));
}

#[test]
fn committed_data_is_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let clone = store.clone();
        put(&store, Space::Roster, "current", "v7");
        put(&clone, Space::Accounts, "alice", "a");
        put(&clone, Space::Accounts, "bob", "b");
        let mut batch = Batch::new();
        batch.delete(Space::Accounts, "bob");
        store.commit_blocking(batch).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.get(Space::Roster, b"current").unwrap(),
        Some(b"v7".to_vec())
    );
    assert_eq!(
        store.get(Space::Accounts, b"alice").unwrap(),
        Some(b"a".to_vec())
    );
    assert_eq!(store.get(Space::Accounts, b"bob").unwrap(), None);
    assert_eq!(store.stats(), StoreStats::default());
}

#[test]
fn a_directory_cannot_be_opened_twice() {
    let (dir, _store) = open();
    match Store::open(dir.path()) {
        Err(StoreError::Locked { path }) => assert_eq!(path, dir.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn an_empty_batch_needs_no_fsync() {
    let (_dir, store) = open();
    store.commit_blocking(Batch::new()).unwrap();
    assert_eq!(store.stats(), StoreStats::default());
    put(&store, Space::Meta, "k", "v");
    assert_eq!(
        store.stats(),
        StoreStats {
            sync_rounds: 1,
            batches_committed: 1
        }
    );
}

#[tokio::test]
async fn an_unsynced_commit_is_read_at_once_needs_no_fsync_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::new();
        batch.put(Space::Meta, "answer", "confirmed");
        store.commit_unsynced(batch).await.unwrap();
        assert_eq!(
            store.get(Space::Meta, b"answer").unwrap(),
            Some(b"confirmed".to_vec())
        );
        assert_eq!(
            store.stats(),
            StoreStats {
                sync_rounds: 0,
                batches_committed: 1
            }
        );
    }
    // Handed to the OS: a process that stops (here, closes) without an fsync keeps it.
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.get(Space::Meta, b"answer").unwrap(),
        Some(b"confirmed".to_vec())
    );
}

const WRITERS: usize = 16;
const COMMITS_EACH: usize = 50;

fn check_group_commit(store: &Store) {
    let all = store.scan_prefix(Space::Bench, b"").unwrap();
    assert_eq!(all.len(), WRITERS * COMMITS_EACH);
    for w in 0..WRITERS {
        for i in 0..COMMITS_EACH {
            let key = format!("{w:02}/{i:03}");
            assert_eq!(
                store.get(Space::Bench, key.as_bytes()).unwrap(),
                Some(vec![w as u8; 100])
            );
        }
    }
    let stats = store.stats();
    assert_eq!(stats.batches_committed, (WRITERS * COMMITS_EACH) as u64);
    assert!(stats.sync_rounds >= 1);
    assert!(
        stats.sync_rounds < stats.batches_committed,
        "no fsync was shared: {stats:?}"
    );
}

fn batch_of(w: usize, i: usize) -> Batch {
    let mut batch = Batch::new();
    batch.put(Space::Bench, format!("{w:02}/{i:03}"), vec![w as u8; 100]);
    batch
}

#[test]
fn concurrent_threads_share_fsyncs() {
    let (_dir, store) = open();
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let store = store.clone();
            scope.spawn(move || {
                for i in 0..COMMITS_EACH {
                    store.commit_blocking(batch_of(w, i)).unwrap();
                }
            });
        }
    });
    check_group_commit(&store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tasks_share_fsyncs() {
    let (_dir, store) = open();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.spawn(async move {
            for i in 0..COMMITS_EACH {
                store.commit(batch_of(w, i)).await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    check_group_commit(&store);
}
