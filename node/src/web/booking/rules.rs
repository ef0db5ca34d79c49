//! Booking rules and training certifications of this institution's instruments, as the
//! manager's pages show and change them.

use alliance_web::backend::{Account, ActionFailure};

use super::{failure, invalid};
use crate::{
    booking::{rules::BookingRules, service::Training},
    web::WebBackend,
};

impl WebBackend {
    pub(super) fn rules_of_instrument(&self, local_id: &str) -> Option<BookingRules> {
        let id = format!("{}/{local_id}", self.certificate.institution_id);
        self.catalogue.instrument_unfiltered(&id)?;
        self.bookings.rules(local_id).ok()
    }

    pub(super) async fn set_rules_of_instrument(
        &self,
        local_id: &str,
        rules: BookingRules,
    ) -> Result<BookingRules, ActionFailure> {
        let id = format!("{}/{local_id}", self.certificate.institution_id);
        if self.catalogue.instrument_unfiltered(&id).is_none() {
            return Err(ActionFailure::NotFound);
        }
        self.bookings
            .set_rules(local_id, &rules)
            .await
            .map_err(failure)?;
        Ok(rules)
    }

    pub(super) fn all_trainings(&self) -> Vec<Training> {
        self.bookings.trainings().unwrap_or_default()
    }

    pub(super) fn knows_trained(&self, account: &Account, instrument_id: &str) -> bool {
        let Some((owner, local_id)) = instrument_id.split_once('/') else {
            return false;
        };
        let Ok(owner) = owner.parse() else {
            return false;
        };
        self.bookings
            .home_knows_trained(
                &account.username,
                &owner,
                local_id,
                alliance_protocol::UnixTime::now(),
            )
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read the trainings known here");
                false
            })
    }

    pub(super) async fn record_training_of(
        &self,
        account: &Account,
        training: Training,
    ) -> Result<Training, ActionFailure> {
        let id = format!("{}/{}", self.certificate.institution_id, training.local_id);
        if self.catalogue.instrument_unfiltered(&id).is_none() {
            return Err(ActionFailure::NotFound);
        }
        if training.user_id.trim().is_empty() {
            return Err(invalid("user_id", "required"));
        }
        let record = Training {
            user_id: training.user_id.trim().to_owned(),
            recorded_by: account.username.clone(),
            ..training
        };
        self.bookings
            .record_training(&record)
            .await
            .map_err(failure)?;
        Ok(record)
    }
}
