//! Receipts this node issues as an instrument's owner, from issue to the outbox.
//!
//! A manager completes a booking or records a session: the receipt is checked, signed
//! and stored, and in the same commit its signed bytes are queued to the user's home for
//! confirmation (kept straight away when the user is this institution's own). A confirmation
//! that verifies (signed by the home, of these very bytes) puts the countersigned
//! submission in the outbox, in the same write; a receipt still unconfirmed when its
//! grace period ends goes in single-signed, and says so. Either way it is submitted once.

mod by_time;
mod months;

use std::time::Duration;

use alliance_protocol::{
    PublicKey, SecretKey, UnixTime,
    receipt::{ReceiptConfirmation, ReceiptError, ReceiptSubmission, UsageReceipt, Verdict},
};
use serde::{Deserialize, Serialize};

use super::{
    outbox::{self, ReceiptOutbox},
    received::{ReceivedError, ReceivedReceipts},
};
use crate::{
    mail::outbox as messages,
    store::{Batch, Space, Store, StoreError, intervals},
};

pub use months::{MonthFigures, month_of};

/// Where an issued receipt stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Waiting for the user's confirmation until then.
    AwaitingConfirmation { until: UnixTime },
    /// Confirmed and rated; submitted countersigned.
    Confirmed { rating: u8 },
    /// Disputed by the user's home, for this reason; submitted with the dispute, and
    /// counts for nothing.
    Disputed { reason: String },
    /// Not confirmed in time; submitted single-signed.
    SingleSigned,
}

/// An issued receipt as the owner keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub receipt: UsageReceipt,
    /// The signed receipt, hex.
    pub signed: String,
    pub standing: Standing,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("the receipt is not valid: {0}")]
    Invalid(ReceiptError),
    #[error("receipt {0} was already issued with other contents")]
    IdReused(String),
    #[error(
        "test_minutes: the effective time exceeds the session's length by more than the {0} minutes allowed"
    )]
    ExceedsWallTime(u32),
    #[error("start: the session overlaps receipt {0} of the same instrument")]
    Overlapping(String),
    #[error("no receipt {0} awaiting confirmation")]
    NotAwaiting(String),
    #[error("the confirmation does not hold: {0}")]
    BadConfirmation(ReceiptError),
    #[error("stored receipt is malformed: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Home(#[from] ReceivedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The receipts this node issued. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ReceiptBook {
    store: Store,
    key: SecretKey,
    outbox: ReceiptOutbox,
    /// This node as the home of its own institution's users.
    home: ReceivedReceipts,
    /// How long a user has to confirm before the receipt goes single-signed.
    grace: Duration,
    /// Effective time a receipt may state beyond its wall time, in minutes.
    allowance_minutes: u32,
    /// Held from reading a receipt's standing to committing its change, so that issuing,
    /// a confirmation and the end of the grace period never interleave. Holds whether
    /// the issued receipts are indexed (uses by instrument and time, figures by month):
    /// receipts issued by an older version are indexed at the first use after start.
    lock: std::sync::Arc<tokio::sync::Mutex<bool>>,
}

/// Meta key set once the issued receipts' uses are indexed.
const USES_INDEXED: &[u8] = b"issued_uses_indexed";
/// Meta key set once the issued receipts' figures are kept by month.
const MONTHS_INDEXED: &[u8] = b"issued_months_indexed";
/// Meta key set once the issued receipts are filed by standing and time.
const BY_TIME_INDEXED: &[u8] = b"issued_by_time_indexed";

/// A page of issued receipts, newest first, of one standing or all, issued in a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedPage {
    /// How many there are of the standing and span asked for.
    pub total: usize,
    pub items: Vec<Issued>,
    /// How many there are in the span of each standing: awaiting, confirmed,
    /// single-signed, disputed.
    pub counts: [usize; 4],
}

impl ReceiptBook {
    pub fn new(
        store: Store,
        key: SecretKey,
        outbox: ReceiptOutbox,
        home: ReceivedReceipts,
        grace: Duration,
        allowance_minutes: u32,
    ) -> Self {
        ReceiptBook {
            store,
            key,
            outbox,
            home,
            grace,
            allowance_minutes,
            lock: std::sync::Arc::default(),
        }
    }

    /// An issued receipt.
    pub fn get(&self, receipt_id: &str) -> Result<Option<Issued>, StoreError> {
        self.store
            .get_json(Space::IssuedReceipts, receipt_id.as_bytes())
    }

