//! Booking rules and training certifications of this institution's instruments, as the
//! manager's pages show and change them.

use alliance_admin_ui::backend::{Account, BlackoutView, BookingFailure, RulesView, TrainingView};
use alliance_protocol::{InstitutionId, UnixTime};

use super::{failure, invalid};
use crate::{
    booking::{
        rules::{Blackout, BlackoutKind, BookingRules},
        service::Training,
    },
    web::WebBackend,
};

fn rules_view(r: &BookingRules) -> RulesView {
    RulesView {
        min_lead_minutes: r.min_lead_minutes,
        max_duration_minutes: r.max_duration_minutes,
        granularity_minutes: r.granularity_minutes,
        approval_tiers: r.approval_tiers.clone(),
        cancel_deadline_hours: r.cancel_deadline_hours,
        hold_hours: r.hold_hours,
        blackouts: r
            .blackouts
            .iter()
            .map(|b| BlackoutView {
                start: b.start.0,
                end: b.end.0,
                kind: match b.kind {
                    BlackoutKind::Maintenance => "maintenance".into(),
                    BlackoutKind::Holiday => "holiday".into(),
                },
                reason: b.reason.clone(),
            })
            .collect(),
    }
}

fn rules_of(v: RulesView) -> Result<BookingRules, BookingFailure> {
    let blackouts = v
        .blackouts
        .into_iter()
        .map(|b| {
            let kind = match b.kind.as_str() {
                "maintenance" => BlackoutKind::Maintenance,
                "holiday" => BlackoutKind::Holiday,
                _ => return Err(invalid("blackouts", "kind is maintenance or holiday")),
            };
            Ok(Blackout {
                start: UnixTime(b.start),
                end: UnixTime(b.end),
                kind,
                reason: b.reason,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(BookingRules {
        min_lead_minutes: v.min_lead_minutes,
        max_duration_minutes: v.max_duration_minutes,
        granularity_minutes: v.granularity_minutes,
        approval_tiers: v.approval_tiers,
        cancel_deadline_hours: v.cancel_deadline_hours,
        hold_hours: v.hold_hours,
        blackouts,
    })
}

fn training_view(t: Training) -> TrainingView {
    TrainingView {
        local_id: t.local_id,
        home: t.home.to_string(),
        user_id: t.user_id,
        trained_at: t.trained_at.0,
        valid_until: t.valid_until.0,
        recorded_by: t.recorded_by,
    }
}

impl WebBackend {
    pub(super) fn rules_of_instrument(&self, local_id: &str) -> Option<RulesView> {
        let id = format!("{}/{local_id}", self.certificate.institution_id);
        self.catalogue.instrument_unfiltered(&id)?;
        self.bookings.rules(local_id).ok().map(|r| rules_view(&r))
    }

    pub(super) async fn set_rules_of_instrument(
        &self,
        local_id: &str,
        rules: RulesView,
    ) -> Result<RulesView, BookingFailure> {
        let id = format!("{}/{local_id}", self.certificate.institution_id);
        if self.catalogue.instrument_unfiltered(&id).is_none() {
            return Err(BookingFailure::NotFound);
        }
        let rules = rules_of(rules)?;
        self.bookings
            .set_rules(local_id, &rules)
            .await
            .map_err(failure)?;
        Ok(rules_view(&rules))
    }

    pub(super) fn all_trainings(&self) -> Vec<TrainingView> {
        self.bookings
            .trainings()
            .unwrap_or_default()
            .into_iter()
            .map(training_view)
            .collect()
    }

    pub(super) async fn record_training_of(
        &self,
        account: &Account,
        training: TrainingView,
    ) -> Result<TrainingView, BookingFailure> {
        let id = format!("{}/{}", self.certificate.institution_id, training.local_id);
        if self.catalogue.instrument_unfiltered(&id).is_none() {
            return Err(BookingFailure::NotFound);
        }
        let home: InstitutionId = training
            .home
            .parse()
            .map_err(|_| invalid("home", "an institution id"))?;
        if training.user_id.trim().is_empty() {
            return Err(invalid("user_id", "required"));
        }
        let record = Training {
            local_id: training.local_id,
            home,
            user_id: training.user_id.trim().to_owned(),
            trained_at: UnixTime(training.trained_at),
            valid_until: UnixTime(training.valid_until),
            recorded_by: account.username.clone(),
        };
        self.bookings
            .record_training(&record)
            .await
            .map_err(failure)?;
        Ok(training_view(record))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rules_round_trip_through_the_web_form_and_refuse_an_unknown_blackout() {
        let rules = BookingRules {
            min_lead_minutes: 120,
            blackouts: vec![Blackout {
                start: UnixTime(1_922_400_000),
                end: UnixTime(1_922_428_800),
                kind: BlackoutKind::Holiday,
                reason: "元旦".into(),
            }],
            ..BookingRules::default()
        };
        assert_eq!(rules_of(rules_view(&rules)).unwrap(), rules);
        let mut view = rules_view(&rules);
        view.blackouts[0].kind = "party".into();
        assert!(matches!(
            rules_of(view),
            Err(BookingFailure::Invalid { field, .. }) if field == "blackouts"
        ));
    }
}
