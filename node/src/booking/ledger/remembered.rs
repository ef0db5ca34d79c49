//! Cancels that arrived before their request, remembered so that the request is refused
//! when it comes — at most `cap` per home institution. A home can send cancels of
//! bookings that never existed; past the cap the oldest of its own is forgotten, so
//! what a member makes this node store stays bounded (a genuine early cancel is
//! followed by its request within seconds, long before it could be pushed out).

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use alliance_protocol::{InstitutionId, UnixTime};

use crate::store::{Batch, Space, Store, StoreError};

/// The remembered cancels' keys per home, oldest first.
#[derive(Debug)]
pub(super) struct Remembered {
    cap: usize,
    per_home: Mutex<HashMap<InstitutionId, VecDeque<Vec<u8>>>>,
}

/// The home a booking key (`home \0 booking id`) belongs to.
fn home_of(key: &[u8]) -> Option<InstitutionId> {
    let home = key.split(|b| *b == 0).next()?;
    std::str::from_utf8(home).ok()?.parse().ok()
}

impl Remembered {
    /// Loads the cancels stored in `store`, at most `cap` (at least 1) per home.
    pub(super) fn load(store: &Store, cap: usize) -> Result<Remembered, StoreError> {
        let mut per_home: HashMap<InstitutionId, Vec<(UnixTime, Vec<u8>)>> = HashMap::new();
        for (key, at) in store.scan_prefix_json::<UnixTime>(Space::BookingCancels, b"")? {
            let home = home_of(&key).ok_or_else(|| {
                StoreError::Engine("booking store holds a malformed cancel key".into())
            })?;
            per_home.entry(home).or_default().push((at, key));
        }
        let per_home = per_home
            .into_iter()
            .map(|(home, mut cancels)| {
                cancels.sort();
                (home, cancels.into_iter().map(|(_, key)| key).collect())
            })
            .collect();
        Ok(Remembered {
            cap: cap.max(1),
            per_home: Mutex::new(per_home),
        })
    }

    fn per_home(&self) -> std::sync::MutexGuard<'_, HashMap<InstitutionId, VecDeque<Vec<u8>>>> {
        // Every change is a single push or pop: a poisoned map is still consistent.
        self.per_home
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds to `batch` the remembering of a cancel of `key` by `home`, and the forgetting
    /// of that home's oldest if it then holds more than the cap.
    pub(super) fn remember(
        &self,
        home: &InstitutionId,
        key: Vec<u8>,
        now: UnixTime,
        batch: &mut Batch,
    ) -> Result<(), StoreError> {
        batch.put_json(Space::BookingCancels, key.clone(), &now)?;
        let mut per_home = self.per_home();
        let keys = per_home.entry(home.clone()).or_default();
        if keys.contains(&key) {
            return Ok(());
        }
        keys.push_back(key);
        while keys.len() > self.cap {
            if let Some(oldest) = keys.pop_front() {
                batch.delete(Space::BookingCancels, oldest);
            }
        }
        Ok(())
    }

    /// Adds to `batch` the forgetting of a cancel whose request has now arrived.
    pub(super) fn forget(&self, home: &InstitutionId, key: &[u8], batch: &mut Batch) {
        batch.delete(Space::BookingCancels, key.to_vec());
        if let Some(keys) = self.per_home().get_mut(home) {
            keys.retain(|k| k != key);
        }
    }

    /// Cancels remembered for `home`.
    pub(super) fn count(&self, home: &InstitutionId) -> usize {
        self.per_home().get(home).map_or(0, VecDeque::len)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use alliance_protocol::SecretKey;

    use super::super::{CancelOutcome, Ledger, booking_key};
    use super::*;
    use crate::booking::rules::BookingRules;

    fn stored(store: &Store) -> Vec<Vec<u8>> {
        store
            .scan_prefix(Space::BookingCancels, b"")
            .unwrap()
            .into_iter()
            .map(|(key, _)| key)
            .collect()
    }

    #[tokio::test]
    async fn cancels_of_unknown_bookings_stay_under_the_cap_per_home_oldest_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let open = |store: &Store| {
            Ledger::open_with_cancel_cap(
                store.clone(),
                SecretKey::generate(),
                "dlut".parse().unwrap(),
                8,
            )
            .unwrap()
        };
        let ledger = open(&store);
        let (rogue, honest): (InstitutionId, InstitutionId) =
            ("evil".parse().unwrap(), "neu".parse().unwrap());
        let rules = BookingRules::default();
        let outcome = ledger
            .cancel(&honest, "early", "XRD-1", &rules, "u@neu", UnixTime(1))
            .await
            .unwrap();
        assert_eq!(outcome, CancelOutcome::Remembered);
        for n in 0..1_000 {
            let outcome = ledger
                .cancel(
                    &rogue,
                    &format!("b{n}"),
                    "XRD-1",
                    &rules,
                    "x@evil",
                    UnixTime(n + 2),
                )
                .await
                .unwrap();
            assert_eq!(outcome, CancelOutcome::Remembered);
        }
        let keys = stored(&store);
        assert_eq!(
            keys.len(),
            8 + 1,
            "8 of the rogue's and the honest home's one"
        );
        assert_eq!(ledger.remembered_cancels(&rogue), 8);
        assert!(keys.contains(&booking_key(&honest, "early")));
        assert!(keys.contains(&booking_key(&rogue, "b999")));
        assert!(!keys.contains(&booking_key(&rogue, "b991")));
        // The bound holds across a restart, oldest still first out.
        drop(ledger);
        let ledger = open(&store);
        assert_eq!(ledger.remembered_cancels(&rogue), 8);
        ledger
            .cancel(&rogue, "late", "XRD-1", &rules, "x@evil", UnixTime(5_000))
            .await
            .unwrap();
        let keys = stored(&store);
        assert_eq!(keys.len(), 9);
        assert!(!keys.contains(&booking_key(&rogue, "b992")));
        assert!(keys.contains(&booking_key(&rogue, "late")));
    }
}
