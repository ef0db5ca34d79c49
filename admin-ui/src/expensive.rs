//! Answers that cost real work, asked anonymously: the province's results (page, CSV,
//! JSON and API) and searches by free time. Each client address (IPv6 by /64) may ask
//! for a limited number a minute (`429` with `Retry-After` beyond it), so one client
//! cannot keep the node computing; the downloads carry an `ETag` of their content, so a
//! client that already has them gets `304` without a body.

use std::time::Instant;

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{
        HeaderValue, Method, StatusCode, Uri,
        header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH, RETRY_AFTER},
    },
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use crate::{
    AppState, api::ApiError, backend::Backend, client::ClientAddr, throttle::retry_after_secs,
};

/// Downloads whose content is the same for everyone, so an `ETag` may stand for it.
const SHARED_DOWNLOADS: [&str; 3] = ["/results.csv", "/results.json", "/api/v1/results"];
/// Statements are signed on demand for a period not published, and disputes come with
/// the results they are part of: as costly as results.
const STATEMENTS: [&str; 2] = ["/api/v1/results/statement", "/api/v1/results/disputes"];
/// The most bytes an answer may have to get an `ETag` (the results of a province are far
/// smaller); larger ones are passed on as they are.
const MAX_TAGGED_BYTES: usize = 64 * 1024 * 1024;

/// Whether answering `uri` costs real work.
fn is_expensive(uri: &Uri) -> bool {
    let path = uri.path();
    if path == "/results" || STATEMENTS.contains(&path) || SHARED_DOWNLOADS.contains(&path) {
        return true;
    }
    let searches = path == "/instruments" || path == "/api/v1/instruments";
    searches
        && uri.query().is_some_and(|query| {
            query.split('&').any(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                matches!(key, "free_from" | "free_to") && !value.trim().is_empty()
            })
        })
}

/// The middleware: counts expensive requests per client and tags shared downloads.
pub(crate) async fn limit<B: Backend>(
    State(state): State<AppState<B>>,
    client: ClientAddr,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET || !is_expensive(request.uri()) {
        return next.run(request).await;
    }
    if let Err(wait) = state.expensive.check(&client.bucket(), Instant::now()) {
        if request.uri().path().starts_with("/api/") {
            return ApiError::RateLimited { retry_after: wait }.into_response();
        }
        let seconds = retry_after_secs(wait);
        let text = format!(
            "请求过于频繁，请 {seconds} 秒后再试。\nToo many requests: try again in {seconds} s.\n"
        );
        let mut response = (StatusCode::TOO_MANY_REQUESTS, text).into_response();
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return response;
    }
    if !SHARED_DOWNLOADS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let offered = request.headers().get(IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    tag(response, offered).await
}

/// Adds an `ETag` of the body, or answers `304` when the client holds that version.
async fn tag(response: Response, offered: Option<HeaderValue>) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_TAGGED_BYTES).await else {
        tracing::warn!("a download too large to tag was dropped");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let digest = Sha256::digest(&bytes);
    let etag = format!("\"{}\"", hex::encode(&digest[..16]));
    let Ok(value) = HeaderValue::from_str(&etag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    // The client must ask again each time, and may keep the body it has.
    parts
        .headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    parts.headers.insert(ETAG, value.clone());
    let held = offered
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    if held {
        parts.status = StatusCode::NOT_MODIFIED;
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn results_and_searches_by_free_time_are_expensive() {
        for text in [
            "/results",
            "/results.csv?period=2026",
            "/results.json",
            "/api/v1/results?period=2026-Q3",
            "/instruments?q=&free_from=2026-12-07",
            "/api/v1/instruments?free_to=2026-12-07&page=2",
        ] {
            assert!(is_expensive(&uri(text)), "{text}");
        }
        for text in [
            "/instruments?q=质谱",
            "/instruments?free_from=&free_to=",
            "/api/v1/instruments?page=3",
            "/api/v1/status",
            "/results/other",
        ] {
            assert!(!is_expensive(&uri(text)), "{text}");
        }
    }
}
