//! Security headers, the Content-Security-Policy the pages must satisfy, and the embedded
//! assets (PWA manifest, service worker, icons).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{MemoryBackend, Reply, api_login, app, get, json};
use alliance_web::{WebOptions, router};
use axum::http::{Method, StatusCode};

fn assert_security_headers(reply: &Reply, what: &str) {
    assert_eq!(
        reply.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        reply.header("referrer-policy"),
        Some("same-origin"),
        "{what}"
    );
    let csp = reply
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
}

#[tokio::test]
async fn every_kind_of_response_has_the_security_headers() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, _) = api_login(&app, "admin").await;
    for (uri, cookie) in [
        ("/", ""),
        ("/login", ""),
        ("/register", ""),
        ("/admin/accounts", cookie.as_str()),
        ("/admin/accounts", ""),
        ("/me", cookie.as_str()),
        ("/api/v1/status", ""),
        ("/api/v1/me", ""),
        ("/static/app.css", ""),
        ("/nowhere", ""),
        ("/healthz", ""),
    ] {
        let reply = get(&app, uri, cookie).await;
        assert_security_headers(&reply, uri);
    }
    let failed = json(
        &app,
        Method::POST,
        "/api/v1/session",
        "",
        None,
        serde_json::json!({}),
    )
    .await;
    assert_security_headers(&failed, "rejected JSON");
}

#[tokio::test]
async fn pages_and_api_answers_are_not_cached_but_assets_are() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, _) = api_login(&app, "admin").await;
    assert_eq!(
        get(&app, "/admin/accounts", &cookie)
            .await
            .header("cache-control"),
        Some("no-store")
    );
    assert_eq!(
        get(&app, "/api/v1/me", &cookie)
            .await
            .header("cache-control"),
        Some("no-store")
    );
    let css = get(&app, "/static/app.css", "").await;
    assert!(css.header("cache-control").unwrap().contains("max-age"));
}

#[tokio::test]
async fn hsts_only_with_secure_cookies() {
    let backend = MemoryBackend::seeded();
    let plain = get(&app(&backend), "/", "").await;
    assert!(plain.header("strict-transport-security").is_none());
    let secure = router(
        backend,
        WebOptions {
            secure_cookies: true,
            ..WebOptions::default()
        },
    );
    let reply = get(&secure, "/", "").await;
    assert!(reply.header("strict-transport-security").is_some());
}

/// The CSP forbids inline script and style, so the pages must not use them.
#[tokio::test]
async fn pages_satisfy_the_content_security_policy() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, _) = api_login(&app, "admin").await;
    for (uri, cookie) in [
        ("/", ""),
        ("/login", ""),
        ("/register", ""),
        ("/admin/accounts", cookie.as_str()),
        ("/me", cookie.as_str()),
        ("/nowhere", ""),
    ] {
        let page = get(&app, uri, cookie).await;
        let body = &page.body;
        assert!(body.contains("<meta name=\"viewport\""), "{uri}");
        assert!(!body.contains("<style"), "{uri}: inline style element");
        assert!(!body.contains(" style=\""), "{uri}: inline style attribute");
        for handler in [
            " onclick=",
            " onsubmit=",
            " onload=",
            " onchange=",
            "javascript:",
        ] {
            assert!(!body.contains(handler), "{uri}: inline handler {handler}");
        }
        for script in body.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap();
            assert!(tag.contains("src=\"/static/"), "{uri}: inline script {tag}");
        }
        assert!(body.contains("<main id=\"main\""), "{uri}: main landmark");
        assert!(body.contains("<nav "), "{uri}: nav landmark");
    }
}

#[tokio::test]
async fn assets_are_embedded_with_their_types() {
    let app = app(&MemoryBackend::default());
    for (uri, content_type) in [
        ("/static/app.css", "text/css"),
        ("/static/app.js", "text/javascript"),
        ("/static/icon.svg", "image/svg+xml"),
        ("/static/icon-192.png", "image/png"),
        ("/static/icon-512.png", "image/png"),
        ("/sw.js", "text/javascript"),
        ("/manifest.webmanifest", "application/manifest+json"),
    ] {
        let reply = get(&app, uri, "").await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with(content_type),
            "{uri}"
        );
        assert!(!reply.body.is_empty(), "{uri}");
    }
}

#[tokio::test]
async fn the_manifest_makes_an_installable_app() {
    let app = app(&MemoryBackend::default());
    let manifest: serde_json::Value =
        serde_json::from_str(&get(&app, "/manifest.webmanifest", "").await.body).unwrap();
    assert_eq!(manifest["name"], "辽宁省大型科研仪器开放共享联盟");
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["start_url"], "/");
    let sizes: Vec<&str> = manifest["icons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|icon| icon["sizes"].as_str().unwrap())
        .collect();
    assert!(
        sizes.contains(&"192x192") && sizes.contains(&"512x512"),
        "{sizes:?}"
    );
    for icon in manifest["icons"].as_array().unwrap() {
        let src = icon["src"].as_str().unwrap();
        assert_eq!(get(&app, src, "").await.status, StatusCode::OK, "{src}");
    }
}
