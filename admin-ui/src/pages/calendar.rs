//! An instrument's calendar as the booking tool: the owner's digest read hour by hour, a
//! week at a time on a desktop and a day at a time on a phone. Each hour says whether a
//! request could take it and, if not, why — past, too soon for the lead time, beyond the
//! horizon, booked, the user's own, maintenance, a holiday, closed — by pattern, mark and
//! text, not colour alone. Only hours a request could take link to the booking form.

use alliance_protocol::{BookingWindow, HourState};

use super::Ctx;
use crate::{backend::InstrumentDetail, i18n::Strings, time};

/// What an hour is to the person looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    Free,
    Mine,
    Booked,
    Maintenance,
    Holiday,
    Closed,
    Past,
    TooSoon,
    BeyondHorizon,
}

impl Cell {
    /// In the order the legend lists them.
    const ALL: [Cell; 9] = [
        Cell::Free,
        Cell::Mine,
        Cell::Booked,
        Cell::Maintenance,
        Cell::Holiday,
        Cell::Closed,
        Cell::Past,
        Cell::TooSoon,
        Cell::BeyondHorizon,
    ];

    fn class(self) -> &'static str {
        match self {
            Cell::Free => "free",
            Cell::Mine => "mine",
            Cell::Booked => "booked",
            Cell::Maintenance => "maintenance",
            Cell::Holiday => "holiday",
            Cell::Closed => "closed",
            Cell::Past => "past",
            Cell::TooSoon => "too-soon",
            Cell::BeyondHorizon => "beyond",
        }
    }

    fn label(self, t: &Strings) -> &'static str {
        let c = t.cat;
        match self {
            Cell::Free => c.avail_free,
            Cell::Mine => c.avail_mine,
            Cell::Booked => c.avail_booked,
            Cell::Maintenance => c.avail_maintenance,
            Cell::Holiday => c.avail_holiday,
            Cell::Closed => c.avail_closed,
            Cell::Past => c.avail_past,
            Cell::TooSoon => c.avail_too_soon,
            Cell::BeyondHorizon => c.avail_beyond,
        }
    }

    /// The short text shown in the cell itself.
    fn mark(self, t: &Strings) -> &'static str {
        let c = t.cat;
        match self {
            Cell::Free | Cell::Past | Cell::TooSoon | Cell::BeyondHorizon | Cell::Closed => "",
            Cell::Mine => c.mark_mine,
            Cell::Booked => c.mark_booked,
            Cell::Maintenance => c.mark_maintenance,
            Cell::Holiday => c.mark_holiday,
        }
    }
}

/// Unix seconds of the Shanghai midnight before `t` (Shanghai keeps no summer time).
fn midnight(t: i64) -> i64 {
    t - (t + 8 * 3600).rem_euclid(86_400)
}

/// The first start a request could ask for within the hour from `hour_start`: on the
/// owner's grid, not before the lead time allows, not beyond the horizon. `None` when the
/// hour has none, with the reason.
fn first_start(hour_start: i64, now: i64, window: Option<&BookingWindow>) -> Result<i64, Cell> {
    let Some(w) = window else {
        return if hour_start < now {
            Err(Cell::Past)
        } else {
            Ok(hour_start)
        };
    };
    let earliest = now.saturating_add(i64::from(w.min_lead_minutes) * 60);
    let latest = now.saturating_add(i64::from(w.horizon_days) * 86_400);
    if hour_start > latest {
        return Err(Cell::BeyondHorizon);
    }
    let grid = i64::from(w.granularity_minutes.max(1)) * 60;
    let day = midnight(hour_start);
    // The first grid line at or after both the hour and the earliest start.
    let from = hour_start.max(earliest);
    let first = day + (from - day + grid - 1).div_euclid(grid) * grid;
    if first >= hour_start + 3600 {
        Err(if hour_start + 3600 <= now {
            Cell::Past
        } else {
            Cell::TooSoon
        })
    } else if first > latest {
        Err(Cell::BeyondHorizon)
    } else {
        Ok(first)
    }
}

/// What the hour from `hour_start` is, and its first bookable start when free.
pub(crate) fn classify(
    state: HourState,
    holiday: bool,
    hour_start: i64,
    now: i64,
    window: Option<&BookingWindow>,
    mine: bool,
) -> (Cell, Option<i64>) {
    if mine {
        return (Cell::Mine, None);
    }
    if hour_start + 3600 <= now {
        return (Cell::Past, None);
    }
    match state {
        HourState::Booked => (Cell::Booked, None),
        HourState::Maintenance => (Cell::Maintenance, None),
        HourState::Closed if holiday => (Cell::Holiday, None),
        HourState::Closed => (Cell::Closed, None),
        HourState::Free => match first_start(hour_start, now, window) {
            Ok(start) => (Cell::Free, Some(start)),
            Err(cell) => (cell, None),
        },
    }
}

/// One hour as the page shows it.
pub(crate) struct HourCell {
    pub class: &'static str,
    pub mark: &'static str,
    /// The state in words (shown in the day view, where there is room).
    pub label: &'static str,
    pub title: String,
    /// For an hour a request could take: its first start and the hour's end, as the form
    /// writes them, and a link that fills the form in without JavaScript.
    pub start: String,
    pub end: String,
    pub book_href: Option<String>,
}

