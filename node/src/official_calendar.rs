//! Working days in mainland China: weekdays, less the official holidays, plus the
//! weekend days made working days (调休) — from the `chinese_holiday` crate, which
//! carries each year's State Council notice. A date outside the years it carries is
//! reported as such: whether it is a working day is not known, and nothing is guessed.
//! Compliance counts working days on it; instruments close on its public holidays.

use chinese_holiday::{DayKind, Ymd, chinese_holiday};
use chrono::{Datelike, NaiveDate};

/// The first and last dates the calendar covers (the crate's own bounds; the last moves
/// with each year's notice as the crate is updated).
const KNOWN_FROM: (i32, u32, u32) = (2004, 1, 1);
const KNOWN_UNTIL: (i32, u32, u32) = (2026, 12, 25);

/// A date the official calendar does not cover yet (or any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{date} is outside the official holiday calendar known here ({from} to {until})")]
pub(crate) struct BeyondCalendar {
    pub date: NaiveDate,
    pub from: NaiveDate,
    pub until: NaiveDate,
}

fn bound((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The last date the calendar covers.
#[cfg(test)]
fn known_until() -> NaiveDate {
    bound(KNOWN_UNTIL)
}

/// What the official calendar says of `date`.
fn day_kind(date: NaiveDate) -> Result<DayKind, BeyondCalendar> {
    let (from, until) = (bound(KNOWN_FROM), bound(KNOWN_UNTIL));
    if date < from || date > until {
        return Err(BeyondCalendar { date, from, until });
    }
    // In range, so these narrow without loss.
    let ymd = Ymd::new(
        u16::try_from(date.year()).unwrap_or_default(),
        u8::try_from(date.month()).unwrap_or_default(),
        u8::try_from(date.day()).unwrap_or_default(),
    );
    Ok(chinese_holiday(ymd))
}

/// Whether `date` is a working day.
pub(crate) fn is_working_day(date: NaiveDate) -> Result<bool, BeyondCalendar> {
    Ok(day_kind(date)?.is_workday())
}

/// Whether `date` is a public holiday (法定节假日 and the days joined to it), not an
/// ordinary weekend.
pub(crate) fn is_public_holiday(date: NaiveDate) -> Result<bool, BeyondCalendar> {
    let kind = day_kind(date)?;
    Ok(!kind.is_workday() && kind != DayKind::NormalHoliday)
}

/// The `n`th working day after `start` (`start` itself not counted).
pub(crate) fn add_working_days(start: NaiveDate, n: u32) -> Result<NaiveDate, BeyondCalendar> {
    let mut date = start;
    let mut left = n;
    while left > 0 {
        date = date.succ_opt().ok_or(BeyondCalendar {
            date,
            from: bound(KNOWN_FROM),
            until: bound(KNOWN_UNTIL),
        })?;
        if is_working_day(date)? {
            left -= 1;
        }
    }
    Ok(date)
}

/// Working days after `from` up to and including `to` (0 if `to` is not after `from`).
pub(crate) fn working_days_between(from: NaiveDate, to: NaiveDate) -> Result<u32, BeyondCalendar> {
    let mut count = 0;
    let mut date = from;
    while date < to {
        let Some(next) = date.succ_opt() else { break };
        date = next;
        if is_working_day(date)? {
            count += 1;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn spring_festival_2026_with_its_make_up_saturdays() {
        // 2 月 15 日至 23 日放假；2 月 14 日（周六）、28 日（周六）上班。
        assert!(is_working_day(day(2026, 2, 14)).unwrap());
        assert!(!is_working_day(day(2026, 2, 16)).unwrap());
        assert!(!is_working_day(day(2026, 2, 23)).unwrap());
        assert!(is_working_day(day(2026, 2, 28)).unwrap());
        // Friday 13th, then Saturday 14th (make-up), then nothing until Tuesday 24th.
        assert_eq!(
            add_working_days(day(2026, 2, 13), 1).unwrap(),
            day(2026, 2, 14)
        );
        assert_eq!(
            add_working_days(day(2026, 2, 13), 2).unwrap(),
            day(2026, 2, 24)
        );
        // Accepted Friday 30 January: the 30th working day, counted by hand, is Thursday
        // 19 March (5 + 5 + Sat 14 Feb + 4 + Sat 28 Feb + 5 + 5 + 4).
        assert_eq!(
            add_working_days(day(2026, 1, 30), 30).unwrap(),
            day(2026, 3, 19)
        );
    }

    #[test]
    fn national_day_2026_with_mid_autumn_and_make_up_days() {
        // 9 月 20 日（周日）、10 月 10 日（周六）上班；中秋 9 月 25–27 日，国庆 10 月 1–7 日。
        assert!(is_working_day(day(2026, 9, 20)).unwrap());
        assert!(!is_working_day(day(2026, 9, 25)).unwrap());
        assert!(!is_working_day(day(2026, 10, 5)).unwrap());
        assert!(is_working_day(day(2026, 10, 10)).unwrap());
        // After Friday 18 September up to Monday 12 October: Sun 20, 21–24, 28–30, 8–9,
        // Sat 10, Mon 12.
        assert_eq!(
            working_days_between(day(2026, 9, 18), day(2026, 10, 12)).unwrap(),
            12
        );
        assert_eq!(
            working_days_between(day(2026, 10, 12), day(2026, 9, 18)).unwrap(),
            0
        );
    }

    #[test]
    fn public_holidays_are_not_ordinary_weekends() {
        assert!(is_public_holiday(day(2026, 10, 1)).unwrap(), "National Day");
        assert!(
            is_public_holiday(day(2026, 10, 4)).unwrap(),
            "a Sunday joined to it"
        );
        assert!(
            is_public_holiday(day(2026, 2, 17)).unwrap(),
            "Spring Festival"
        );
        assert!(
            !is_public_holiday(day(2026, 10, 10)).unwrap(),
            "make-up Saturday"
        );
        assert!(
            !is_public_holiday(day(2026, 11, 28)).unwrap(),
            "ordinary Saturday"
        );
        assert!(
            !is_public_holiday(day(2026, 11, 30)).unwrap(),
            "ordinary Monday"
        );
        assert!(is_public_holiday(day(2027, 1, 1)).is_err());
    }

    #[test]
    fn a_date_beyond_the_known_calendar_is_flagged_not_guessed() {
        let err = is_working_day(day(2027, 1, 4)).unwrap_err();
        assert_eq!(err.date, day(2027, 1, 4));
        assert_eq!(err.until, known_until());
        assert!(is_working_day(day(2003, 12, 31)).is_err());
        // Counting into the unknown stops there.
        assert!(add_working_days(day(2026, 12, 1), 30).is_err());
        assert!(working_days_between(day(2026, 12, 20), day(2027, 1, 10)).is_err());
    }
}
