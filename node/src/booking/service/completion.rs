//! The end of a use: a manager completes a booking, or records a walk-in or internal
//! session, with what actually happened; the owner's usage receipt is issued from it.
//!
//! The receipt is issued before the booking is marked completed: if the node stops in
//! between, completing again finds the receipt already issued and only finishes the
//! booking. Fees are priced from the instrument's fee schedule for the effective time
//! and samples actually used.

use alliance_protocol::{
    FeeComponents, InstitutionId, ServiceMode, UnixTime, UserTier,
    quote::{Usage, quote},
    receipt::UsageReceipt,
};
use sha2::{Digest, Sha256};

use super::{BookError, Bookings};
use crate::booking::{ledger::Decision, state::Booking, state::BookingState};

/// What actually happened in a session, as its manager records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub start: UnixTime,
    pub end: UnixTime,
    pub preparation_minutes: u32,
    pub test_minutes: u32,
    pub post_processing_minutes: u32,
    pub samples: u32,
    pub note: String,
}

/// A session without a booking (walk-in, or the institution's own use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkIn {
    pub local_id: String,
    pub user_id: String,
    pub user_name: String,
    pub home: InstitutionId,
    pub tier: UserTier,
    pub mode: ServiceMode,
    pub facts: SessionFacts,
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
        let receipt_id = receipt_id_of(home, booking_id);
        let signed = match self.inner.receipts.issued_receipt(&receipt_id)? {
            Some(issued) => hex::decode(&issued.signed)
                .map_err(|e| BookError::Invalid(format!("stored receipt: {e}")))?,
            None => {
                let receipt = self.receipt(
                    receipt_id,
                    booking_id.to_owned(),
                    &booking.local_id,
                    (&booking.user_id, &booking.user_name, home, booking.tier),
                    booking.mode,
                    &facts,
                )?;
                self.inner
                    .receipts
                    .issue(receipt)
                    .await
                    .map_err(|e| BookError::Invalid(e.to_string()))?
            }
        };
        let booking = self
            .decide(home, booking_id, Decision::Complete, by, &facts.note)
            .await?;
        Ok((booking, signed))
    }

    /// Records a session without a booking and issues its receipt.
    pub async fn record_session(&self, walk_in: WalkIn) -> Result<Vec<u8>, BookError> {
        let mut id = [0u8; 16];
        rand::fill(&mut id);
        let receipt = self.receipt(
            format!("w_{}", hex::encode(id)),
            String::new(),
            &walk_in.local_id,
            (
                &walk_in.user_id,
                &walk_in.user_name,
                &walk_in.home,
                walk_in.tier,
            ),
            walk_in.mode,
            &walk_in.facts,
        )?;
        self.inner
            .receipts
            .issue(receipt)
            .await
            .map_err(|e| BookError::Invalid(e.to_string()))
    }

    fn receipt(
        &self,
        receipt_id: String,
        booking_id: String,
        local_id: &str,
        (user_id, user_name, home, tier): (&str, &str, &InstitutionId, UserTier),
        mode: ServiceMode,
        facts: &SessionFacts,
    ) -> Result<UsageReceipt, BookError> {
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
        let fees: FeeComponents = quote(
            &view.record.fees,
            tier,
            &Usage {
                mode,
                minutes: effective,
                samples: facts.samples,
            },
        )
        .total;
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
            issued_at: UnixTime::now(),
        };
        receipt
            .validate()
            .map_err(|e| BookError::Invalid(e.to_string()))?;
        Ok(receipt)
    }
}
