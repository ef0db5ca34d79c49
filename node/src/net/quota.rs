//! Per-origin quotas on catalogue entries taken from gossip: at most so many records
//! (reviews, needs and offers count as records) and so many availability digests of one institution per
//! sliding hour. Gossip is pushed at every node by whoever publishes; past its quota an
//! origin's entries are refused there, and arrive later, if they are genuine, through
//! anti-entropy, which each node pulls at its own pace, a page at a time.
//!
//! A node paces its own entries at half the quota (see [`OriginQuotas::for_own_entries`]),
//! so an honest origin never reaches its peers' limit, even in a bulk import.
//!
//! The hour is kept as 60 one-minute buckets per origin and kind: a few hundred bytes
//! per current member, whatever the traffic.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use alliance_protocol::{EntryBody, InstitutionId};

/// Entries per origin and sliding hour taken from gossip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GossipQuotas {
    /// Instrument records and reviews, and the board's needs and offers.
    pub records_per_hour: u32,
    /// Availability digests.
    pub digests_per_hour: u32,
}

impl Default for GossipQuotas {
    fn default() -> Self {
        GossipQuotas {
            records_per_hour: 1_000,
            digests_per_hour: 3_000,
        }
    }
}

/// What an entry counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaKind {
    Records,
    Digests,
}

impl QuotaKind {
    /// The quota an entry counts against.
    pub fn of(body: &EntryBody) -> QuotaKind {
        match body {
            EntryBody::Instrument(_)
            | EntryBody::Review(_)
            | EntryBody::Need(_)
            | EntryBody::Offer(_)
            | EntryBody::Event(_) => QuotaKind::Records,
            EntryBody::Availability(_) => QuotaKind::Digests,
        }
    }
}

const BUCKETS: usize = 60;
const BUCKET: Duration = Duration::from_secs(60);

/// One origin's counts over the last hour, per minute.
#[derive(Debug, Clone)]
struct Window {
    /// The minute (since the quotas started) of the newest bucket.
    minute: u64,
    counts: [u32; BUCKETS],
}

impl Window {
    fn at(&mut self, minute: u64) {
        let gap = minute.saturating_sub(self.minute);
        if gap >= BUCKETS as u64 {
            self.counts = [0; BUCKETS];
        } else {
            for m in self.minute + 1..=minute {
                self.counts[(m % BUCKETS as u64) as usize] = 0;
            }
        }
        self.minute = self.minute.max(minute);
    }

    fn total(&self) -> u64 {
        self.counts.iter().map(|c| u64::from(*c)).sum()
    }
}

/// The quotas and what each origin used of them.
#[derive(Debug)]
pub struct OriginQuotas {
    limits: GossipQuotas,
    started: Instant,
    windows: HashMap<(InstitutionId, QuotaKind), Window>,
}

impl OriginQuotas {
    /// Quotas for what peers gossip to this node.
    pub fn new(limits: GossipQuotas) -> Self {
        OriginQuotas {
            limits,
            started: Instant::now(),
            windows: HashMap::new(),
        }
    }

    /// The budget for this node's own entries: half of `limits`, so that peers counting
    /// the same entries a little later, or in other minute buckets, never refuse them.
    pub fn for_own_entries(limits: GossipQuotas) -> Self {
        OriginQuotas::new(GossipQuotas {
            records_per_hour: (limits.records_per_hour / 2).max(1),
            digests_per_hour: (limits.digests_per_hour / 2).max(1),
        })
    }

    fn limit(&self, kind: QuotaKind) -> u64 {
        u64::from(match kind {
            QuotaKind::Records => self.limits.records_per_hour,
            QuotaKind::Digests => self.limits.digests_per_hour,
        })
    }

    /// Takes one entry of `origin` from its quota now; `false` (and nothing taken) if
    /// the quota is used up.
    pub fn take(&mut self, origin: &InstitutionId, kind: QuotaKind) -> bool {
        let elapsed = self.started.elapsed();
        self.take_at(origin, kind, elapsed)
    }

    /// [`OriginQuotas::take`] at `elapsed` since the quotas started.
    pub fn take_at(&mut self, origin: &InstitutionId, kind: QuotaKind, elapsed: Duration) -> bool {
        let minute = elapsed.as_secs() / BUCKET.as_secs();
        let limit = self.limit(kind);
        let window = self
            .windows
            .entry((origin.clone(), kind))
            .or_insert(Window {
                minute,
                counts: [0; BUCKETS],
            });
        window.at(minute);
        if window.total() >= limit {
            return false;
        }
        let bucket = &mut window.counts[(window.minute % BUCKETS as u64) as usize];
        *bucket = bucket.saturating_add(1);
        true
    }

    /// Forgets origins that used nothing in the last hour.
    pub fn prune(&mut self) {
        let minute = self.started.elapsed().as_secs() / BUCKET.as_secs();
        self.windows.retain(|_, window| {
            window.at(minute);
            window.total() > 0
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn quotas(records: u32) -> OriginQuotas {
        OriginQuotas::new(GossipQuotas {
            records_per_hour: records,
            digests_per_hour: 2,
        })
    }

    #[test]
    fn an_origin_past_its_hourly_quota_is_refused_until_the_hour_slides_on() {
        let mut q = quotas(3);
        let evil: InstitutionId = "evil".parse().unwrap();
        let good: InstitutionId = "dlut".parse().unwrap();
        let at = |minutes: u64, seconds: u64| Duration::from_secs(minutes * 60 + seconds);
        assert!(q.take_at(&evil, QuotaKind::Records, at(0, 1)));
        assert!(q.take_at(&evil, QuotaKind::Records, at(10, 0)));
        assert!(q.take_at(&evil, QuotaKind::Records, at(20, 0)));
        // The excess is refused, whatever it is...
        for _ in 0..100 {
            assert!(!q.take_at(&evil, QuotaKind::Records, at(30, 0)));
        }
        // ...and costs no other origin or kind anything.
        assert!(q.take_at(&good, QuotaKind::Records, at(30, 0)));
        assert!(q.take_at(&evil, QuotaKind::Digests, at(30, 0)));
        assert!(q.take_at(&evil, QuotaKind::Digests, at(30, 1)));
        assert!(!q.take_at(&evil, QuotaKind::Digests, at(30, 2)));
        // An hour after the first, its slot is free again; the refused ones never counted.
        assert!(!q.take_at(&evil, QuotaKind::Records, at(59, 59)));
        assert!(q.take_at(&evil, QuotaKind::Records, at(60, 0)));
        assert!(!q.take_at(&evil, QuotaKind::Records, at(60, 1)));
        // Long silence empties the window.
        assert!(q.take_at(&evil, QuotaKind::Records, at(500, 0)));
        assert!(q.take_at(&evil, QuotaKind::Records, at(500, 0)));
        assert!(q.take_at(&evil, QuotaKind::Records, at(500, 0)));
        assert!(!q.take_at(&evil, QuotaKind::Records, at(500, 0)));
    }

    #[test]
    fn own_entries_are_paced_at_half_the_quota() {
        let mut own = OriginQuotas::for_own_entries(GossipQuotas {
            records_per_hour: 10,
            digests_per_hour: 1,
        });
        let me: InstitutionId = "dlut".parse().unwrap();
        let taken = (0..20)
            .filter(|_| own.take_at(&me, QuotaKind::Records, Duration::ZERO))
            .count();
        assert_eq!(taken, 5);
        assert!(own.take_at(&me, QuotaKind::Digests, Duration::ZERO));
    }
}
