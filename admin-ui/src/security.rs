//! Response headers every answer carries, and the same-origin check of state-changing
//! requests.
//!
//! The Content-Security-Policy allows only this node's own files: no inline script or
//! style, no framing, forms post only here. The pages are written to satisfy it (scripts and
//! styles are files under `/static`).

use axum::{
    extract::{Request, State},
    http::{
        HeaderMap, HeaderName, HeaderValue,
        header::{
            CACHE_CONTROL, CONTENT_SECURITY_POLICY, HOST, ORIGIN, REFERRER_POLICY,
            STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
        },
    },
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    AppState,
    api::ApiError,
    auth,
    backend::Backend,
    pages::{Ctx, ErrorKind},
};

/// The Content-Security-Policy of every response.
pub(crate) const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; manifest-src 'self'; \
     worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers (and `Cache-Control: no-store` unless the handler chose a
/// caching policy, as the static assets do).
pub(crate) async fn headers<B: Backend>(
    State(state): State<AppState<B>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 7] = [
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (REFERRER_POLICY, "same-origin"),
        (CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
        (CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if state.options.secure_cookies {
        headers
            .entry(STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Refuses a state-changing request sent by a page of another origin: its `Origin` must
/// name this host (as the client addressed it, `Host` or a proxy's `X-Forwarded-Host`),
/// and `Sec-Fetch-Site` must not say `cross-site`. Requests without these headers (scripts,
/// apps) pass; they still need their CSRF token where a session is involved.
pub(crate) async fn same_origin(ctx: Ctx, request: Request, next: Next) -> Response {
    if auth::is_unsafe(request.method()) && !from_same_origin(request.headers()) {
        tracing::warn!(
            path = %request.uri().path(),
            origin = ?request.headers().get(ORIGIN),
            "cross-origin request refused"
        );
        return if request.uri().path().starts_with("/api/") {
            ApiError::CrossOrigin.into_response()
        } else {
            ctx.error(ErrorKind::Csrf)
        };
    }
    next.run(request).await
}

fn from_same_origin(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site == Some("cross-site") {
        return false;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Some(authority) = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority)
    else {
        // `Origin: null` and other opaque origins.
        return false;
    };
    [HOST, HeaderName::from_static("x-forwarded-host")]
        .iter()
        .filter_map(|name| headers.get(name).and_then(|v| v.to_str().ok()))
        .any(|host| host.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn origin_must_name_the_host() {
        assert!(from_same_origin(&headers(&[])));
        assert!(from_same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!from_same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(!from_same_origin(&headers(&[
            ("host", "node.example"),
            ("origin", "null")
        ])));
        assert!(from_same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "alliance.example.cn"),
            ("origin", "https://alliance.example.cn")
        ])));
        assert!(!from_same_origin(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
    }
}
