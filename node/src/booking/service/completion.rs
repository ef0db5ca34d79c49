//! The end of a use: a manager completes a booking, or records a walk-in or internal
//! session, with what actually happened; the owner's usage receipt is issued from it.
//!
//! The booking's completion and its receipt are written in one commit under the
//! instrument's lock: a cancel, a no-show or a crash comes before or after, never
//! between, so no receipt exists for a booking that was not completed. Fees are priced from the instrument's fee schedule for the effective time
//! and samples actually used.

pub use alliance_protocol::receipt::{SessionFacts, WalkIn};
use alliance_protocol::{
    FeeComponents, InstitutionId, ServiceMode, UnixTime, UserTier,
    quote::{Usage, quote, quote_item},
    receipt::UsageReceipt,
};
use sha2::{Digest, Sha256};

use super::{BookError, Bookings};
use crate::booking::{ledger::LedgerError, state::Booking, state::BookingState};

/// Longest note a manager may add to a session, in bytes.
const MAX_NOTE_BYTES: usize = 256;

/// What the receipt itself does not check: a session states some effective time, and
/// its note is short. (Times, their order and the samples are checked by the receipt.)
fn check_facts(facts: &SessionFacts) -> Result<(), BookError> {
    let effective = [
        facts.preparation_minutes,
        facts.test_minutes,
        facts.post_processing_minutes,
    ];
    if effective.iter().all(|m| *m == 0) {
        return Err(BookError::Invalid(
            "test_minutes: some effective time is required".into(),
        ));
    }
    if facts.note.len() > MAX_NOTE_BYTES {
        return Err(BookError::Invalid("note: at most 256 bytes".into()));
    }
    Ok(())
}

/// A receipt id derived from the booking, so completing twice never makes two receipts.
fn receipt_id_of(home: &InstitutionId, booking_id: &str) -> String {
    let digest = Sha256::digest(format!("{home}\0{booking_id}").as_bytes());
    format!("b_{}", hex::encode(&digest[..16]))
}

impl Bookings {
    /// Completes a booking of one of this institution's instruments and issues its
    /// receipt; returns the booking and the signed receipt.
    pub async fn complete(
        &self,
        home: &InstitutionId,
        booking_id: &str,
        facts: SessionFacts,
        by: &str,
    ) -> Result<(Booking, Vec<u8>), BookError> {
        let booking = self
            .inner
            .ledger
            .booking(home, booking_id)?
            .ok_or_else(|| BookError::NoBooking(booking_id.to_owned()))?;
        if !matches!(booking.state, BookingState::Confirmed | BookingState::InUse) {
            return Err(BookError::Invalid(format!(
                "status: only a confirmed or started booking can be completed, not a {:?} one",
                booking.state
            )));
        }
        // A use is recorded once it has begun: completing ahead of time would sign a
        // receipt (and charge) for a session that may never happen.
        if UnixTime::now() < booking.start {
            return Err(BookError::Invalid(
                "start: the booking has not started yet; complete it once the session has begun"
                    .into(),
            ));
        }
        let receipt_id = receipt_id_of(home, booking_id);
        let receipt = match self.inner.receipts.issued_receipt(&receipt_id)? {
            // Issued before the booking was completed, by a version that wrote them
            // apart and stopped in between: completing now only finishes the booking.
            Some(issued) => issued.receipt,
            None => self.receipt(
                (receipt_id, booking_id.to_owned()),
                &booking.local_id,
                (&booking.user_id, &booking.user_name, home, booking.tier),
                (booking.mode, booking.service_item.as_str()),
                &facts,
                UnixTime::now(),
            )?,
        };
        let receipts = self.inner.receipts.clone();
        // The completion and its receipt in one commit, under the instrument's lock.
        let (booking, signed) = self
            .inner
            .ledger
            .complete_with(
                home,
                booking_id,
                by,
                &facts.note,
                UnixTime::now(),
                |_, batch| async move {
                    receipts
                        .issue_with(receipt, batch)
                        .await
                        .map_err(|e| LedgerError::Receipt(e.to_string()))
                },
            )
            .await
            .map_err(|e| match e {
                LedgerError::Receipt(message) => BookError::Invalid(message),
                e => e.into(),
            })?;
        // The home hears of it from the outbox.
        self.inner.mail.poke();
        self.show_in_calendars(&booking.local_id);
        Ok((booking, signed))
    }

