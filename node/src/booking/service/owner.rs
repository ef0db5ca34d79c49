//! The owner's side: answering members' requests, cancels and status questions about
//! this institution's instruments, and managers' decisions.

use alliance_protocol::booking::ManagerDecision;
use alliance_protocol::{
    InstitutionId, MembershipCertificate, UnixTime,
    booking::{
        BookingCancel, BookingRequest, BookingStatus, BookingStatusQuery, BookingUpdate, Outcome,
        encode_updates,
    },
};

use super::{BookError, Bookings};
use crate::{
    booking::{
        ledger::{CancelOutcome, LedgerError, RequestContext},
        rules::InstrumentFacts,
        state::Booking,
    },
    catalogue::schedule,
    net::Refusal,
};

impl Bookings {
    /// Runs a request (already vouched for) through the ledger.
    pub(super) async fn answer_request(
        &self,
        request: &BookingRequest,
    ) -> Result<Vec<u8>, BookError> {
        if request.institution_id != self.inner.own.institution_id {
            return Err(BookError::UnknownInstrument(request.instrument_id()));
        }
        let view = self
            .inner
            .catalogue
            .instrument_unfiltered(&request.instrument_id())
            .ok_or_else(|| BookError::UnknownInstrument(request.instrument_id()))?;
        let record = &view.record;
        let rules = super::rules_in_force(
            &self.inner.store,
            &request.local_id,
            self.inner.holidays_close,
        )?;
        let open = schedule::parse(&record.opening_hours);
        let trained = self.is_trained(
            &request.local_id,
            &request.user.home_institution,
            &request.user.user_id,
            request.end,
        )?;
        let now = UnixTime::now();
        let strikes = self.inner.ledger.strikes(
            &request.user.home_institution,
            &request.user.user_id,
            UnixTime(now.0 - i64::from(rules.strike_period_days) * 86_400),
        )?;
        let context = RequestContext {
            rules: &rules,
            facts: InstrumentFacts {
                status: record.status,
                scope: record.sharing_scope,
                modes: &record.service_modes,
                open: &open,
            },
            fees: &record.fees,
            trained,
            strikes,
            now,
        };
        let answered = self.inner.ledger.request(request, &context).await?;
        self.inner.answers.answered(&answered.answer.outcome);
        // Another member's requests may cause only so many mails an hour; this
        // institution's own users' are all told.
        let home = &request.user.home_institution;
        if answered.fresh
            && matches!(answered.answer.outcome, Outcome::Held { .. })
            && (*home == self.inner.own.institution_id || self.inner.notice_budget.allow(home, now))
        {
            self.tell_managers(request, record).await;
        }
        if matches!(
            answered.answer.outcome,
            Outcome::Held { .. } | Outcome::Confirmed
        ) {
            self.show_in_calendars(&request.local_id);
        }
        Ok(answered.signed)
    }

    /// Queues the notice of a request waiting for a manager. (After the ledger's commit:
    /// a crash in between loses the notice, never the request, which the booking pages
    /// list.)
    async fn tell_managers(
        &self,
        request: &BookingRequest,
        record: &alliance_protocol::InstrumentRecord,
    ) {
        let notice = crate::notify::Notice::new(
            format!(
                "request/{}/{}",
                request.user.home_institution, request.booking_id
            ),
            crate::notify::NoticeKind::BookingRequest,
            crate::notify::Recipients::Managers,
            crate::notify::Facts {
                instrument_id: request.instrument_id(),
                instrument_name: record.name_zh.clone(),
                instrument_name_en: record.name_en.clone(),
                booking_id: request.booking_id.clone(),
                start: Some(request.start),
                end: Some(request.end),
                about_user: format!(
                    "{}（{}）",
                    request.user.display_name, request.user.home_institution
                ),
                ..Default::default()
            },
        );
        if let Err(e) = self.inner.notices.send(&notice).await {
            tracing::error!(error = %e, "cannot queue the managers' notice of a request");
        }
    }

    /// A manager's decision about a booking of one of this institution's instruments.
    pub async fn decide(
        &self,
        home: &InstitutionId,
        booking_id: &str,
        decision: ManagerDecision,
        by: &str,
        note: &str,
    ) -> Result<Booking, BookError> {
        let booking = self
            .inner
            .ledger
            .decide(home, booking_id, decision, by, note, UnixTime::now())
            .await?;
        // The home hears of it from the outbox.
        self.inner.mail.poke();
        self.show_in_calendars(&booking.local_id);
        Ok(booking)
    }

    /// The owner's side of a cancel from `home`: its signed update, or a refusal.
    pub(super) async fn owner_cancel(
        &self,
        home: &InstitutionId,
        cancel: &BookingCancel,
    ) -> Result<Vec<u8>, Refusal> {
        let internal = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "cannot cancel a booking");
            Refusal::Internal("the owner could not cancel".to_owned())
        };
        // A cancel of an unknown booking is remembered; one of an instrument we do not
        // have would be remembered for nothing (and would grow the calendars kept).
        let instrument = format!("{}/{}", self.inner.own.institution_id, cancel.local_id);
        if !self.inner.catalogue.has_instrument(&instrument)
            && self
                .inner
                .ledger
                .booking(home, &cancel.booking_id)
                .map_err(|e| internal(&e))?
                .is_none()
        {
            return Err(Refusal::UnknownInstrument(format!(
                "no instrument {instrument}"
            )));
        }
        let rules = self.rules(&cancel.local_id).map_err(|e| internal(&e))?;
        let by = format!("{}@{home}", cancel.user_id);
        let outcome = self
            .inner
            .ledger
            .cancel(
                home,
                &cancel.booking_id,
                &cancel.local_id,
                &rules,
                &by,
                UnixTime::now(),
            )
            .await;
        let update = match outcome {
            Ok(CancelOutcome::Cancelled(booking)) => {
                self.show_in_calendars(&booking.local_id);
                self.inner.ledger.update_of(&booking)
            }
            Ok(CancelOutcome::AlreadyFinal(booking)) => self.inner.ledger.update_of(&booking),
            Ok(CancelOutcome::Remembered) => BookingUpdate {
                booking_id: cancel.booking_id.clone(),
                home_institution: home.clone(),
                institution_id: self.inner.own.institution_id.clone(),
                local_id: cancel.local_id.clone(),
                status: BookingStatus::Cancelled,
                version: 0,
                by,
                note: cancel.reason.clone(),
                at: UnixTime::now(),
            },
            Err(LedgerError::TooLate) => {
                return Err(Refusal::TooLate(format!(
                    "开始前 {} 小时内不能取消，请联系仪器管理员",
                    rules.cancel_deadline_hours
                )));
            }
            Err(e) => return Err(internal(&e)),
        };
        Ok(update.seal(&self.inner.key))
    }

    /// The owner's side of a status query: its signed word on each booking it knows.
    pub(super) fn owner_status(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let query = BookingStatusQuery::open(bytes, &from.node_public_key)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if query.home_institution != from.institution_id {
            return Err(Refusal::NotYours("ask only about your own users".into()));
        }
        let mut updates = Vec::new();
        for booking_id in &query.booking_ids {
            match self.inner.ledger.booking(&from.institution_id, booking_id) {
                Ok(Some(booking)) => {
                    updates.push(self.inner.ledger.update_of(&booking).seal(&self.inner.key))
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "cannot read a booking");
                    return Err(Refusal::Internal("the owner could not answer".into()));
                }
            }
        }
        Ok(encode_updates(updates))
    }
}
