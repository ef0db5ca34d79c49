//! The receipts side of the web backend: completing bookings and recording sessions
//! (which issue receipts), the user's receipts to confirm and rate, the institution's
//! issued receipts on their way to the province's log, and the log watch.

use alliance_protocol::{
    InstitutionId,
    receipt::{UsageReceipt, Verdict},
};
use alliance_web::backend::{
    Account, ActionFailure, DeadLetterPage, DeadLetterView, IssuedFilter, IssuedReceipt,
    IssuedReceiptPage, IssuedStanding, ListPage, LogAlarmView, LogWatchView, ManagedBooking,
    MonthlyUsage, MyReceipt, MyReceiptList, ReceiptBackend, ReceiptView, StartSpan,
};

use super::{
    WebBackend,
    booking::{failure, invalid},
    may_manage,
};
use crate::{
    booking::service::{BookError, SessionFacts, WalkIn},
    receipts::issued::Standing,
};

/// A receipt's own fields problem (e.g. too many samples) names its field.
fn issue_failure(e: BookError) -> ActionFailure {
    match e {
        BookError::Invalid(message) => {
            // The field a message names first, as `field:`.
            let field = [
                "home",
                "service_item",
                "start",
                "issued_at",
                "samples",
                "end",
                "test_minutes",
                "user_id",
                "user_name",
                "note",
                "tier",
            ]
            .into_iter()
            .filter_map(|f| message.find(&format!("{f}:")).map(|at| (at, f)))
            .min()
            .map_or("booking", |(_, f)| f);
            invalid(field, &message)
        }
        other => failure(other),
    }
}

impl WebBackend {
    fn receipt_view(&self, r: &UsageReceipt) -> ReceiptView {
        let (name_zh, name_en, owner_zh, owner_en) =
            self.names_of(&r.instrument_id(), &r.institution_id);
        ReceiptView {
            receipt_id: r.receipt_id.clone(),
            owner: r.institution_id.to_string(),
            owner_name_zh: owner_zh,
            owner_name_en: owner_en,
            instrument_id: r.instrument_id(),
            instrument_name_zh: name_zh,
            instrument_name_en: name_en,
            booking_id: r.booking_id.clone(),
            user_id: r.user_id.clone(),
            user_name: r.user_name.clone(),
            home: r.home_institution.to_string(),
            tier: r.tier,
            start: r.start.0,
            end: r.end.0,
            preparation_minutes: r.preparation_minutes,
            test_minutes: r.test_minutes,
            post_processing_minutes: r.post_processing_minutes,
            samples: r.samples,
            fees: r.fees,
            external: r.is_external(),
            issued_at: r.issued_at.0,
        }
    }

    fn my_receipt(&self, r: &crate::receipts::received::Received) -> MyReceipt {
        MyReceipt {
            receipt: self.receipt_view(&r.receipt),
            rating: r
                .answer
                .as_ref()
                .filter(|a| a.dispute.is_none())
                .map(|a| a.rating),
            comment: r
                .answer
                .as_ref()
                .map(|a| a.comment.clone())
                .unwrap_or_default(),
            confirmed_at: r.answer.as_ref().map(|a| a.confirmed_at.0),
            dispute: r.answer.as_ref().and_then(|a| a.dispute.clone()),
        }
    }

    /// The log alarm, if raised.
    pub(super) fn current_alarm(&self) -> Option<LogAlarmView> {
        self.receipts.alarm().ok().flatten().map(|a| LogAlarmView {
            seen_size: a.seen.size,
            shown_size: a.shown.size,
            detected_at: a.detected_at.0,
            resubmitted: a.resubmitted,
        })
    }

    /// Completes with the booked times and length (a decision without the form).
    pub(super) async fn complete_as_booked(
        &self,
        account: &Account,
        home: &InstitutionId,
        booking_id: &str,
        note: &str,
    ) -> Result<ManagedBooking, ActionFailure> {
        let booking = self
            .bookings
            .ledger()
            .booking(home, booking_id)
            .map_err(|e| ActionFailure::Internal(e.to_string()))?
            .ok_or(ActionFailure::NotFound)?;
        let minutes = u32::try_from((booking.end.0 - booking.start.0) / 60).unwrap_or(0);
        let facts = SessionFacts {
            start: booking.start,
            end: booking.end,
            preparation_minutes: 0,
            test_minutes: minutes,
            post_processing_minutes: 0,
            samples: booking.samples,
            note: note.to_owned(),
        };
        let (booking, _) = self
            .bookings
            .complete(home, booking_id, facts, &account.username)
            .await
            .map_err(issue_failure)?;
        Ok(self.managed(&booking))
    }
}

