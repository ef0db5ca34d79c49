//! A list's filter by day: from and to (Beijing time, both inclusive, either empty), as
//! typed in the list's form and kept in its links.

use super::encode_component;
use crate::time;

/// The days as typed, each empty or a real day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct DayFilter {
    pub(super) from: String,
    pub(super) to: String,
}

impl DayFilter {
    /// The filter of `from` and `to` as the query gave them; `None` if either is not a
    /// day (a bad filter is refused, not ignored).
    pub(super) fn parse(from: &str, to: &str) -> Option<DayFilter> {
        let day = |text: &str| {
            let text = text.trim();
            (text.is_empty() || time::parse_date_input(text).is_some()).then(|| text.to_owned())
        };
        Some(DayFilter {
            from: day(from)?,
            to: day(to)?,
        })
    }

    /// Unix seconds from the first moment of `from` to the last of `to`.
    pub(super) fn bounds(&self) -> (Option<i64>, Option<i64>) {
        (
            time::parse_date_input(&self.from),
            // Through the end of that day.
            time::parse_date_input(&self.to).map(|t| t + 86_399),
        )
    }

    /// `from=…&to=…&` for a link, each only if set.
    pub(super) fn query(&self) -> String {
        let mut q = String::new();
        if !self.from.is_empty() {
            q.push_str(&format!("from={}&", encode_component(&self.from)));
        }
        if !self.to.is_empty() {
            q.push_str(&format!("to={}&", encode_component(&self.to)));
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_filter_is_both_days_inclusive_and_refuses_what_is_not_a_day() {
        let f = DayFilter::parse(" 2026-03-01 ", "2026-03-02").unwrap();
        let (from, to) = f.bounds();
        assert_eq!(to.unwrap() - from.unwrap(), 2 * 86_400 - 1);
        assert_eq!(f.query(), "from=2026-03-01&to=2026-03-02&");
        assert_eq!(DayFilter::parse("", "").unwrap().bounds(), (None, None));
        assert_eq!(DayFilter::parse("", "").unwrap().query(), "");
        assert!(DayFilter::parse("yesterday", "").is_none());
        assert!(DayFilter::parse("", "2026-02-30").is_none());
    }
}
