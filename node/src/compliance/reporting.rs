//! Each instrument's standing against the reporting rule (R7): worth 300,000 RMB or more,
//! on the network within 30 working days of installation acceptance. An instrument with
//! an acceptance date but no networked date is not on the network yet.

use alliance_protocol::InstrumentRecord;
use chrono::NaiveDate;

use crate::official_calendar::{BeyondCalendar, add_working_days, working_days_between};

/// The value from which reporting is required: 300,000 RMB (the national rule is 500,000).
pub(crate) const REQUIRED_FROM_FEN: i64 = 30_000_000;
/// Working days from acceptance to being on the network.
pub(crate) const WORKING_DAYS_ALLOWED: u32 = 30;

/// Where an instrument stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Below the value threshold: joining the network is voluntary.
    NotRequired,
    /// No (readable) acceptance date: the deadline cannot be known.
    NoAcceptanceDate,
    OnTime {
        deadline: NaiveDate,
    },
    /// On the network, but after the deadline.
    Late {
        deadline: NaiveDate,
        working_days_late: u32,
    },
    /// Not on the network, deadline not yet passed.
    Pending {
        deadline: NaiveDate,
    },
    /// Not on the network, deadline passed.
    Missing {
        deadline: NaiveDate,
        working_days_late: u32,
    },
    /// The deadline or the delay reaches past the official calendar known here; flagged
    /// for a person to decide rather than guessed.
    BeyondCalendar {
        date: NaiveDate,
    },
}

impl Standing {
    /// Whether the province should list it (late, missing, or not decidable).
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            Standing::Late { .. }
                | Standing::Missing { .. }
                | Standing::BeyondCalendar { .. }
                | Standing::NoAcceptanceDate
        )
    }
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// An instrument's standing on `today`.
pub(crate) fn standing(record: &InstrumentRecord, today: NaiveDate) -> Standing {
    if record.original_value_fen < REQUIRED_FROM_FEN {
        return Standing::NotRequired;
    }
    let Some(accepted) = date(&record.acceptance_date) else {
        return Standing::NoAcceptanceDate;
    };
    decide(accepted, date(&record.networked_date), today)
        .unwrap_or_else(|BeyondCalendar { date, .. }| Standing::BeyondCalendar { date })
}

fn decide(
    accepted: NaiveDate,
    networked: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Standing, BeyondCalendar> {
    let deadline = add_working_days(accepted, WORKING_DAYS_ALLOWED)?;
    Ok(match networked {
        Some(on) if on <= deadline => Standing::OnTime { deadline },
        Some(on) => Standing::Late {
            deadline,
            working_days_late: working_days_between(deadline, on)?,
        },
        None if today <= deadline => Standing::Pending { deadline },
        None => Standing::Missing {
            deadline,
            working_days_late: working_days_between(deadline, today)?,
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn record(
        local_id: &str,
        value_yuan: i64,
        accepted: &str,
        networked: &str,
    ) -> InstrumentRecord {
        InstrumentRecord {
            original_value_fen: value_yuan * 100,
            acceptance_date: accepted.into(),
            networked_date: networked.into(),
            ..InstrumentRecord::new("dlut".parse().unwrap(), local_id.into(), "仪器".into())
        }
    }

    #[test]
    fn the_rule_counts_working_days_across_spring_festival() {
        let today = day(2026, 11, 27);
        // Accepted 30 January 2026: deadline Thursday 19 March (see workdays' tests).
        let deadline = day(2026, 3, 19);
        assert_eq!(
            standing(&record("A", 1_200_000, "2026-01-30", "2026-03-19"), today),
            Standing::OnTime { deadline }
        );
        // Networked Monday 23 March: Fri 20 and Mon 23 are two working days late.
        assert_eq!(
            standing(&record("B", 1_200_000, "2026-01-30", "2026-03-23"), today),
            Standing::Late {
                deadline,
                working_days_late: 2
            }
        );
        assert_eq!(
            standing(&record("C", 300_000, "2026-01-30", ""), today),
            Standing::Missing {
                deadline,
                working_days_late: working_days_between(deadline, today).unwrap()
            }
        );
        assert_eq!(
            standing(&record("D", 299_999, "2026-01-30", ""), today),
            Standing::NotRequired
        );
        assert_eq!(
            standing(&record("E", 500_000, "", "2026-03-01"), today),
            Standing::NoAcceptanceDate
        );
        // Accepted Tuesday 20 October: the 30th working day is Tuesday 1 December.
        assert_eq!(
            standing(&record("F", 500_000, "2026-10-20", ""), today),
            Standing::Pending {
                deadline: day(2026, 12, 1)
            }
        );
        // Accepted 20 November: the 26th working day would be 28 December, past the
        // calendar's last known day (25 December).
        assert_eq!(
            standing(&record("G", 500_000, "2026-11-20", ""), today),
            Standing::BeyondCalendar {
                date: day(2026, 12, 26)
            }
        );
    }

    #[test]
    fn a_deadline_past_the_known_calendar_is_flagged_and_listed() {
        let today = day(2026, 12, 1);
        let recent = record("G", 2_000_000, "2026-12-01", "");
        let standing = standing(&recent, today);
        assert!(
            matches!(standing, Standing::BeyondCalendar { .. }),
            "{standing:?}"
        );
        assert!(standing.needs_attention());
        assert!(!super::standing(&record("H", 100, "2020-01-01", ""), today).needs_attention());
    }
}