    /// Issues a receipt: checked, signed and stored, and queued to the user's home, in
    /// one commit. Issuing the same receipt again returns the same signed bytes; another
    /// receipt under an issued id is refused, as is one stating more effective time than
    /// the session's length allows or overlapping another use of the instrument (the
    /// province would refuse to log either).
    pub async fn issue(&self, receipt: UsageReceipt, now: UnixTime) -> Result<Vec<u8>, IssueError> {
        self.issue_with(receipt, now, Batch::new()).await
    }

    /// [`Self::issue`], committing `with` in the same batch (a booking's completion: the
    /// receipt and the state it records land together or not at all). A receipt issued
    /// before with the same contents is not issued again, and `with` is committed alone.
    pub async fn issue_with(
        &self,
        receipt: UsageReceipt,
        now: UnixTime,
        with: Batch,
    ) -> Result<Vec<u8>, IssueError> {
        receipt.validate().map_err(IssueError::Invalid)?;
        let mut indexed = self.lock.lock().await;
        if let Some(existing) = self.get(&receipt.receipt_id)? {
            if existing.receipt != receipt {
                return Err(IssueError::IdReused(receipt.receipt_id));
            }
            if !with.is_empty() {
                self.store.commit(with).await?;
            }
            return hex::decode(&existing.signed).map_err(|e| IssueError::Corrupt(e.to_string()));
        }
        if receipt.exceeds_wall_time(self.allowance_minutes) {
            return Err(IssueError::ExceedsWallTime(self.allowance_minutes));
        }
        self.index(&mut indexed).await?;
        let instrument = receipt.local_id.clone();
        let span = (receipt.start.0, receipt.end.0);
        if let Some(other) =
            intervals::overlapping(&self.store, Space::IssuedUses, &instrument, span)?
        {
            return Err(IssueError::Overlapping(other.receipt_id));
        }
        let signed = receipt.seal(&self.key);
        let until = UnixTime(now.0 + i64::try_from(self.grace.as_secs()).unwrap_or(i64::MAX / 2));
        let issued = Issued {
            signed: hex::encode(&signed),
            standing: Standing::AwaitingConfirmation { until },
            receipt,
        };
        let r = &issued.receipt;
        let mut batch = Batch::new();
        batch.put_json(
            Space::IssuedReceipts,
            r.receipt_id.as_bytes().to_vec(),
            &issued,
        )?;
        intervals::put(
            &mut batch,
            Space::IssuedUses,
            &instrument,
            &r.receipt_id,
            span,
        );
        months::count_in(&self.store, &mut batch, r, 1)?;
        by_time::put(&mut batch, r.issued_at, &r.receipt_id, &issued.standing);
        if self.home.is_home_of(r) {
            self.home.receive_in(&mut batch, r, &signed, now)?;
        } else {
            messages::enqueue(
                &mut batch,
                messages::key(&r.home_institution, &format!("receipt:{}", r.receipt_id), 0),
                signed.clone(),
            );
        }
        batch.append(with);
        crate::crash_hook::crash_hook(crate::crash_hook::RECEIPT_ISSUING);
        self.store.commit(batch).await?;
        crate::crash_hook::crash_hook(crate::crash_hook::RECEIPT_ISSUED);
        self.home.wake_notices();
        Ok(signed)
    }

    /// Indexes receipts issued before their uses or monthly figures were indexed, once
    /// per start (`indexed` is the lock's flag).
    async fn index(&self, indexed: &mut bool) -> Result<(), StoreError> {
        if *indexed {
            return Ok(());
        }
        let uses_done = self.store.get(Space::Meta, USES_INDEXED)?.is_some();
        let months_done = self.store.get(Space::Meta, MONTHS_INDEXED)?.is_some();
        let by_time_done = self.store.get(Space::Meta, BY_TIME_INDEXED)?.is_some();
        if !uses_done || !months_done || !by_time_done {
            let all: Vec<Issued> = self
                .store
                .scan_prefix_json::<Issued>(Space::IssuedReceipts, b"")?
                .into_iter()
                .map(|(_, i)| i)
                .collect();
            let mut batch = Batch::new();
            if !uses_done {
                for r in all.iter().map(|i| &i.receipt) {
                    intervals::put(
                        &mut batch,
                        Space::IssuedUses,
                        &r.local_id,
                        &r.receipt_id,
                        (r.start.0, r.end.0),
                    );
                }
                batch.put(Space::Meta, USES_INDEXED.to_vec(), Vec::new());
            }
            if !months_done {
                let counted = all
                    .iter()
                    .filter(|i| !matches!(i.standing, Standing::Disputed { .. }))
                    .map(|i| &i.receipt);
                months::rebuild_in(&self.store, &mut batch, counted)?;
                batch.put(Space::Meta, MONTHS_INDEXED.to_vec(), Vec::new());
            }
            if !by_time_done {
                for key in self.store.keys_with_prefix(Space::IssuedByTime, b"")? {
                    batch.delete(Space::IssuedByTime, key);
                }
                for i in &all {
                    by_time::put(
                        &mut batch,
                        i.receipt.issued_at,
                        &i.receipt.receipt_id,
                        &i.standing,
                    );
                }
                batch.put(Space::Meta, BY_TIME_INDEXED.to_vec(), Vec::new());
            }
            self.store.commit(batch).await?;
        }
        *indexed = true;
        Ok(())
    }

