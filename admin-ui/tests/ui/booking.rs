//! Booking through the web layer: the form on an instrument page, the owner's answer with
//! its quote and alternatives, "my bookings" with cancelling, notifications and the
//! calendar feed, the managers' page, the guide, and the same through the JSON API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{
    MemoryBackend, Reply, api_login, app, form, get, json, page_login, session_csrf,
};
use alliance_protocol::booking::BookingState;
use alliance_web::{
    backend::{AccountRole, AccountState, CatalogueBackend},
    instrument_input::{FeeInput, InstrumentInput},
};
use axum::{Router, http::Method, http::StatusCode};
use serde_json::json;

const INSTRUMENT: &str = "/instruments/dlut/LCMS-1";

fn fee(item_zh: &str, unit: &str, own: [&str; 3], enterprise: [&str; 3]) -> FeeInput {
    let parts = |p: [&str; 3]| p.map(str::to_owned);
    FeeInput {
        item_zh: item_zh.into(),
        item_en: String::new(),
        unit: unit.into(),
        prices: [parts(own), parts(own), parts(enterprise), parts(enterprise)],
    }
}

/// The usual cast plus an instrument manager and an approved firm, and one instrument
/// offered only as a staff-run service: 350 yuan an hour and 20 yuan a sample for its own
/// institution, 600 and 50 for firms.
async fn setup() -> (MemoryBackend, Router) {
    let backend = MemoryBackend::seeded()
        .with(
            "manager",
            AccountRole::InstrumentManager,
            AccountState::Active,
        )
        .with("acme", AccountRole::ExternalUser, AccountState::Active);
    let input = InstrumentInput {
        local_id: "LCMS-1".into(),
        name_zh: "液相色谱-质谱联用仪".into(),
        name_en: "LC-MS".into(),
        original_value: "3680000".into(),
        classification_code: "0102".into(),
        status: "in_service".into(),
        sharing_scope: "open_to_society".into(),
        service_modes: vec!["staff_run".into()],
        fees: vec![
            fee("机时", "hour", ["100", "200", "50"], ["100", "400", "100"]),
            fee("样品测试", "sample", ["20", "0", "0"], ["50", "0", "0"]),
        ],
        ..InstrumentInput::default()
    };
    let record = input.to_record(&"dlut".parse().unwrap()).unwrap();
    backend.save_instrument(record).await.unwrap();
    let app = app(&backend);
    (backend, app)
}

/// Books through the instrument page's form, as a browser would send it.
async fn book(app: &Router, cookie: &str, start: &str, minutes: &str) -> (Reply, String) {
    let page = get(app, INSTRUMENT, cookie).await;
    let csrf = page.hidden("csrf").unwrap();
    let booking_id = page.hidden("booking_id").unwrap();
    let reply = form(
        app,
        "/bookings",
        cookie,
        &[
            ("csrf", &csrf),
            ("instrument_id", "dlut/LCMS-1"),
            ("booking_id", &booking_id),
            ("start", start),
            ("minutes", minutes),
            ("mode", "staff_run"),
            ("samples", "3"),
            ("purpose", "蛋白质组学样品检测"),
        ],
    )
    .await;
    (reply, booking_id)
}

