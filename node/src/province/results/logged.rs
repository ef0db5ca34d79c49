//! The log's entries read back as uses: the receipt and its home's answer (a
//! confirmation with the user's rating, a dispute, or none). Entries were verified when they were logged; reading them again needs no
//! membership history, only their own signatures.

use alliance_protocol::receipt::{ReceiptConfirmation, ReceiptSubmission, UsageReceipt, Verdict};

use crate::{
    evaluation::metrics::Countersign, province::receipt_log::ReceiptLog, store::StoreError,
};

/// A use as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedUse {
    /// Its index in the log.
    pub index: u64,
    pub receipt: UsageReceipt,
    pub countersign: Countersign,
    /// The home's reason, if it disputed the receipt.
    pub dispute: Option<String>,
}

/// Reads one entry.
pub(super) fn read_entry(index: u64, bytes: &[u8]) -> Option<LoggedUse> {
    let submission = ReceiptSubmission::decode(bytes).ok()?;
    let signer = UsageReceipt::claimed_signer(&submission.receipt).ok()?;
    let receipt = UsageReceipt::open(&submission.receipt, &signer).ok()?;
    let verdict = submission.confirmation.as_deref().and_then(|c| {
        let home = ReceiptConfirmation::claimed_signer(c).ok()?;
        ReceiptConfirmation::open(c, &home).ok().map(|c| c.verdict)
    });
    let (countersign, dispute) = match verdict {
        Some(Verdict::Confirmed { rating, .. }) => (Countersign::Confirmed { rating }, None),
        Some(Verdict::Disputed { reason }) => (Countersign::Disputed, Some(reason)),
        None => (Countersign::Missing, None),
    };
    Some(LoggedUse {
        index,
        receipt,
        countersign,
        dispute,
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
