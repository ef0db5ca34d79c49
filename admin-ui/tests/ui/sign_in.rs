//! Limits against password guessing and registration floods, changing and resetting
//! passwords, through the router (real nodes over HTTP: `tests/tests/sign_in.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{net::SocketAddr, time::Duration};

use crate::common::{
    MemoryBackend, PASSWORD, Reply, anonymous_form, api_login, app, form, get, json, page_login,
    send, session_csrf,
};
use alliance_web::{SignInOptions, WebOptions, backend::NoticeKind, router};
use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Method, StatusCode, header},
};
use serde_json::json;

fn sign_in_body(username: &str, password: &str) -> serde_json::Value {
    json!({ "username": username, "password": password })
}

async fn api_sign_in(app: &axum::Router, username: &str, password: &str) -> Reply {
    let body = sign_in_body(username, password);
    json(app, Method::POST, "/api/v1/session", "", None, body).await
}

fn retry_after(reply: &Reply) -> u64 {
    reply
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {reply:?}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_sign_in_page_locks_a_name_and_says_so_in_both_languages() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, csrf) = anonymous_form(&app, "/login").await;
    let attempt = |password: &'static str, cookie: String| {
        let (app, csrf) = (app.clone(), csrf.clone());
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("username", "LI"),
                ("password", password),
            ];
            form(&app, "/login", &cookie, &fields).await
        }
    };
    for _ in 0..5 {
        let reply = attempt("wrong password", cookie.clone()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let locked = attempt(PASSWORD, cookie.clone()).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(&locked)));
    assert!(locked.body.contains("登录失败次数过多"), "{}", locked.body);
    assert!(locked.body.contains("name=\"username\""), "the form again");
    assert_eq!(backend.session_count(), 0, "the right password was refused");
    let english = attempt(PASSWORD, format!("{cookie}; lang=en")).await;
    assert!(english.body.contains("Too many failed sign-ins"));

    // The API shares the lock, and answers in its own shape.
    let api = api_sign_in(&app, "li", PASSWORD).await;
    assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(api.json()["error"]["code"], "too_many_attempts");
    assert!(retry_after(&api) >= 1);
    // Another account is not affected by this lock.
    assert_eq!(
        api_sign_in(&app, "admin", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_names_lock_like_known_ones() {
    let app = app(&MemoryBackend::seeded());
    for name in ["li", "no-such-user"] {
        for _ in 0..5 {
            let reply = api_sign_in(&app, name, "wrong password").await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
            assert_eq!(reply.json()["error"]["code"], "invalid_credentials");
        }
        let reply = api_sign_in(&app, name, "wrong password").await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
    }
}

#[tokio::test]
async fn an_address_is_locked_after_failures_under_many_names() {
    let app = app(&MemoryBackend::seeded());
    for i in 0..20 {
        let reply = api_sign_in(&app, &format!("guess-{i}"), "wrong password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    let reply = api_sign_in(&app, "admin", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

/// A request as if from `peer`, with an optional `X-Forwarded-For`.
async fn sign_in_from(
    app: &axum::Router,
    peer: &str,
    forwarded_for: Option<&str>,
    username: &str,
) -> StatusCode {
    let mut builder = crate::common::request(Method::POST, "/api/v1/session", "")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(value) = forwarded_for {
        builder = builder.header("x-forwarded-for", value);
    }
    let mut request = builder
        .body(Body::from(
            sign_in_body(username, "wrong password").to_string(),
        ))
        .unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    send(app, request).await.status
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let options = WebOptions {
        trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
        sign_in: SignInOptions {
            address_lockout_after: 3,
            ..SignInOptions::default()
        },
        ..WebOptions::default()
    };
    let app = router(MemoryBackend::seeded(), options);
    let proxy = "10.0.0.1:40000";
    for i in 0..3 {
        let status = sign_in_from(&app, proxy, Some("203.0.113.5"), &format!("a{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        sign_in_from(&app, proxy, Some("6.6.6.6, 203.0.113.5"), "a9").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a forged entry on the left does not escape the lock"
    );
    assert_eq!(
        sign_in_from(&app, proxy, Some("203.0.113.6"), "b0").await,
        StatusCode::UNAUTHORIZED,
        "another client behind the same proxy is not locked"
    );
    // An untrusted peer cannot pick its address with the header.
    let stranger = "198.51.100.7:5000";
    for i in 0..3 {
        let forged = format!("192.0.2.{i}");
        let status = sign_in_from(&app, stranger, Some(&forged), &format!("c{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        sign_in_from(&app, stranger, Some("192.0.2.99"), "c9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // IPv6 clients count per /64.
    for i in 0..3 {
        let peer = format!("[2001:db8:1:2::{i}]:5000");
        let status = sign_in_from(&app, &peer, None, &format!("d{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let status = sign_in_from(&app, "[2001:db8:1:2:ffff::1]:5000", None, "d9").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

fn registration(username: &str) -> serde_json::Value {
    json!({
        "username": username, "password": "0123456789ab", "display_name": "某某公司",
        "email": "a@firm.cn"
    })
}

#[tokio::test]
async fn registrations_beyond_the_rate_are_429_and_typos_do_not_count() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let register = |body| json(&app, Method::POST, "/api/v1/register", "", None, body);
    let mut bad = registration("typo");
    bad["email"] = json!("not an address");
    for _ in 0..10 {
        assert_eq!(register(bad.clone()).await.status, StatusCode::BAD_REQUEST);
    }
    for i in 0..5 {
        let reply = register(registration(&format!("firm-{i}"))).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{i}: {}", reply.body);
    }
    let refused = register(registration("firm-5")).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.json()["error"]["code"], "rate_limited");
    assert!(retry_after(&refused) > 60);
    assert!(backend.account("firm-5").is_none());

    // The page says so too.
    let (cookie, csrf) = anonymous_form(&app, "/register").await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "firm-6"),
        ("password", "0123456789ab"),
        ("display_name", "某某公司"),
        ("email", "a@firm.cn"),
    ];
    let page = form(&app, "/register", &cookie, &fields).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("注册过多"), "{}", page.body);
    assert!(page.header("retry-after").is_some());
}

#[tokio::test]
async fn a_taken_name_on_the_registration_page_looks_like_a_free_one() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, csrf) = anonymous_form(&app, "/register").await;
    let submit = |username: &'static str| {
        let (app, cookie, csrf) = (app.clone(), cookie.clone(), csrf.clone());
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("username", username),
                ("password", "0123456789ab"),
                ("display_name", "某某公司"),
                ("email", "a@firm.cn"),
            ];
            form(&app, "/register", &cookie, &fields).await
        }
    };
    let taken = submit("firm").await;
    let free = submit("wxyz").await;
    assert_eq!(taken.status, StatusCode::ACCEPTED, "{}", taken.body);
    assert_eq!(taken.status, free.status);
    assert_eq!(
        taken.body.replace(">firm<", ">wxyz<"),
        free.body,
        "the same page but for the name"
    );
    assert_eq!(backend.account("firm").unwrap().display_name, "firm 的名字");
}

#[tokio::test]
async fn changing_the_password_over_the_api_ends_the_other_sessions() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (here, csrf) = api_login(&app, "li").await;
    let (there, _) = api_login(&app, "li").await;
    let uri = "/api/v1/me/password";
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });

    let no_csrf = json(
        &app,
        Method::POST,
        uri,
        &here,
        None,
        change(PASSWORD, "new secret 123"),
    )
    .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let short = json(
        &app,
        Method::POST,
        uri,
        &here,
        Some(&csrf),
        change(PASSWORD, "short"),
    )
    .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_eq!(short.json()["error"]["field"], "new_password");
    let wrong = json(
        &app,
        Method::POST,
        uri,
        &here,
        Some(&csrf),
        change("not it", "new secret 123"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json()["error"]["field"], "current_password");
    assert_eq!(get(&app, "/api/v1/me", &there).await.status, StatusCode::OK);

    let ok = json(
        &app,
        Method::POST,
        uri,
        &here,
        Some(&csrf),
        change(PASSWORD, "new secret 123"),
    )
    .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    assert_eq!(get(&app, "/api/v1/me", &here).await.status, StatusCode::OK);
    assert_eq!(
        get(&app, "/api/v1/me", &there).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api_sign_in(&app, "li", "new secret 123").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn wrong_current_passwords_count_towards_the_lock() {
    let app = app(&MemoryBackend::seeded());
    let (cookie, csrf) = api_login(&app, "li").await;
    let body = json!({ "current_password": "guess", "new_password": "new secret 123" });
    let uri = "/api/v1/me/password";
    for _ in 0..5 {
        let reply = json(&app, Method::POST, uri, &cookie, Some(&csrf), body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    let reply = json(&app, Method::POST, uri, &cookie, Some(&csrf), body).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        api_sign_in(&app, "li", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a stolen session cannot guess the password past the lock"
    );
}

#[tokio::test]
async fn the_me_page_changes_the_password() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let cookie = page_login(&app, "li").await;
    let other = page_login(&app, "li").await;
    let page = get(&app, "/me", &cookie).await;
    assert!(page.body.contains("action=\"/me/password\""));
    assert!(page.body.contains("修改密码"));
    let csrf = session_csrf(&app, &cookie).await;
    let submit = |current: &'static str, new: &'static str, again: &'static str| {
        let (app, cookie, csrf) = (app.clone(), cookie.clone(), csrf.clone());
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("current_password", current),
                ("new_password", new),
                ("new_password_again", again),
            ];
            form(&app, "/me/password", &cookie, &fields).await
        }
    };
    let mismatch = submit(PASSWORD, "new secret 123", "new secret 124").await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body.contains("两次输入的新密码不一致"));
    let wrong = submit("not it at all", "new secret 123", "new secret 123").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("当前密码不正确"));

    let done = submit(PASSWORD, "new secret 123", "new secret 123").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some("/me?notice=password"));
    let after = get(&app, "/me?notice=password", &cookie).await;
    assert!(after.body.contains("密码已修改"));
    assert_eq!(get(&app, "/me", &other).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_me_page_keeps_ones_choice_of_notices_and_the_api_reads_it() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let cookie = page_login(&app, "li").await;
    let page = get(&app, "/me", &cookie).await;
    assert!(
        page.body.contains("action=\"/me/notifications\""),
        "{}",
        page.body
    );
    // Every kind is on by default.
    assert_eq!(
        page.body.matches("name=\"kind\"").count(),
        NoticeKind::ALL.len()
    );
    assert_eq!(
        page.body.matches(" checked>").count(),
        NoticeKind::ALL.len()
    );
    let csrf = session_csrf(&app, &cookie).await;
    // Without the session's token nothing changes.
    let forged = form(
        &app,
        "/me/notifications",
        &cookie,
        &[("csrf", "forged"), ("language", "en")],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Receipts only, in English.
    let saved = form(
        &app,
        "/me/notifications",
        &cookie,
        &[
            ("csrf", csrf.as_str()),
            ("kind", "receipt_to_confirm"),
            ("language", "en"),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), Some("/me?notice=notifications"));
    let after = get(&app, "/me?notice=notifications", &cookie).await;
    assert!(after.body.contains("通知设置已保存"));
    assert_eq!(after.body.matches(" checked>").count(), 1);
    assert!(after.body.contains("<option value=\"en\" selected>"));
    let api = json(
        &app,
        Method::GET,
        "/api/v1/me/notifications",
        &cookie,
        None,
        json!(null),
    )
    .await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(
        api.json(),
        json!({
            "language": "en",
            "off": [
                "booking_request", "booking_decision", "hold_lapsing", "booking_tomorrow",
                "need_matched", "offer_received", "offer_accepted", "order_state",
                "need_referred", "help_update"
            ]
        })
    );
    // The API changes it back; an unknown kind, or one listed twice, is refused.
    for off in [
        json!(["everything"]),
        json!(["hold_lapsing", "hold_lapsing"]),
    ] {
        let bad = json(
            &app,
            Method::PUT,
            "/api/v1/me/notifications",
            &cookie,
            Some(&csrf),
            json!({ "language": "zh", "off": off }),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{off}");
    }
    let put = json(
        &app,
        Method::PUT,
        "/api/v1/me/notifications",
        &cookie,
        Some(&csrf),
        json!({ "language": "zh", "off": [] }),
    )
    .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT);
    let page = get(&app, "/me", &cookie).await;
    assert_eq!(
        page.body.matches(" checked>").count(),
        NoticeKind::ALL.len()
    );
}

#[tokio::test]
async fn admins_reset_passwords_within_their_role() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (li, _) = api_login(&app, "li").await;
    let (admin, csrf) = api_login(&app, "admin").await;
    let reset = |who: &'static str, cookie: String, csrf: String| {
        let app = app.clone();
        async move {
            let uri = format!("/api/v1/accounts/{who}/password");
            json(&app, Method::POST, &uri, &cookie, Some(&csrf), json!({})).await
        }
    };
    let done = reset("li", admin.clone(), csrf.clone()).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let password = done.json()["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 16);
    assert_eq!(done.json()["username"], "li");
    assert_eq!(
        get(&app, "/api/v1/me", &li).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api_sign_in(&app, "li", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api_sign_in(&app, "li", &password).await.status,
        StatusCode::OK
    );

    let own = reset("admin", admin.clone(), csrf.clone()).await;
    assert_eq!(own.json()["error"]["code"], "own_account");
    let missing = reset("nobody", admin.clone(), csrf.clone()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let researcher = api_sign_in(&app, "li", &password).await;
    let cookie = format!(
        "alliance_session={}",
        researcher.cookie("alliance_session").unwrap()
    );
    let researcher_csrf = researcher.json()["csrf_token"].as_str().unwrap().to_owned();
    let forbidden = reset("admin", cookie, researcher_csrf).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_accounts_page_resets_a_password_and_shows_it_once() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let admin = page_login(&app, "admin").await;
    let page = get(&app, "/admin/accounts", &admin).await;
    assert!(page.body.contains("action=\"/admin/accounts/li/password\""));
    assert!(
        !page
            .body
            .contains("action=\"/admin/accounts/admin/password\""),
        "no reset button for oneself"
    );
    let csrf = session_csrf(&app, &admin).await;
    let reply = form(
        &app,
        "/admin/accounts/li/password",
        &admin,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.body.contains("id=\"password-reset\""),
        "{}",
        reply.body
    );
    assert!(
        reply
            .header("cache-control")
            .is_some_and(|v| v.contains("no-store"))
    );
    let again = get(&app, "/admin/accounts", &admin).await;
    assert!(!again.body.contains("id=\"password-reset\""), "shown once");
}

#[tokio::test]
async fn lock_lengths_follow_the_options() {
    let options = WebOptions {
        sign_in: SignInOptions {
            account_lockout_after: 2,
            lockout_base: Duration::from_secs(30),
            ..SignInOptions::default()
        },
        ..WebOptions::default()
    };
    let app = router(MemoryBackend::seeded(), options);
    api_sign_in(&app, "li", "wrong password").await;
    api_sign_in(&app, "li", "wrong password").await;
    let locked = api_sign_in(&app, "li", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((29..=30).contains(&retry_after(&locked)), "{locked:?}");
}