#[tokio::test]
async fn every_booking_page_renders_in_chinese_and_in_english() {
    let (_, app) = setup().await;
    let li = page_login(&app, "li").await;
    let manager = page_login(&app, "manager").await;
    book(&app, &li, "2030-12-02T09:00", "60").await;
    let pages = [
        (INSTRUMENT, &li, "预约机时", "Book time"),
        ("/bookings", &li, "日历订阅", "Calendar subscription"),
        ("/manage/bookings", &manager, "待审批", "Awaiting approval"),
        ("/guide", &li, "四、收费标准", "4. What you pay"),
    ];
    for (uri, cookie, zh, en) in pages {
        let page = get(&app, uri, cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert!(page.body.contains("<html lang=\"zh-CN\""), "{uri}");
        assert!(page.body.contains(zh), "{uri}: {}", page.body);
        let page = get(&app, &format!("{uri}?lang=en"), cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert!(page.body.contains("<html lang=\"en\""), "{uri}");
        assert!(page.body.contains(en), "{uri}: {}", page.body);
        assert!(!page.body.contains(zh), "{uri} mixes languages");
    }
    let guide = get(&app, "/guide", "").await;
    assert!(guide.body.contains("企业用户") && guide.body.contains("大连理工大学"));
    let register = get(&app, "/register", "").await;
    assert!(register.body.contains("href=\"/guide\""));
}

#[tokio::test]
async fn the_navigation_offers_bookings_by_role() {
    let (_, app) = setup().await;
    let anonymous = get(&app, "/instruments", "").await;
    assert!(anonymous.body.contains(">校外用户指南<"));
    assert!(!anonymous.body.contains("href=\"/bookings\""));
    let li = get(&app, "/instruments", &page_login(&app, "li").await).await;
    assert!(li.body.contains(">我的预约<"));
    assert!(!li.body.contains("href=\"/manage/bookings\""));
    for manager in ["manager", "admin"] {
        let page = get(&app, "/instruments", &page_login(&app, manager).await).await;
        assert!(page.body.contains(">预约审批<"), "{manager}");
    }
}

#[tokio::test]
async fn the_booking_form_appears_only_when_signed_in() {
    let (_, app) = setup().await;
    let anonymous = get(&app, INSTRUMENT, "").await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert!(!anonymous.body.contains("id=\"booking-form\""));
    assert!(
        anonymous
            .body
            .contains("href=\"/login?next=/instruments/dlut/LCMS-1%23book\""),
        "{}",
        anonymous.body
    );
    assert!(!anonymous.body.contains("data-start="), "no booking links");

    let cookie = page_login(&app, "li").await;
    let page = get(&app, INSTRUMENT, &cookie).await;
    assert!(page.body.contains("id=\"booking-form\""));
    assert!(page.body.contains("type=\"datetime-local\""));
    assert_eq!(page.hidden("csrf"), Some(session_csrf(&app, &cookie).await));
    // Only the mode the record offers, chosen already; lengths in half hours up to 8 h.
    assert!(
        page.body
            .contains("<option value=\"staff_run\" selected>送样检测</option>")
    );
    assert!(!page.body.contains("value=\"self_operated\""));
    assert!(page.body.contains("<option value=\"30\">30 分钟</option>"));
    assert!(
        page.body
            .contains("<option value=\"90\">1 小时 30 分钟</option>")
    );
    assert!(page.body.contains("<option value=\"480\">8 小时</option>"));
    assert!(!page.body.contains("<option value=\"510\""));
    // A free hour links to the form with its start; the link works without script.
    assert!(page.body.contains(
        "href=\"/instruments/dlut/LCMS-1?day=0&#38;start=2030-12-02T09:00#book\" data-start=\"2030-12-02T09:00\""
    ));
    let picked = get(
        &app,
        &format!("{INSTRUMENT}?start=2030-12-02T09:00"),
        &cookie,
    )
    .await;
    assert!(picked.body.contains("value=\"2030-12-02T09:00\""));
}

#[tokio::test]
async fn booking_needs_the_csrf_token_and_a_session() {
    let (backend, app) = setup().await;
    let cookie = page_login(&app, "li").await;
    let fields = [
        ("instrument_id", "dlut/LCMS-1"),
        ("start", "2030-12-02T09:00"),
        ("minutes", "60"),
        ("mode", "staff_run"),
    ];
    let reply = form(&app, "/bookings", &cookie, &fields).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let mut wrong = fields.to_vec();
    wrong.push(("csrf", "0000"));
    let reply = form(&app, "/bookings", &cookie, &wrong).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = form(&app, "/bookings", "", &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().unwrap().starts_with("/login?next="));
    assert!(backend.bookings().is_empty());
}

#[tokio::test]
async fn a_bad_form_comes_back_with_its_problems() {
    let (backend, app) = setup().await;
    let cookie = page_login(&app, "li").await;
    let (reply, _) = book(&app, &cookie, "next monday", "0").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("请填写开始时间"), "{}", reply.body);
    assert!(reply.body.contains("时长须为整数分钟"));
    assert!(
        reply.body.contains("蛋白质组学样品检测"),
        "what was typed is kept"
    );
    assert!(backend.bookings().is_empty());
}

#[tokio::test]
async fn a_booking_is_confirmed_quoted_and_listed() {
    let (backend, app) = setup().await;
    let cookie = page_login(&app, "li").await;
    let (reply, booking_id) = book(&app, &cookie, "2030-12-02T09:00", "90").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("预约已确认"));
    assert!(reply.body.contains("2030-12-02 09:00–10:30 (北京时间)"));
    // 90 minutes at 100 + 200 + 50 yuan an hour, and 3 samples at 20 yuan.
    assert!(reply.body.contains("本单位用户"));
    assert!(reply.body.contains(">150.00<") && reply.body.contains(">300.00<"));
    assert!(reply.body.contains(">75.00<") && reply.body.contains(">525.00<"));
    assert!(reply.body.contains(">60.00<"));
    assert!(
        reply
            .body
            .contains("<strong id=\"quote-total\">585.00</strong>")
    );

    // Sending the same form again books nothing more.
    let page = get(&app, INSTRUMENT, &cookie).await;
    let again = form(
        &app,
        "/bookings",
        &cookie,
        &[
            ("csrf", &page.hidden("csrf").unwrap()),
            ("instrument_id", "dlut/LCMS-1"),
            ("booking_id", &booking_id),
            ("start", "2030-12-02T09:00"),
            ("minutes", "90"),
            ("mode", "staff_run"),
        ],
    )
    .await;
    assert!(again.body.contains("预约已确认"));
    let stored = backend.bookings();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].booking.booking_id, booking_id);
    assert_eq!(stored[0].purpose, "蛋白质组学样品检测");

    let mine = get(&app, "/bookings", &cookie).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(
        mine.body
            .contains(&format!("data-booking=\"{booking_id}\""))
    );
    assert!(mine.body.contains("液相色谱-质谱联用仪"));
    assert!(mine.body.contains("2030-12-02 09:00–10:30 (北京时间)"));
    assert!(
        mine.body
            .contains("<span class=\"badge active\">已确认</span>")
    );
    assert!(mine.body.contains(">585.00<"));
    assert!(
        mine.body
            .contains(&format!("action=\"/bookings/{booking_id}/cancel\""))
    );
    // The inbox tells of it, and the calendar shows the hours taken.
    let inbox = &mine.body[mine.body.find("id=\"notifications\"").unwrap()..];
    assert!(inbox.contains("液相色谱-质谱联用仪"));
    let calendar = get(&app, INSTRUMENT, &cookie).await;
    assert!(!calendar.body.contains("data-start=\"2030-12-02T09:00\""));
    assert!(calendar.body.contains("data-start=\"2030-12-02T11:00\""));
}

