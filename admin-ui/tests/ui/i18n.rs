//! Languages: Chinese by default, English on request, the choice remembered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{MemoryBackend, app, get};
use axum::http::StatusCode;

#[tokio::test]
async fn chinese_is_the_default_language() {
    let app = app(&MemoryBackend::seeded());
    let page = get(&app, "/", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<html lang=\"zh-CN\""));
    assert!(page.body.contains("辽宁省大型科研仪器开放共享联盟"));
    assert!(page.body.contains(">登录<"));
    assert!(page.body.contains(">注册<"));
    assert!(page.set_cookie("lang").is_none());
    // The switch offers English.
    assert!(page.body.contains("href=\"/?lang=en\""));
}

#[tokio::test]
async fn lang_en_gives_english_and_sets_the_cookie() {
    let app = app(&MemoryBackend::seeded());
    let page = get(&app, "/login?lang=en", "").await;
    assert!(page.body.contains("<html lang=\"en\""));
    assert!(page.body.contains("Liaoning Instrument Sharing Alliance"));
    assert!(page.body.contains(">Sign in<"));
    assert!(!page.body.contains(">登录<"));
    let cookie = page.set_cookie("lang").unwrap();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    assert!(page.body.contains("href=\"/login?lang=zh\""));

    // The cookie then wins over the default, and the query over the cookie.
    let later = get(&app, "/register", "lang=en").await;
    assert!(later.body.contains("<html lang=\"en\""));
    assert!(later.body.contains("Register"));
    let back = get(&app, "/register?lang=zh", "lang=en").await;
    assert!(back.body.contains("<html lang=\"zh-CN\""));
    assert!(back.set_cookie("lang").unwrap().starts_with("lang=zh;"));
}

#[tokio::test]
async fn error_pages_follow_the_language_too() {
    let app = app(&MemoryBackend::default());
    let page = get(&app, "/nowhere", "lang=en").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));
}

#[tokio::test]
async fn times_name_beijing_time_in_english() {
    let app = app(&MemoryBackend::seeded());
    let page = get(&app, "/?lang=en", "").await;
    assert!(page.body.contains("2026-11-27 09:05 (Beijing time)"));
    assert!(page.body.contains("Province aggregator"));
}
