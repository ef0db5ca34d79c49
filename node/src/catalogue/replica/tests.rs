#![allow(clippy::unwrap_used)]

use alliance_protocol::{InstrumentRecord, SecretKey};

use super::*;

fn entry(key: &SecretKey, origin: &str, local_id: &str, revision: u64) -> Entry {
    let mut record = InstrumentRecord::new(
        origin.parse().unwrap(),
        local_id.into(),
        format!("仪器 {local_id}"),
    );
    record.revision = revision;
    let bytes = record.seal(key);
    Entry {
        body: EntryBody::Instrument(Box::new(record)),
        bytes,
    }
}

fn id(s: &str) -> InstitutionId {
    s.parse().unwrap()
}

fn open(dir: &std::path::Path) -> Replica {
    Replica::open(Store::open(dir).unwrap()).unwrap()
}

#[tokio::test]
async fn newer_revisions_replace_older_and_stale_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let replica = open(dir.path());
    let key = SecretKey::generate();
    let outcome = replica
        .apply(
            vec![entry(&key, "dlut", "A", 1), entry(&key, "dlut", "A", 2)],
            |_| true,
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        vec![
            Applied::Fresh { replaced: None },
            Applied::Fresh { replaced: Some(1) }
        ]
    );
    let again = replica
        .apply(vec![entry(&key, "dlut", "A", 1)], |_| true)
        .await
        .unwrap();
    assert_eq!(again, vec![Applied::Stale { held: 2 }]);
    assert_eq!(replica.held(&id("dlut"), "i/A"), Some(2));
    assert_eq!(replica.highest(&id("dlut")), 2);
    assert_eq!(replica.watermarks().get(&id("dlut")), Some(&2));
}

#[tokio::test]
async fn a_gap_holds_the_watermark_until_it_is_filled() {
    let dir = tempfile::tempdir().unwrap();
    let replica = open(dir.path());
    let key = SecretKey::generate();
    replica
        .apply(vec![entry(&key, "neu", "A", 1)], |_| true)
        .await
        .unwrap();
    replica
        .apply(vec![entry(&key, "neu", "C", 3)], |_| true)
        .await
        .unwrap();
    assert_eq!(replica.watermarks().get(&id("neu")), Some(&1));
    assert_eq!(replica.highest(&id("neu")), 3);
    replica
        .apply(vec![entry(&key, "neu", "B", 2)], |_| true)
        .await
        .unwrap();
    assert_eq!(replica.watermarks().get(&id("neu")), Some(&3));
}

#[tokio::test]
async fn a_capped_origin_fills_no_more_slots_than_a_member_may_but_updates_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate();
    let capped = |origin: &InstitutionId| origin.as_str() != "lnsti";
    let full: Vec<Entry> = (1..=MAX_SLOTS_PER_MEMBER as u64)
        .map(|n| entry(&key, "evil", &format!("E{n}"), n))
        .collect();
    let last = MAX_SLOTS_PER_MEMBER as u64;
    {
        let replica = open(dir.path());
        replica.apply(full, capped).await.unwrap();
        assert_eq!(
            replica.slots(&id("evil"), SlotClass::Catalogue),
            MAX_SLOTS_PER_MEMBER
        );
        let more = replica
            .apply(
                vec![
                    entry(&key, "evil", "ONE-TOO-MANY", last + 1),
                    entry(&key, "evil", "E1", last + 2),
                ],
                capped,
            )
            .await
            .unwrap();
        assert_eq!(
            more,
            vec![Applied::Full, Applied::Fresh { replaced: Some(1) }]
        );
        // Only the origin's watermark stops, below the refused revision.
        assert_eq!(replica.watermarks().get(&id("evil")), Some(&last));
        // The own path reports it rather than storing half an edit.
        let own = replica
            .apply_own(&id("evil"), true, 0, |r| entry(&key, "evil", "NEW", r))
            .await
            .unwrap();
        assert!(own.is_none());
        // An uncapped origin (the province's reviews) is not bounded.
        replica
            .apply(vec![entry(&key, "lnsti", "A", 1)], capped)
            .await
            .unwrap();
    }
    // The count is rebuilt from the store.
    let reopened = open(dir.path());
    assert_eq!(
        reopened.slots(&id("evil"), SlotClass::Catalogue),
        MAX_SLOTS_PER_MEMBER
    );
    let again = reopened
        .apply(vec![entry(&key, "evil", "ONE-TOO-MANY", last + 3)], capped)
        .await
        .unwrap();
    assert_eq!(again, vec![Applied::Full]);
}

