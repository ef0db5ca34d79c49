//! A booking as a person types it — in the form of an instrument page or as JSON in
//! `POST /api/v1/bookings` — and the checks the web layer makes before asking the owner, so
//! a form can show every problem next to its field. The owner checks the rest (opening
//! hours, its calendar, who may book).

use alliance_protocol::booking::ManagerDecision;
use alliance_protocol::{
    ServiceMode, UnixTime,
    booking::{BookingAsk, MAX_SAMPLES},
    record::MAX_LONG_TEXT,
};
use serde::{Deserialize, Serialize};

use crate::{
    instrument_input::snake,
    time,
    validate::{FieldError, Problem},
};

/// The longest booking any owner may allow (its own rules may allow less).
pub(crate) const MAX_MINUTES: u32 = alliance_protocol::booking::rule_limits::MAX_DURATION_MINUTES;

/// The lengths the form offers, shortest first. The home does not hold the owner's rules
/// (its grid is 1 minute to a day, its longest booking up to 31 days), so the form offers
/// the lengths grids commonly allow — short slots, half hours up to a working day, whole
/// days up to a week — and the owner refuses one off its grid, naming its rule. The API
/// takes any whole number of minutes up to [`MAX_MINUTES`].
pub(crate) fn lengths() -> impl Iterator<Item = u32> {
    let short = [10, 15, 20];
    let half_hours = (1..=16).map(|i| i * 30);
    let longer = [10 * 60, 12 * 60];
    let days = (1..=7).map(|d| d * 24 * 60);
    short
        .into_iter()
        .chain(half_hours)
        .chain(longer)
        .chain(days)
}

/// A fresh booking id: the page puts one in every form so sending it twice books once.
pub(crate) fn new_booking_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// The modes an instrument offers, as the form lists them.
pub(crate) fn offered(modes: &[ServiceMode]) -> Vec<ServiceMode> {
    modes
        .iter()
        .copied()
        .filter(|m| *m != ServiceMode::Unspecified)
        .collect()
}

/// Whether a manager's decision must say why (the user is told): rejecting and cancelling.
pub(crate) fn needs_note(decision: ManagerDecision) -> bool {
    matches!(
        decision,
        ManagerDecision::Reject | ManagerDecision::CancelByOwner
    )
}

/// What a user asks for on an instrument page or through `POST /api/v1/bookings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct BookingForm {
    /// `institution/local_id`.
    pub instrument_id: String,
    /// Start, `YYYY-MM-DDTHH:MM` in Asia/Shanghai.
    pub start: String,
    /// Length in whole minutes, 1 to 44,640 (31 days); the owner's rules may allow less,
    /// on its grid.
    #[schema(minimum = 1, maximum = 44_640)]
    pub minutes: u32,
    pub mode: ServiceMode,
    #[serde(default)]
    pub samples: u32,
    #[serde(default)]
    pub purpose: String,
    /// Chosen by the client to make a retry safe; generated when empty.
    #[serde(default)]
    pub booking_id: String,
    /// The service item (a fee item's Chinese name, as the instrument lists it); the quote
    /// covers it only. Required where the instrument offers several for the mode.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub service_item: String,
}

/// A booking read once from a form or the API: what to ask the owner, under which id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Asked {
    pub ask: BookingAsk,
    /// The client's, or a fresh one when it sent none.
    pub booking_id: String,
}

/// The booking form of a page, every field as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BookingInput {
    pub csrf: String,
    pub instrument_id: String,
    pub booking_id: String,
    /// `YYYY-MM-DDTHH:MM`, Beijing time.
    pub start: String,
    pub minutes: String,
    /// `self_operated` or `staff_run`.
    pub mode: String,
    pub samples: String,
    pub purpose: String,
    /// A fee item's Chinese name.
    pub service_item: String,
}

impl BookingInput {
    /// The form as the API would take it and the booking read from it, or every problem
    /// at once. `modes` are those the instrument offers.
    pub(crate) fn to_form(
        &self,
        modes: &[ServiceMode],
    ) -> Result<(BookingForm, Asked), Vec<FieldError>> {
        let mut errors = Vec::new();
        let minutes = self.minutes.trim().parse::<u32>().unwrap_or(0);
        let mode = offered(modes)
            .into_iter()
            .find(|m| snake(*m) == self.mode.trim())
            .unwrap_or(ServiceMode::Unspecified);
        let samples = match self.samples.trim() {
            "" => 0,
            text => text.parse::<u32>().unwrap_or_else(|_| {
                errors.push(FieldError::new("samples", Problem::Choice));
                0
            }),
        };
        let form = BookingForm {
            instrument_id: self.instrument_id.trim().to_owned(),
            start: self.start.trim().to_owned(),
            minutes,
            mode,
            samples,
            purpose: self.purpose.trim().to_owned(),
            booking_id: self.booking_id.trim().to_owned(),
            service_item: self.service_item.trim().to_owned(),
        };
        match parse(&form, modes) {
            Ok(asked) if errors.is_empty() => Ok((form, asked)),
            Ok(_) => Err(errors),
            Err(problems) => {
                errors.extend(problems);
                Err(errors)
            }
        }
    }
}

