//! Lists the API gives a page at a time, with how many there are in `X-Total-Count`.

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::ApiError;
use crate::validate::{FieldError, Problem};

/// Most items one page of a list may ask for.
pub(super) const MAX_LIMIT: usize = 100;

/// `limit` items of `all` after `offset`, as JSON with `X-Total-Count`; a limit outside
/// 1 to [`MAX_LIMIT`] is the field's error.
pub(super) fn page_of<T: Serialize>(
    all: Vec<T>,
    offset: usize,
    limit: usize,
) -> Result<Response, ApiError> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "limit",
            Problem::Other(format!("1 to {MAX_LIMIT}")),
        )]));
    }
    let total = all.len();
    let page: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    let mut response = Json(page).into_response();
    response
        .headers_mut()
        .insert("x-total-count", axum::http::HeaderValue::from(total));
    Ok(response)
}
