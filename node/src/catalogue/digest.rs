//! Building an instrument's availability digest: its opening schedule over the next
//! eight weeks from this week's Monday (Asia/Shanghai), with its service status, and the
//! owner's busy spans — bookings that take a slot, maintenance and holiday blackouts —,
//! the public holidays it keeps closed, and the owner's booking window.

use alliance_protocol::{
    BookingWindow, HourState, InstrumentRecord, InstrumentStatus, UnixTime,
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

/// What the owner's booking service says of one instrument's calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerCalendar {
    pub busy: Vec<BusySpan>,
    /// The public part of its booking rules.
    pub window: Option<BookingWindow>,
    /// Whether it takes bookings on public holidays (closed on them otherwise).
    pub open_on_holidays: bool,
}

/// Where the owner's calendar of an instrument comes from (the booking service).
pub trait BusySource: Send + Sync + std::fmt::Debug {
    /// The calendar of one of this institution's instruments, by local id.
    fn calendar(&self, local_id: &str) -> OwnerCalendar;
}

/// The parts of a digest the record and the owner's calendar decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestDays {
    pub hours: Vec<HourState>,
    /// Bit `d`: day `d` is a holiday the instrument keeps closed.
    pub holiday_days: u64,
    pub window: Option<BookingWindow>,
}

/// The digest of `record` from `monday` under the owner's `calendar`: its busy spans
/// marked, public holidays closed unless it opens them (an hour booked before stays
/// booked), and which days are holidays — those closed for a public holiday and those
/// a holiday blackout touches — so calendars can say why they are closed.
pub fn digest_days(
    record: &InstrumentRecord,
    monday: NaiveDate,
    calendar: &OwnerCalendar,
) -> DigestDays {
    let mut hours = hours_with(record, monday, &calendar.busy);
    let mut holiday_days = blackout_days(monday, &calendar.busy);
    for (d, day) in hours.chunks_mut(24).enumerate().take(64) {
        let date = monday + Duration::days(i64::try_from(d).unwrap_or_default());
        // Beyond the official calendar's years only the owner's holiday blackouts apply.
        let public = crate::official_calendar::is_public_holiday(date).unwrap_or(false);
        if public && !calendar.open_on_holidays {
            holiday_days |= 1 << d;
            for hour in day.iter_mut().filter(|h| **h == HourState::Free) {
                *hour = HourState::Closed;
            }
        }
    }
    DigestDays {
        hours,
        holiday_days,
        window: calendar.window,
    }
}

/// Unix seconds of 00:00 of `day` in Shanghai.
fn midnight(day: NaiveDate) -> Option<i64> {
    day.and_hms_opt(0, 0, 0)
        .and_then(|m| m.and_local_timezone(Shanghai).single())
        .map(|m| m.timestamp())
}

/// The days of the window from `monday` that a holiday blackout touches.
fn blackout_days(monday: NaiveDate, busy: &[BusySpan]) -> u64 {
    let Some(first) = midnight(monday) else {
        return 0;
    };
    let days = i64::try_from(DIGEST_WEEKS * 7).unwrap_or(64).min(64);
    let mut bits = 0u64;
    for span in busy.iter().filter(|s| s.state == HourState::Closed) {
        let from = span.start.0.saturating_sub(first).div_euclid(86_400).max(0);
        let to = span
            .end
            .0
            .saturating_sub(first)
            .saturating_sub(1)
            .div_euclid(86_400)
            .min(days - 1);
        for d in from..=to {
            bits |= 1 << d;
        }
    }
    bits
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
    let Some(first) = midnight(monday) else {
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
        let calendar = OwnerCalendar {
            busy: vec![forever],
            ..OwnerCalendar::default()
        };
        assert_eq!(
            digest_days(&record, monday, &calendar).holiday_days,
            (1 << 56) - 1
        );
    }

    #[test]
    fn public_holidays_close_unless_the_owner_opens_them() {
        let mut record = InstrumentRecord::new("dlut".parse().unwrap(), "X".into(), "仪器".into());
        record.opening_hours = "每天 8:00-18:00".into();
        // Monday 28 September 2026: National Day is Thursday 1 to Wednesday 7 October.
        let monday = NaiveDate::from_ymd_opt(2026, 9, 28).unwrap();
        // Monday 28 September 00:00 in Shanghai.
        let first = 1_790_524_800;
        let booked_before = BusySpan {
            start: UnixTime(first + (3 * 24 + 9) * 3600),
            end: UnixTime(first + (3 * 24 + 10) * 3600),
            state: HourState::Booked,
        };
        let calendar = OwnerCalendar {
            busy: vec![booked_before],
            ..OwnerCalendar::default()
        };
        let days = digest_days(&record, monday, &calendar);
        assert_eq!(days.hours[9], HourState::Free, "Monday works");
        assert_eq!(days.hours[3 * 24 + 10], HourState::Closed, "1 October");
        assert_eq!(
            days.hours[3 * 24 + 9],
            HourState::Booked,
            "booked before stays"
        );
        assert_eq!(days.hours[9 * 24 + 10], HourState::Closed, "7 October");
        assert_eq!(days.hours[10 * 24 + 10], HourState::Free, "8 October");
        assert_eq!(days.holiday_days, 0b111_1111 << 3);
        let opened = digest_days(
            &record,
            monday,
            &OwnerCalendar {
                open_on_holidays: true,
                ..calendar
            },
        );
        assert_eq!(opened.hours[3 * 24 + 10], HourState::Free);
        assert_eq!(opened.holiday_days, 0);
    }

    #[test]
    fn a_holiday_blackout_marks_the_days_it_touches() {
        let record = InstrumentRecord::new("dlut".parse().unwrap(), "X".into(), "仪器".into());
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let first = 1_796_054_400 - 86_400;
        let calendar = OwnerCalendar {
            // Tuesday 12:00 to Thursday 00:00: Tuesday and Wednesday.
            busy: vec![BusySpan {
                start: UnixTime(first + 36 * 3600),
                end: UnixTime(first + 72 * 3600),
                state: HourState::Closed,
            }],
            ..OwnerCalendar::default()
        };
        assert_eq!(digest_days(&record, monday, &calendar).holiday_days, 0b110);
    }
}
