//! Lists the API gives a page at a time, with how many there are in `X-Total-Count`.

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::ApiError;
use crate::validate::{FieldError, Problem};

/// `?offset=&limit=` of a list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PageQuery {
    /// How many of the first to skip (default 0).
    #[serde(default)]
    pub offset: usize,
    /// How many to give, 1 to 100 (default 50).
    #[serde(default = "fifty")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: usize,
}

fn fifty() -> usize {
    50
}

/// Most items one page of a list may ask for.
pub(super) const MAX_LIMIT: usize = 100;

/// `limit` items of `all` after `offset`, as JSON with `X-Total-Count`; a limit outside
/// 1 to [`MAX_LIMIT`] is the field's error.
pub(super) fn page_of<T: Serialize>(
    all: Vec<T>,
    offset: usize,
    limit: usize,
) -> Result<Response, ApiError> {
    check_limit(limit)?;
    let total = all.len();
    let page: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    Ok(paged(&page, total))
}

/// A limit outside 1 to [`MAX_LIMIT`] is the field's error.
pub(super) fn check_limit(limit: usize) -> Result<(), ApiError> {
    if (1..=MAX_LIMIT).contains(&limit) {
        return Ok(());
    }
    Err(ApiError::Invalid(vec![FieldError::new(
        "limit",
        Problem::Other(format!("1 to {MAX_LIMIT}")),
    )]))
}

/// One page already cut, as JSON with how many the whole list holds in `X-Total-Count`.
pub(super) fn paged<T: Serialize>(page: &[T], total: usize) -> Response {
    let mut response = Json(page).into_response();
    response
        .headers_mut()
        .insert("x-total-count", axum::http::HeaderValue::from(total));
    response
}

/// A day of a filter (`YYYY-MM-DD`, Beijing time) as Unix seconds of its first moment,
/// or the field's error.
pub(super) fn filter_day(field: &str, day: Option<&str>) -> Result<Option<i64>, ApiError> {
    match day.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => crate::time::parse_date_input(d).map(Some).ok_or_else(|| {
            ApiError::Invalid(vec![FieldError::new(
                field,
                Problem::Other("a date written YYYY-MM-DD".into()),
            )])
        }),
    }
}

/// Bookings starting from the day `from` through the day `to` (either absent).
pub(super) fn start_span(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<crate::backend::StartSpan, ApiError> {
    Ok(crate::backend::StartSpan {
        from: filter_day("from", from)?,
        // Through the end of that day.
        to: filter_day("to", to)?.map(|t| t + 86_399),
    })
}
