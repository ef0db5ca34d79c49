//! Building an instrument's availability digest: its opening schedule over the next
//! eight weeks from this week's Monday (Asia/Shanghai), with its service status. Bookings
//! join in when booking exists.

use alliance_protocol::{
    HourState, InstrumentRecord, InstrumentStatus,
    availability::{DIGEST_HOURS, DIGEST_WEEKS},
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Asia::Shanghai;

use super::schedule;

/// The Monday of the week `now` falls in, in Asia/Shanghai.
pub fn this_monday(now: DateTime<Utc>) -> NaiveDate {
    let today = now.with_timezone(&Shanghai).date_naive();
    today - Duration::days(i64::from(today.weekday().num_days_from_monday()))
}

/// The hour states of `record` for [`DIGEST_WEEKS`] weeks from `monday`.
pub fn hours(record: &InstrumentRecord) -> Vec<HourState> {
    let week = schedule::parse(&record.opening_hours);
    let mut hours = Vec::with_capacity(DIGEST_HOURS);
    for day in 0..DIGEST_WEEKS * 7 {
        for &open in &week[day % 7] {
            hours.push(match record.status {
                _ if !open => HourState::Closed,
                InstrumentStatus::Retired | InstrumentStatus::Unspecified => HourState::Closed,
                InstrumentStatus::UnderMaintenance => HourState::Maintenance,
                InstrumentStatus::InService => HourState::Free,
            });
        }
    }
    hours
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_week_starts_on_monday_in_shanghai() {
        // Sunday 2026-11-29 20:00 UTC is Monday 04:00 in Shanghai.
        let late_sunday = Utc.with_ymd_and_hms(2026, 11, 29, 20, 0, 0).unwrap();
        assert_eq!(this_monday(late_sunday).to_string(), "2026-11-30");
        let friday = Utc.with_ymd_and_hms(2026, 11, 27, 3, 0, 0).unwrap();
        assert_eq!(this_monday(friday).to_string(), "2026-11-23");
    }

    #[test]
    fn opening_hours_and_status_decide_each_hour() {
        let mut record = InstrumentRecord::new("dlut".parse().unwrap(), "X".into(), "仪器".into());
        record.opening_hours = "周一至周五 9:00-11:00".into();
        let h = hours(&record);
        assert_eq!(h.len(), DIGEST_HOURS);
        assert_eq!(h[9], HourState::Free);
        assert_eq!(h[8], HourState::Closed);
        assert_eq!(h[5 * 24 + 9], HourState::Closed, "Saturday");
        assert_eq!(h[7 * 24 + 10], HourState::Free, "next Monday");
        record.status = InstrumentStatus::UnderMaintenance;
        assert_eq!(hours(&record)[9], HourState::Maintenance);
        record.status = InstrumentStatus::Retired;
        assert!(hours(&record).iter().all(|s| *s == HourState::Closed));
    }
}
