//! Watching the province's log: each signed tree head must be consistent with the
//! latest one this node has verified (RFC 9162 consistency proof). A province that shows
//! two histories that cannot both be true — the same size with another root, or a proof
//! that does not hold — has signed both heads; the node keeps them as evidence, logs an
//! error and reports the alarm (status API, UI banner) until an operator clears it.

use alliance_protocol::{
    PublicKey, UnixTime,
    transparency::{LogError, TreeHead, verify_consistency},
};
use serde::{Deserialize, Serialize};

use crate::store::{Batch, Space, Store, StoreError};

const LATEST: &[u8] = b"latest";
const ALARM: &[u8] = b"alarm";

/// Two signed heads of the province that cannot both be true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    /// The head this node had verified, and its signed bytes (hex).
    pub seen: TreeHead,
    pub seen_signed: String,
    /// The head that contradicts it.
    pub shown: TreeHead,
    pub shown_signed: String,
    pub detected_at: UnixTime,
    /// Receipts this node submitted again because the province's log was reset below
    /// their places (a head smaller than one it had verified).
    #[serde(default)]
    pub resubmitted: u64,
    /// Set once this node submitted again its receipts proven under heads signed until
    /// then: once per alarm, since every later head of the contradicting log raises the
    /// same alarm again.
    #[serde(default)]
    pub resubmitted_until: Option<UnixTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Latest {
    head: TreeHead,
    signed: String,
}