    /// What the receipts issued for uses that started in the months `from` to `to`
    /// (`YYYY-MM`, inclusive) add up to: (month, instrument, figures), by month then
    /// instrument. Disputed receipts count for nothing.
    pub async fn monthly(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String, MonthFigures)>, StoreError> {
        let mut indexed = self.lock.lock().await;
        self.index(&mut indexed).await?;
        months::between(&self.store, from, to)
    }

    /// `limit` receipts of `standing` (all if `None`) issued from `from` to `to`
    /// (inclusive, either open), newest first, after skipping `offset`; with how many
    /// there are of each standing in that span. Reads the index, not every receipt.
    pub async fn page(
        &self,
        standing: Option<usize>,
        span: (Option<UnixTime>, Option<UnixTime>),
        offset: usize,
        limit: usize,
    ) -> Result<IssuedPage, StoreError> {
        let mut indexed = self.lock.lock().await;
        self.index(&mut indexed).await?;
        drop(indexed);
        let mut counts = [0; 4];
        for (count, group) in counts.iter_mut().zip(by_time::STANDINGS) {
            *count = by_time::count(&self.store, group, span.0, span.1)?;
        }
        let group = match standing {
            Some(i) => by_time::STANDINGS.get(i).copied().unwrap_or(by_time::ALL),
            None => by_time::ALL,
        };
        let total = match standing {
            Some(i) => counts.get(i).copied().unwrap_or(0),
            None => counts.iter().sum(),
        };
        let mut items = Vec::new();
        for id in by_time::page(&self.store, group, span, offset, limit)? {
            if let Some(issued) = self.get(&id)? {
                items.push(issued);
            }
        }
        Ok(IssuedPage {
            total,
            items,
            counts,
        })
    }

    /// The user's confirmation or dispute, from their home (whose node key is `home`): checked, then
    /// the countersigned submission queued in the same write.
    pub async fn confirmed(
        &self,
        confirmation: &[u8],
        home: &PublicKey,
        now: UnixTime,
    ) -> Result<Verdict, IssueError> {
        let mut indexed = self.lock.lock().await;
        self.index(&mut indexed).await?;
        let mut batch = Batch::new();
        let verdict = self.confirmed_in(&mut batch, confirmation, home, now)?;
        self.store.commit(batch).await?;
        Ok(verdict)
    }

    /// This node's own user answers a receipt this node issued: the user's answer, the
    /// receipt's new standing and its submission to the province land in one commit, so
    /// a crash can lose all of them (the user answers again) but never the rating alone.
    /// A receipt that no longer awaits confirmation (it went single-signed) keeps the
    /// user's answer only.
    pub async fn confirm_own(
        &self,
        user_id: &str,
        receipt_id: &str,
        verdict: Verdict,
        now: UnixTime,
    ) -> Result<(), IssueError> {
        let mut indexed = self.lock.lock().await;
        self.index(&mut indexed).await?;
        let _answering = self.home.answering().await;
        let mut batch = Batch::new();
        let own = self.home.own().clone();
        let confirmation = self
            .home
            .answer_in(&mut batch, user_id, &own, receipt_id, verdict, now)?;
        match self.confirmed_in(&mut batch, &confirmation, &self.key.public(), now) {
            Ok(_) | Err(IssueError::NotAwaiting(_)) => {}
            Err(e) => return Err(e),
        }
        self.store.commit(batch).await?;
        crate::crash_hook::crash_hook(crate::crash_hook::OWN_CONFIRMATION_WRITTEN);
        Ok(())
    }