/// A booking however it came, read once: every problem, or what to ask the owner.
/// `modes` are those the instrument offers.
pub(crate) fn parse(form: &BookingForm, modes: &[ServiceMode]) -> Result<Asked, Vec<FieldError>> {
    match check(form, modes) {
        (errors, Some(start)) if errors.is_empty() => Ok(Asked {
            ask: BookingAsk {
                instrument_id: form.instrument_id.trim().to_owned(),
                start: UnixTime(start),
                end: UnixTime(start + i64::from(form.minutes) * 60),
                mode: form.mode,
                samples: form.samples,
                purpose: form.purpose.trim().to_owned(),
                service_item: form.service_item.trim().to_owned(),
            },
            booking_id: match form.booking_id.trim() {
                "" => new_booking_id(),
                id => id.to_owned(),
            },
        }),
        (errors, _) => Err(errors),
    }
}

/// Every problem of a booking however it came, and its start when that reads;
/// `modes` are those the instrument offers.
fn check(form: &BookingForm, modes: &[ServiceMode]) -> (Vec<FieldError>, Option<i64>) {
    let mut errors = Vec::new();
    // Whole minutes: a browser may send `:00` seconds, but any other second would only be
    // refused by the owner as not on its booking grid.
    let start = time::parse_local_input(&form.start).filter(|start| start % 60 == 0);
    if start.is_none() {
        errors.push(FieldError::new("start", Problem::DateTime));
    }
    if form.minutes == 0 || form.minutes > MAX_MINUTES {
        errors.push(FieldError::new("minutes", Problem::BookingLength));
    }
    if !offered(modes).contains(&form.mode) {
        errors.push(FieldError::new("mode", Problem::Choice));
    }
    if form.samples > MAX_SAMPLES {
        errors.push(FieldError::new("samples", Problem::Choice));
    }
    if form.purpose.len() > MAX_LONG_TEXT {
        errors.push(FieldError::new("purpose", Problem::TooLong));
    }
    if form.service_item.chars().count() > 64 {
        errors.push(FieldError::new("service_item", Problem::TooLong));
    }
    if !form.booking_id.is_empty()
        && !alliance_protocol::booking::is_valid_booking_id(&form.booking_id)
    {
        errors.push(FieldError::new("booking_id", Problem::Choice));
    }
    (errors, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> BookingInput {
        BookingInput {
            instrument_id: "dlut/LCMS-1".into(),
            start: "2026-11-30T09:00".into(),
            minutes: "90".into(),
            mode: "staff_run".into(),
            samples: "3".into(),
            ..BookingInput::default()
        }
    }

    #[test]
    fn a_good_form_becomes_a_booking() {
        let (form, asked) = input()
            .to_form(&[ServiceMode::StaffRun])
            .unwrap_or_else(|e| {
                panic!("{e:?}");
            });
        assert_eq!(form.minutes, 90);
        // 09:00 in Beijing is 01:00 UTC; 90 minutes later.
        assert_eq!(asked.ask.start, UnixTime(1_796_000_400));
        assert_eq!(asked.ask.end.0 - asked.ask.start.0, 90 * 60);
        assert_eq!(asked.ask.mode, ServiceMode::StaffRun);
        assert_eq!(asked.ask.samples, 3);
        // A form without an id gets a fresh one, valid as a booking id.
        assert!(alliance_protocol::booking::is_valid_booking_id(
            &asked.booking_id
        ));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = BookingInput {
            start: "tomorrow".into(),
            minutes: "0".into(),
            samples: "many".into(),
            ..input()
        };
        let Err(errors) = bad.to_form(&[ServiceMode::SelfOperated]) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["samples", "start", "minutes", "mode"]);
    }

    #[test]
    fn a_start_is_in_whole_minutes() {
        let modes = [ServiceMode::StaffRun];
        let with_zero_seconds = BookingInput {
            start: "2026-11-30T09:00:00".into(),
            ..input()
        };
        assert!(with_zero_seconds.to_form(&modes).is_ok());
        let with_seconds = BookingInput {
            start: "2026-11-30T09:00:30".into(),
            ..input()
        };
        let Err(errors) = with_seconds.to_form(&modes) else {
            panic!("accepted a start at 30 seconds past the minute");
        };
        assert_eq!(errors[0].field, "start");
    }

    #[test]
    fn the_form_offers_short_slots_half_hours_and_days_within_the_longest_booking() {
        let all: Vec<u32> = lengths().collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
        for common in [15, 30, 90, 480, 24 * 60, 7 * 24 * 60] {
            assert!(all.contains(&common), "{common} not offered");
        }
        assert!(all.iter().all(|m| (1..=MAX_MINUTES).contains(m)));
    }

    #[test]
    fn any_whole_number_of_minutes_up_to_the_longest_booking_is_taken() {
        let modes = [ServiceMode::StaffRun];
        for (minutes, taken) in [
            (0, false),
            (1, true),
            (15, true),
            (44_640, true),
            (44_641, false),
        ] {
            let asked = BookingInput {
                minutes: minutes.to_string(),
                ..input()
            };
            assert_eq!(asked.to_form(&modes).is_ok(), taken, "{minutes} minutes");
        }
    }
}