#[tokio::test]
async fn an_overlap_offers_the_nearest_free_slots_each_one_click_away() {
    let (backend, app) = setup().await;
    let li = page_login(&app, "li").await;
    book(&app, &li, "2030-12-02T09:00", "90").await;
    let admin = page_login(&app, "admin").await;
    let (reply, _) = book(&app, &admin, "2030-12-02T10:00", "60").await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body.contains("该时段已被占用"), "{}", reply.body);
    assert!(reply.body.contains("2030-12-02 10:30–11:30 (北京时间)"));
    assert!(reply.body.contains("2030-12-02 11:00–12:00 (北京时间)"));
    assert_eq!(backend.bookings().len(), 1, "a conflict books nothing");

    // The first alternative's form books that slot.
    let fields: Vec<(&str, String)> = [
        "csrf",
        "instrument_id",
        "booking_id",
        "start",
        "minutes",
        "mode",
        "samples",
        "purpose",
    ]
    .into_iter()
    .map(|name| (name, reply.hidden(name).unwrap()))
    .collect();
    assert_eq!(fields[3].1, "2030-12-02T10:30");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let taken = form(&app, "/bookings", &admin, &fields).await;
    assert_eq!(taken.status, StatusCode::OK);
    assert!(taken.body.contains("预约已确认"));
    assert!(taken.body.contains("2030-12-02 10:30–11:30 (北京时间)"));
    assert_eq!(backend.bookings().len(), 2);
}

