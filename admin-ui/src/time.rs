//! Times as people in Liaoning read them: Asia/Shanghai, minutes, with the zone named.

use chrono::DateTime;
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
}