impl WebBackend {
    fn issued_view(&self, view: crate::receipts::IssuedView) -> IssuedReceipt {
        let (standing, awaiting_until, rating, dispute) = match view.issued.standing {
            Standing::AwaitingConfirmation { until } => (
                IssuedStanding::AwaitingConfirmation,
                Some(until.0),
                None,
                None,
            ),
            Standing::Confirmed { rating } => (IssuedStanding::Confirmed, None, Some(rating), None),
            Standing::SingleSigned => (IssuedStanding::SingleSigned, None, None, None),
            Standing::Disputed { reason } => (IssuedStanding::Disputed, None, None, Some(reason)),
        };
        IssuedReceipt {
            receipt: self.receipt_view(&view.issued.receipt),
            standing,
            awaiting_until,
            rating,
            dispute,
            in_outbox: view.pending.is_some(),
            attempts: view.pending.as_ref().map_or(0, |p| p.attempts),
            last_error: view.pending.and_then(|p| p.last_error),
            log_index: view.logged_at,
        }
    }
}

impl ReceiptBackend for WebBackend {
    async fn complete_booking(
        &self,
        account: &Account,
        home: &str,
        booking_id: &str,
        facts: SessionFacts,
    ) -> Result<ManagedBooking, ActionFailure> {
        may_manage(account)?;
        let home: InstitutionId = home.parse().map_err(|_| ActionFailure::NotFound)?;
        let (booking, _) = self
            .bookings
            .complete(&home, booking_id, facts, &account.username)
            .await
            .map_err(issue_failure)?;
        Ok(self.managed(&booking))
    }

    async fn record_session(
        &self,
        account: &Account,
        walk_in: WalkIn,
    ) -> Result<ReceiptView, ActionFailure> {
        may_manage(account)?;
        let signed = self
            .bookings
            .record_session(walk_in)
            .await
            .map_err(issue_failure)?;
        let receipt = UsageReceipt::open(&signed, &self.bookings.public_key())
            .map_err(|e| ActionFailure::Internal(e.to_string()))?;
        Ok(self.receipt_view(&receipt))
    }

    async fn my_receipts(&self, account: &Account) -> Vec<MyReceipt> {
        self.receipts
            .of_user(&account.username)
            .unwrap_or_default()
            .iter()
            .map(|r| self.my_receipt(r))
            .collect()
    }

    async fn my_receipts_page(
        &self,
        account: &Account,
        list: MyReceiptList,
        span: StartSpan,
        offset: usize,
        limit: usize,
    ) -> ListPage<MyReceipt> {
        use crate::receipts::received::ReceivedList;
        let list = match list {
            MyReceiptList::All => ReceivedList::All,
            MyReceiptList::ToConfirm => ReceivedList::Waiting,
            MyReceiptList::Answered => ReceivedList::Answered,
        };
        let span = (
            span.from.map(alliance_protocol::UnixTime),
            span.to.map(alliance_protocol::UnixTime),
        );
        match self
            .receipts
            .page_of_user(&account.username, (list, span), offset, limit)
        {
            Ok((total, items)) => ListPage {
                total,
                items: items.iter().map(|r| self.my_receipt(r)).collect(),
            },
            Err(e) => {
                tracing::error!(error = %e, "the user's receipts could not be read");
                ListPage::of(Vec::new(), 0, 0)
            }
        }
    }

