//! The replicated catalogue on disk: every verified entry of every origin, the newest per
//! slot, and the version vector anti-entropy runs on.
//!
//! Per origin the replica keeps two numbers:
//! - the **watermark**: every change of that origin up to this revision is held (or was
//!   superseded by a newer entry held for the same slot). It only moves when that is
//!   certain — a contiguous revision arrived, or what is held matches a checkpoint the
//!   origin signed (`replica/checkpoints.rs`); never on a peer's word. Sync requests send
//!   watermarks, so a gap left by a lost gossip message is always fetched again.
//! - the **highest revision seen**, which may run ahead of the watermark; for this node's
//!   own institution it is the revision counter, restored from peers after a restore from
//!   backup (they hand back our own signed entries).
//!
//! Writes are serialised by one lock and committed durably before the in-memory view
//! changes.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex, MutexGuard},
};

use alliance_protocol::{
    AvailabilityDigest, Entry, EntryBody, InstitutionId, InstrumentRecord, UnverifiedEntry,
    board::{MAX_NEEDS_PER_MEMBER, MAX_OFFERS_PER_MEMBER},
    limits::MAX_SLOTS_PER_MEMBER,
    rpc::{OriginRevision, SyncRequest, SyncResponse},
};

use crate::store::{Batch, Space, Store, StoreError};

/// What applying one entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Stored; it replaced the entry of this revision of the same slot, if any.
    Fresh { replaced: Option<u64> },
    /// The slot already holds this revision or a newer one.
    Stale { held: u64 },
    /// A new slot of an origin that already fills as many of its class as it may
    /// ([`SlotClass::cap`]): not stored. The origin's watermark stops below it, so
    /// only that origin's own entries are asked for again.
    Full,
}

#[derive(Debug, Default)]
struct Versions {
    /// Revision held per `origin \0 slot` key, ordered so one origin's slots are a range.
    held: BTreeMap<Vec<u8>, u64>,
    watermarks: BTreeMap<InstitutionId, u64>,
    highest: BTreeMap<InstitutionId, u64>,
    /// Slots held per origin and class.
    slots: HashMap<(InstitutionId, SlotClass), usize>,
    /// The newest checkpoint held per origin.
    checkpoints: BTreeMap<InstitutionId, checkpoints::HeldCheckpoint>,
}

/// The replica. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Replica {
    store: Store,
    versions: Arc<Mutex<Versions>>,
    writer: Arc<tokio::sync::Mutex<()>>,
}

/// Entries a sync page may carry, whatever the requester asks.
pub const MAX_PAGE_ENTRIES: usize = 2_000;
/// Bytes of entries per sync page, under the rpc response limit.
pub const MAX_PAGE_BYTES: usize = 6 * 1024 * 1024;

fn entry_key(origin: &InstitutionId, slot: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(origin.as_str().len() + 1 + slot.len());
    key.extend_from_slice(origin.as_str().as_bytes());
    key.push(0);
    key.extend_from_slice(slot.as_bytes());
    key
}

fn log_key(origin: &InstitutionId, revision: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(origin.as_str().len() + 9);
    key.extend_from_slice(origin.as_str().as_bytes());
    key.push(0);
    key.extend_from_slice(&revision.to_be_bytes());
    key
}

/// Slots of instrument records start with this (see [`EntryBody::slot`]).
const INSTRUMENT_SLOT: &str = "i/";
/// Slots of availability digests start with this.
const AVAILABILITY_SLOT: &str = "a/";

/// What a slot counts against: the catalogue proper, the needs a home posted, or the
/// offers an institution made — each with its own cap, so that a member filling one
/// never crowds out the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotClass {
    Catalogue,
    Needs,
    Offers,
    Events,
}

impl SlotClass {
    /// The class of a slot (see [`EntryBody::slot`]).
    pub fn of(slot: &[u8]) -> SlotClass {
        if slot.starts_with(b"n/") {
            SlotClass::Needs
        } else if slot.starts_with(b"o/") {
            SlotClass::Offers
        } else if slot.starts_with(b"e/") {
            SlotClass::Events
        } else {
            SlotClass::Catalogue
        }
    }

