//! The receipts half of [`MemoryBackend`]: completing a booking marks it completed and
//! issues a receipt priced by the record's fees; a session without a booking issues one
//! too; a receipt for one of this node's users is theirs to confirm, which records the
//! rating (and confirms the issued receipt); the log view is whatever a test sets.
//! Signing, the outbox and the province's log are tested in the node.

use alliance_protocol::booking::BookingState;
use alliance_protocol::receipt::{SessionFacts, Verdict, WalkIn};
use alliance_protocol::{FeeComponents, FeeUnit, InstrumentRecord, ServiceMode, UserTier};
use alliance_web::backend::{
    Account, ActionFailure, BookingBackend, DeadLetterPage, DeadLetterView, IssuedReceipt,
    IssuedStanding, LogWatchView, ManagedBooking, MonthlyUsage, MyReceipt, ReceiptBackend,
    ReceiptView,
};

use super::{MemoryBackend, booking::HOME};

/// How long a user has to confirm a receipt before it goes single-signed.
pub(crate) const CONFIRM_SECONDS: i64 = 7 * 24 * 3600;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn invalid(field: &str, message: &str) -> ActionFailure {
    ActionFailure::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn name_of(account: &Account) -> String {
    if account.display_name.is_empty() {
        account.username.clone()
    } else {
        account.display_name.clone()
    }
}

/// Start and end of the facts, which the node checks again before it signs.
fn span(facts: &SessionFacts) -> Result<(i64, i64), ActionFailure> {
    if facts.end <= facts.start {
        return Err(invalid("end", "must end after it starts"));
    }
    if facts.preparation_minutes + facts.test_minutes + facts.post_processing_minutes == 0 {
        return Err(invalid("test_minutes", "no effective time"));
    }
    Ok((facts.start.0, facts.end.0))
}

/// The record's fees for `tier`: hours by the effective minute, samples, one session.
fn fees(record: &InstrumentRecord, tier: UserTier, minutes: u32, samples: u32) -> FeeComponents {
    let mut total = FeeComponents::default();
    for fee in &record.fees {
        let price = fee.price(tier);
        let (quantity, per) = match fee.unit {
            FeeUnit::Hour => (i64::from(minutes), 60),
            FeeUnit::Sample => (i64::from(samples), 1),
            _ => (1, 1),
        };
        total.materials_fen += price.materials_fen * quantity / per;
        total.operating_fen += price.operating_fen * quantity / per;
        total.labour_fen += price.labour_fen * quantity / per;
    }
    total
}

/// Who used an instrument, as a receipt names them.
struct Who {
    user_id: String,
    user_name: String,
    home: String,
    tier: UserTier,
}

fn receipt(
    receipt_id: String,
    record: &InstrumentRecord,
    booking_id: &str,
    who: Who,
    facts: &SessionFacts,
    (start, end): (i64, i64),
) -> ReceiptView {
    let minutes = facts.preparation_minutes + facts.test_minutes + facts.post_processing_minutes;
    ReceiptView {
        receipt_id,
        owner: HOME.to_owned(),
        owner_name_zh: "大连理工大学".to_owned(),
        owner_name_en: "Dalian University of Technology".to_owned(),
        instrument_id: record.id(),
        instrument_name_zh: record.name_zh.clone(),
        instrument_name_en: record.name_en.clone(),
        booking_id: booking_id.to_owned(),
        external: who.tier != UserTier::OwnInstitution,
        fees: fees(record, who.tier, minutes, facts.samples),
        user_id: who.user_id,
        user_name: who.user_name,
        home: who.home,
        tier: who.tier,
        start,
        end,
        preparation_minutes: facts.preparation_minutes,
        test_minutes: facts.test_minutes,
        post_processing_minutes: facts.post_processing_minutes,
        samples: facts.samples,
        issued_at: now(),
    }
}

impl MemoryBackend {
    /// Gives up `n` messages to `to`, the newest first in the list.
    pub(crate) fn give_up(&self, to: &str, n: usize) {
        let mut inner = self.lock();
        for i in 0..n {
            inner.dead_letters.insert(
                0,
                DeadLetterView {
                    to: to.to_owned(),
                    kind: "alliance/receipt/v1".into(),
                    code: "not_yours".into(),
                    reason: format!("receipt {i}: only a receipt from its owner is taken"),
                    at: now() - 60 * (n - i) as i64,
                },
            );
        }
    }

    /// Receipts issued here, oldest first.
    pub(crate) fn issued(&self) -> Vec<IssuedReceipt> {
        self.lock().issued_receipts.clone()
    }

    /// The receipts of one of this node's users, oldest first.
    pub(crate) fn user_receipts(&self, username: &str) -> Vec<MyReceipt> {
        self.lock()
            .user_receipts
            .iter()
            .filter(|(user, _)| user == username)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// A receipt another owner issued for `username`, as their node would receive it.
    pub(crate) fn receive_receipt(&self, username: &str, receipt: ReceiptView) {
        let mine = MyReceipt {
            receipt,
            rating: None,
            comment: String::new(),
            confirmed_at: None,
            dispute: None,
        };
        self.lock().user_receipts.push((username.to_owned(), mine));
    }

    /// Sets what `log_watch` answers (e.g. with an alarm).
    pub(crate) fn set_log_watch(&self, view: LogWatchView) {
        self.lock().log_watch = view;
    }

    pub(crate) fn set_trust_warnings(&self, warnings: alliance_web::backend::TrustWarnings) {
        self.lock().trust_warnings = warnings;
    }

    /// Copies of the first issued receipt under new ids, every third confirmed: a long
    /// history.
    pub(crate) fn issue_copies(&self, n: usize) {
        let mut inner = self.lock();
        let first = inner.issued_receipts[0].clone();
        for i in 0..n {
            let mut copy = first.clone();
            copy.receipt.receipt_id = format!("h{i}");
            if i % 3 == 0 {
                copy.standing = IssuedStanding::Confirmed;
                copy.rating = Some(5);
            }
            inner.issued_receipts.push(copy);
        }
    }

    /// Changes an issued receipt, as the outbox and the log would.
    pub(crate) fn edit_issued(&self, receipt_id: &str, edit: impl FnOnce(&mut IssuedReceipt)) {
        let mut inner = self.lock();
        if let Some(issued) = inner
            .issued_receipts
            .iter_mut()
            .find(|r| r.receipt.receipt_id == receipt_id)
        {
            edit(issued);
        }
    }

    fn next_receipt_id(&self) -> String {
        let mut inner = self.lock();
        inner.issued += 1;
        format!("r{}", inner.issued)
    }

    /// Keeps an issued receipt; one for a user of this node is also theirs to confirm.
    fn issue(&self, receipt: ReceiptView, username: Option<&str>) {
        let issued = IssuedReceipt {
            awaiting_until: Some(receipt.issued_at + CONFIRM_SECONDS),
            receipt: receipt.clone(),
            standing: IssuedStanding::AwaitingConfirmation,
            rating: None,
            dispute: None,
            in_outbox: false,
            attempts: 0,
            last_error: None,
            log_index: None,
        };
        self.lock().issued_receipts.push(issued);
        if let Some(username) = username {
            self.receive_receipt(username, receipt);
        }
    }

    fn record(&self, instrument_id: &str) -> Option<InstrumentRecord> {
        self.records().into_iter().find(|r| r.id() == instrument_id)
    }
}

impl ReceiptBackend for MemoryBackend {
    async fn complete_booking(
        &self,
        account: &Account,
        home: &str,
        booking_id: &str,
        facts: SessionFacts,
    ) -> Result<ManagedBooking, ActionFailure> {
        let stored = self
            .bookings()
            .into_iter()
            .find(|s| home == HOME && s.booking.booking_id == booking_id)
            .ok_or(ActionFailure::NotFound)?;
        if !matches!(
            stored.booking.status,
            BookingState::Confirmed | BookingState::InUse
        ) {
            return Err(ActionFailure::Refused {
                code: "wrong_state".into(),
                message: "not possible in the booking's current state".into(),
            });
        }
        let times = span(&facts)?;
        let record = self
            .record(&stored.booking.instrument_id)
            .ok_or(ActionFailure::NotFound)?;
        let who = Who {
            user_id: stored.username.clone(),
            user_name: stored.user_name.clone(),
            home: HOME.to_owned(),
            tier: stored.tier,
        };
        let issued = receipt(
            self.next_receipt_id(),
            &record,
            booking_id,
            who,
            &facts,
            times,
        );
        {
            let mut inner = self.lock();
            let Some(s) = inner
                .bookings
                .iter_mut()
                .find(|s| s.booking.booking_id == booking_id)
            else {
                return Err(ActionFailure::NotFound);
            };
            s.booking.status = BookingState::Completed;
            s.booking.hold_until = None;
            s.history.push((
                now(),
                name_of(account),
                BookingState::Completed,
                facts.note.clone(),
            ));
        }
        self.issue(issued, Some(&stored.username));
        self.managed_bookings()
            .await
            .into_iter()
            .find(|b| b.booking_id == booking_id)
            .ok_or_else(|| ActionFailure::Internal("the booking vanished".into()))
    }

    async fn record_session(
        &self,
        _account: &Account,
        session: WalkIn,
    ) -> Result<ReceiptView, ActionFailure> {
        let record = self
            .record(&format!("{HOME}/{}", session.local_id))
            .ok_or_else(|| invalid("local_id", "not one of this institution's instruments"))?;
        if session.mode == ServiceMode::Unspecified {
            return Err(invalid("mode", "required"));
        }
        let times = span(&session.facts)?;
        let local_user = (session.home.as_str() == HOME).then(|| session.user_id.clone());
        let who = Who {
            user_id: session.user_id,
            user_name: session.user_name,
            home: session.home.to_string(),
            tier: session.tier,
        };
        let issued = receipt(
            self.next_receipt_id(),
            &record,
            "",
            who,
            &session.facts,
            times,
        );
        self.issue(issued.clone(), local_user.as_deref());
        Ok(issued)
    }

    async fn my_receipts(&self, account: &Account) -> Vec<MyReceipt> {
        let mut list = self.user_receipts(&account.username);
        list.sort_by_key(|r| std::cmp::Reverse(r.receipt.start));
        list
    }

    async fn confirm_receipt(
        &self,
        account: &Account,
        owner: &str,
        receipt_id: &str,
        verdict: Verdict,
    ) -> Result<MyReceipt, ActionFailure> {
        match &verdict {
            Verdict::Confirmed { rating, .. } if !(1..=5).contains(rating) => {
                return Err(invalid("rating", "1 to 5"));
            }
            Verdict::Confirmed { comment, .. } if comment.len() > 256 => {
                return Err(invalid("comment", "at most 256 bytes"));
            }
            Verdict::Disputed { reason } if reason.trim().is_empty() || reason.len() > 256 => {
                return Err(invalid("reason", "required, at most 256 bytes"));
            }
            _ => {}
        }
        let mut inner = self.lock();
        let (_, mine) = inner
            .user_receipts
            .iter_mut()
            .find(|(user, r)| {
                *user == account.username
                    && r.receipt.owner == owner
                    && r.receipt.receipt_id == receipt_id
            })
            .ok_or(ActionFailure::NotFound)?;
        if mine.confirmed_at.is_some() {
            return Err(ActionFailure::Refused {
                code: "already_confirmed".into(),
                message: "the receipt is already confirmed".into(),
            });
        }
        match &verdict {
            Verdict::Confirmed { rating, comment } => {
                mine.rating = Some(*rating);
                mine.comment = comment.clone();
            }
            Verdict::Disputed { reason } => mine.dispute = Some(reason.clone()),
        }
        mine.confirmed_at = Some(now());
        let confirmed = mine.clone();
        if owner == HOME
            && let Some(issued) = inner
                .issued_receipts
                .iter_mut()
                .find(|r| r.receipt.receipt_id == receipt_id)
        {
            match verdict {
                Verdict::Confirmed { rating, .. } => {
                    issued.standing = IssuedStanding::Confirmed;
                    issued.rating = Some(rating);
                }
                Verdict::Disputed { reason } => {
                    issued.standing = IssuedStanding::Disputed;
                    issued.dispute = Some(reason);
                }
            }
            issued.awaiting_until = None;
            issued.in_outbox = true;
        }
        Ok(confirmed)
    }

    async fn issued_receipts(&self) -> Vec<IssuedReceipt> {
        self.issued().into_iter().rev().collect()
    }

    /// Sums the receipts issued here by the month (Shanghai) each use started, as the
    /// node does from its index; disputed ones count for nothing.
    async fn monthly_usage(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<MonthlyUsage>, ActionFailure> {
        let mut rows: std::collections::BTreeMap<(String, String), MonthlyUsage> =
            Default::default();
        for issued in self.issued() {
            if issued.standing == IssuedStanding::Disputed {
                continue;
            }
            let r = &issued.receipt;
            let month = chrono::DateTime::from_timestamp(r.start, 0)
                .unwrap()
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%Y-%m")
                .to_string();
            if month.as_str() < from || month.as_str() > to {
                continue;
            }
            let local_id = r.instrument_id.split_once('/').unwrap().1.to_owned();
            let row = rows
                .entry((month.clone(), local_id.clone()))
                .or_insert_with(|| MonthlyUsage {
                    month,
                    local_id,
                    instrument_name_zh: r.instrument_name_zh.clone(),
                    instrument_name_en: r.instrument_name_en.clone(),
                    receipts: 0,
                    effective_minutes: 0,
                    external_minutes: 0,
                    samples: 0,
                    revenue_fen: 0,
                    external_revenue_fen: 0,
                });
            let minutes =
                u64::from(r.preparation_minutes + r.test_minutes + r.post_processing_minutes);
            row.receipts += 1;
            row.effective_minutes += minutes;
            row.samples += u64::from(r.samples);
            row.revenue_fen += r.fees.total_fen();
            if r.external {
                row.external_minutes += minutes;
                row.external_revenue_fen += r.fees.total_fen();
            }
        }
        Ok(rows.into_values().collect())
    }

    async fn log_watch(&self) -> LogWatchView {
        self.lock().log_watch.clone()
    }

    async fn trust_warnings(&self) -> alliance_web::backend::TrustWarnings {
        self.lock().trust_warnings
    }

    async fn dead_letters(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<DeadLetterPage, ActionFailure> {
        let inner = self.lock();
        Ok(DeadLetterPage {
            total: inner.dead_letters.len(),
            offset,
            letters: inner
                .dead_letters
                .iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect(),
        })
    }
}
