//! The search query string, shared by `GET /api/v1/instruments` and the search page:
//! `q`, `category`, `institution`, `city`, `min_wan` / `max_wan` (original value in
//! 10,000 RMB), `mode`, `tier`, `free_from` / `free_to` (`YYYY-MM-DD`), `retired` (`1`:
//! also instruments retired for good, hidden otherwise), `page` and
//! `per_page` (1 to 100; `page × per_page` at most [`MAX_RESULT_WINDOW`]). Empty
//! parameters are ignored, so a form can send every field.

use alliance_protocol::{ServiceMode, UserTier, money::parse_yuan, record::is_valid_date};
use serde::{Deserialize, Serialize};

use crate::{
    backend::SearchParams,
    validate::{FieldError, MAX_RESULT_WINDOW, Problem},
};

/// Results per page unless asked otherwise.
pub(crate) const DEFAULT_PER_PAGE: usize = 20;
/// The raw query, as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// Free text: names, model, manufacturer, specifications.
    pub q: String,
    /// A classification code (a top-level code covers its subcategories).
    pub category: String,
    /// An institution id.
    pub institution: String,
    pub city: String,
    /// Least original value, in 10,000 RMB.
    pub min_wan: String,
    /// Greatest original value, in 10,000 RMB.
    pub max_wan: String,
    /// A service mode (`sample_submission`, `self_operated`…).
    pub mode: String,
    /// The asking user's tier, for prices and sharing scope.
    pub tier: String,
    /// With `free_to`: a free hour on some day from this date (`YYYY-MM-DD`); such searches
    /// are limited per client address.
    pub free_from: String,
    /// With `free_from`: the last day (`YYYY-MM-DD`).
    pub free_to: String,
    /// `1`: also instruments retired for good (hidden otherwise).
    pub retired: String,
    /// 1-based.
    pub page: String,
    pub per_page: String,
}