/// The origin's checkpoint of what `replica` holds of it, signed with `key`.
fn signed_checkpoint(
    replica: &Replica,
    key: &SecretKey,
    origin: &str,
) -> (alliance_protocol::checkpoint::Checkpoint, Vec<u8>) {
    let checkpoint = replica.current_checkpoint(&id(origin));
    let bytes = checkpoint.seal(key);
    (checkpoint, bytes)
}

#[tokio::test]
async fn a_checkpoint_raises_the_watermark_only_over_what_is_held_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate();
    // The origin: A and B each edited twice; revisions 1 and 2 were superseded by 3 and 4.
    let origin_dir = tempfile::tempdir().unwrap();
    let origin = open(origin_dir.path());
    let edits: Vec<Entry> = [("A", 1), ("B", 2), ("A", 3), ("B", 4)]
        .into_iter()
        .map(|(slot, revision)| entry(&key, "imr", slot, revision))
        .collect();
    origin.apply(edits.clone(), |_| true).await.unwrap();
    let (checkpoint, bytes) = signed_checkpoint(&origin, &key, "imr");
    assert_eq!((checkpoint.revision, checkpoint.slots), (4, 2));
    {
        let replica = open(dir.path());
        // A rogue hands over A's newest and B's old version, with the genuine checkpoint.
        replica
            .apply(vec![edits[1].clone(), edits[2].clone()], |_| true)
            .await
            .unwrap();
        assert_eq!(
            replica.take_checkpoint(&checkpoint, &bytes).await.unwrap(),
            CheckpointOutcome::Differs
        );
        assert_eq!(replica.watermarks().get(&id("imr")), None);
        // The node relays the checkpoint all the same: it is the origin's word.
        assert_eq!(replica.checkpoint(&id("imr")).unwrap().1, bytes);
        // An honest peer's page brings B's newest: now it matches.
        replica
            .apply(vec![edits[3].clone()], |_| true)
            .await
            .unwrap();
        assert_eq!(
            replica.take_checkpoint(&checkpoint, &bytes).await.unwrap(),
            CheckpointOutcome::Raised
        );
        assert_eq!(replica.watermarks().get(&id("imr")), Some(&4));
        assert_eq!(
            replica.take_checkpoint(&checkpoint, &bytes).await.unwrap(),
            CheckpointOutcome::Behind
        );
    }
    let reopened = open(dir.path());
    assert_eq!(reopened.watermarks().get(&id("imr")), Some(&4));
    assert_eq!(reopened.held(&id("imr"), "i/B"), Some(4));
    assert_eq!(reopened.checkpoint(&id("imr")).unwrap().0, checkpoint);
    // Pages finishing the origin carry its checkpoint onward.
    let page = reopened
        .page(&SyncRequest {
            have: vec![],
            after: None,
            limit: 10,
        })
        .unwrap();
    assert_eq!(page.checkpoints, vec![bytes]);
}

#[tokio::test]
async fn entries_newer_than_a_checkpoint_do_not_hide_it_unless_they_supersede_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate();
    let replica = open(dir.path());
    let superseded = [("A", 1), ("B", 2), ("A", 3)];
    replica
        .apply(
            superseded
                .iter()
                .map(|(slot, revision)| entry(&key, "imr", slot, *revision))
                .collect(),
            |_| true,
        )
        .await
        .unwrap();
    let (at_three, bytes) = signed_checkpoint(&replica, &key, "imr");
    let other_dir = tempfile::tempdir().unwrap();
    let other = open(other_dir.path());
    // It holds revision 5 (a new slot) beyond the checkpoint: still a match up to 3.
    other
        .apply(
            vec![
                entry(&key, "imr", "B", 2),
                entry(&key, "imr", "A", 3),
                entry(&key, "imr", "C", 5),
            ],
            |_| true,
        )
        .await
        .unwrap();
    assert_eq!(
        other.take_checkpoint(&at_three, &bytes).await.unwrap(),
        CheckpointOutcome::Raised
    );
    assert_eq!(other.watermarks().get(&id("imr")), Some(&3));
}