    /// The most slots of this class one capped origin fills.
    pub fn cap(self) -> usize {
        match self {
            SlotClass::Catalogue => MAX_SLOTS_PER_MEMBER,
            SlotClass::Needs => MAX_NEEDS_PER_MEMBER,
            SlotClass::Offers => MAX_OFFERS_PER_MEMBER,
            SlotClass::Events => alliance_protocol::event::MAX_EVENTS_PER_MEMBER,
        }
    }
}

/// The slot part of an `origin \0 slot` key.
fn slot_of(key: &[u8]) -> &[u8] {
    key.iter()
        .position(|b| *b == 0)
        .map_or(&[][..], |at| &key[at + 1..])
}

/// Decodes stored (already verified) bytes that should hold an instrument record.
fn instrument_of(bytes: &[u8]) -> Option<InstrumentRecord> {
    match UnverifiedEntry::decode_stored(bytes) {
        Ok(EntryBody::Instrument(record)) => Some(*record),
        Ok(_) => {
            tracing::error!("stored instrument slot holds another kind of entry");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "stored instrument record is unreadable");
            None
        }
    }
}

fn be_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Engine(format!("catalogue store holds a malformed {what}"))
}

impl Replica {
    /// The store the replica keeps its entries in.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Opens the replica over `store`, loading the version vector.
    pub fn open(store: Store) -> Result<Replica, StoreError> {
        let mut versions = Versions::default();
        for (key, value) in store.scan_prefix(Space::Entries, b"")? {
            let revision = be_u64(&value).ok_or_else(|| corrupt("entry"))?;
            let origin = key
                .split(|b| *b == 0)
                .next()
                .and_then(|o| std::str::from_utf8(o).ok())
                .and_then(|o| o.parse::<InstitutionId>().ok())
                .ok_or_else(|| corrupt("entry key"))?;
            let class = SlotClass::of(slot_of(&key));
            *versions.slots.entry((origin.clone(), class)).or_default() += 1;
            let highest = versions.highest.entry(origin).or_default();
            *highest = (*highest).max(revision);
            versions.held.insert(key, revision);
        }
        for (key, value) in store.scan_prefix(Space::Watermarks, b"")? {
            let origin = std::str::from_utf8(&key)
                .ok()
                .and_then(|o| o.parse::<InstitutionId>().ok())
                .ok_or_else(|| corrupt("watermark key"))?;
            let mark = be_u64(&value).ok_or_else(|| corrupt("watermark"))?;
            versions.watermarks.insert(origin, mark);
        }
        Replica::load_checkpoints(&store, &mut versions)?;
        Ok(Replica {
            store,
            versions: Arc::new(Mutex::new(versions)),
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    fn versions(&self) -> MutexGuard<'_, Versions> {
        // A panic while holding the lock cannot leave the maps half-updated (each update
        // is a single insert), so a poisoned lock is still consistent.
        self.versions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The revision held for `slot` of `origin`.
    pub fn held(&self, origin: &InstitutionId, slot: &str) -> Option<u64> {
        self.versions().held.get(&entry_key(origin, slot)).copied()
    }

    /// Whether an entry of this revision would be news.
    pub fn is_fresh(&self, body: &EntryBody) -> Result<(), u64> {
        match self.held(body.origin(), &body.slot()) {
            Some(held) if held >= body.revision() => Err(held),
            _ => Ok(()),
        }
    }

    /// The highest revision seen of `origin` (0 if none).
    pub fn highest(&self, origin: &InstitutionId) -> u64 {
        self.versions().highest.get(origin).copied().unwrap_or(0)
    }

    /// The version vector: complete-up-to revision per origin.
    pub fn watermarks(&self) -> BTreeMap<InstitutionId, u64> {
        self.versions().watermarks.clone()
    }

    /// When this node first stored instrument `local_id` of `origin`.
    pub fn first_seen(
        &self,
        origin: &InstitutionId,
        local_id: &str,
    ) -> Result<Option<alliance_protocol::UnixTime>, StoreError> {
        let key = entry_key(origin, &format!("{INSTRUMENT_SLOT}{local_id}"));
        Ok(self
            .store
            .get(Space::FirstSeen, &key)?
            .and_then(|v| be_u64(&v))
            .map(|t| alliance_protocol::UnixTime(t as i64)))
    }

    /// When this node first stored `slot` of `origin`, for the slots it times
    /// (instruments, needs and offers).
    pub fn first_seen_slot(
        &self,
        origin: &InstitutionId,
        slot: &str,
    ) -> Result<Option<alliance_protocol::UnixTime>, StoreError> {
        Ok(self
            .store
            .get(Space::FirstSeen, &entry_key(origin, slot))?
            .and_then(|v| be_u64(&v))
            .map(|t| alliance_protocol::UnixTime(t as i64)))
    }

    /// The stored signed bytes of a slot.
    pub fn get(&self, origin: &InstitutionId, slot: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .store
            .get(Space::Entries, &entry_key(origin, slot))?
            .map(|v| v.get(8..).unwrap_or_default().to_vec()))
    }

    /// The stored signed bytes of instrument record `local_id` of `origin`.
    pub fn signed_instrument(
        &self,
        origin: &InstitutionId,
        local_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(origin, &format!("{INSTRUMENT_SLOT}{local_id}"))
    }

    /// The stored instrument record `local_id` of `origin` (its newest version, or its
    /// tombstone), decoded.
    pub fn instrument(
        &self,
        origin: &InstitutionId,
        local_id: &str,
    ) -> Result<Option<InstrumentRecord>, StoreError> {
        let Some(bytes) = self.get(origin, &format!("{INSTRUMENT_SLOT}{local_id}"))? else {
            return Ok(None);
        };
        Ok(instrument_of(&bytes))
    }

    /// The stored availability digest of instrument `local_id` of `origin`, decoded.
    pub fn availability(
        &self,
        origin: &InstitutionId,
        local_id: &str,
    ) -> Result<Option<AvailabilityDigest>, StoreError> {
        let Some(bytes) = self.get(origin, &format!("{AVAILABILITY_SLOT}{local_id}"))? else {
            return Ok(None);
        };
        Ok(match UnverifiedEntry::decode_stored(&bytes) {
            Ok(EntryBody::Availability(digest)) => Some(digest),
            _ => {
                tracing::error!(%origin, local_id, "stored availability digest is unreadable");
                None
            }
        })
    }

    /// Every stored instrument record of `origin` (tombstones included), in slot order.
    pub fn instruments_of(
        &self,
        origin: &InstitutionId,
    ) -> Result<Vec<InstrumentRecord>, StoreError> {
        let prefix = entry_key(origin, INSTRUMENT_SLOT);
        Ok(self
            .store
            .scan_prefix(Space::Entries, &prefix)?
            .iter()
            .filter_map(|(_, value)| instrument_of(value.get(8..).unwrap_or_default()))
            .collect())
    }

    /// Every stored entry, decoded (for building the search index at start).
    pub fn load_all(&self) -> Result<Vec<EntryBody>, StoreError> {
        let mut bodies = Vec::new();
        for (key, value) in self.store.scan_prefix(Space::Entries, b"")? {
            match UnverifiedEntry::decode_stored(value.get(8..).unwrap_or_default()) {
                Ok(body) => bodies.push(body),
                Err(e) => tracing::error!(
                    key = %String::from_utf8_lossy(&key),
                    error = %e,
                    "stored catalogue entry is unreadable; skipped"
                ),
            }
        }
        Ok(bodies)
    }

    /// Stores the entries that are news, durably, in one commit. New slots of an origin
    /// for which `capped` holds are refused past [`MAX_SLOTS_PER_MEMBER`].
    pub async fn apply(
        &self,
        entries: Vec<Entry>,
        capped: impl Fn(&InstitutionId) -> bool,
    ) -> Result<Vec<Applied>, StoreError> {
        let _writer = self.writer.lock().await;
        self.apply_locked(entries, capped).await
    }

    /// Makes an entry of this node's own origin with the next revision, at least
    /// `floor`, and stores it, in one step so that two local edits never share a
    /// revision. `None`: the origin is `capped` and has no room for a new slot.
    pub async fn apply_own(
        &self,
        origin: &InstitutionId,
        capped: bool,
        floor: u64,
        make: impl FnOnce(u64) -> Entry,
    ) -> Result<Option<Entry>, StoreError> {
        let _writer = self.writer.lock().await;
        let revision = (self.highest(origin) + 1).max(floor);
        let entry = make(revision);
        let outcome = self.apply_locked(vec![entry.clone()], |_| capped).await?;
        Ok((outcome.first() != Some(&Applied::Full)).then_some(entry))
    }

    /// Slots of `class` held of `origin`.
    pub fn slots(&self, origin: &InstitutionId, class: SlotClass) -> usize {
        self.versions()
            .slots
            .get(&(origin.clone(), class))
            .copied()
            .unwrap_or(0)
    }

    async fn apply_locked(
        &self,
        entries: Vec<Entry>,
        capped: impl Fn(&InstitutionId) -> bool,
    ) -> Result<Vec<Applied>, StoreError> {
        let mut batch = Batch::new();
        let mut outcomes = Vec::with_capacity(entries.len());
        // Slot revisions decided in this batch, over the ones already held.
        let mut pending: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut new_revisions: BTreeMap<InstitutionId, BTreeSet<u64>> = BTreeMap::new();
        let mut freed: Vec<(InstitutionId, u64)> = Vec::new();
        let mut new_slots: HashMap<(InstitutionId, SlotClass), usize> = HashMap::new();
        {
            let versions = self.versions();
            for entry in &entries {
                let origin = entry.body.origin();
                let revision = entry.body.revision();
                let key = entry_key(origin, &entry.body.slot());
                let held = pending
                    .get(&key)
                    .or_else(|| versions.held.get(&key))
                    .copied();
                if let Some(held) = held
                    && held >= revision
                {
                    outcomes.push(Applied::Stale { held });
                    continue;
                }
                if held.is_none() {
                    // The first sighting of an instrument is kept for good (a record
                    // deleted and put back is not put on the network anew); so is a
                    // need's and an offer's (how fast members answer is timed by it).
                    let timed = key.starts_with(&entry_key(origin, INSTRUMENT_SLOT))
                        || SlotClass::of(slot_of(&key)) != SlotClass::Catalogue;
                    if timed && self.store.get(Space::FirstSeen, &key)?.is_none() {
                        let now = alliance_protocol::UnixTime::now().0.max(0) as u64;
                        batch.put(Space::FirstSeen, key.clone(), now.to_be_bytes().to_vec());
                    }
                    let class = SlotClass::of(slot_of(&key));
                    let counted = (origin.clone(), class);
                    let held_slots = versions.slots.get(&counted).copied().unwrap_or(0);
                    let added = new_slots.entry(counted).or_default();
                    if held_slots + *added >= class.cap() && capped(origin) {
                        outcomes.push(Applied::Full);
                        continue;
                    }
                    *added += 1;
                }
                let mut value = revision.to_be_bytes().to_vec();
                value.extend_from_slice(&entry.bytes);
                batch.put(Space::Entries, key.clone(), value);
                if let Some(old) = held {
                    batch.delete(Space::EntryLog, log_key(origin, old));
                    freed.push((origin.clone(), old));
                }
                batch.put(
                    Space::EntryLog,
                    log_key(origin, revision),
                    entry.body.slot().into_bytes(),
                );
                pending.insert(key, revision);
                new_revisions
                    .entry(origin.clone())
                    .or_default()
                    .insert(revision);
                outcomes.push(Applied::Fresh { replaced: held });
            }
        }
        if batch.is_empty() {
            return Ok(outcomes);
        }
        let marks = self.extend_watermarks(&new_revisions, &freed, &mut batch, None)?;
        self.store.commit(batch).await?;
        let mut versions = self.versions();
        for (key, revision) in pending {
            versions.held.insert(key, revision);
        }
        for (origin, revisions) in new_revisions {
            let top = revisions.last().copied().unwrap_or(0);
            let highest = versions.highest.entry(origin).or_default();
            *highest = (*highest).max(top);
        }
        versions.watermarks.extend(marks);
        for (counted, added) in new_slots {
            *versions.slots.entry(counted).or_default() += added;
        }
        Ok(outcomes)
    }

    /// Computes new watermarks: the old one (or one a checkpoint vouches for), moved forward
    /// over every revision that is held, in this batch, or just superseded by it.
    fn extend_watermarks(
        &self,
        new_revisions: &BTreeMap<InstitutionId, BTreeSet<u64>>,
        freed: &[(InstitutionId, u64)],
        batch: &mut Batch,
        raised: Option<&BTreeMap<InstitutionId, u64>>,
    ) -> Result<BTreeMap<InstitutionId, u64>, StoreError> {
        let current = self.watermarks();
        let origins: BTreeSet<&InstitutionId> = new_revisions
            .keys()
            .chain(raised.into_iter().flat_map(|r| r.keys()))
            .collect();
        let mut marks = BTreeMap::new();
        for origin in origins {
            let old = current.get(origin).copied().unwrap_or(0);
            let vouched = raised.and_then(|r| r.get(origin)).copied().unwrap_or(0);
            let mut mark = old.max(vouched);
            let here = new_revisions.get(origin);
            loop {
                let next = mark + 1;
                let known = here.is_some_and(|r| r.contains(&next))
                    || freed.iter().any(|(o, r)| o == origin && *r == next)
                    || self
                        .store
                        .get(Space::EntryLog, &log_key(origin, next))?
                        .is_some();
                if !known {
                    break;
                }
                mark = next;
            }
            if mark > old {
                batch.put(
                    Space::Watermarks,
                    origin.as_str().as_bytes().to_vec(),
                    mark.to_be_bytes().to_vec(),
                );
                marks.insert(origin.clone(), mark);
            }
        }
        Ok(marks)
    }

    /// One page of the answer to a sync request: entries above the requester's
    /// watermarks, ordered by (origin, revision).
    pub fn page(&self, request: &SyncRequest) -> Result<SyncResponse, StoreError> {
        let have: HashMap<&InstitutionId, u64> = request
            .have
            .iter()
            .map(|h| (&h.origin, h.revision))
            .collect();
        let limit = (request.limit as usize).clamp(1, MAX_PAGE_ENTRIES);
        let origins = self.versions().highest.clone();
        let mut response = SyncResponse::default();
        let mut bytes = 0;
        for (origin, highest) in origins {
            let mut from = have.get(&origin).copied().unwrap_or(0);
            if let Some(after) = &request.after {
                if origin < after.origin {
                    continue;
                }
                if origin == after.origin {
                    if after.revision == u64::MAX {
                        continue;
                    }
                    from = from.max(after.revision);
                }
            }
            if from < highest {
                let room = limit - response.entries.len();
                let start = log_key(&origin, from + 1);
                let end = log_key(&origin, u64::MAX);
                let rows = self.store.scan_range(Space::EntryLog, &start, &end, room)?;
                let mut last = from;
                for (key, slot) in &rows {
                    let revision =
                        be_u64(&key[key.len() - 8..]).ok_or_else(|| corrupt("log key"))?;
                    let slot = std::str::from_utf8(slot).map_err(|_| corrupt("log slot"))?;
                    let Some(stored) = self.store.get(Space::Entries, &entry_key(&origin, slot))?
                    else {
                        continue;
                    };
                    // Superseded between the two reads: the newer revision comes later.
                    if be_u64(&stored) != Some(revision) {
                        continue;
                    }
                    bytes += stored.len() - 8;
                    response.entries.push(stored[8..].to_vec());
                    last = revision;
                    if bytes >= MAX_PAGE_BYTES {
                        break;
                    }
                }
                let full = response.entries.len() >= limit || bytes >= MAX_PAGE_BYTES;
                if full && last < highest {
                    response.next = Some(OriginRevision {
                        origin,
                        revision: last,
                    });
                    return Ok(response);
                }
            }
            if let Some(held) = self.versions().checkpoints.get(&origin) {
                response.checkpoints.push(held.bytes.clone());
            }
            if response.entries.len() >= limit || bytes >= MAX_PAGE_BYTES {
                // The page is full exactly at an origin's end: resume after it.
                response.next = Some(OriginRevision {
                    origin,
                    revision: u64::MAX,
                });
                return Ok(response);
            }
        }
        Ok(response)
    }
}

mod checkpoints;
pub use checkpoints::CheckpointOutcome;

#[cfg(test)]
mod tests;