#[tokio::test]
async fn a_user_cancels_a_booking_with_a_reason() {
    let (backend, app) = setup().await;
    let cookie = page_login(&app, "li").await;
    let (_, booking_id) = book(&app, &cookie, "2030-12-03T14:00", "60").await;
    let cancel = format!("/bookings/{booking_id}/cancel");
    let refused = form(&app, &cancel, &cookie, &[("reason", "改期")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "no CSRF token");

    let csrf = session_csrf(&app, &cookie).await;
    let reply = form(
        &app,
        &cancel,
        &cookie,
        &[("csrf", &csrf), ("reason", "样品未准备好")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/bookings?notice=cancelled"));
    assert_eq!(
        backend.bookings()[0].booking.status,
        BookingState::Cancelled
    );

    let mine = get(&app, "/bookings?notice=cancelled", &cookie).await;
    assert!(mine.body.contains("预约已取消"));
    assert!(
        mine.body
            .contains("<span class=\"badge disabled\">已取消</span>")
    );
    assert!(mine.body.contains("样品未准备好"));
    assert!(!mine.body.contains(&format!("action=\"{cancel}\"")));

    // A cancelled booking cannot be cancelled again; the owner's refusal is explained.
    let again = form(&app, &cancel, &cookie, &[("csrf", &csrf), ("reason", "")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("已超过可取消的时间"));
    let other = form(&app, "/bookings/nope/cancel", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn researchers_may_not_manage_bookings() {
    let (_, app) = setup().await;
    let cookie = page_login(&app, "li").await;
    let page = get(&app, "/manage/bookings", &cookie).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let csrf = session_csrf(&app, &cookie).await;
    let post = form(
        &app,
        "/manage/bookings/dlut/b1",
        &cookie,
        &[("csrf", &csrf), ("decision", "approve")],
    )
    .await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    let anonymous = get(&app, "/manage/bookings", "").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);

    let (api_cookie, api_csrf) = api_login(&app, "li").await;
    let list = get(&app, "/api/v1/manage/bookings", &api_cookie).await;
    assert_eq!(list.status, StatusCode::FORBIDDEN);
    assert_eq!(list.json()["error"]["code"], "forbidden");
    let decide = json(
        &app,
        Method::POST,
        "/api/v1/manage/bookings/dlut/b1",
        &api_cookie,
        Some(&api_csrf),
        json!({ "decision": "approve" }),
    )
    .await;
    assert_eq!(decide.status, StatusCode::FORBIDDEN);
    let anonymous = get(&app, "/api/v1/manage/bookings", "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_manager_approves_a_held_booking_and_the_user_is_told() {
    let (backend, app) = setup().await;
    let acme = page_login(&app, "acme").await;
    let (reply, booking_id) = book(&app, &acme, "2030-12-04T10:00", "120").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("等待仪器管理员审批"), "{}", reply.body);
    assert!(reply.body.contains("时段保留至"));
    // A firm pays the enterprise prices: 2 h at 100 + 400 + 100, 3 samples at 50.
    assert!(reply.body.contains("企业用户"));
    assert!(
        reply
            .body
            .contains("<strong id=\"quote-total\">1,350.00</strong>")
    );

    let manager = page_login(&app, "manager").await;
    let page = get(&app, "/manage/bookings", &manager).await;
    assert_eq!(page.status, StatusCode::OK);
    let held = &page.body[page.body.find("id=\"bookings-held\"").unwrap()..];
    assert!(held.contains(&format!("data-booking=\"{booking_id}\"")));
    for shown in [
        "acme 的名字",
        "大连理工大学",
        "企业用户",
        "送样检测",
        "蛋白质组学样品检测",
        "value=\"approve\"",
        "value=\"reject\"",
    ] {
        assert!(held.contains(shown), "{shown}");
    }
    // The user's address stays at their home: the manager never sees it.
    assert!(!held.contains("acme@example.cn"), "{held}");
    let action = format!("/manage/bookings/dlut/{booking_id}");
    let csrf = session_csrf(&app, &manager).await;
    let no_reason = form(
        &app,
        &action,
        &manager,
        &[("csrf", &csrf), ("decision", "reject")],
    )
    .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("驳回或取消预约时请填写原因"));
    let no_csrf = form(&app, &action, &manager, &[("decision", "approve")]).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(backend.bookings()[0].booking.status, BookingState::Held);

    let approved = form(
        &app,
        &action,
        &manager,
        &[
            ("csrf", &csrf),
            ("decision", "approve"),
            ("note", "请提前十分钟到场"),
        ],
    )
    .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    assert_eq!(approved.location(), Some("/manage/bookings?notice=decided"));
    assert_eq!(
        backend.bookings()[0].booking.status,
        BookingState::Confirmed
    );
    let after = get(&app, "/manage/bookings?notice=decided", &manager).await;
    let active = &after.body[after.body.find("id=\"bookings-active\"").unwrap()..];
    assert!(active.contains("value=\"start\"") && active.contains("value=\"no_show\""));

    let mine = get(&app, "/bookings", &acme).await;
    assert!(
        mine.body
            .contains("<span class=\"badge active\">已确认</span>")
    );
    assert!(mine.body.contains("请提前十分钟到场"));
    let inbox = &mine.body[mine.body.find("id=\"notifications\"").unwrap()..];
    let confirmed = inbox.find("已确认").unwrap();
    let held = inbox.find("待审批").unwrap();
    assert!(confirmed < held, "newest first");
}

#[tokio::test]
async fn the_feed_serves_the_users_bookings_as_a_calendar() {
    let (_, app) = setup().await;
    let cookie = page_login(&app, "li").await;
    let (_, booking_id) = book(&app, &cookie, "2030-12-02T09:00", "60").await;
    let mine = get(&app, "/bookings", &cookie).await;
    let start = mine.body.find("/feeds/").unwrap();
    let end = start + mine.body[start..].find(".ics").unwrap() + 4;
    let feed_url = mine.body[start..end].to_owned();

    // No session: the token is the key.
    let feed = get(&app, &feed_url, "").await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(
        feed.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert!(feed.body.starts_with("BEGIN:VCALENDAR"));
    assert!(feed.body.contains(&format!("UID:{booking_id}@dlut")));
    assert!(feed.body.contains("DTSTART:20301202T010000Z"));

    for missing in [
        "/feeds/not-a-token.ics",
        "/feeds/instruments/NOPE.ics",
        "/feeds/abc.txt",
    ] {
        assert_eq!(
            get(&app, missing, "").await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    let instrument = get(&app, "/feeds/instruments/LCMS-1.ics", "").await;
    assert_eq!(instrument.status, StatusCode::OK);
    assert_eq!(
        instrument.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert!(instrument.body.contains(&format!("UID:{booking_id}@dlut")));
}

#[tokio::test]
async fn an_unreachable_owner_books_nothing() {
    let (backend, app) = setup().await;
    backend.owner_offline();
    let cookie = page_login(&app, "li").await;
    let (reply, _) = book(&app, &cookie, "2030-12-02T09:00", "60").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.body.contains("未进行任何预约"));

    let (api_cookie, csrf) = api_login(&app, "li").await;
    let body = json!({
        "instrument_id": "dlut/LCMS-1", "start": "2030-12-02T09:00", "minutes": 60,
        "mode": "staff_run"
    });
    let reply = json(
        &app,
        Method::POST,
        "/api/v1/bookings",
        &api_cookie,
        Some(&csrf),
        body,
    )
    .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.json()["error"]["code"], "unreachable");
    assert!(backend.bookings().is_empty());
}

#[tokio::test]
async fn the_api_books_lists_cancels_and_notifies() {
    let (_, app) = setup().await;
    let (cookie, csrf) = api_login(&app, "li").await;
    let body = json!({
        "instrument_id": "dlut/LCMS-1", "start": "2030-12-02T09:00", "minutes": 90,
        "mode": "staff_run", "samples": 3, "purpose": "检测", "booking_id": "api-1"
    });
    let no_csrf = json(
        &app,
        Method::POST,
        "/api/v1/bookings",
        &cookie,
        None,
        body.clone(),
    )
    .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(no_csrf.json()["error"]["code"], "csrf");

    let booked = json(
        &app,
        Method::POST,
        "/api/v1/bookings",
        &cookie,
        Some(&csrf),
        body.clone(),
    )
    .await;
    assert_eq!(booked.status, StatusCode::OK, "{}", booked.body);
    let outcome = booked.json();
    assert_eq!(outcome["booking"]["booking_id"], "api-1");
    assert_eq!(outcome["booking"]["status"], "confirmed");
    assert_eq!(outcome["booking"]["quote_fen"], 58_500);
    assert_eq!(outcome["quote"]["tier"], "own_institution");

    let mut overlap = body.clone();
    overlap["booking_id"] = json!("api-2");
    overlap["start"] = json!("2030-12-02T10:00");
    let conflict = json(
        &app,
        Method::POST,
        "/api/v1/bookings",
        &cookie,
        Some(&csrf),
        overlap,
    )
    .await;
    assert_eq!(conflict.status, StatusCode::OK);
    assert_eq!(conflict.json()["code"], "conflict");
    assert!(
        !conflict.json()["alternatives"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let mut bad = body.clone();
    bad["minutes"] = json!(44_641);
    let invalid = json(
        &app,
        Method::POST,
        "/api/v1/bookings",
        &cookie,
        Some(&csrf),
        bad,
    )
    .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.json()["error"]["code"], "invalid");
    assert_eq!(invalid.json()["error"]["field"], "minutes");
    let mut unknown = body.clone();
    unknown["instrument_id"] = json!("dlut/NOPE");
    let missing = json(
        &app,
        Method::POST,
        "/api/v1/bookings",
        &cookie,
        Some(&csrf),
        unknown,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let list = get(&app, "/api/v1/bookings", &cookie).await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["booking_id"], "api-1");

    let cancelled = json(
        &app,
        Method::POST,
        "/api/v1/bookings/api-1/cancel",
        &cookie,
        Some(&csrf),
        json!({ "reason": "改期" }),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert_eq!(cancelled.json()["status"], "cancelled");
    let again = json(
        &app,
        Method::POST,
        "/api/v1/bookings/api-1/cancel",
        &cookie,
        Some(&csrf),
        json!({ "reason": "" }),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"]["code"], "too_late");

    let notifications = get(&app, "/api/v1/notifications", &cookie).await.json();
    assert_eq!(notifications[0]["status"], "cancelled");
    assert_eq!(notifications[0]["note"], "改期");
    assert_eq!(notifications[1]["status"], "confirmed");
    // A page at a time, newest first, with how many in all.
    let older = get(&app, "/api/v1/notifications?offset=1&limit=1", &cookie).await;
    assert_eq!(older.headers["x-total-count"], "2");
    assert_eq!(older.json()[0]["status"], "confirmed");
    let too_many = get(&app, "/api/v1/notifications?limit=101", &cookie).await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        get(&app, "/api/v1/bookings", "").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_api_lets_a_manager_decide() {
    let (_, app) = setup().await;
    let (acme, acme_csrf) = api_login(&app, "acme").await;
    let body = json!({
        "instrument_id": "dlut/LCMS-1", "start": "2030-12-05T09:00", "minutes": 60,
        "mode": "staff_run", "booking_id": "firm-1"
    });
    let held = json(
        &app,
        Method::POST,
        "/api/v1/bookings",
        &acme,
        Some(&acme_csrf),
        body,
    )
    .await;
    assert_eq!(held.json()["booking"]["status"], "held");
    assert!(held.json()["booking"]["hold_until"].is_i64());

    let (cookie, csrf) = api_login(&app, "manager").await;
    let list = get(&app, "/api/v1/manage/bookings", &cookie).await.json();
    assert_eq!(list[0]["booking_id"], "firm-1");
    assert_eq!(list[0]["tier"], "enterprise");
    let uri = "/api/v1/manage/bookings/dlut/firm-1";
    let decide = |decision: &str, note: &str| json!({ "decision": decision, "note": note });
    let no_note = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some(&csrf),
        decide("reject", ""),
    )
    .await;
    assert_eq!(no_note.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_note.json()["error"]["field"], "note");
    let approved = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some(&csrf),
        decide("approve", ""),
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.json()["status"], "confirmed");
    assert_eq!(approved.json()["history"].as_array().unwrap().len(), 2);
    let twice = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some(&csrf),
        decide("approve", ""),
    )
    .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.json()["error"]["code"], "wrong_state");
    let unknown = json(
        &app,
        Method::POST,
        "/api/v1/manage/bookings/dlut/nope",
        &cookie,
        Some(&csrf),
        decide("approve", ""),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let bad = json(
        &app,
        Method::POST,
        uri,
        &cookie,
        Some(&csrf),
        decide("maybe", ""),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let notifications = get(&app, "/api/v1/notifications", &acme).await.json();
    assert_eq!(notifications[0]["status"], "confirmed");
    assert_eq!(notifications[0]["booking_id"], "firm-1");
}

#[tokio::test]
async fn the_api_lets_a_manager_set_rules_and_record_training() {
    let (_, app) = setup().await;
    let (acme, acme_csrf) = api_login(&app, "acme").await;
    let rules_uri = "/api/v1/manage/instruments/LCMS-1/rules";
    assert_eq!(
        get(&app, rules_uri, &acme).await.status,
        StatusCode::FORBIDDEN
    );
    let training = json!({
        "local_id": "LCMS-1", "home": "neu", "user_id": "wang",
        "trained_at": 1_900_000_000, "valid_until": 1_931_536_000
    });
    let refused = json(
        &app,
        Method::POST,
        "/api/v1/manage/trainings",
        &acme,
        Some(&acme_csrf),
        training.clone(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let (cookie, csrf) = api_login(&app, "manager").await;
    let mut rules = get(&app, rules_uri, &cookie).await.json();
    assert_eq!(rules["granularity_minutes"], 30);
    rules["min_lead_minutes"] = json!(120);
    rules["blackouts"] = json!([{
        "start": 1_922_400_000, "end": 1_922_428_800, "kind": "maintenance", "reason": "更换离子源"
    }]);
    let saved = json(
        &app,
        Method::PUT,
        rules_uri,
        &cookie,
        Some(&csrf),
        rules.clone(),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let read = get(&app, rules_uri, &cookie).await.json();
    assert_eq!(read["min_lead_minutes"], 120);
    assert_eq!(read["blackouts"][0]["reason"], "更换离子源");
    // A body that is not an object (serde would read `[]` as every default) is refused.
    let array = json(
        &app,
        Method::PUT,
        rules_uri,
        &cookie,
        Some(&csrf),
        json!([]),
    )
    .await;
    assert_eq!(
        array.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        array.body
    );
    assert_eq!(
        get(&app, rules_uri, &cookie).await.json()["min_lead_minutes"],
        120
    );
    // A blackout of a kind the node does not know is refused, naming it; nothing changes.
    let mut party = rules;
    party["min_lead_minutes"] = json!(30);
    party["blackouts"][0]["kind"] = json!("party");
    let refused = json(&app, Method::PUT, rules_uri, &cookie, Some(&csrf), party).await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert!(refused.body.contains("party"), "{}", refused.body);
    assert_eq!(get(&app, rules_uri, &cookie).await.json(), read);
    assert_eq!(
        get(&app, "/api/v1/manage/instruments/NOPE/rules", &cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let recorded = json(
        &app,
        Method::POST,
        "/api/v1/manage/trainings",
        &cookie,
        Some(&csrf),
        training,
    )
    .await;
    assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.body);
    assert_eq!(recorded.json()["recorded_by"], "manager");
    let list = get(&app, "/api/v1/manage/trainings", &cookie).await.json();
    assert_eq!(list[0]["user_id"], "wang");
}

#[tokio::test]
async fn each_role_lands_on_its_work_and_node_status_leaves_the_menu() {
    let (_, app) = setup().await;
    let acme = page_login(&app, "acme").await;
    let (reply, _) = book(&app, &acme, "2030-12-04T10:00", "120").await;
    assert_eq!(reply.status, StatusCode::OK);

    // The firm lands on its coming booking.
    let work = get(&app, "/", &acme).await;
    assert_eq!(work.status, StatusCode::OK);
    assert!(work.body.contains("<h1>我的工作台</h1>"), "{}", work.body);
    let upcoming = &work.body[work.body.find("id=\"upcoming\"").unwrap()..];
    assert!(upcoming.contains("data-count=\"1\""), "{upcoming}");
    assert!(upcoming.contains("液相色谱-质谱联用仪"), "{upcoming}");
    assert!(!work.body.contains("id=\"to-approve\""), "not a manager's");

    // The manager lands on the request waiting for them.
    let manager = page_login(&app, "manager").await;
    let work = get(&app, "/", &manager).await;
    let waiting = &work.body[work.body.find("id=\"to-approve\"").unwrap()..];
    assert!(waiting.contains("data-count=\"1\""), "{waiting}");
    assert!(waiting.contains("液相色谱-质谱联用仪"), "{waiting}");
    assert!(waiting.contains("href=\"/manage/bookings\""));

    // The institution's admin sees its catalogue and the registration to approve.
    let admin = page_login(&app, "admin").await;
    let work = get(&app, "/", &admin).await;
    assert!(work.body.contains("待审核的注册账户"), "{}", work.body);
    assert!(work.body.contains("href=\"/admin/instruments\""));

    // Node status is in the footer, not the menu, and still there for visitors.
    let nav =
        &work.body[work.body.find("id=\"site-nav\"").unwrap()..work.body.find("</nav>").unwrap()];
    assert!(!nav.contains("节点状态"), "{nav}");
    assert!(work.body.contains("<a href=\"/status\">节点状态</a>"));
    let status = get(&app, "/status", &admin).await;
    assert!(status.body.contains("大连理工大学"));
    let anonymous = get(&app, "/", "").await;
    assert!(!anonymous.body.contains("我的工作台"));
}

#[tokio::test]
async fn self_operated_use_is_offered_only_to_those_trained() {
    let (backend, app) = setup().await;
    let both = InstrumentInput {
        local_id: "SEM-1".into(),
        name_zh: "扫描电子显微镜".into(),
        original_value: "2500000".into(),
        classification_code: "0102".into(),
        status: "in_service".into(),
        sharing_scope: "open_to_society".into(),
        service_modes: vec!["self_operated".into(), "staff_run".into()],
        fees: vec![fee(
            "机时",
            "hour",
            ["100", "200", "50"],
            ["100", "400", "100"],
        )],
        ..InstrumentInput::default()
    };
    let only_self = InstrumentInput {
        local_id: "AFM-1".into(),
        name_zh: "原子力显微镜".into(),
        service_modes: vec!["self_operated".into()],
        ..both.clone()
    };
    for input in [both, only_self] {
        let record = input.to_record(&"dlut".parse().unwrap()).unwrap();
        backend.save_instrument(record).await.unwrap();
    }
    let li = page_login(&app, "li").await;

    // Not trained: staff-run only, and why; an instrument only self-operated takes none.
    let page = get(&app, "/instruments/dlut/SEM-1", &li).await;
    assert!(page.body.contains("value=\"staff_run\""));
    assert!(
        !page.body.contains("value=\"self_operated\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"untrained-hint\""));
    let page = get(&app, "/instruments/dlut/AFM-1", &li).await;
    assert!(!page.body.contains("id=\"booking-form\""));
    assert!(page.body.contains("须先参加培训并取得上机资格"));
    // Asked anyway (an old form), the owner refuses; an English page says why in English.
    let csrf = session_csrf(&app, &li).await;
    let refused = form(
        &app,
        "/bookings?lang=en",
        &li,
        &[
            ("csrf", csrf.as_str()),
            ("instrument_id", "dlut/SEM-1"),
            ("start", "2030-12-02T09:00"),
            ("minutes", "60"),
            ("mode", "self_operated"),
            ("purpose", "形貌观察"),
        ],
    )
    .await;
    assert!(
        refused
            .body
            .contains("Self-operated use needs the instrument&#39;s training first."),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("自主上机须先"), "{}", refused.body);
    assert!(refused.body.contains("Refused") || refused.body.contains("not booked"));

    // Trained on the SEM (by its manager): both modes, no hint; still none on the AFM.
    let manager = page_login(&app, "manager").await;
    let csrf = session_csrf(&app, &manager).await;
    let trained = form(
        &app,
        "/manage/trainings",
        &manager,
        &[
            ("csrf", csrf.as_str()),
            ("local_id", "SEM-1"),
            ("home", "dlut"),
            ("user_id", "li"),
            ("trained_on", "2020-01-01"),
            ("valid_until", "2099-12-31"),
        ],
    )
    .await;
    assert_eq!(trained.status, StatusCode::SEE_OTHER, "{}", trained.body);
    let page = get(&app, "/instruments/dlut/SEM-1", &li).await;
    assert!(page.body.contains("value=\"self_operated\""));
    assert!(!page.body.contains("id=\"untrained-hint\""));
    let page = get(&app, "/instruments/dlut/AFM-1", &li).await;
    assert!(!page.body.contains("id=\"booking-form\""));
}

#[tokio::test]
async fn a_search_result_shows_the_price_from_the_next_free_day_and_a_book_button() {
    let (_, app) = setup().await;
    let page = get(&app, "/instruments?q=%E6%B6%B2%E7%9B%B8", "").await;
    assert_eq!(page.status, StatusCode::OK);
    let card = &page.body[page.body.find("class=\"result card\"").unwrap()..];
    let card = &card[..card.find("</li>").unwrap()];
    // The cheapest service for a member: 20 yuan a sample (the hour is 350).
    assert!(card.contains("20.00 元/样品起"), "{card}");
    // The shown week starts on Monday 2 December 2030 with free hours.
    assert!(card.contains("最近可约： 12月2日 周一"), "{card}");
    assert!(
        card.contains("href=\"/instruments/dlut/LCMS-1#availability\">预约"),
        "{card}"
    );
    let english = get(&app, "/instruments?q=%E6%B6%B2%E7%9B%B8&lang=en", "").await;
    assert!(
        english.body.contains("From 20.00 RMB per sample"),
        "{}",
        english.body
    );
    assert!(english.body.contains("Mon 2 Dec"));
}

#[tokio::test]
async fn the_managers_lists_come_in_pages_soonest_first() {
    let (_, app) = setup().await;
    let li = page_login(&app, "li").await;
    // 25 confirmed bookings, made in no particular order of time.
    for i in (0..25).rev() {
        let start = format!("2030-12-{:02}T{:02}:00", 2 + i / 10, 8 + i % 10);
        let (reply, _) = book(&app, &li, &start, "60").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // The user's own list pages too, latest first.
    let mine = get(&app, "/bookings", &li).await;
    assert!(mine.body.contains("<span class=\"count\">25</span>"));
    let table = &mine.body[mine.body.find("id=\"my-bookings\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr data-booking").count(), 20, "{table}");
    assert!(mine.body.contains("href=\"/bookings?offset=20#my-list\""));
    let rest = get(&app, "/bookings?offset=20", &li).await;
    assert!(
        rest.body.contains("2030-12-02 08:00"),
        "the earliest is last"
    );
    assert!(rest.body.contains("href=\"/bookings?offset=0#my-list\""));

    let manager = page_login(&app, "manager").await;
    let page = get(&app, "/manage/bookings", &manager).await;
    let active = &page.body[page.body.find("id=\"section-active\"").unwrap()..];
    assert!(
        active.contains("<span class=\"count\">25</span>"),
        "{active}"
    );
    let list = &active[..active.find("</section>").unwrap()];
    assert_eq!(list.matches("class=\"result card\"").count(), 20);
    // Soonest first: 2 December 08:00 leads.
    let first = list.find("2030-12-02 08:00").unwrap();
    let later = list.find("2030-12-03 08:00").unwrap();
    assert!(first < later);
    assert!(
        !list.contains("2030-12-04 12:00"),
        "the 25th is on the next page"
    );
    let next = "/manage/bookings?held=0&#38;active=20&#38;closed=0#section-active";
    assert!(active.contains(next), "{active}");
    let second = get(&app, "/manage/bookings?held=0&active=20&closed=0", &manager).await;
    let active = &second.body[second.body.find("id=\"section-active\"").unwrap()..];
    let list = &active[..active.find("</section>").unwrap()];
    assert_eq!(list.matches("class=\"result card\"").count(), 5);
    assert!(list.contains("2030-12-04 12:00"));
    // An offset past the end is an empty page, not an error.
    let beyond = get(
        &app,
        "/manage/bookings?active=18446744073709551615",
        &manager,
    )
    .await;
    assert_eq!(beyond.status, StatusCode::OK);

    // Filtered by the day the use starts, both days inclusive; the pages keep the filter.
    let third_day = get(&app, "/bookings?from=2030-12-03&to=2030-12-03", &li).await;
    assert!(third_day.body.contains("<span class=\"count\">10</span>"));
    assert!(
        third_day.body.contains("value=\"2030-12-03\""),
        "the form keeps the days"
    );
    let spanned = get(
        &app,
        "/manage/bookings?from=2030-12-02&to=2030-12-04",
        &manager,
    )
    .await;
    let filtered = "/manage/bookings?from=2030-12-02&#38;to=2030-12-04&#38;held=0&#38;active=20&#38;closed=0#section-active";
    assert!(spanned.body.contains(filtered), "{}", spanned.body);
    let last_day = get(&app, "/manage/bookings?from=2030-12-04", &manager).await;
    let active = &last_day.body[last_day.body.find("id=\"section-active\"").unwrap()..];
    assert!(
        active.contains("<span class=\"count\">5</span>"),
        "{active}"
    );
    for bad in ["/manage/bookings?from=tomorrow", "/bookings?to=2030-02-30"] {
        let who = if bad.starts_with("/manage") {
            &manager
        } else {
            &li
        };
        assert_eq!(
            get(&app, bad, who).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }

    // The API pages the same lists, with how many in X-Total-Count.
    let (li_api, _) = api_login(&app, "li").await;
    let five = get(&app, "/api/v1/bookings?limit=5", &li_api).await;
    assert_eq!(five.headers["x-total-count"], "25");
    assert_eq!(five.json().as_array().unwrap().len(), 5);
    let last = get(&app, "/api/v1/bookings?from=2030-12-04", &li_api).await;
    assert_eq!(last.headers["x-total-count"], "5");
    let (manager_api, _) = api_login(&app, "manager").await;
    let rest = get(
        &app,
        "/api/v1/manage/bookings?section=active&offset=20",
        &manager_api,
    )
    .await;
    assert_eq!(rest.headers["x-total-count"], "25");
    assert_eq!(rest.json().as_array().unwrap().len(), 5);
    for bad in [
        "/api/v1/manage/bookings?limit=0",
        "/api/v1/manage/bookings?from=someday",
    ] {
        let reply = get(&app, bad, &manager_api).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.json()["error"]["code"], "invalid");
    }
    let bad_section = get(&app, "/api/v1/manage/bookings?section=lost", &manager_api).await;
    assert_eq!(bad_section.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_work_page_shows_the_soonest_coming_bookings_however_many_there_are() {
    let (_, app) = setup().await;
    let li = page_login(&app, "li").await;
    // More than the page reads of a user's bookings (200), made latest first.
    for i in (0..205).rev() {
        let start = format!("2030-12-{:02}T{:02}:00", 2 + i / 10, 8 + i % 10);
        let (reply, _) = book(&app, &li, &start, "60").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let work = get(&app, "/", &li).await;
    let upcoming = &work.body[work.body.find("id=\"upcoming\"").unwrap()..];
    let upcoming = &upcoming[..upcoming.find("</section>").unwrap()];
    let first = upcoming
        .find("2030-12-02 08:00")
        .expect("the soonest is shown");
    let second = upcoming.find("2030-12-02 09:00").expect("then the next");
    assert!(first < second, "{upcoming}");
    assert!(
        !upcoming.contains("2030-12-22"),
        "the latest are not the ones shown"
    );
}
