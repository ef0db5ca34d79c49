//! The instrument search's query string (`GET /api/v1/instruments`, the search page):
//! `SearchQuery::params`.
//!
//! Input: a query string, decoded the way the web layer's `Query` extractor does
//! (`application/x-www-form-urlencoded`).
//!
//! Properties: never panics; accepted parameters are within their documented bounds
//! (1 ≤ per_page ≤ 100, 1 ≤ page, page × per_page ≤ MAX_RESULT_WINDOW, money not
//! negative, dates valid); the link to another page of the same search within the window
//! reads back as the same search on that page.

use alliance_protocol::record::is_valid_date;

use crate::{search_query::SearchQuery, validate::MAX_RESULT_WINDOW};

/// One input, as the fuzz target gets it: panics where a property fails.
pub fn test_one_input(data: &[u8]) {
    let Ok(query) = serde_urlencoded::from_bytes::<SearchQuery>(data) else {
        return;
    };
    let Ok(params) = query.params() else {
        return;
    };
    assert!((1..=100).contains(&params.per_page), "{params:?}");
    assert!(params.page >= 1, "{params:?}");
    assert!(
        params.page * params.per_page <= MAX_RESULT_WINDOW,
        "{params:?}"
    );
    assert!(
        params.min_value_fen.is_none_or(|fen| fen >= 0),
        "{params:?}"
    );
    assert!(
        params.max_value_fen.is_none_or(|fen| fen >= 0),
        "{params:?}"
    );
    if let Some((from, to)) = &params.free_between {
        assert!(is_valid_date(from) && is_valid_date(to) && !from.is_empty() && !to.is_empty());
    }
    assert_eq!(params.q, params.q.trim());

    // Pages the pager may link to: those inside the result window.
    let last = MAX_RESULT_WINDOW / params.per_page;
    let page = params.page % last + 1;
    let link = query.with_page(page);
    let again: SearchQuery = serde_urlencoded::from_str(&link).expect("a link reads back");
    let mut expected = params;
    expected.page = page;
    assert_eq!(again.params(), Ok(expected), "the link {link:?}");
}