    /// A confirmation's effect on the receipt it answers, written into `batch`; the
    /// caller holds the standing lock until it commits.
    fn confirmed_in(
        &self,
        batch: &mut Batch,
        confirmation: &[u8],
        home: &PublicKey,
        now: UnixTime,
    ) -> Result<Verdict, IssueError> {
        let read =
            ReceiptConfirmation::open(confirmation, home).map_err(IssueError::BadConfirmation)?;
        let mut issued = self
            .get(&read.receipt_id)?
            .filter(|i| matches!(i.standing, Standing::AwaitingConfirmation { .. }))
            .ok_or_else(|| IssueError::NotAwaiting(read.receipt_id.clone()))?;
        let signed = hex::decode(&issued.signed).map_err(|e| IssueError::Corrupt(e.to_string()))?;
        read.check_confirms(&signed, &issued.receipt)
            .map_err(IssueError::BadConfirmation)?;
        issued.standing = match &read.verdict {
            Verdict::Confirmed { rating, .. } => Standing::Confirmed { rating: *rating },
            Verdict::Disputed { reason } => {
                // A disputed receipt counts for nothing, in the month's figures too.
                months::count_in(&self.store, batch, &issued.receipt, -1)?;
                Standing::Disputed {
                    reason: reason.clone(),
                }
            }
        };
        by_time::moved(
            batch,
            issued.receipt.issued_at,
            &issued.receipt.receipt_id,
            &Standing::AwaitingConfirmation { until: now },
            &issued.standing,
        );
        let submission = ReceiptSubmission {
            receipt: signed,
            confirmation: Some(confirmation.to_vec()),
        };
        self.store_and_queue_in(batch, &issued, &submission, now)?;
        Ok(read.verdict)
    }

    /// Every receipt this node issued, newest first.
    pub fn all(&self) -> Result<Vec<Issued>, StoreError> {
        let mut all: Vec<Issued> = self
            .store
            .scan_prefix_json::<Issued>(Space::IssuedReceipts, b"")?
            .into_iter()
            .map(|(_, i)| i)
            .collect();
        all.sort_by_key(|i| std::cmp::Reverse(i.receipt.issued_at));
        Ok(all)
    }

    /// The earliest end of a grace period still running.
    pub fn next_lapse(&self) -> Result<Option<UnixTime>, StoreError> {
        Ok(self
            .store
            .scan_prefix_json::<Issued>(Space::IssuedReceipts, b"")?
            .into_iter()
            .filter_map(|(_, i)| match i.standing {
                Standing::AwaitingConfirmation { until } => Some(until),
                _ => None,
            })
            .min())
    }

    /// Sends on, single-signed, every receipt whose grace period ended by `now`; returns
    /// how many.
    pub async fn lapse(&self, now: UnixTime) -> Result<usize, IssueError> {
        let _standing = self.lock.lock().await;
        let mut lapsed = 0;
        for (_, mut issued) in self
            .store
            .scan_prefix_json::<Issued>(Space::IssuedReceipts, b"")?
        {
            let Standing::AwaitingConfirmation { until } = issued.standing else {
                continue;
            };
            if until > now {
                continue;
            }
            let signed =
                hex::decode(&issued.signed).map_err(|e| IssueError::Corrupt(e.to_string()))?;
            issued.standing = Standing::SingleSigned;
            let mut batch = Batch::new();
            by_time::moved(
                &mut batch,
                issued.receipt.issued_at,
                &issued.receipt.receipt_id,
                &Standing::AwaitingConfirmation { until },
                &issued.standing,
            );
            let submission = ReceiptSubmission {
                receipt: signed,
                confirmation: None,
            };
            self.store_and_queue_in(&mut batch, &issued, &submission, now)?;
            self.store.commit(batch).await?;
            lapsed += 1;
        }
        Ok(lapsed)
    }

    fn store_and_queue_in(
        &self,
        batch: &mut Batch,
        issued: &Issued,
        submission: &ReceiptSubmission,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let r = &issued.receipt;
        batch.put_json(
            Space::IssuedReceipts,
            r.receipt_id.as_bytes().to_vec(),
            issued,
        )?;
        self.outbox.enqueue_in(
            batch,
            &outbox::key(r.institution_id.as_str(), &r.receipt_id),
            &submission.encode(),
            now,
        )
    }
}

#[cfg(test)]
mod tests;