pub(crate) struct DayHead {
    pub label: String,
    pub today: bool,
    pub holiday: bool,
}

pub(crate) struct HourRow {
    pub label: String,
    pub cells: Vec<HourCell>,
}

/// The week grid (desktop).
pub(crate) struct Week {
    pub days: Vec<DayHead>,
    pub rows: Vec<HourRow>,
}

/// One day (phones).
pub(crate) struct DayView {
    pub head: DayHead,
    pub rows: Vec<HourRow>,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

pub(crate) struct LegendItem {
    pub class: &'static str,
    pub mark: &'static str,
    pub label: &'static str,
}

/// The calendar section of an instrument page.
pub(crate) struct Calendar {
    pub week: Week,
    pub day: DayView,
    pub week_index: usize,
    pub weeks: usize,
    pub prev_week: Option<String>,
    pub next_week: Option<String>,
    /// The owner's grid, longest booking, lead time and horizon, in words.
    pub rules: String,
    /// The longest booking in minutes (0: not said), for picking a span.
    pub max_minutes: u32,
    pub legend: Vec<LegendItem>,
}

/// What the page asks of the calendar.
pub(crate) struct CalendarAsk {
    /// A week of the digest (0 = its first); else the week of `day`, or today's.
    pub week: Option<usize>,
    /// A day of the digest (0 = its first) for the day view, else today or the week's
    /// first day.
    pub day: Option<usize>,
    /// The signed-in user's own active bookings of this instrument (Unix seconds).
    pub mine: Vec<(i64, i64)>,
    pub now: i64,
    /// Whether free hours link to the booking form (a signed-in user who may book).
    pub bookable: bool,
}

/// The hours shown: from the earliest to the latest hour that is ever open, or office
/// hours if nothing is.
fn shown_hours(d: &InstrumentDetail) -> std::ops::Range<usize> {
    let open: Vec<usize> = (0..24)
        .filter(|h| {
            d.availability
                .iter()
                .any(|day| day.hours.get(*h).is_some_and(|s| *s != HourState::Closed))
        })
        .collect();
    match (open.first(), open.last()) {
        (Some(first), Some(last)) => *first..last + 1,
        _ => 8..18,
    }
}

fn rules_line(t: &Strings, window: Option<&BookingWindow>) -> String {
    let Some(w) = window else {
        return String::new();
    };
    let b = t.book;
    let lead = if w.min_lead_minutes == 0 {
        b.cal_no_lead.to_owned()
    } else {
        b.cal_lead.replace("{time}", &b.length(w.min_lead_minutes))
    };
    format!(
        "{} {} · {} {} · {lead} · {}",
        b.cal_slot,
        b.length(w.granularity_minutes),
        b.cal_longest,
        b.length(w.max_duration_minutes),
        b.cal_horizon.replace("{days}", &w.horizon_days.to_string()),
    )
}

/// The calendar of `d`, or `None` when the owner has published no availability.
pub(crate) fn calendar(ctx: &Ctx, d: &InstrumentDetail, ask: &CalendarAsk) -> Option<Calendar> {
    let days = &d.availability;
    if days.is_empty() {
        return None;
    }
    let weeks = days.len().div_ceil(7);
    let today = days
        .iter()
        .position(|day| day.date == time::date_input(ask.now));
    let last = days.len() - 1;
    let week_index = match (ask.day, ask.week) {
        (Some(day), _) => day.min(last) / 7,
        (None, Some(week)) => week.min(weeks - 1),
        (None, None) => today.map_or(0, |t| t / 7),
    };
    let day_index = ask
        .day
        .or(today.filter(|t| *t / 7 == week_index))
        .unwrap_or(week_index * 7)
        .min(last);
    let hours = shown_hours(d);
    let names: Vec<&str> = ctx.t.cat.weekdays.split(' ').collect();
    let head = |i: usize| {
        let day = &days[i];
        let short = day.date.get(5..).unwrap_or(&day.date);
        let name = names.get(i % 7).copied().unwrap_or("");
        DayHead {
            label: format!("{name} {short}"),
            today: Some(i) == today,
            holiday: day.holiday,
        }
    };
    let row = |i: usize, h: usize| -> HourCell {
        let day = &days[i];
        let start_text = format!("{}T{h:02}:00", day.date);
        let hour_start = time::parse_local_input(&start_text).unwrap_or_default();
        let state = day.hours.get(h).copied().unwrap_or(HourState::Closed);
        let mine = ask
            .mine
            .iter()
            .any(|(s, e)| *s < hour_start + 3600 && hour_start < *e);
        let (cell, first) = classify(
            state,
            day.holiday,
            hour_start,
            ask.now,
            d.window.as_ref(),
            mine,
        );
        let first = first.filter(|_| ask.bookable);
        let start = first.map(time::local_input).unwrap_or_default();
        HourCell {
            class: cell.class(),
            mark: cell.mark(ctx.t),
            label: cell.label(ctx.t),
            title: format!("{} {h:02}:00 {}", day.date, cell.label(ctx.t)),
            book_href: first
                .map(|_| format!("/instruments/{}?day={i}&start={start}#book", d.summary.id)),
            end: first
                .map(|_| time::local_input(hour_start + 3600))
                .unwrap_or_default(),
            start,
        }
    };
    let week_days: Vec<usize> = (week_index * 7..(week_index * 7 + 7).min(days.len())).collect();
    let week = Week {
        days: week_days.iter().map(|i| head(*i)).collect(),
        rows: hours
            .clone()
            .map(|h| HourRow {
                label: format!("{h:02}:00"),
                cells: week_days.iter().map(|i| row(*i, h)).collect(),
            })
            .collect(),
    };
    let day_href = |i: usize| format!("/instruments/{}?day={i}#availability", d.summary.id);
    let day = DayView {
        head: head(day_index),
        rows: hours
            .map(|h| HourRow {
                label: format!("{h:02}:00"),
                cells: vec![row(day_index, h)],
            })
            .collect(),
        prev_href: (day_index > 0).then(|| day_href(day_index - 1)),
        next_href: (day_index + 1 < days.len()).then(|| day_href(day_index + 1)),
    };
    let week_href = |w: usize| format!("/instruments/{}?week={w}#availability", d.summary.id);
    Some(Calendar {
        week,
        day,
        week_index,
        weeks,
        prev_week: (week_index > 0).then(|| week_href(week_index - 1)),
        next_week: (week_index + 1 < weeks).then(|| week_href(week_index + 1)),
        rules: rules_line(ctx.t, d.window.as_ref()),
        max_minutes: d.window.map_or(0, |w| w.max_duration_minutes),
        legend: Cell::ALL
            .into_iter()
            .map(|c| LegendItem {
                class: c.class(),
                mark: c.mark(ctx.t),
                label: c.label(ctx.t),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tuesday 2026-12-01 00:00 in Shanghai.
    const TUE: i64 = 1_796_054_400;

    fn window() -> BookingWindow {
        BookingWindow {
            granularity_minutes: 30,
            min_lead_minutes: 60,
            horizon_days: 2,
            max_duration_minutes: 480,
        }
    }

    fn at(hour: i64, minute: i64) -> i64 {
        TUE + hour * 3600 + minute * 60
    }

    #[test]
    fn each_free_hour_is_told_whether_a_request_could_take_it() {
        let w = window();
        let now = at(9, 40);
        let free = |hour: i64| classify(HourState::Free, false, at(hour, 0), now, Some(&w), false);
        assert_eq!(free(8), (Cell::Past, None));
        // 09:00–10:00 has begun but not ended: still too soon (earliest 10:40).
        assert_eq!(free(9), (Cell::TooSoon, None));
        // 10:00–11:00: its 10:30 is too soon too, but on the grid 11:00 is the next hour's.
        assert_eq!(free(10), (Cell::TooSoon, None));
        assert_eq!(free(11), (Cell::Free, Some(at(11, 0))));
        // Two days' horizon: Thursday 09:40 is the latest start.
        let thursday = |hour: i64, minute: i64| at(48 + hour, minute);
        assert_eq!(
            classify(HourState::Free, false, thursday(9, 0), now, Some(&w), false),
            (Cell::Free, Some(thursday(9, 0)))
        );
        assert_eq!(
            classify(
                HourState::Free,
                false,
                thursday(10, 0),
                now,
                Some(&w),
                false
            ),
            (Cell::BeyondHorizon, None)
        );
    }

    #[test]
    fn a_lead_inside_the_hour_starts_at_the_next_grid_line() {
        let w = BookingWindow {
            granularity_minutes: 15,
            min_lead_minutes: 20,
            ..window()
        };
        // Now 09:50, earliest 10:10: the 10:00 hour starts at 10:15.
        let (cell, start) = classify(
            HourState::Free,
            false,
            at(10, 0),
            at(9, 50),
            Some(&w),
            false,
        );
        assert_eq!((cell, start), (Cell::Free, Some(at(10, 15))));
    }

    #[test]
    fn the_reason_an_hour_is_closed_is_kept() {
        let now = at(0, 0);
        let later = at(30, 0);
        let w = window();
        let is = |state, holiday, mine| classify(state, holiday, later, now, Some(&w), mine).0;
        assert_eq!(is(HourState::Closed, true, false), Cell::Holiday);
        assert_eq!(is(HourState::Closed, false, false), Cell::Closed);
        assert_eq!(is(HourState::Booked, false, false), Cell::Booked);
        assert_eq!(is(HourState::Booked, false, true), Cell::Mine);
        assert_eq!(is(HourState::Maintenance, false, false), Cell::Maintenance);
        // Without a window only the past is known.
        assert_eq!(
            classify(HourState::Free, false, later, now, None, false),
            (Cell::Free, Some(later))
        );
        assert_eq!(
            classify(HourState::Booked, false, at(-2, 0), now, None, false).0,
            Cell::Past
        );
    }
}
