//! Times as people in Liaoning read them: Asia/Shanghai, minutes, with the zone named.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Asia::Shanghai;

use crate::i18n::Lang;

/// `2026-11-27 09:05 (北京时间)` for Unix seconds (UTC); `—` for a time out of range.
pub(crate) fn format_unix(unix_secs: i64, lang: Lang) -> String {
    match DateTime::from_timestamp(unix_secs, 0) {
        Some(utc) => format!(
            "{} ({})",
            utc.with_timezone(&Shanghai).format("%Y-%m-%d %H:%M"),
            lang.strings().beijing_time
        ),
        None => "—".to_owned(),
    }
}

/// The `YYYY-MM-DDTHH:MM` of a `datetime-local` input for Unix seconds, in Asia/Shanghai.
pub(crate) fn local_input(unix_secs: i64) -> String {
    DateTime::from_timestamp(unix_secs, 0)
        .map(|utc| {
            utc.with_timezone(&Shanghai)
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// Unix seconds of a `datetime-local` value read as Asia/Shanghai time; `None` if it is not
/// a time written `YYYY-MM-DDTHH:MM` (seconds allowed).
pub(crate) fn parse_local_input(value: &str) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    // Shanghai has no daylight saving time, so every local time maps to one instant.
    Shanghai
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.timestamp())
}

/// `2026-11-27`, the day of Unix seconds in Asia/Shanghai — for a `date` input or a table
/// of dates; empty for a time out of range.
pub(crate) fn date_input(unix_secs: i64) -> String {
    DateTime::from_timestamp(unix_secs, 0)
        .map(|utc| utc.with_timezone(&Shanghai).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Unix seconds of the first moment (00:00) of a `date` input's day in Asia/Shanghai;
/// `None` if it is not a date written `YYYY-MM-DD`.
pub(crate) fn parse_date_input(value: &str) -> Option<i64> {
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    Shanghai
        .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .single()
        .map(|t| t.timestamp())
}

/// Today's date in Asia/Shanghai.
pub(crate) fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&Shanghai).date_naive()
}

/// `2026-11-27 09:00–11:30 (北京时间)`; the end's date is written when it is another day.
pub(crate) fn format_span(start: i64, end: i64, lang: Lang) -> String {
    let local = |secs| DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&Shanghai));
    match (local(start), local(end)) {
        (Some(s), Some(e)) => {
            let end_format = if s.date_naive() == e.date_naive() {
                "%H:%M"
            } else {
                "%Y-%m-%d %H:%M"
            };
            format!(
                "{}–{} ({})",
                s.format("%Y-%m-%d %H:%M"),
                e.format(end_format),
                lang.strings().beijing_time
            )
        }
        _ => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_beijing_time() {
        // 2026-11-27 01:05:00 UTC
        assert_eq!(
            format_unix(1_795_741_500, Lang::Zh),
            "2026-11-27 09:05 (北京时间)"
        );
        assert_eq!(
            format_unix(1_795_741_500, Lang::En),
            "2026-11-27 09:05 (Beijing time)"
        );
        assert_eq!(format_unix(i64::MAX, Lang::En), "—");
    }

    #[test]
    fn datetime_inputs_are_beijing_time() {
        assert_eq!(local_input(1_795_741_500), "2026-11-27T09:05");
        assert_eq!(parse_local_input("2026-11-27T09:05"), Some(1_795_741_500));
        assert_eq!(
            parse_local_input("2026-11-27T09:05:00"),
            Some(1_795_741_500)
        );
        assert_eq!(parse_local_input("2026-11-27 09:05"), None);
        assert_eq!(parse_local_input("2026-02-30T09:00"), None);
    }

    #[test]
    fn date_inputs_are_beijing_days() {
        // 2026-11-26 16:00 UTC is already the 27th in Beijing.
        assert_eq!(date_input(1_795_708_800), "2026-11-27");
        assert_eq!(parse_date_input("2026-11-27"), Some(1_795_708_800));
        assert_eq!(date_input(1_795_708_800 - 1), "2026-11-26");
        assert_eq!(parse_date_input("2026-11-27T00:00"), None);
        assert_eq!(parse_date_input("2026-02-30"), None);
        assert_eq!(parse_date_input(""), None);
    }

    #[test]
    fn spans_name_the_end_date_only_when_it_differs() {
        let start = 1_795_741_500;
        assert_eq!(
            format_span(start, start + 3600, Lang::Zh),
            "2026-11-27 09:05–10:05 (北京时间)"
        );
        assert_eq!(
            format_span(start, start + 86_400, Lang::En),
            "2026-11-27 09:05–2026-11-28 09:05 (Beijing time)"
        );
    }
}