fn some(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// 万元 to fen: one 万元 is 10,000 RMB, 1,000,000 fen; up to two decimals of 万元.
fn wan_to_fen(text: &str) -> Option<i64> {
    parse_yuan(text)
        .ok()
        .and_then(|hundredths| hundredths.checked_mul(10_000))
}

impl SearchQuery {
    /// Checks the query; every bad parameter is reported by name.
    pub(crate) fn params(&self) -> Result<SearchParams, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, problem: Problem| errors.push(FieldError::new(field, problem));
        let mut value = |field: &str, text: &str| match some(text) {
            None => None,
            Some(text) => {
                let fen = wan_to_fen(&text);
                if fen.is_none() {
                    bad(field, Problem::Money("a number of 10,000 RMB".into()));
                }
                fen
            }
        };
        let min_value_fen = value("min_wan", &self.min_wan);
        let max_value_fen = value("max_wan", &self.max_wan);
        let mode = some(&self.mode).map(|m| {
            serde_json::from_value::<ServiceMode>(serde_json::Value::String(m))
                .ok()
                .filter(|m| *m != ServiceMode::Unspecified)
        });
        if matches!(mode, Some(None)) {
            errors.push(FieldError::new("mode", Problem::Choice));
        }
        let tier = some(&self.tier).map(|t| UserTier::parse(&t));
        if matches!(tier, Some(None)) {
            errors.push(FieldError::new("tier", Problem::Choice));
        }
        let free_from = some(&self.free_from);
        let free_to = some(&self.free_to);
        for (field, date) in [("free_from", &free_from), ("free_to", &free_to)] {
            if date.as_deref().is_some_and(|d| !is_valid_date(d)) {
                errors.push(FieldError::new(field, Problem::Date));
            }
        }
        let number = |text: &str, default: usize| -> Option<usize> {
            match some(text) {
                None => Some(default),
                Some(t) => t.parse::<usize>().ok().filter(|n| *n >= 1),
            }
        };
        let page = number(&self.page, 1);
        if page.is_none() {
            errors.push(FieldError::new("page", Problem::Choice));
        }
        let per_page = number(&self.per_page, DEFAULT_PER_PAGE).filter(|n| *n <= 100);
        if per_page.is_none() {
            errors.push(FieldError::new("per_page", Problem::Choice));
        }
        if let (Some(page), Some(per_page)) = (page, per_page)
            && page.saturating_mul(per_page) > MAX_RESULT_WINDOW
        {
            errors.push(FieldError::new("page", Problem::PageTooDeep));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // One date alone means that day.
        let free_between = match (free_from, free_to) {
            (Some(from), Some(to)) => Some((from, to)),
            (Some(day), None) | (None, Some(day)) => Some((day.clone(), day)),
            (None, None) => None,
        };
        Ok(SearchParams {
            q: self.q.trim().to_owned(),
            category: some(&self.category),
            institution: some(&self.institution),
            city: some(&self.city),
            min_value_fen,
            max_value_fen,
            mode: mode.flatten(),
            tier: tier.flatten(),
            free_between,
            include_retired: matches!(self.retired.trim(), "1" | "true" | "on"),
            page: page.unwrap_or(1),
            per_page: per_page.unwrap_or(DEFAULT_PER_PAGE),
        })
    }

    /// The query string of this search on another page.
    pub(crate) fn with_page(&self, page: usize) -> String {
        let mut query = self.clone();
        query.page = page.to_string();
        serde_urlencoded_pairs(&query)
    }
}

/// Encodes the non-empty parameters as a query string.
fn serde_urlencoded_pairs(query: &SearchQuery) -> String {
    let pairs = [
        ("q", &query.q),
        ("category", &query.category),
        ("institution", &query.institution),
        ("city", &query.city),
        ("min_wan", &query.min_wan),
        ("max_wan", &query.max_wan),
        ("mode", &query.mode),
        ("tier", &query.tier),
        ("free_from", &query.free_from),
        ("free_to", &query.free_to),
        ("page", &query.page),
        ("per_page", &query.per_page),
    ];
    pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", crate::links::encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_empty_query_is_the_first_page_of_everything() {
        let params = SearchQuery::default().params().unwrap();
        assert_eq!(params.page, 1);
        assert_eq!(params.per_page, DEFAULT_PER_PAGE);
        assert!(params.q.is_empty() && params.category.is_none());
        assert!(
            !params.include_retired,
            "retired instruments are hidden by default"
        );
        let with_retired = SearchQuery {
            retired: "1".into(),
            ..SearchQuery::default()
        };
        assert!(with_retired.params().unwrap().include_retired);
    }

    #[test]
    fn values_dates_and_choices_are_parsed() {
        let query = SearchQuery {
            q: " 质谱 ".into(),
            min_wan: "30".into(),
            max_wan: "1,000.5".into(),
            mode: "self_operated".into(),
            tier: "enterprise".into(),
            free_from: "2026-12-01".into(),
            ..SearchQuery::default()
        };
        let p = query.params().unwrap();
        assert_eq!(p.q, "质谱");
        assert_eq!(p.min_value_fen, Some(30_000_000));
        assert_eq!(p.max_value_fen, Some(1_000_500_000));
        assert_eq!(p.mode, Some(ServiceMode::SelfOperated));
        assert_eq!(p.tier, Some(UserTier::Enterprise));
        assert_eq!(
            p.free_between,
            Some(("2026-12-01".into(), "2026-12-01".into()))
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let query = SearchQuery {
            min_wan: "lots".into(),
            mode: "teleport".into(),
            free_to: "2026-13-01".into(),
            page: "0".into(),
            per_page: "1000".into(),
            ..SearchQuery::default()
        };
        let fields: Vec<String> = query
            .params()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["min_wan", "mode", "free_to", "page", "per_page"]);
    }

    #[test]
    fn pages_beyond_the_result_window_are_refused_by_name() {
        let deep = |page: &str, per_page: &str| {
            SearchQuery {
                page: page.into(),
                per_page: per_page.into(),
                ..SearchQuery::default()
            }
            .params()
        };
        // The last page inside the window is served.
        assert_eq!(deep("100", "100").unwrap().page, 100);
        assert_eq!(deep("500", "").unwrap().page, 500);
        for (page, per_page) in [
            ("101", "100"),
            ("501", ""),
            ("10000000000000", ""),
            ("184467440737095516", "100"),
        ] {
            let errors = deep(page, per_page).unwrap_err();
            assert_eq!(errors.len(), 1, "{page} × {per_page}");
            assert_eq!(errors[0].field, "page");
            assert_eq!(errors[0].problem, Problem::PageTooDeep);
        }
        // A number past usize is not a page at all.
        assert_eq!(
            deep("99999999999999999999999", "").unwrap_err()[0].problem,
            Problem::Choice
        );
    }
}
