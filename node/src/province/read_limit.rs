//! How often one member may ask the province's log for heads and proofs. An honest node
//! asks once a minute and when it meets a head it has not verified; a member asking
//! more than [`READS_PER_SECOND`] times in a second gets `busy` for the rest of that
//! second, so one member cannot keep the log's lock and the province's workers to itself.

use std::{collections::HashMap, sync::Mutex};

use alliance_protocol::{InstitutionId, UnixTime};

/// Log reads (heads, consistency proofs) one member may make per second.
pub const READS_PER_SECOND: u32 = 50;

/// Reads counted per member in the current second. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct ReadLimit {
    counts: Mutex<(i64, HashMap<InstitutionId, u32>)>,
}

impl ReadLimit {
    /// Counts a read by `member` at `now`; false once it is over the limit this second.
    pub fn allow(&self, member: &InstitutionId, now: UnixTime) -> bool {
        let Ok(mut counts) = self.counts.lock() else {
            return true;
        };
        if counts.0 != now.0 {
            // A new second: only members asking in it are kept, so the map stays as small
            // as the membership.
            *counts = (now.0, HashMap::new());
        }
        let count = counts.1.entry(member.clone()).or_insert(0);
        *count = count.saturating_add(1);
        *count <= READS_PER_SECOND
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_member_gets_its_reads_per_second_and_no_more_and_others_are_untouched() {
        let limit = ReadLimit::default();
        let (dlut, neu) = ("dlut".parse().unwrap(), "neu".parse().unwrap());
        let t = UnixTime(1_800_000_000);
        let allowed = (0..200).filter(|_| limit.allow(&dlut, t)).count();
        assert_eq!(allowed, READS_PER_SECOND as usize);
        assert!(limit.allow(&neu, t));
        assert!(limit.allow(&dlut, UnixTime(t.0 + 1)));
    }
}
