//! Building an instrument's availability digest: its opening schedule over the next
//! eight weeks from this week's Monday (Asia/Shanghai), with its service status, and the
//! owner's busy spans — bookings that take a slot, maintenance and holiday blackouts.

use alliance_protocol::{
    HourState, InstrumentRecord, InstrumentStatus, UnixTime,
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

/// A span the owner's calendar marks: booked, or closed for maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusySpan {
    pub start: UnixTime,
    pub end: UnixTime,
    /// [`HourState::Booked`], [`HourState::Maintenance`] or [`HourState::Closed`] (a
    /// holiday).
    pub state: HourState,
}

/// Where the owner's busy spans of an instrument come from (the booking service).
pub trait BusySource: Send + Sync + std::fmt::Debug {
    /// The spans of one of this institution's instruments, by local id.
    fn busy(&self, local_id: &str) -> Vec<BusySpan>;
}

/// The hour states of `record` for [`DIGEST_WEEKS`] weeks from `monday`, with `busy`
/// spans marked over the hours they touch: a booking over open hours, maintenance or a
/// holiday over any hour.
pub fn hours_with(
    record: &InstrumentRecord,
    monday: NaiveDate,
    busy: &[BusySpan],
) -> Vec<HourState> {
    let mut hours = hours(record);
    let Some(first) = monday
        .and_hms_opt(0, 0, 0)
        .and_then(|m| m.and_local_timezone(Shanghai).single())
        .map(|m| m.timestamp())
    else {
        return hours;
    };
    // Only the hours of the window are walked, however long a span (a blackout may be
    // set years ahead) and whatever its ends.
    let window = i64::try_from(hours.len()).unwrap_or(i64::MAX);
    for span in busy {
        let from = span.start.0.saturating_sub(first).div_euclid(3600).max(0);
        let to = span
            .end
            .0
            .saturating_sub(first)
            .saturating_add(3599)
            .div_euclid(3600)
            .min(window);
        for hour in from..to {
            let Some(state) = usize::try_from(hour).ok().and_then(|h| hours.get_mut(h)) else {
                continue;
            };
            match span.state {
                HourState::Booked if *state == HourState::Free => *state = HourState::Booked,
                HourState::Maintenance => *state = HourState::Maintenance,
                HourState::Closed => *state = HourState::Closed,
                _ => {}
            }
        }
    }
    hours
}

/// The hour states of `record` for [`DIGEST_WEEKS`] weeks, from its schedule and status.
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

    #[test]
    fn bookings_and_maintenance_mark_the_hours_they_touch() {
        let mut record = InstrumentRecord::new("dlut".parse().unwrap(), "X".into(), "仪器".into());
        record.opening_hours = "每天 8:00-18:00".into();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        // Monday 2026-11-30 00:00 in Shanghai.
        let first = 1_796_054_400 - 86_400;
        let span = |from_h: i64, to_h: i64, state| BusySpan {
            start: UnixTime(first + from_h * 3600),
            end: UnixTime(first + to_h * 3600),
            state,
        };
        let h = hours_with(
            &record,
            monday,
            &[
                // Monday 09:30–11:00 booked: hours 9 and 10.
                BusySpan {
                    start: UnixTime(first + 9 * 3600 + 1800),
                    end: UnixTime(first + 11 * 3600),
                    state: HourState::Booked,
                },
                // Tuesday 06:00–09:00 maintenance, over closed hours too.
                span(24 + 6, 24 + 9, HourState::Maintenance),
                // Before the digest starts: ignored.
                span(-30, -20, HourState::Booked),
            ],
        );
        assert_eq!(h[8], HourState::Free);
        assert_eq!(h[9], HourState::Booked);
        assert_eq!(h[10], HourState::Booked);
        assert_eq!(h[11], HourState::Free);
        assert_eq!(h[24 + 6], HourState::Maintenance);
        assert_eq!(h[24 + 8], HourState::Maintenance);
        assert_eq!(h[24 + 9], HourState::Free);
        assert_eq!(h.len(), DIGEST_HOURS);
    }

    #[test]
    fn a_span_of_any_length_costs_only_the_window() {
        let record = InstrumentRecord::new("dlut".parse().unwrap(), "X".into(), "仪器".into());
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        // Ends at the far edges of time: neither overflows nor walks a billion years.
        let forever = BusySpan {
            start: UnixTime(i64::MIN),
            end: UnixTime(i64::MAX),
            state: HourState::Closed,
        };
        let h = hours_with(&record, monday, &[forever]);
        assert_eq!(h.len(), DIGEST_HOURS);
        assert!(h.iter().all(|s| *s == HourState::Closed));
    }
}
