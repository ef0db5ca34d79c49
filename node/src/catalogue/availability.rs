//! Reading availability digests: which days have a free hour.

use alliance_protocol::{AvailabilityDigest, HourState};
use chrono::NaiveDate;

fn day(date: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// Whether the digest shows a free hour on any day from `from` to `to` (inclusive,
/// `YYYY-MM-DD`). Days outside the digest count as unknown, not free.
pub fn has_free_hour(digest: &AvailabilityDigest, from: &str, to: &str) -> bool {
    let (Some(first), Some(from), Some(to)) = (day(&digest.first_day), day(from), day(to)) else {
        return false;
    };
    let start = (from - first).num_days().max(0);
    let end = (to - first).num_days();
    (start..=end).any(|d| {
        let Ok(d) = usize::try_from(d) else {
            return false;
        };
        (0..24).any(|h| digest.state(d, h) == Some(HourState::Free))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alliance_protocol::availability::DIGEST_HOURS;

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
        };
        assert!(has_free_hour(&digest, "2026-12-02", "2026-12-02"));
        assert!(has_free_hour(&digest, "2026-11-01", "2026-12-31"));
        assert!(!has_free_hour(&digest, "2026-11-23", "2026-12-01"));
        assert!(!has_free_hour(&digest, "2026-12-03", "2027-03-01"));
        assert!(!has_free_hour(&digest, "bad", "2026-12-02"));
    }
}