    /// Records a session without a booking and issues its receipt.
    pub async fn record_session(&self, walk_in: WalkIn) -> Result<Vec<u8>, BookError> {
        self.record_session_issued_at(walk_in, UnixTime::now())
            .await
    }

    /// [`Bookings::record_session`] as if recorded at `issued_at` (the demo's year of
    /// history, recorded as its managers would have recorded it then).
    pub(crate) async fn record_session_issued_at(
        &self,
        walk_in: WalkIn,
        issued_at: UnixTime,
    ) -> Result<Vec<u8>, BookError> {
        self.check_walk_in(&walk_in)?;
        let mut id = [0u8; 16];
        rand::fill(&mut id);
        let receipt =
            self.walk_in_receipt(format!("w_{}", hex::encode(id)), &walk_in, issued_at)?;
        self.inner
            .receipts
            .issue(receipt)
            .await
            .map_err(|e| BookError::Invalid(e.to_string()))
    }

    /// Issues the receipt of an entrusted test (送样检测) whose report has SHA-256
    /// `report_sha256`, under `receipt_id`, committing `with` in the same batch; the
    /// receipt carries the hash, so the report can later be proven genuine. It charges
    /// `agreed_fen`, the price of the offer the user accepted: where that was quoted
    /// rather than the schedule's, the schedule's components are scaled to it, so the
    /// receipt still says what part is materials, operating and labour.
    pub async fn record_entrusted(
        &self,
        receipt_id: String,
        walk_in: WalkIn,
        (report_sha256, agreed_fen): ([u8; 32], i64),
        with: crate::store::Batch,
    ) -> Result<Vec<u8>, BookError> {
        self.check_walk_in(&walk_in)?;
        let mut receipt = self.walk_in_receipt(receipt_id, &walk_in, UnixTime::now())?;
        receipt.report_sha256 = Some(report_sha256);
        receipt.fees = scaled_to(receipt.fees, agreed_fen);
        self.inner
            .receipts
            .issue_with(receipt, with)
            .await
            .map_err(|e| BookError::Invalid(e.to_string()))
    }

    fn walk_in_receipt(
        &self,
        receipt_id: String,
        walk_in: &WalkIn,
        issued_at: UnixTime,
    ) -> Result<UsageReceipt, BookError> {
        self.receipt(
            (receipt_id, String::new()),
            &walk_in.local_id,
            (
                &walk_in.user_id,
                &walk_in.user_name,
                &walk_in.home,
                walk_in.tier,
            ),
            (walk_in.mode, walk_in.service_item.as_str()),
            &walk_in.facts,
            issued_at,
        )
    }

    /// Whether a use without a booking may be recorded for this user and home.
    fn check_walk_in(&self, walk_in: &WalkIn) -> Result<(), BookError> {
        // The user's home confirms the receipt, so it must be a member that can: this
        // institution, or another in the roster (an outside user registered at a member
        // node has that member as home). An invented home would confirm nothing.
        let own = &self.inner.own.institution_id;
        if &walk_in.home != own
            && !self
                .inner
                .catalogue
                .key_directory()
                .is_current(&walk_in.home)
        {
            return Err(BookError::Invalid(format!(
                "home: {} is not a member of the alliance; a walk-in user's home must be a \
                 member institution, or this one for outside users registered here",
                walk_in.home
            )));
        }
        // The own-institution price is only for the owner's own users (outside users who
        // registered here have this home too, in their own category).
        if walk_in.tier == UserTier::OwnInstitution && walk_in.home != self.inner.own.institution_id
        {
            return Err(BookError::Invalid(
                "tier: only this institution's own users are in the own-institution category"
                    .into(),
            ));
        }
        Ok(())
    }

