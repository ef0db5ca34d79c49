//! Static files, embedded in the binary: stylesheet, script, icons, the web app manifest
//! and the service worker. No request for them touches the backend.

use axum::{
    Router,
    http::header::{CACHE_CONTROL, CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::get,
};

/// Files under `/static/`: URLs carry `?v=<crate version>`, so a day of caching is safe.
const STATIC_CACHE: &str = "public, max-age=86400";
/// The manifest and the service worker must be revalidated so updates reach clients.
const REVALIDATE: &str = "no-cache";

const APP_CSS: &str = include_str!("../static/app.css");
const APP_JS: &str = include_str!("../static/app.js");
const ICON_SVG: &str = include_str!("../static/icon.svg");
const ICON_192: &[u8] = include_bytes!("../static/icon-192.png");
const ICON_512: &[u8] = include_bytes!("../static/icon-512.png");
const MANIFEST: &str = include_str!("../static/manifest.webmanifest");
const SERVICE_WORKER: &str = include_str!("../static/sw.js");

/// The asset routes.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/static/app.css",
            get(|| async { asset("text/css; charset=utf-8", STATIC_CACHE, APP_CSS) }),
        )
        .route(
            "/static/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", STATIC_CACHE, APP_JS) }),
        )
        .route(
            "/static/icon.svg",
            get(|| async { asset("image/svg+xml", STATIC_CACHE, ICON_SVG) }),
        )
        .route(
            "/static/icon-192.png",
            get(|| async { asset("image/png", STATIC_CACHE, ICON_192) }),
        )
        .route(
            "/static/icon-512.png",
            get(|| async { asset("image/png", STATIC_CACHE, ICON_512) }),
        )
        .route(
            "/manifest.webmanifest",
            get(|| async { asset("application/manifest+json", REVALIDATE, MANIFEST) }),
        )
        .route(
            "/sw.js",
            get(|| async { asset("text/javascript; charset=utf-8", REVALIDATE, SERVICE_WORKER) }),
        )
}

fn asset(content_type: &'static str, cache: &'static str, body: impl IntoResponse) -> Response {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, cache)], body).into_response()
}