#[tokio::test]
async fn own_entries_take_the_next_revision_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let replica = open(dir.path());
    let key = SecretKey::generate();
    let origin = id("dlut");
    let mut tasks = Vec::new();
    for i in 0..10 {
        let replica = replica.clone();
        let key = key.clone();
        let origin = origin.clone();
        tasks.push(tokio::spawn(async move {
            replica
                .apply_own(&origin, true, 0, |revision| {
                    entry(&key, "dlut", &format!("I{i}"), revision)
                })
                .await
                .unwrap()
                .unwrap()
                .body
                .revision()
        }));
    }
    let mut revisions = Vec::new();
    for task in tasks {
        revisions.push(task.await.unwrap());
    }
    revisions.sort_unstable();
    assert_eq!(revisions, (1..=10).collect::<Vec<_>>());
    assert_eq!(replica.watermarks().get(&origin), Some(&10));
    // A floor lifts the counter once; it goes on by one from there.
    for expected in [1_000, 1_001] {
        let made = replica
            .apply_own(&origin, true, 1_000, |revision| {
                entry(&key, "dlut", "AGAIN", revision)
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(made.body.revision(), expected);
    }
}

#[tokio::test]
async fn pages_deliver_everything_above_the_requesters_watermarks() {
    let dir = tempfile::tempdir().unwrap();
    let replica = open(dir.path());
    let key = SecretKey::generate();
    let mut entries = Vec::new();
    for origin in ["aa", "bb", "cc"] {
        for rev in 1..=7 {
            entries.push(entry(&key, origin, &format!("R{rev}"), rev));
        }
    }
    replica.apply(entries, |_| true).await.unwrap();

    // The requester holds bb up to 5; it wants everything else, 4 entries per page.
    let have = vec![OriginRevision {
        origin: id("bb"),
        revision: 5,
    }];
    let mut after = None;
    let mut got = Vec::new();
    for _ in 0..10 {
        let page = replica
            .page(&SyncRequest {
                have: have.clone(),
                after: after.clone(),
                limit: 4,
            })
            .unwrap();
        assert!(page.entries.len() <= 4);
        for bytes in &page.entries {
            let body = UnverifiedEntry::decode_stored(bytes).unwrap();
            got.push((body.origin().to_string(), body.revision()));
        }
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert!(after.is_none(), "paging did not finish");
    let mut expected: Vec<(String, u64)> = Vec::new();
    for rev in 1..=7 {
        expected.push(("aa".into(), rev));
    }
    expected.extend([("bb".into(), 6), ("bb".into(), 7)]);
    for rev in 1..=7 {
        expected.push(("cc".into(), rev));
    }
    assert_eq!(got, expected);
}

#[tokio::test]
async fn an_instruments_first_sighting_is_kept_through_later_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let replica = open(dir.path());
    let key = SecretKey::generate();
    assert_eq!(replica.first_seen(&id("dlut"), "A").unwrap(), None);
    let before = alliance_protocol::UnixTime::now();
    replica
        .apply(vec![entry(&key, "dlut", "A", 1)], |_| true)
        .await
        .unwrap();
    let first = replica.first_seen(&id("dlut"), "A").unwrap().unwrap();
    assert!(before <= first && first <= alliance_protocol::UnixTime::now());
    // A later revision (say, with a typed networked date moved earlier) changes nothing,
    // nor does a restart.
    replica
        .apply(vec![entry(&key, "dlut", "A", 2)], |_| true)
        .await
        .unwrap();
    drop(replica);
    let replica = open(dir.path());
    assert_eq!(replica.first_seen(&id("dlut"), "A").unwrap(), Some(first));
    assert_eq!(replica.first_seen(&id("dlut"), "B").unwrap(), None);
}

#[tokio::test]
async fn needs_and_offers_have_caps_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let replica = open(dir.path());
    let key = SecretKey::generate();
    let full: Vec<Entry> = (1..=MAX_SLOTS_PER_MEMBER as u64)
        .map(|n| entry(&key, "dlut", &format!("E{n}"), n))
        .collect();
    replica.apply(full, |_| true).await.unwrap();
    let revision = MAX_SLOTS_PER_MEMBER as u64;
    let need = |n: u64| {
        let need = alliance_protocol::Need {
            local_id: format!("n_{n}"),
            revision: revision + n,
            ..alliance_protocol::fixtures::need()
        };
        Entry {
            bytes: need.seal(&key),
            body: EntryBody::Need(Box::new(need)),
        }
    };
    // A catalogue at its cap still takes the home's needs...
    let outcome = replica.apply(vec![need(1)], |_| true).await.unwrap();
    assert_eq!(outcome, vec![Applied::Fresh { replaced: None }]);
    assert_eq!(replica.slots(&id("dlut"), SlotClass::Needs), 1);
    // ...up to their own cap.
    let many: Vec<Entry> = (2..=MAX_NEEDS_PER_MEMBER as u64 + 1).map(need).collect();
    let outcome = replica.apply(many, |_| true).await.unwrap();
    assert_eq!(outcome.last(), Some(&Applied::Full));
    assert_eq!(
        replica.slots(&id("dlut"), SlotClass::Needs),
        MAX_NEEDS_PER_MEMBER
    );
    drop(replica);
    let reopened = open(dir.path());
    assert_eq!(
        reopened.slots(&id("dlut"), SlotClass::Needs),
        MAX_NEEDS_PER_MEMBER
    );
    assert_eq!(
        reopened.slots(&id("dlut"), SlotClass::Catalogue),
        MAX_SLOTS_PER_MEMBER
    );
}