/// What a tree head did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// Larger than the latest, and consistent with it: now the latest.
    Advanced(TreeHead),
    /// Consistent, but not larger: nothing changes.
    Known,
    /// Inconsistent with the latest: the alarm is raised.
    Alarm(Box<Alarm>),
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// Not signed by the province: says nothing about the province's log.
    #[error("not a tree head of the province: {0}")]
    BadHead(LogError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The watch. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogWatch {
    store: Store,
    province: PublicKey,
    /// The newest timestamp of a head verified consistent since start (0: none yet).
    freshest: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl LogWatch {
    /// Watches heads signed by `province`, remembering them in `store`.
    pub fn new(store: Store, province: PublicKey) -> Self {
        LogWatch {
            store,
            province,
            freshest: std::sync::Arc::default(),
        }
    }

    /// When the newest head verified consistent was signed: since start, or the latest
    /// kept from before.
    pub fn freshest(&self) -> Result<Option<UnixTime>, StoreError> {
        let seen = self.freshest.load(std::sync::atomic::Ordering::Relaxed);
        if seen > 0 {
            return Ok(Some(UnixTime(seen)));
        }
        Ok(self.latest()?.map(|h| h.timestamp))
    }

    fn saw(&self, head: &TreeHead) {
        self.freshest
            .fetch_max(head.timestamp.0, std::sync::atomic::Ordering::Relaxed);
    }

    /// The latest head verified.
    pub fn latest(&self) -> Result<Option<TreeHead>, StoreError> {
        Ok(self
            .store
            .get_json::<Latest>(Space::LogWatch, LATEST)?
            .map(|l| l.head))
    }

    /// The alarm, if raised.
    pub fn alarm(&self) -> Result<Option<Alarm>, StoreError> {
        self.store.get_json(Space::LogWatch, ALARM)
    }

    /// Checks a signed head the province showed, with its proof of consistency with the
    /// latest head this node verified (empty for the first head, or one of the same size).
    /// For a head smaller than the latest, the proof is of it to the latest.
    pub async fn observe(&self, signed: &[u8], proof: &[u8]) -> Result<Observed, WatchError> {
        let shown = TreeHead::open(signed, &self.province).map_err(WatchError::BadHead)?;
        let Some(latest) = self.store.get_json::<Latest>(Space::LogWatch, LATEST)? else {
            self.keep_latest(shown, signed).await?;
            self.saw(&shown);
            return Ok(Observed::Advanced(shown));
        };
        let seen = latest.head;
        let consistent = if shown.size >= seen.size {
            verify_consistency(&seen, &shown, proof)
        } else if shown.timestamp > seen.timestamp {
            // Heads only grow: a smaller one signed after a larger one is a log rolled
            // back (a province restored from a backup), whatever proof comes with it.
            Err(LogError::Inconsistent {
                old: shown.size,
                new: seen.size,
            })
        } else {
            verify_consistency(&shown, &seen, proof)
        };
        match consistent {
            Ok(()) if shown.size > seen.size => {
                self.keep_latest(shown, signed).await?;
                self.saw(&shown);
                Ok(Observed::Advanced(shown))
            }
            Ok(()) => {
                self.saw(&shown);
                Ok(Observed::Known)
            }
            Err(_)
                if self
                    .alarm()?
                    .is_some_and(|before| shown.timestamp < before.shown.timestamp) =>
            {
                // Signed before the head of the alarm already raised: a head of a history
                // already reported (a member that was away relays what it had verified),
                // not a new contradiction — nothing is submitted again for it.
                Ok(Observed::Known)
            }
            Err(_) => {
                // What was resubmitted holds for this contradiction of `seen`; one of a
                // head verified later (a second restore) starts afresh.
                let (resubmitted, resubmitted_until) = self
                    .alarm()?
                    .filter(|a| a.seen == seen)
                    .map_or((0, None), |a| (a.resubmitted, a.resubmitted_until));
                let alarm = Alarm {
                    seen,
                    seen_signed: latest.signed,
                    shown,
                    shown_signed: hex::encode(signed),
                    detected_at: UnixTime::now(),
                    resubmitted,
                    resubmitted_until,
                };
                tracing::error!(
                    seen_size = seen.size,
                    shown_size = shown.size,
                    "the province showed a log inconsistent with the one this node verified"
                );
                let mut batch = Batch::new();
                batch.put_json(Space::LogWatch, ALARM.to_vec(), &alarm)?;
                self.store.commit(batch).await?;
                Ok(Observed::Alarm(Box::new(alarm)))
            }
        }
    }

    /// Records in the alarm raised that `count` receipts proven under heads signed
    /// until `until` were submitted again.
    pub async fn resubmitted(&self, until: UnixTime, count: u64) -> Result<(), StoreError> {
        let Some(mut alarm) = self.alarm()? else {
            return Ok(());
        };
        alarm.resubmitted = alarm.resubmitted.saturating_add(count);
        alarm.resubmitted_until = Some(until);
        let mut batch = Batch::new();
        batch.put_json(Space::LogWatch, ALARM.to_vec(), &alarm)?;
        self.store.commit(batch).await
    }

    /// Follows the log the province now shows, from the head that contradicted the one
    /// verified (signed later than it): its next heads are checked against this one, so a
    /// later rollback raises the alarm afresh. The alarm and its evidence stay.
    pub async fn follow(&self, signed: &[u8]) -> Result<(), WatchError> {
        let shown = TreeHead::open(signed, &self.province).map_err(WatchError::BadHead)?;
        self.keep_latest(shown, signed).await?;
        self.saw(&shown);
        Ok(())
    }

    async fn keep_latest(&self, head: TreeHead, signed: &[u8]) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.put_json(
            Space::LogWatch,
            LATEST.to_vec(),
            &Latest {
                head,
                signed: hex::encode(signed),
            },
        )?;
        self.store.commit(batch).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alliance_protocol::{SecretKey, transparency::MerkleLog};

    use super::*;

    fn log(entries: &[&str]) -> MerkleLog {
        let mut log = MerkleLog::new();
        for e in entries {
            log.push(e.as_bytes());
        }
        log
    }

    #[tokio::test]
    async fn a_followed_rollback_is_watched_afresh_and_a_second_one_starts_a_new_count() {
        let dir = tempfile::tempdir().unwrap();
        let province = SecretKey::generate();
        let watch = LogWatch::new(Store::open(dir.path()).unwrap(), province.public());
        let t = UnixTime(1_800_000_000);
        let full = log(&["a", "b", "c", "d"]);
        watch
            .observe(&full.head(t).seal(&province), &[])
            .await
            .unwrap();
        // Restored to two entries: the alarm, resubmission noted, the new log followed.
        let restored = log(&["a", "b"]);
        let reset = restored.head(UnixTime(t.0 + 60)).seal(&province);
        assert!(matches!(
            watch.observe(&reset, &[]).await.unwrap(),
            Observed::Alarm(_)
        ));
        watch.resubmitted(UnixTime(t.0 + 60), 2).await.unwrap();
        watch.follow(&reset).await.unwrap();
        // The restored log grows honestly: consistent with the head followed.
        let grown = log(&["a", "b", "x"]);
        let proof = grown.prove_consistency(2).unwrap();
        let next = watch
            .observe(&grown.head(UnixTime(t.0 + 120)).seal(&province), &proof)
            .await
            .unwrap();
        assert!(matches!(next, Observed::Advanced(h) if h.size == 3));
        // A head of the old history, relayed late by a member that was away: already
        // reported, not a new contradiction (nothing is submitted again for it).
        let old = log(&["a", "b", "c"])
            .head(UnixTime(t.0 - 30))
            .seal(&province);
        assert_eq!(watch.observe(&old, &[]).await.unwrap(), Observed::Known);
        assert_eq!(watch.alarm().unwrap().unwrap().resubmitted, 2);
        // A second restore is a new contradiction: its resubmission is still to do.
        let again = log(&["a"]).head(UnixTime(t.0 + 180)).seal(&province);
        let Observed::Alarm(alarm) = watch.observe(&again, &[]).await.unwrap() else {
            panic!("the second rollback raised no alarm")
        };
        assert_eq!(alarm.seen.size, 3);
        assert_eq!((alarm.resubmitted, alarm.resubmitted_until), (0, None));
    }

    #[tokio::test]
    async fn a_smaller_head_signed_later_is_a_rollback_even_with_a_valid_proof() {
        let dir = tempfile::tempdir().unwrap();
        let province = SecretKey::generate();
        let watch = LogWatch::new(Store::open(dir.path()).unwrap(), province.public());
        let t = UnixTime(1_800_000_000);
        let full = log(&["a", "b", "c", "d"]);
        watch
            .observe(&full.head(t).seal(&province), &[])
            .await
            .unwrap();
        // The same prefix signed earlier is an old head; signed later, the log went back
        // (a province restored from a backup) — the prefix proof does not excuse it.
        let prefix = log(&["a", "b"]);
        let proof = full.prove_consistency(2).unwrap();
        let old = watch
            .observe(&prefix.head(UnixTime(t.0 - 60)).seal(&province), &proof)
            .await
            .unwrap();
        assert_eq!(old, Observed::Known);
        let later = watch
            .observe(&prefix.head(UnixTime(t.0 + 60)).seal(&province), &proof)
            .await
            .unwrap();
        let Observed::Alarm(alarm) = later else {
            panic!("no alarm: {later:?}")
        };
        assert_eq!((alarm.seen.size, alarm.shown.size), (4, 2));
        // An empty log after a non-empty one, too.
        let empty = MerkleLog::new();
        let reset = watch
            .observe(&empty.head(UnixTime(t.0 + 120)).seal(&province), &[])
            .await
            .unwrap();
        assert!(matches!(reset, Observed::Alarm(_)));
        watch.resubmitted(UnixTime(t.0 + 120), 3).await.unwrap();
        // The same contradiction shown again keeps what was done for it.
        let again = watch
            .observe(&empty.head(UnixTime(t.0 + 180)).seal(&province), &[])
            .await
            .unwrap();
        let Observed::Alarm(again) = again else {
            panic!("no alarm: {again:?}")
        };
        assert_eq!(
            (again.resubmitted, again.resubmitted_until),
            (3, Some(UnixTime(t.0 + 120)))
        );
    }

    #[tokio::test]
    async fn an_honest_log_advances_and_a_rewritten_one_raises_a_lasting_alarm() {
        let dir = tempfile::tempdir().unwrap();
        let province = SecretKey::generate();
        let watch = LogWatch::new(Store::open(dir.path()).unwrap(), province.public());
        let t = UnixTime(1_800_000_000);

        let honest = log(&["a", "b", "c"]);
        let first = watch
            .observe(&honest.head(t).seal(&province), &[])
            .await
            .unwrap();
        assert!(matches!(first, Observed::Advanced(h) if h.size == 3));

        let grown = log(&["a", "b", "c", "d", "e"]);
        let proof = grown.prove_consistency(3).unwrap();
        let next = watch
            .observe(&grown.head(t).seal(&province), &proof)
            .await
            .unwrap();
        assert!(matches!(next, Observed::Advanced(h) if h.size == 5));
        // An older head of the same history is known, not an alarm.
        let older = watch
            .observe(&honest.head(t).seal(&province), &proof)
            .await
            .unwrap();
        assert_eq!(older, Observed::Known);
        // A head signed by someone else is refused and changes nothing.
        assert!(matches!(
            watch
                .observe(&grown.head(t).seal(&SecretKey::generate()), &[])
                .await,
            Err(WatchError::BadHead(_))
        ));

        // The province rewrites entry "b" and shows a longer log.
        let rewritten = log(&["a", "B", "c", "d", "e", "f"]);
        let proof = rewritten.prove_consistency(5).unwrap();
        let alarm = watch
            .observe(&rewritten.head(t).seal(&province), &proof)
            .await
            .unwrap();
        let Observed::Alarm(alarm) = alarm else {
            panic!("no alarm: {alarm:?}")
        };
        assert_eq!((alarm.seen.size, alarm.shown.size), (5, 6));
        // The evidence is both signed heads, and it survives a restart.
        drop(watch);
        let watch = LogWatch::new(Store::open(dir.path()).unwrap(), province.public());
        let kept = watch.alarm().unwrap().unwrap();
        let seen = TreeHead::open(&hex::decode(&kept.seen_signed).unwrap(), &province.public());
        let shown = TreeHead::open(
            &hex::decode(&kept.shown_signed).unwrap(),
            &province.public(),
        );
        assert_eq!(seen.unwrap().size, 5);
        assert_eq!(shown.unwrap().size, 6);
        assert_eq!(watch.latest().unwrap().unwrap().size, 5);

        // Same size, another root: an alarm too.
        let forked = log(&["a", "b", "c", "d", "X"]);
        let same_size = watch
            .observe(&forked.head(t).seal(&province), &[])
            .await
            .unwrap();
        assert!(matches!(same_size, Observed::Alarm(_)));
    }
}
