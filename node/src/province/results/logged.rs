//! The log's entries read back as uses: the receipt and, if countersigned, the user's
//! rating. Entries were verified when they were logged; reading them again needs no
//! membership history, only their own signatures.

use alliance_protocol::receipt::{ReceiptConfirmation, ReceiptSubmission, UsageReceipt};

use crate::{province::receipt_log::ReceiptLog, store::StoreError};

/// A use as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedUse {
    /// Its index in the log.
    pub index: u64,
    pub receipt: UsageReceipt,
    pub rating: Option<u8>,
}

/// Reads one entry.
pub(super) fn read_entry(index: u64, bytes: &[u8]) -> Option<LoggedUse> {
    let submission = ReceiptSubmission::decode(bytes).ok()?;
    let signer = UsageReceipt::claimed_signer(&submission.receipt).ok()?;
    let receipt = UsageReceipt::open(&submission.receipt, &signer).ok()?;
    let rating = submission.confirmation.as_deref().and_then(|c| {
        let home = ReceiptConfirmation::claimed_signer(c).ok()?;
        ReceiptConfirmation::open(c, &home).ok().map(|c| c.rating)
    });
    Some(LoggedUse {
        index,
        receipt,
        rating,
    })
}

/// The entries of the log from `from` up to `to`, in order (an unreadable one is logged
/// and skipped: it was checked on the way in, so that means the store was damaged).
pub fn read_log(log: &ReceiptLog, from: u64, to: u64) -> Result<Vec<LoggedUse>, StoreError> {
    let mut uses = Vec::with_capacity(usize::try_from(to.saturating_sub(from)).unwrap_or(0));
    for index in from..to {
        let Some(bytes) = log.entry(index)? else {
            continue;
        };
        match read_entry(index, &bytes) {
            Some(logged) => uses.push(logged),
            None => tracing::error!(index, "a log entry no longer reads"),
        }
    }
    Ok(uses)
}
