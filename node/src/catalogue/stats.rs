//! Counters of what the catalogue accepted and refused, for the status API and tests.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::admission::RejectionKind;

#[derive(Debug, Default)]
pub(super) struct Counters {
    accepted: AtomicU64,
    stale: AtomicU64,
    oversized: AtomicU64,
    malformed: AtomicU64,
    not_member: AtomicU64,
    bad_signature: AtomicU64,
    wrong_owner: AtomicU64,
    over_quota: AtomicU64,
    full: AtomicU64,
    sync_pages: AtomicU64,
    sync_bytes: AtomicU64,
}

/// A snapshot of the counters since the node started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CatalogueStats {
    /// Entries from peers that were news and were stored.
    pub accepted: u64,
    /// Entries at or below the revision already held (replays, duplicates).
    pub stale: u64,
    pub oversized: u64,
    pub malformed: u64,
    /// Signed by a key that is not a current member's.
    pub not_member: u64,
    pub bad_signature: u64,
    /// Signed by a member about another institution's entries.
    pub wrong_owner: u64,
    /// Valid entries refused on gossip because their origin was past its hourly quota
    /// (they may still arrive through anti-entropy; not counted in [`Self::rejected`]).
    pub over_quota: u64,
    /// Valid entries of a member that already fills every catalogue slot it may
    /// ([`alliance_protocol::limits::MAX_SLOTS_PER_MEMBER`]): not stored.
    pub full: u64,
    /// Anti-entropy pages received, and the bytes of the entries in them.
    pub sync_pages: u64,
    pub sync_bytes: u64,
}

impl CatalogueStats {
    /// Every refused entry, whatever the reason (stale ones are not refusals).
    pub fn rejected(&self) -> u64 {
        self.oversized + self.malformed + self.not_member + self.bad_signature + self.wrong_owner
    }
}

impl Counters {
    pub(super) fn accepted(&self, n: u64) {
        self.accepted.fetch_add(n, Ordering::Relaxed);
    }

    pub(super) fn stale(&self, n: u64) {
        self.stale.fetch_add(n, Ordering::Relaxed);
    }

    pub(super) fn over_quota(&self) {
        self.over_quota.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn full(&self, n: u64) {
        self.full.fetch_add(n, Ordering::Relaxed);
    }

    pub(super) fn sync_page(&self, bytes: u64) {
        self.sync_pages.fetch_add(1, Ordering::Relaxed);
        self.sync_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(super) fn rejected(&self, kind: RejectionKind) {
        let counter = match kind {
            RejectionKind::Oversized => &self.oversized,
            RejectionKind::Malformed => &self.malformed,
            RejectionKind::NotMember => &self.not_member,
            RejectionKind::BadSignature => &self.bad_signature,
            RejectionKind::WrongOwner => &self.wrong_owner,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> CatalogueStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CatalogueStats {
            accepted: get(&self.accepted),
            stale: get(&self.stale),
            oversized: get(&self.oversized),
            malformed: get(&self.malformed),
            not_member: get(&self.not_member),
            bad_signature: get(&self.bad_signature),
            wrong_owner: get(&self.wrong_owner),
            over_quota: get(&self.over_quota),
            full: get(&self.full),
            sync_pages: get(&self.sync_pages),
            sync_bytes: get(&self.sync_bytes),
        }
    }
}
