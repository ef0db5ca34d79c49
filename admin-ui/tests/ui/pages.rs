//! The server-rendered pages: sign-in, form CSRF, roles, registration, administration.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{
    MemoryBackend, PASSWORD, Reply, anonymous_form, app, form, get, page_login, session_csrf,
};
use alliance_web::backend::AccountState;
use axum::http::StatusCode;

fn assert_redirects_to_login(reply: &Reply, next: &str) {
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reply.location(),
        Some(format!("/login?next={next}").as_str())
    );
}

#[tokio::test]
async fn login_page_shows_an_error_for_a_wrong_password() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, csrf) = anonymous_form(&app, "/login").await;
    let reply = form(
        &app,
        "/login",
        &cookie,
        &[
            ("csrf", &csrf),
            ("username", "li"),
            ("password", "wrong password!"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains("用户名或密码错误"), "{}", reply.body);
    assert!(reply.body.contains("role=\"alert\""));
    assert!(reply.body.contains("value=\"li\""), "the username is kept");
    assert!(
        !reply.body.contains("wrong password!"),
        "the password is not echoed"
    );
    assert!(reply.set_cookie("alliance_session").is_none());
    assert_eq!(backend.session_count(), 0);
}

#[tokio::test]
async fn login_page_explains_a_pending_account() {
    let app = app(&MemoryBackend::seeded());
    let (cookie, csrf) = anonymous_form(&app, "/login?lang=en").await;
    let reply = form(
        &app,
        "/login",
        &format!("{cookie}; lang=en"),
        &[
            ("csrf", &csrf),
            ("username", "firm"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        reply.body.contains("waiting for an administrator"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn login_goes_to_next_and_refuses_foreign_next() {
    let app = app(&MemoryBackend::seeded());
    let page = get(&app, "/login?next=/me", "").await;
    assert_eq!(page.hidden("next").as_deref(), Some("/me"));
    let cookie = format!("csrf={}", page.cookie("csrf").unwrap());
    let csrf = page.hidden("csrf").unwrap();
    let sign_in = |next| {
        let fields = [
            ("csrf", csrf.as_str()),
            ("username", "li"),
            ("password", PASSWORD),
            ("next", next),
        ];
        let (app, cookie) = (app.clone(), cookie.clone());
        async move { form(&app, "/login", &cookie, &fields).await }
    };

    let reply = sign_in("/me").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/me"));
    let session = reply.set_cookie("alliance_session").unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );

    for away in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        assert_eq!(sign_in(away).await.location(), Some("/"), "{away}");
    }
}

#[tokio::test]
async fn anonymous_forms_need_the_double_submit_token() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, csrf) = anonymous_form(&app, "/login").await;
    let credentials = [("username", "li"), ("password", PASSWORD)];

    let without_field = form(&app, "/login", &cookie, &credentials).await;
    assert_eq!(without_field.status, StatusCode::FORBIDDEN);
    let without_cookie = form(
        &app,
        "/login",
        "",
        &[("csrf", &csrf), ("username", "li"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(without_cookie.status, StatusCode::FORBIDDEN);
    let mismatched = form(
        &app,
        "/login",
        &format!("csrf={}", "ab".repeat(32)),
        &[("csrf", &csrf), ("username", "li"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(mismatched.status, StatusCode::FORBIDDEN);
    assert!(
        mismatched.body.contains("请求已被拒绝"),
        "{}",
        mismatched.body
    );
    assert_eq!(backend.session_count(), 0);

    let registration = [
        ("username", "acme"),
        ("password", "0123456789ab"),
        ("display_name", "Acme"),
        ("email", "a@acme.cn"),
    ];
    let reply = form(&app, "/register", &cookie, &registration).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(backend.account("acme").is_none());
}

#[tokio::test]
async fn the_csrf_cookie_is_strict_and_http_only() {
    let app = app(&MemoryBackend::default());
    let page = get(&app, "/register", "").await;
    let cookie = page.set_cookie("csrf").unwrap();
    assert!(
        cookie.contains("SameSite=Strict") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert_eq!(page.cookie("csrf"), page.hidden("csrf"));
    // An existing token is reused, so two open tabs keep working.
    let again = get(
        &app,
        "/register",
        &format!("csrf={}", page.cookie("csrf").unwrap()),
    )
    .await;
    assert!(again.set_cookie("csrf").is_none());
    assert_eq!(again.hidden("csrf"), page.hidden("csrf"));
}

#[tokio::test]
async fn signed_in_forms_need_the_session_token() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let cookie = page_login(&app, "admin").await;
    let uri = "/admin/accounts/firm/state";

    let missing = form(&app, uri, &cookie, &[("state", "active")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.body.contains("<html"), "a page, not a bare status");
    let wrong = form(&app, uri, &cookie, &[("csrf", "0123"), ("state", "active")]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(
        backend.account("firm").unwrap().state,
        AccountState::Pending
    );

    let create = [
        ("username", "newbie"),
        ("password", "0123456789"),
        ("display_name", "New"),
        ("role", "researcher"),
    ];
    let reply = form(&app, "/admin/accounts", &cookie, &create).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(backend.account("newbie").is_none());

    let logout = form(&app, "/logout", &cookie, &[]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&app, "/me", &cookie).await.status, StatusCode::OK);
}

#[tokio::test]
async fn admin_approves_a_pending_registration_with_the_form() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let cookie = page_login(&app, "admin").await;
    let page = get(&app, "/admin/accounts", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("action=\"/admin/accounts/firm/state\""));
    assert!(page.body.contains("批准"));
    assert!(
        page.body.contains("name=\"price_category\"") && page.body.contains("统一社会信用代码")
    );
    let csrf = page.hidden("csrf").unwrap();

    // Without a price category, or a firm without a valid code: refused, still pending.
    for fields in [
        vec![("state", "active")],
        vec![
            ("state", "active"),
            ("price_category", "enterprise"),
            ("credit_code", "123"),
        ],
    ] {
        let mut sent = vec![("csrf", csrf.as_str())];
        sent.extend(fields);
        let reply = form(&app, "/admin/accounts/firm/state", &cookie, &sent).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert!(reply.body.contains("批准校外用户须选择收费类别"));
        assert_eq!(
            backend.account("firm").unwrap().state,
            AccountState::Pending
        );
    }
    let reply = form(
        &app,
        "/admin/accounts/firm/state",
        &cookie,
        &[
            ("csrf", &csrf),
            ("state", "active"),
            ("price_category", "outside_academic"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        backend.account("firm").unwrap().price_tier(),
        Some(alliance_protocol::UserTier::OutsideAcademic)
    );
    assert_eq!(reply.location(), Some("/admin/accounts?notice=state"));
    assert_eq!(backend.account("firm").unwrap().state, AccountState::Active);

    let after = get(&app, "/admin/accounts?notice=state", &cookie).await;
    assert!(after.body.contains("账户状态已更新"));
}

#[tokio::test]
async fn admin_creates_an_account_and_sees_field_errors() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let cookie = page_login(&app, "admin").await;
    let csrf = session_csrf(&app, &cookie).await;
    let bad = form(
        &app,
        "/admin/accounts",
        &cookie,
        &[
            ("csrf", &csrf),
            ("username", "x"),
            ("password", "short"),
            ("display_name", "王五"),
            ("role", "researcher"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"username-error\""), "{}", bad.body);
    assert!(bad.body.contains("密码至少需要 10 个字符"));
    assert!(bad.body.contains("value=\"王五\""), "typed values are kept");

    let good = form(
        &app,
        "/admin/accounts",
        &cookie,
        &[
            ("csrf", &csrf),
            ("username", "wangwu"),
            ("password", "0123456789"),
            ("display_name", "王五"),
            ("role", "instrument_manager"),
        ],
    )
    .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.body);
    assert_eq!(
        backend.account("wangwu").unwrap().state,
        AccountState::Active
    );
}

#[tokio::test]
async fn wrong_roles_get_403_and_strangers_go_to_login() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let anonymous = get(&app, "/admin/accounts", "").await;
    assert_redirects_to_login(&anonymous, "/admin/accounts");
    assert_redirects_to_login(&get(&app, "/me", "").await, "/me");

    let cookie = page_login(&app, "li").await;
    let page = get(&app, "/admin/accounts", &cookie).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("无权访问"));
    let csrf = session_csrf(&app, &cookie).await;
    let reply = form(
        &app,
        "/admin/accounts/firm/state",
        &cookie,
        &[("csrf", &csrf), ("state", "active")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        backend.account("firm").unwrap().state,
        AccountState::Pending
    );
    assert!(
        !get(&app, "/", &cookie)
            .await
            .body
            .contains("/admin/accounts")
    );
}

#[tokio::test]
async fn registration_page_reports_errors_then_waits_for_approval() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let (cookie, csrf) = anonymous_form(&app, "/register").await;
    let bad = form(
        &app,
        "/register",
        &cookie,
        &[
            ("csrf", &csrf),
            ("username", ""),
            ("password", "short"),
            ("display_name", "某某公司"),
            ("email", "nope"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    for id in ["username-error", "password-error", "email-error"] {
        assert!(
            bad.body.contains(&format!("id=\"{id}\"")),
            "{id}: {}",
            bad.body
        );
    }
    assert!(bad.body.contains("aria-invalid=\"true\""));
    assert_eq!(backend.account_count(), 4);

    let good = form(
        &app,
        "/register",
        &cookie,
        &[
            ("csrf", &csrf),
            ("username", "acme"),
            ("password", "0123456789ab"),
            ("display_name", "某某公司"),
            ("organization", "某某公司"),
            ("email", "a@acme.cn"),
        ],
    )
    .await;
    assert_eq!(good.status, StatusCode::ACCEPTED, "{}", good.body);
    assert!(good.body.contains("等待"), "{}", good.body);
    assert_eq!(
        backend.account("acme").unwrap().state,
        AccountState::Pending
    );
}

#[tokio::test]
async fn sign_out_form_ends_the_session() {
    let backend = MemoryBackend::seeded();
    let app = app(&backend);
    let cookie = page_login(&app, "li").await;
    let csrf = session_csrf(&app, &cookie).await;
    let reply = form(&app, "/logout", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        reply
            .set_cookie("alliance_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(backend.session_count(), 0);
    assert_redirects_to_login(&get(&app, "/me", &cookie).await, "/me");
}

#[tokio::test]
async fn status_page_shows_the_node_in_beijing_time() {
    let app = app(&MemoryBackend::seeded());
    let page = get(&app, "/", "").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "大连理工大学",
        "Dalian University of Technology",
        "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
        "成员节点",
        "辽宁省科学技术厅",
        "省级汇聚节点",
        "/ip4/127.0.0.1/tcp/4100",
        "2026-11-27 09:05 (北京时间)",
    ] {
        assert!(page.body.contains(text), "missing {text}");
    }
}

#[tokio::test]
async fn unknown_pages_are_404_pages() {
    let app = app(&MemoryBackend::default());
    let page = get(&app, "/no/such/page", "").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("页面不存在"));
}
