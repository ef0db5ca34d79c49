//! How this owner has answered booking requests since the node started, by outcome, for
//! the node's metrics.

use std::sync::atomic::{AtomicU64, Ordering};

use alliance_protocol::booking::Outcome;

/// Answers by outcome; `refused` counts requests that could not go through the ledger
/// (an unknown instrument, a reused booking id, an internal error).
#[derive(Debug, Default)]
pub(super) struct AnswerCounts {
    confirmed: AtomicU64,
    held: AtomicU64,
    rejected: AtomicU64,
    conflict: AtomicU64,
    refused: AtomicU64,
}

impl AnswerCounts {
    pub(super) fn answered(&self, outcome: &Outcome) {
        let counter = match outcome {
            Outcome::Confirmed => &self.confirmed,
            Outcome::Held { .. } => &self.held,
            Outcome::Rejected { .. } => &self.rejected,
            Outcome::Conflict { .. } => &self.conflict,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// `(outcome, count)` for every outcome.
    pub(super) fn snapshot(&self) -> [(&'static str, u64); 5] {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            ("confirmed", read(&self.confirmed)),
            ("held", read(&self.held)),
            ("rejected", read(&self.rejected)),
            ("conflict", read(&self.conflict)),
            ("refused", read(&self.refused)),
        ]
    }
}
