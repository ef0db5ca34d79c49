//! The JSON API: sign-in, CSRF, roles, registration and account administration.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{MemoryBackend, PASSWORD, api_login, app, get, json};
use alliance_web::{
    WebOptions,
    backend::{AccountRole, AccountState},
    router,
};
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn status_json_has_the_required_fields() {
    let app = app(&MemoryBackend::seeded());
    let reply = get(&app, "/api/v1/status", "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let status = reply.json();
    for field in [
        "peer_id",
        "institution_id",
        "role",
        "roster_version",
        "members_connected",
        "members",
    ] {
        assert!(status.get(field).is_some(), "missing {field}: {status}");
    }
    assert_eq!(status["institution_id"], "dlut");
    assert_eq!(status["roster_version"], 7);
    assert_eq!(status["members"][0]["institution_id"], "lnsti");
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = app(&MemoryBackend::default());
    let reply = get(&app, "/healthz", "").await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn healthz_is_503_naming_each_problem_while_the_node_has_any() {
    let backend = MemoryBackend::default();
    let app = app(&backend);
    backend.set_unhealthy("store: refusing writes after a failed write");
    backend.set_unhealthy("task network: stopped");
    let reply = get(&app, "/healthz", "").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        reply.body.contains("store: refusing writes"),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("task network: stopped"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn wrong_password_is_401_with_a_json_error() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let body = json!({ "username": "li", "password": "not the password" });
    let reply = json(&app, Method::POST, "/api/v1/session", "", None, body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json()["error"]["code"], "invalid_credentials");
    assert!(reply.json()["error"]["message"].is_string());
    assert!(reply.set_cookie("alliance_session").is_none());
    assert_eq!(backend.session_count(), 0);
}

#[tokio::test]
async fn pending_and_disabled_accounts_are_403_with_their_reason() {
    let app = app(&MemoryBackend::seeded());
    for (username, code) in [("firm", "account_pending"), ("gone", "account_disabled")] {
        let body = json!({ "username": username, "password": PASSWORD });
        let reply = json(&app, Method::POST, "/api/v1/session", "", None, body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{username}");
        assert_eq!(reply.json()["error"]["code"], code);
    }
}

#[tokio::test]
async fn sign_in_sets_a_hardened_session_cookie_and_returns_the_csrf_token() {
    let backend = MemoryBackend::seeded();
    let secure = router(
        backend.clone(),
        WebOptions {
            secure_cookies: true,
            ..WebOptions::default()
        },
    );
    let body = json!({ "username": "li", "password": PASSWORD });
    let reply = json(
        &secure,
        Method::POST,
        "/api/v1/session",
        "",
        None,
        body.clone(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let session = reply.json();
    assert_eq!(session["account"]["username"], "li");
    assert!(
        session["csrf_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(session["account"].get("password").is_none());
    let cookie = reply.set_cookie("alliance_session").unwrap();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=", "Secure"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let max_age: i64 = cookie
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((3590..=3600).contains(&max_age), "{max_age}");

    let plain = app(&backend);
    let reply = json(&plain, Method::POST, "/api/v1/session", "", None, body).await;
    assert!(
        !reply
            .set_cookie("alliance_session")
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn me_needs_a_session() {
    let app = app(&MemoryBackend::seeded());
    let reply = get(&app, "/api/v1/me", "").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json()["error"]["code"], "unauthorized");

    let (cookie, _) = api_login(&app, "li").await;
    let reply = get(&app, "/api/v1/me", &cookie).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["username"], "li");
    assert_eq!(reply.json()["role"], "researcher");
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, csrf) = api_login(&app, "li").await;
    let reply = json(
        &app,
        Method::DELETE,
        "/api/v1/session",
        &cookie,
        Some(&csrf),
        json!({}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(
        reply
            .set_cookie("alliance_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(backend.session_count(), 0);
    assert_eq!(
        get(&app, "/api/v1/me", &cookie).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn state_changes_with_a_session_need_the_csrf_header() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, csrf) = api_login(&app, "admin").await;
    let approve = json!({ "state": "active", "price_category": "individual" });
    let uri = "/api/v1/accounts/firm/state";

    let missing = json(&app, Method::POST, uri, &cookie, None, approve.clone()).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(missing.json()["error"]["code"], "csrf");
    let wrong = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some("0000"),
        approve.clone(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.json()["error"]["code"], "csrf");
    let other_session = api_login(&app, "li").await.1;
    let borrowed = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some(&other_session),
        approve.clone(),
    )
    .await;
    assert_eq!(borrowed.status, StatusCode::FORBIDDEN);
    assert_eq!(
        backend.account("firm").unwrap().state,
        AccountState::Pending
    );

    let logout = json(
        &app,
        Method::DELETE,
        "/api/v1/session",
        &cookie,
        None,
        json!({}),
    )
    .await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert!(backend.session_count() >= 1);

    let ok = json(&app, Method::POST, uri, &cookie, Some(&csrf), approve).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn cross_origin_state_changes_are_refused() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let request = crate::common::request(Method::POST, "/api/v1/register", "")
        .header("host", "node.example.cn")
        .header("origin", "https://evil.example")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({
                "username": "mallory", "password": "0123456789", "display_name": "M",
                "email": "m@evil.example"
            })
            .to_string(),
        ))
        .unwrap();
    let reply = crate::common::send(&app, request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"]["code"], "cross_origin");
    assert!(backend.account("mallory").is_none());
}

#[tokio::test]
async fn account_administration_is_for_admins_only() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let anonymous = get(&app, "/api/v1/accounts", "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let (cookie, csrf) = api_login(&app, "li").await;
    let listed = get(&app, "/api/v1/accounts", &cookie).await;
    assert_eq!(listed.status, StatusCode::FORBIDDEN);
    assert_eq!(listed.json()["error"]["code"], "forbidden");
    let approve = json!({ "state": "active" });
    let uri = "/api/v1/accounts/firm/state";
    let approved = json(&app, Method::POST, uri, &cookie, Some(&csrf), approve).await;
    assert_eq!(approved.status, StatusCode::FORBIDDEN);
    let new = json!({
        "username": "eve", "password": "0123456789", "display_name": "Eve", "role": "province_admin"
    });
    let created = json(
        &app,
        Method::POST,
        "/api/v1/accounts",
        &cookie,
        Some(&csrf),
        new,
    )
    .await;
    assert_eq!(created.status, StatusCode::FORBIDDEN);
    assert_eq!(
        backend.account("firm").unwrap().state,
        AccountState::Pending
    );
    assert!(backend.account("eve").is_none());

    let (cookie, _) = api_login(&app, "admin").await;
    let listed = get(&app, "/api/v1/accounts", &cookie).await;
    assert_eq!(listed.status, StatusCode::OK);
    let names: Vec<_> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].clone())
        .collect();
    assert_eq!(names[0], "firm", "pending first: {names:?}");
    assert_eq!(names.len(), 4);
}

#[tokio::test]
async fn admin_approves_a_registration_and_the_user_can_sign_in() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let registration = json!({
        "username": "Acme-Lab ",
        "password": "a long enough password",
        "display_name": "大连某某检测有限公司",
        "organization": "大连某某检测有限公司",
        "email": "lab@acme.example.cn",
        "phone": "+86 411 1234 5678"
    });
    let reply = json(
        &app,
        Method::POST,
        "/api/v1/register",
        "",
        None,
        registration,
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({ "status": "pending", "username": "acme-lab" })
    );
    assert!(!reply.body.contains("a long enough password"));
    let account = backend.account("acme-lab").unwrap();
    assert_eq!(
        (account.state, account.role),
        (AccountState::Pending, AccountRole::ExternalUser)
    );

    let sign_in = json!({ "username": "acme-lab", "password": "a long enough password" });
    let early = json(
        &app,
        Method::POST,
        "/api/v1/session",
        "",
        None,
        sign_in.clone(),
    )
    .await;
    assert_eq!(early.status, StatusCode::FORBIDDEN);

    let (cookie, csrf) = api_login(&app, "admin").await;
    let uri = "/api/v1/accounts/acme-lab/state";
    // An outside user is approved with a price category, never without: a firm with its
    // valid unified social credit code.
    for (body, field) in [
        (json!({ "state": "active" }), "price_category"),
        (
            json!({ "state": "active", "price_category": "enterprise", "credit_code": "91350100M000100Y44" }),
            "credit_code",
        ),
        (
            json!({ "state": "active", "price_category": "university" }),
            "price_category",
        ),
    ] {
        let refused = json(&app, Method::POST, uri, &cookie, Some(&csrf), body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(refused.json()["error"]["field"], field);
    }
    assert_eq!(
        backend.account("acme-lab").unwrap().state,
        AccountState::Pending
    );
    let approved = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some(&csrf),
        json!({ "state": "active", "price_category": "enterprise", "credit_code": "91350100M000100Y43" }),
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.json()["state"], "active");
    assert_eq!(approved.json()["price_category"]["category"], "enterprise");
    assert_eq!(
        approved.json()["price_category"]["credit_code"],
        "91350100M000100Y43"
    );
    assert_eq!(
        backend.account("acme-lab").unwrap().state,
        AccountState::Active
    );

    let later = json(&app, Method::POST, "/api/v1/session", "", None, sign_in).await;
    assert_eq!(later.status, StatusCode::OK);
}

#[tokio::test]
async fn registration_errors_are_400_and_name_the_field() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let good = json!({
        "username": "zhangsan", "password": "0123456789", "display_name": "张三",
        "email": "zs@example.cn"
    });
    let cases = [
        ("username", json!("")),
        ("password", json!("short")),
        ("email", json!("not-an-address")),
        ("display_name", json!("")),
    ];
    for (field, value) in cases {
        let mut body = good.clone();
        body[field] = value;
        let reply = json(&app, Method::POST, "/api/v1/register", "", None, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            reply.body
        );
        let error = &reply.json()["error"];
        assert_eq!(error["code"], "invalid");
        assert_eq!(error["field"], field);
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let missing = json!({ "password": "0123456789", "display_name": "张三", "email": "a@b.cn" });
    let reply = json(&app, Method::POST, "/api/v1/register", "", None, missing).await;
    assert_eq!(reply.json()["error"]["field"], "username");
    assert_eq!(backend.account_count(), 4);
}

#[tokio::test]
async fn a_taken_username_gets_the_same_answer_as_a_free_one() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let body = |username: &str| {
        json!({
            "username": username, "password": "0123456789", "display_name": "李", "email": "li@x.cn"
        })
    };
    let taken = json(
        &app,
        Method::POST,
        "/api/v1/register",
        "",
        None,
        body("admin"),
    )
    .await;
    let free = json(
        &app,
        Method::POST,
        "/api/v1/register",
        "",
        None,
        body("fresh"),
    )
    .await;
    assert_eq!(taken.status, StatusCode::ACCEPTED, "{}", taken.body);
    assert_eq!(taken.status, free.status);
    assert_eq!(taken.body.replace("admin", "fresh"), free.body);
    let headers = |reply: &crate::common::Reply| {
        let mut names: Vec<String> = reply
            .headers
            .keys()
            .filter(|name| *name != "date")
            .map(|name| name.to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(headers(&taken), headers(&free));
    assert_eq!(
        backend.account("admin").unwrap().role,
        AccountRole::InstitutionAdmin,
        "nothing was stored over the existing account"
    );
}

#[tokio::test]
async fn admins_create_accounts_but_not_above_their_role() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, csrf) = api_login(&app, "admin").await;
    let new = |username: &str, role: &str| {
        json!({
            "username": username, "password": "0123456789", "display_name": "王五",
            "role": role, "organization": "大连理工大学"
        })
    };
    let uri = "/api/v1/accounts";
    let created = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some(&csrf),
        new("wangwu", "instrument_manager"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let account = backend.account("wangwu").unwrap();
    assert_eq!(
        (account.role, account.state),
        (AccountRole::InstrumentManager, AccountState::Active)
    );

    let above = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some(&csrf),
        new("boss", "province_admin"),
    )
    .await;
    assert_eq!(above.status, StatusCode::FORBIDDEN);
    assert_eq!(above.json()["error"]["code"], "role_not_allowed");
    assert!(backend.account("boss").is_none());

    let bad_role = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some(&csrf),
        new("x1y", "emperor"),
    )
    .await;
    assert_eq!(bad_role.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_role.json()["error"]["field"], "role");

    let own = json!({ "state": "disabled" });
    let reply = json(
        &app,
        Method::POST,
        "/api/v1/accounts/admin/state",
        &cookie,
        Some(&csrf),
        own,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        backend.account("admin").unwrap().state,
        AccountState::Active
    );

    let unknown = json!({ "state": "active" });
    let reply = json(
        &app,
        Method::POST,
        "/api/v1/accounts/nobody/state",
        &cookie,
        Some(&csrf),
        unknown,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn backend_failures_do_not_leak_their_detail() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, _) = api_login(&app, "admin").await;
    backend.fail_internally();
    let reply = get(&app, "/api/v1/accounts", &cookie).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.json()["error"]["code"], "internal");
    assert!(!reply.body.contains("secret-path"), "{}", reply.body);
    assert!(!reply.body.contains("fjall"), "{}", reply.body);
}

#[tokio::test]
async fn malformed_json_and_unknown_paths_get_json_errors() {
    let app = app(&MemoryBackend::seeded());
    let request = crate::common::request(Method::POST, "/api/v1/session", "")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    let reply = crate::common::send(&app, request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], "bad_request");

    let reply = get(&app, "/api/v1/nothing-here", "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_stale_session_cookie_is_cleared_and_treated_as_anonymous() {
    let app = app(&MemoryBackend::seeded());
    let stale = format!("alliance_session={}", "ab".repeat(32));
    let reply = get(&app, "/api/v1/me", &stale).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(
        reply
            .set_cookie("alliance_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    // Signing in with it still works (no session, so no CSRF header needed), and the new
    // cookie is not overwritten by the clearing one.
    let body = json!({ "username": "li", "password": PASSWORD });
    let reply = json(&app, Method::POST, "/api/v1/session", &stale, None, body).await;
    assert_eq!(reply.status, StatusCode::OK);
    let set: Vec<_> = reply.headers.get_all("set-cookie").iter().collect();
    assert_eq!(set.len(), 1, "{set:?}");
    assert!(
        !reply
            .set_cookie("alliance_session")
            .unwrap()
            .contains("Max-Age=0")
    );
}