    async fn confirm_receipt(
        &self,
        account: &Account,
        owner: &str,
        receipt_id: &str,
        verdict: Verdict,
    ) -> Result<MyReceipt, ActionFailure> {
        use crate::receipts::{ReceiptsError, received::ReceivedError};
        let owner: InstitutionId = owner.parse().map_err(|_| ActionFailure::NotFound)?;
        match self
            .receipts
            .confirm(&account.username, &owner, receipt_id, verdict)
            .await
        {
            Ok(()) => {}
            Err(ReceiptsError::Home(ReceivedError::Rating)) => {
                return Err(invalid("rating", "1 to 5"));
            }
            Err(ReceiptsError::Home(ReceivedError::Comment)) => {
                return Err(invalid("comment", "at most 256 bytes"));
            }
            Err(ReceiptsError::Home(ReceivedError::Reason)) => {
                return Err(invalid("reason", "required, at most 256 bytes"));
            }
            Err(ReceiptsError::Home(ReceivedError::Unknown(_))) => {
                return Err(ActionFailure::NotFound);
            }
            Err(ReceiptsError::Home(ReceivedError::AlreadyConfirmed(_))) => {
                return Err(ActionFailure::Refused {
                    code: "already_confirmed".into(),
                    message: "this receipt is already confirmed".into(),
                });
            }
            Err(e) => return Err(ActionFailure::Internal(e.to_string())),
        }
        self.receipts
            .of_user(&account.username)
            .map_err(|e| ActionFailure::Internal(e.to_string()))?
            .iter()
            .find(|r| r.receipt.receipt_id == receipt_id && r.receipt.institution_id == owner)
            .map(|r| self.my_receipt(r))
            .ok_or(ActionFailure::NotFound)
    }

    async fn issued_receipts(&self) -> Vec<IssuedReceipt> {
        self.receipts
            .issued()
            .unwrap_or_default()
            .into_iter()
            .map(|view| self.issued_view(view))
            .collect()
    }

    async fn issued_receipts_page(
        &self,
        filter: IssuedFilter,
        offset: usize,
        limit: usize,
    ) -> IssuedReceiptPage {
        let span = (
            filter.from.map(alliance_protocol::UnixTime),
            filter.to.map(alliance_protocol::UnixTime),
        );
        match self
            .receipts
            .issued_page(
                filter.standing.map(IssuedStanding::index),
                span,
                offset,
                limit,
            )
            .await
        {
            Ok((total, views, counts)) => IssuedReceiptPage {
                total,
                offset,
                items: views.into_iter().map(|v| self.issued_view(v)).collect(),
                counts,
            },
            Err(e) => {
                tracing::error!(error = %e, "the issued receipts could not be read");
                IssuedReceiptPage::default()
            }
        }
    }

    async fn log_alarm(&self) -> Option<LogAlarmView> {
        self.current_alarm()
    }

    async fn trust_warnings(&self) -> alliance_web::backend::TrustWarnings {
        alliance_web::backend::TrustWarnings {
            log_stale_minutes: self
                .receipts
                .log_staleness(alliance_protocol::UnixTime::now())
                .unwrap_or(None)
                .map(|seconds| seconds / 60),
            impostors: self.net.state().impostors.len(),
        }
    }

    async fn dead_letters(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<DeadLetterPage, ActionFailure> {
        let internal = |e: crate::store::StoreError| ActionFailure::Internal(e.to_string());
        let total = self.mail.dead_letter_count().map_err(internal)?;
        let letters = self
            .mail
            .dead_letters(offset, limit)
            .map_err(internal)?
            .into_iter()
            .map(|l| DeadLetterView {
                to: l.to.to_string(),
                kind: l.kind,
                code: l.code,
                reason: l.reason,
                at: l.at.0,
            })
            .collect();
        Ok(DeadLetterPage {
            total,
            offset,
            letters,
        })
    }

    async fn monthly_usage(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<MonthlyUsage>, ActionFailure> {
        let own = &self.certificate.institution_id;
        let rows = self
            .receipts
            .monthly(from, to)
            .await
            .map_err(|e| ActionFailure::Internal(e.to_string()))?;
        Ok(rows
            .into_iter()
            .map(|(month, local_id, f)| {
                let (instrument_name_zh, instrument_name_en) =
                    self.catalogue.names_of(&format!("{own}/{local_id}"));
                MonthlyUsage {
                    month,
                    local_id,
                    instrument_name_zh,
                    instrument_name_en,
                    receipts: f.receipts,
                    effective_minutes: f.effective_minutes,
                    external_minutes: f.external_minutes,
                    samples: f.samples,
                    revenue_fen: f.revenue_fen,
                    external_revenue_fen: f.external_revenue_fen,
                }
            })
            .collect())
    }

    async fn log_watch(&self) -> LogWatchView {
        let head = self.receipts.latest_head().ok().flatten();
        LogWatchView {
            waiting: self.receipts.waiting().unwrap_or_default(),
            proven: self.receipts.proven().unwrap_or_default(),
            head_size: head.map(|h| h.size),
            head_at: head.map(|h| h.timestamp.0),
            alarm: self.log_alarm().await,
        }
    }
}
