//! Periods of evaluation by name: a year (`2026`) or a quarter (`2026-Q3`), in
//! Asia/Shanghai time.

use alliance_protocol::UnixTime;
use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Asia::Shanghai;

use super::metrics::Period;

/// Why a period name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a year (2026) or a quarter (2026-Q3)")]
pub struct BadPeriod(pub String);

fn midnight(date: NaiveDate) -> Option<UnixTime> {
    let local = date.and_hms_opt(0, 0, 0)?;
    Shanghai
        .from_local_datetime(&local)
        .single()
        .map(|t| UnixTime(t.timestamp()))
}

impl Period {
    /// Reads `2026` or `2026-Q3`; an empty name is the year of `today`. Returns the
    /// period and its canonical name.
    pub fn parse(name: &str, today: NaiveDate) -> Result<(Period, String), BadPeriod> {
        let bad = || BadPeriod(name.to_owned());
        let name = name.trim();
        let (year, quarter) = match name.split_once("-Q") {
            _ if name.is_empty() => (today.year(), None),
            Some((year, quarter)) => (
                year.parse().map_err(|_| bad())?,
                Some(quarter.parse::<u32>().map_err(|_| bad())?),
            ),
            None => (name.parse().map_err(|_| bad())?, None),
        };
        if !(2000..=2100).contains(&year) {
            return Err(bad());
        }
        let (first_month, months) = match quarter {
            None => (1, 12),
            Some(q @ 1..=4) => (3 * q - 2, 3),
            Some(_) => return Err(bad()),
        };
        let from = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(bad)?;
        let to = from
            .checked_add_months(chrono::Months::new(months))
            .ok_or_else(bad)?;
        let period = Period {
            from: midnight(from).ok_or_else(bad)?,
            to: midnight(to).ok_or_else(bad)?,
        };
        let label = match quarter {
            None => format!("{year}"),
            Some(q) => format!("{year}-Q{q}"),
        };
        Ok((period, label))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn years_and_quarters_start_at_midnight_in_shanghai() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let (year, label) = Period::parse("", today).unwrap();
        assert_eq!(label, "2026");
        // 2026-01-01 00:00 in Shanghai is 2025-12-31 16:00 UTC.
        assert_eq!(year.from, UnixTime(1_767_196_800));
        assert_eq!(year.to.0 - year.from.0, 365 * 86_400);
        let (q3, label) = Period::parse("2026-Q3", today).unwrap();
        assert_eq!(label, "2026-Q3");
        assert_eq!(q3.from, UnixTime(1_767_196_800 + 181 * 86_400));
        assert_eq!(q3.to.0 - q3.from.0, 92 * 86_400);
        for bad in ["20x6", "2026-Q5", "2026-Q0", "1999", "2026-q1"] {
            assert!(Period::parse(bad, today).is_err(), "{bad}");
        }
    }
}