    fn receipt(
        &self,
        (receipt_id, booking_id): (String, String),
        local_id: &str,
        (user_id, user_name, home, tier): (&str, &str, &InstitutionId, UserTier),
        (mode, service_item): (ServiceMode, &str),
        facts: &SessionFacts,
        issued_at: UnixTime,
    ) -> Result<UsageReceipt, BookError> {
        check_facts(facts)?;
        let own = &self.inner.own.institution_id;
        let view = self
            .inner
            .catalogue
            .instrument_unfiltered(&format!("{own}/{local_id}"))
            .ok_or_else(|| BookError::UnknownInstrument(format!("{own}/{local_id}")))?;
        let effective = facts
            .preparation_minutes
            .saturating_add(facts.test_minutes)
            .saturating_add(facts.post_processing_minutes);
        let usage = Usage {
            mode,
            minutes: effective,
            samples: facts.samples,
        };
        // A session is charged for the service item used, which must be named where the
        // instrument has several for the mode. (A booking made before items were chosen
        // names none: priced as it was quoted then, by every item of its mode.)
        let fees: FeeComponents = if service_item.is_empty() && !booking_id.is_empty() {
            quote(&view.record.fees, tier, &usage).total
        } else {
            quote_item(&view.record.fees, tier, &usage, service_item)
                .map_err(|e| BookError::Invalid(format!("service_item: {e}")))?
                .total
        };
        let receipt = UsageReceipt {
            receipt_id,
            institution_id: own.clone(),
            local_id: local_id.to_owned(),
            booking_id,
            user_id: user_id.to_owned(),
            user_name: user_name.to_owned(),
            home_institution: home.clone(),
            tier,
            start: facts.start,
            end: facts.end,
            preparation_minutes: facts.preparation_minutes,
            test_minutes: facts.test_minutes,
            post_processing_minutes: facts.post_processing_minutes,
            samples: facts.samples,
            fees,
            issued_at,
            report_sha256: None,
        };
        receipt
            .validate()
            .map_err(|e| BookError::Invalid(e.to_string()))?;
        Ok(receipt)
    }
}

/// `fees` scaled to total `agreed_fen` (materials and operating in proportion, labour
/// taking the rounding); all as labour where the schedule charged nothing.
fn scaled_to(fees: FeeComponents, agreed_fen: i64) -> FeeComponents {
    let total = fees.total_fen();
    if total == agreed_fen || agreed_fen < 0 {
        return fees;
    }
    if total <= 0 {
        return FeeComponents {
            materials_fen: 0,
            operating_fen: 0,
            labour_fen: agreed_fen,
        };
    }
    let part = |fen: i64| {
        i64::try_from(i128::from(fen) * i128::from(agreed_fen) / i128::from(total))
            .unwrap_or(agreed_fen)
    };
    let materials_fen = part(fees.materials_fen);
    let operating_fen = part(fees.operating_fen);
    FeeComponents {
        materials_fen,
        operating_fen,
        labour_fen: agreed_fen - materials_fen - operating_fen,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn facts() -> SessionFacts {
        SessionFacts {
            start: UnixTime(1_796_086_800),
            end: UnixTime(1_796_094_000),
            preparation_minutes: 10,
            test_minutes: 90,
            post_processing_minutes: 20,
            samples: 3,
            note: "ok".into(),
        }
    }

    fn refused(facts: SessionFacts) -> String {
        match check_facts(&facts) {
            Err(BookError::Invalid(message)) => message,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_quoted_price_scales_the_schedules_components_to_it() {
        let fees = FeeComponents {
            materials_fen: 1_000,
            operating_fen: 2_000,
            labour_fen: 1_000,
        };
        assert_eq!(scaled_to(fees, 4_000), fees);
        let halved = scaled_to(fees, 2_001);
        assert_eq!(halved.total_fen(), 2_001);
        assert_eq!((halved.materials_fen, halved.operating_fen), (500, 1_000));
        let free = FeeComponents {
            materials_fen: 0,
            operating_fen: 0,
            labour_fen: 0,
        };
        assert_eq!(scaled_to(free, 900).labour_fen, 900);
        assert_eq!(scaled_to(fees, 0).total_fen(), 0);
    }

    #[test]
    fn a_session_states_some_effective_time_and_a_short_note() {
        assert!(check_facts(&facts()).is_ok());
        let idle = SessionFacts {
            preparation_minutes: 0,
            test_minutes: 0,
            post_processing_minutes: 0,
            ..facts()
        };
        assert!(refused(idle).starts_with("test_minutes"));
        let long = SessionFacts {
            note: "长".repeat(100),
            ..facts()
        };
        assert!(refused(long).starts_with("note"));
    }
}
