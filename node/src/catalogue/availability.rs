//! Reading availability digests: which days have a free hour.

use alliance_protocol::{AvailabilityDigest, HourState, availability::DIGEST_HOURS};
use chrono::NaiveDate;

fn day(date: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// Which days of a digest have a free hour: all that searching by free time needs, in 12
/// bytes instead of the digest's 1,344 hours (the full digest stays in the replica).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeDays {
    first_day: NaiveDate,
    /// Bit `d` set: day `d` from `first_day` has a free hour.
    free: u64,
}

impl FreeDays {
    /// `None` if the digest's first day is not a date.
    pub fn of(digest: &AvailabilityDigest) -> Option<FreeDays> {
        let first_day = day(&digest.first_day)?;
        let mut free = 0u64;
        for d in 0..DIGEST_HOURS.div_ceil(24).min(64) {
            if (0..24).any(|h| digest.state(d, h) == Some(HourState::Free)) {
                free |= 1 << d;
            }
        }
        Some(FreeDays { first_day, free })
    }

    /// Whether any day from `from` to `to` (inclusive, `YYYY-MM-DD`) has a free hour.
    /// Days outside the digest count as unknown, not free.
    pub fn any_between(&self, from: &str, to: &str) -> bool {
        let (Some(from), Some(to)) = (day(from), day(to)) else {
            return false;
        };
        let start = (from - self.first_day).num_days().max(0);
        let end = (to - self.first_day).num_days().min(63);
        (start..=end).any(|d| self.free & (1 << d) != 0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn finds_free_hours_only_inside_the_range() {
        let mut hours = vec![HourState::Closed; DIGEST_HOURS];
        // Day 9 (Wednesday of the second week), 10:00 is free.
        hours[9 * 24 + 10] = HourState::Free;
        let digest = AvailabilityDigest {
            institution_id: "dlut".parse().unwrap(),
            local_id: "X".into(),
            revision: 1,
            first_day: "2026-11-23".into(),
            hours,
            window: None,
            holiday_days: 0,
        };
        let free = FreeDays::of(&digest).unwrap();
        assert!(free.any_between("2026-12-02", "2026-12-02"));
        assert!(free.any_between("2026-11-01", "2026-12-31"));
        assert!(!free.any_between("2026-11-23", "2026-12-01"));
        assert!(!free.any_between("2026-12-03", "2027-03-01"));
        assert!(!free.any_between("bad", "2026-12-02"));
    }
}
