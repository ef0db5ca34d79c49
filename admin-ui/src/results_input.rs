//! What a visitor types to choose the period of the province's results and a subsidy
//! budget, with the checks the web layer makes before asking the node, so a form can show
//! every problem next to its field and nothing is computed from bad input. The pages and
//! the JSON API share them; the node reads the period again.

use alliance_protocol::money::parse_yuan;
use chrono::Datelike;
use chrono_tz::Asia::Shanghai;

use crate::{
    i18n::Strings,
    validate::{FieldError, Problem},
};

/// The largest subsidy budget: 10¹² yuan, in fen.
pub(crate) const MAX_BUDGET_FEN: i64 = 100_000_000_000_000;

/// Years a period may name.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The canonical name of the period `text` names — `2026` or `2026-Q3` — or `None` when
/// it names none. Empty text is the current year in Asia/Shanghai.
pub(crate) fn period_label(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return Some(this_year().to_string());
    }
    let (year, quarter) = match text.split_once('-') {
        Some((year, quarter)) => {
            let quarter = quarter
                .strip_prefix(['Q', 'q'])?
                .parse::<u32>()
                .ok()
                .filter(|q| (1..=4).contains(q))?;
            (year, Some(quarter))
        }
        None => (text, None),
    };
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = year.parse().ok().filter(|y| YEARS.contains(y))?;
    Some(match quarter {
        Some(q) => format!("{year}-Q{q}"),
        None => year.to_string(),
    })
}

/// The year of today in Asia/Shanghai.
pub(crate) fn this_year() -> i32 {
    chrono::Utc::now().with_timezone(&Shanghai).year()
}

/// The problem with a typed period (field `period`), if any.
pub(crate) fn check_period(text: &str, t: &Strings) -> Option<FieldError> {
    period_label(text)
        .is_none()
        .then(|| FieldError::new("period", bad_period(t)))
}

/// A period the node refused, as a problem of the `period` field.
pub(crate) fn bad_period(t: &Strings) -> Problem {
    Problem::Other(t.results.bad_period.to_owned())
}

/// A budget typed in yuan (`1,000,000.50`, `¥ 300000`) as fen, if it is
/// [in range](budget_in_range); otherwise the problem of field `field`.
pub(crate) fn parse_budget(text: &str, field: &str, t: &Strings) -> Result<i64, FieldError> {
    parse_yuan(text)
        .ok()
        .filter(|fen| budget_in_range(*fen))
        .ok_or_else(|| FieldError::new(field, Problem::Other(t.results.err_budget.to_owned())))
}

/// Whether a budget in fen is above 0 and at most [`MAX_BUDGET_FEN`].
pub(crate) fn budget_in_range(fen: i64) -> bool {
    (1..=MAX_BUDGET_FEN).contains(&fen)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::i18n::Lang;

    fn t() -> &'static Strings {
        Lang::Zh.strings()
    }

    #[test]
    fn periods_are_years_or_quarters() {
        assert_eq!(period_label("2026").as_deref(), Some("2026"));
        assert_eq!(period_label(" 2026-Q3 ").as_deref(), Some("2026-Q3"));
        assert_eq!(period_label("2026-q03").as_deref(), Some("2026-Q3"));
        assert_eq!(period_label("").unwrap(), this_year().to_string());
        for bad in [
            "2026-Q5",
            "2026-Q0",
            "26",
            "1999",
            "2101",
            "二〇二六",
            "2026-H1",
            "2026-",
        ] {
            assert_eq!(period_label(bad), None, "{bad}");
            assert!(check_period(bad, t()).is_some(), "{bad}");
        }
        assert!(check_period("", t()).is_none());
    }

    #[test]
    fn budgets_are_positive_yuan_up_to_a_trillion() {
        assert_eq!(parse_budget("1,000,000.50", "budget", t()), Ok(100_000_050));
        assert_eq!(
            parse_budget("1,000,000,000,000", "budget", t()),
            Ok(MAX_BUDGET_FEN)
        );
        for bad in [
            "",
            "0",
            "-5",
            "1,000,000,000,000.01",
            "12,34",
            "1.005",
            "abc",
        ] {
            let e = parse_budget(bad, "budget", t()).unwrap_err();
            assert_eq!(e.field, "budget", "{bad}");
        }
        assert!(!budget_in_range(0));
        assert!(!budget_in_range(MAX_BUDGET_FEN + 1));
        assert!(budget_in_range(1));
    }
}
