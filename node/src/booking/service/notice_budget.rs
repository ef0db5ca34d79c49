//! How many managers' notices one home's requests may cause: a member sending request
//! after request (its share allows 120 a minute) must not flood another institution's
//! managers with mail. Past [`PER_HOUR`] notices in a clock hour, a home's further
//! requests are not mailed; the managers' list shows every request all the same.

use std::{collections::HashMap, sync::Mutex};

use alliance_protocol::{InstitutionId, UnixTime};

/// Notices of requests waiting for approval one home may cause per hour.
pub(super) const PER_HOUR: u32 = 10;

/// Notices counted per home in the current clock hour.
#[derive(Debug, Default)]
pub(super) struct NoticeBudget {
    /// The hour counted (Unix seconds / 3600) and each home's count in it; only homes
    /// that asked in that hour are kept.
    counts: Mutex<(i64, HashMap<InstitutionId, u32>)>,
}

impl NoticeBudget {
    /// Counts a notice for `home` at `now`; false once the home is past its hour's share.
    pub(super) fn allow(&self, home: &InstitutionId, now: UnixTime) -> bool {
        let hour = now.0.div_euclid(3600);
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.0 != hour {
            *counts = (hour, HashMap::new());
        }
        let count = counts.1.entry(home.clone()).or_insert(0);
        *count = count.saturating_add(1);
        *count <= PER_HOUR
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_home_causes_at_most_its_hours_share_of_notices_and_others_are_untouched() {
        let budget = NoticeBudget::default();
        let (flooder, other): (InstitutionId, InstitutionId) =
            ("neu".parse().unwrap(), "imr".parse().unwrap());
        // The start of an hour.
        let t = UnixTime(1_800_000_000);
        let allowed = (0..100).filter(|_| budget.allow(&flooder, t)).count();
        assert_eq!(allowed, PER_HOUR as usize);
        assert!(budget.allow(&other, UnixTime(t.0 + 10)));
        // The next hour starts afresh.
        assert!(budget.allow(&flooder, UnixTime(t.0 + 3600)));
    }
}
