//! Dates as records store them, `YYYY-MM-DD`, read from the spellings people type
//! (2019-06-01, 2019/6/1, 2019.6.1, 2019年6月1日, with or without a time after it),
//! from Excel date cells and from Excel serial numbers.

use alliance_protocol::record::is_valid_date;
use calamine::{ExcelDateTime, ExcelDateTimeType};

/// Excel's last serial day, 9999-12-31.
const MAX_SERIAL: f64 = 2_958_465.0;

fn invalid(written: &str) -> String {
    format!(
        "“{written}”不是有效日期：应填写 1900 至 2200 年间的真实日期，格式 YYYY-MM-DD，如 2019-06-01"
    )
}

/// A date typed as text, or a serial number typed as digits.
pub(super) fn from_text(text: &str, date_1904: bool) -> Result<String, String> {
    let text = text.trim();
    if !text.is_empty() && text.len() <= 7 && text.bytes().all(|b| b.is_ascii_digit()) {
        // A date column shown as a number, e.g. 43617 for 2019-06-01.
        let serial = text.parse::<f64>().map_err(|_| invalid(text))?;
        return from_serial(serial, date_1904).map_err(|_| invalid(text));
    }
    let (date, time) = text
        .split_once([' ', 'T'])
        .map_or((text, ""), |(d, t)| (d, t.trim()));
    let time_ok = time
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | '+' | '-' | 'Z'));
    if !time_ok || (!time.is_empty() && !time.contains(':')) {
        return Err(invalid(text));
    }
    let date = date.replace(['年', '月'], "-");
    let date = date.strip_suffix('日').unwrap_or(&date);
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(invalid(text));
    };
    let digits = |s: &str, lens: std::ops::RangeInclusive<usize>| {
        lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(y, 4..=4) && digits(m, 1..=2) && digits(d, 1..=2)) {
        return Err(invalid(text));
    }
    let iso = format!("{y}-{m:0>2}-{d:0>2}");
    if is_valid_date(&iso) {
        Ok(iso)
    } else {
        Err(invalid(text))
    }
}

/// An Excel serial day number (the time of day, if any, is dropped).
pub(super) fn from_serial(serial: f64, date_1904: bool) -> Result<String, String> {
    let written = super::cell::number_text(serial);
    if !(1.0..=MAX_SERIAL).contains(&serial) {
        return Err(invalid(&written));
    }
    from_excel(&ExcelDateTime::new(
        serial,
        ExcelDateTimeType::DateTime,
        date_1904,
    ))
    .map_err(|_| invalid(&written))
}

/// An Excel date cell.
pub(super) fn from_excel(date: &ExcelDateTime) -> Result<String, String> {
    let (y, m, d, ..) = date.to_ymd_hms_milli();
    let iso = format!("{y:04}-{m:02}-{d:02}");
    // Also refuses Excel's phantom 1900-02-29 and years outside 1900..=2200.
    if is_valid_date(&iso) {
        Ok(iso)
    } else {
        Err(invalid(&iso))
    }
}

/// Year, month and day of a valid `YYYY-MM-DD` date, for writing a date cell.
pub(super) fn ymd(date: &str) -> Option<(u16, u8, u8)> {
    if date.is_empty() || !is_valid_date(date) {
        return None;
    }
    let mut parts = date.split('-');
    let y = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let d = parts.next()?.parse().ok()?;
    Some((y, m, d))
}
