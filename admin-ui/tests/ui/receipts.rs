//! Usage receipts through the web layer: completing a booked use on its own form, recording
//! a session without a booking, the user's receipts with their confirmation and rating,
//! the managers' view of issued receipts and the province's log, the log alarm on every
//! page, and the same through the JSON API — with what each refuses (roles, CSRF, bad
//! input).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{
    MemoryBackend, Reply, STARTED_AT, api_login, app, form, get, json, page_login, session_csrf,
};
use alliance_protocol::booking::BookingState;
use alliance_web::{
    backend::{
        AccountRole, AccountState, CatalogueBackend, IssuedStanding, LogAlarmView, LogWatchView,
    },
    instrument_input::{FeeInput, InstrumentInput},
};
use axum::{
    Router,
    http::{Method, StatusCode},
};
use serde_json::json;

const MANAGE_RECEIPTS: &str = "/manage/receipts";
const NEW_SESSION: &str = "/manage/sessions/new";
const ALARM_ZH: &str = "警告：省级平台出示了与本节点已核验记录不一致的使用记录日志，证据已保存。请联系省级平台管理员。";
/// 2030-12-02 09:00 in Beijing.
const NINE: i64 = 1_922_403_600;

fn fee(item_zh: &str, unit: &str, own: [&str; 3], enterprise: [&str; 3]) -> FeeInput {
    let parts = |p: [&str; 3]| p.map(str::to_owned);
    FeeInput {
        item_zh: item_zh.into(),
        item_en: String::new(),
        unit: unit.into(),
        prices: [parts(own), parts(own), parts(enterprise), parts(enterprise)],
    }
}

/// The usual cast plus an instrument manager, and one staff-run instrument: 350 yuan an
/// hour (100 materials, 200 operating, 50 labour) and 20 yuan a sample for its own
/// institution.
async fn setup() -> (MemoryBackend, Router) {
    let backend = MemoryBackend::seeded().with(
        "manager",
        AccountRole::InstrumentManager,
        AccountState::Active,
    );
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

/// Li books 2030-12-02 09:00–10:30 with 3 samples (confirmed at once); the booking id.
async fn booked(app: &Router) -> String {
    let (cookie, csrf) = api_login(app, "li").await;
    let reply = json(
        app,
        Method::POST,
        "/api/v1/bookings",
        &cookie,
        Some(&csrf),
        json!({
            "instrument_id": "dlut/LCMS-1",
            "start": "2030-12-02T09:00",
            "minutes": 90,
            "mode": "staff_run",
            "samples": 3,
        }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["booking"]["status"], "confirmed");
    reply.json()["booking"]["booking_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn complete_url(booking_id: &str) -> String {
    format!("/manage/bookings/dlut/{booking_id}/complete")
}

fn facts(csrf: &str) -> Vec<(&str, &str)> {
    vec![
        ("csrf", csrf),
        ("start", "2030-12-02T09:10"),
        ("end", "2030-12-02T11:00"),
        ("preparation_minutes", "10"),
        ("test_minutes", "80"),
        ("post_processing_minutes", "15"),
        ("samples", "2"),
        ("note", "更换色谱柱"),
    ]
}

fn walk_in(csrf: &str) -> Vec<(&str, &str)> {
    let mut fields = vec![
        ("csrf", csrf),
        ("local_id", "LCMS-1"),
        ("user_id", "wang"),
        ("user_name", "王同学"),
        ("home", "dlut"),
        ("tier", "own_institution"),
        ("mode", "staff_run"),
    ];
    fields.extend(facts(csrf).into_iter().skip(1));
    fields
}

/// Whether a page holds an input called `name` with `value`.
fn has_value(page: &Reply, name: &str, value: &str) -> bool {
    ["number", "text", "datetime-local"].iter().any(|kind| {
        let input = format!("name=\"{name}\" type=\"{kind}\" value=\"{value}\"");
        page.body.contains(&input)
    })
}

/// The manager completes Li's booking through the form; the booking id.
async fn completed(app: &Router) -> String {
    let booking_id = booked(app).await;
    let manager = page_login(app, "manager").await;
    let csrf = session_csrf(app, &manager).await;
    let reply = form(app, &complete_url(&booking_id), &manager, &facts(&csrf)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    booking_id
}

fn status_of(backend: &MemoryBackend, booking_id: &str) -> BookingState {
    backend
        .bookings()
        .into_iter()
        .find(|s| s.booking.booking_id == booking_id)
        .unwrap()
        .booking
        .status
}

#[tokio::test]
async fn the_completion_form_is_prefilled_from_the_booking() {
    let (_, app) = setup().await;
    let booking_id = booked(&app).await;
    let manager = page_login(&app, "manager").await;

    // The managers' page links the completion to its form instead of posting it.
    let manage = get(&app, "/manage/bookings", &manager).await;
    assert!(
        manage
            .body
            .contains(&format!("href=\"{}\"", complete_url(&booking_id))),
        "{}",
        manage.body
    );
    assert!(!manage.body.contains("value=\"complete\""));
    assert!(manage.body.contains("value=\"start\""));

    let page = get(&app, &complete_url(&booking_id), &manager).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("登记使用情况"));
    assert!(page.body.contains("2030-12-02 09:00–10:30 (北京时间)"));
    for (name, value) in [
        ("start", "2030-12-02T09:00"),
        ("end", "2030-12-02T10:30"),
        ("preparation_minutes", "0"),
        ("test_minutes", "90"),
        ("post_processing_minutes", "0"),
        ("samples", "3"),
    ] {
        assert!(has_value(&page, name, value), "{name}: {}", page.body);
    }
    assert_eq!(
        page.hidden("csrf"),
        Some(session_csrf(&app, &manager).await)
    );

    let english = get(
        &app,
        &format!("{}?lang=en", complete_url(&booking_id)),
        &manager,
    )
    .await;
    assert_eq!(english.status, StatusCode::OK);
    assert!(english.body.contains("Record the use"));
    assert!(!english.body.contains("登记使用情况"), "mixes languages");

    let unknown = get(&app, &complete_url("nope"), &manager).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn completing_a_booking_issues_its_receipt() {
    let (backend, app) = setup().await;
    let booking_id = booked(&app).await;
    let manager = page_login(&app, "manager").await;
    let csrf = session_csrf(&app, &manager).await;
    let reply = form(&app, &complete_url(&booking_id), &manager, &facts(&csrf)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), Some("/manage/bookings?notice=completed"));
    assert_eq!(status_of(&backend, &booking_id), BookingState::Completed);

    let issued = backend.issued();
    assert_eq!(issued.len(), 1);
    let r = &issued[0].receipt;
    assert_eq!(r.booking_id, booking_id);
    assert_eq!((r.start, r.end), (NINE + 600, NINE + 7200), "Beijing time");
    assert_eq!(
        (
            r.preparation_minutes,
            r.test_minutes,
            r.post_processing_minutes,
            r.samples
        ),
        (10, 80, 15, 2)
    );
    assert_eq!(issued[0].standing, IssuedStanding::AwaitingConfirmation);

    let page = get(&app, reply.location().unwrap(), &manager).await;
    assert!(page.body.contains("使用情况已登记，使用凭证已签发。"));
    // A completed booking has nothing left to record.
    let again = get(&app, &complete_url(&booking_id), &manager).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(!again.body.contains("id=\"complete-form\""));
}

#[tokio::test]
async fn invalid_facts_are_shown_again_and_change_nothing() {
    let (backend, app) = setup().await;
    let booking_id = booked(&app).await;
    let manager = page_login(&app, "manager").await;
    let csrf = session_csrf(&app, &manager).await;
    let long_note = "备".repeat(86);
    let bad = [
        ("csrf", csrf.as_str()),
        ("start", "2030-12-02T09:00"),
        ("end", "2030-12-02T08:00"),
        ("preparation_minutes", "44641"),
        ("test_minutes", "abc"),
        ("post_processing_minutes", "0"),
        ("samples", "10001"),
        ("note", long_note.as_str()),
    ];
    let reply = form(&app, &complete_url(&booking_id), &manager, &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in [
        "end",
        "preparation_minutes",
        "test_minutes",
        "samples",
        "note",
    ] {
        assert!(
            reply.body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            reply.body
        );
    }
    assert!(reply.body.contains("结束时间须晚于开始时间"));
    assert!(
        has_value(&reply, "test_minutes", "abc"),
        "typed values kept"
    );
    assert!(has_value(&reply, "end", "2030-12-02T08:00"));

    let mut idle = facts(&csrf);
    idle[3] = ("preparation_minutes", "0");
    idle[4] = ("test_minutes", "0");
    idle[5] = ("post_processing_minutes", "");
    let reply = form(&app, &complete_url(&booking_id), &manager, &idle).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("id=\"test_minutes-error\""));
    assert!(reply.body.contains("有效机时不能为 0"));

    let mut no_time = facts(&csrf);
    no_time[1] = ("start", "tomorrow morning");
    let reply = form(&app, &complete_url(&booking_id), &manager, &no_time).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("id=\"start-error\""));

    assert_eq!(status_of(&backend, &booking_id), BookingState::Confirmed);
    assert!(backend.issued().is_empty());
}

#[tokio::test]
async fn receipt_forms_need_the_session_csrf_token() {
    let (backend, app) = setup().await;
    let booking_id = booked(&app).await;
    let manager = page_login(&app, "manager").await;
    let wrong = "0".repeat(64);
    for fields in [facts(""), facts(&wrong)] {
        let fields: Vec<_> = fields.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let reply = form(&app, &complete_url(&booking_id), &manager, &fields).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    for fields in [walk_in(""), walk_in(&wrong)] {
        let fields: Vec<_> = fields.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let reply = form(&app, NEW_SESSION, &manager, &fields).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(status_of(&backend, &booking_id), BookingState::Confirmed);
    assert!(backend.issued().is_empty());

    let (backend, app) = setup().await;
    completed(&app).await;
    let li = page_login(&app, "li").await;
    let url = format!(
        "/receipts/dlut/{}/confirm",
        backend.issued()[0].receipt.receipt_id
    );
    let missing = form(&app, &url, &li, &[("rating", "5")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = form(&app, &url, &li, &[("csrf", &wrong), ("rating", "5")]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(backend.user_receipts("li")[0].rating, None);
}

#[tokio::test]
async fn only_booking_managers_complete_record_and_see_issued_receipts() {
    let (backend, app) = setup().await;
    let booking_id = booked(&app).await;
    let li = page_login(&app, "li").await;
    let csrf = session_csrf(&app, &li).await;
    let complete = complete_url(&booking_id);
    for uri in [MANAGE_RECEIPTS, NEW_SESSION, complete.as_str()] {
        assert_eq!(
            get(&app, uri, &li).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
        let anonymous = get(&app, uri, "").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{uri}");
        assert!(anonymous.location().unwrap().starts_with("/login?next="));
    }
    let post = form(&app, &complete, &li, &facts(&csrf)).await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    let post = form(&app, NEW_SESSION, &li, &walk_in(&csrf)).await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&backend, &booking_id), BookingState::Confirmed);
    assert!(backend.issued().is_empty());

    // My receipts need a session, nothing more.
    let anonymous = get(&app, "/receipts", "").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), Some("/login?next=/receipts"));
    assert_eq!(get(&app, "/receipts", &li).await.status, StatusCode::OK);
    // Institution admins manage bookings too.
    let admin = page_login(&app, "admin").await;
    assert_eq!(
        get(&app, MANAGE_RECEIPTS, &admin).await.status,
        StatusCode::OK
    );
    assert_eq!(get(&app, NEW_SESSION, &admin).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_manager_records_a_session_without_a_booking() {
    let (backend, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let page = get(&app, NEW_SESSION, &manager).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        has_value(&page, "home", "dlut"),
        "this institution by default"
    );
    assert!(
        page.body
            .contains("<option value=\"LCMS-1\">液相色谱-质谱联用仪 (LCMS-1)</option>")
    );
    assert!(
        page.body
            .contains("<option value=\"own_institution\" selected>")
    );

    let csrf = page.hidden("csrf").unwrap();
    let reply = form(&app, NEW_SESSION, &manager, &walk_in(&csrf)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), Some("/manage/receipts?notice=recorded"));
    let issued = backend.issued();
    assert_eq!(issued.len(), 1);
    let r = &issued[0].receipt;
    assert_eq!(r.booking_id, "");
    assert_eq!(
        (r.user_id.as_str(), r.user_name.as_str(), r.home.as_str()),
        ("wang", "王同学", "dlut")
    );
    assert_eq!((r.test_minutes, r.samples), (80, 2));

    let list = get(&app, reply.location().unwrap(), &manager).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("使用情况已登记，使用凭证已签发。"));
    let table = &list.body[list.body.find("id=\"issued-receipts\"").unwrap()..];
    for shown in [
        "王同学",
        "<code>wang</code> @ <code>dlut</code>",
        "无预约（现场登记）",
        "2030-12-02 09:10–11:00 (北京时间)",
        "105 分钟",
        "准备 10 + 测试 80 + 后处理 15",
        "待确认",
        "尚未报送",
    ] {
        assert!(table.contains(shown), "{shown}: {table}");
    }
}

#[tokio::test]
async fn an_invalid_session_is_shown_again_and_records_nothing() {
    let (backend, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let csrf = session_csrf(&app, &manager).await;
    let mut bad = walk_in(&csrf);
    bad[1] = ("local_id", "NOPE");
    bad[2] = ("user_id", "");
    bad[4] = ("home", "DLUT");
    bad[5] = ("tier", "vip");
    bad[6] = ("mode", "");
    bad[8] = ("end", "");
    let reply = form(&app, NEW_SESSION, &manager, &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["local_id", "user_id", "home", "tier", "mode", "end"] {
        assert!(
            reply.body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            reply.body
        );
    }
    assert!(has_value(&reply, "home", "DLUT"), "typed values kept");
    assert!(has_value(&reply, "user_name", "王同学"));
    assert!(backend.issued().is_empty());
}

#[tokio::test]
async fn a_user_confirms_a_receipt_with_a_rating() {
    let (backend, app) = setup().await;
    let booking_id = completed(&app).await;
    let receipt_id = backend.issued()[0].receipt.receipt_id.clone();
    let li = page_login(&app, "li").await;

    let page = get(&app, "/receipts", &li).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let unconfirmed = &page.body[page.body.find("id=\"receipts-unconfirmed\"").unwrap()..];
    for shown in [
        "液相色谱-质谱联用仪",
        "大连理工大学",
        "2030-12-02 09:10–11:00 (北京时间)",
        "105 分钟",
        "准备 10 + 测试 80 + 后处理 15",
        // 105 minutes at 350 yuan an hour and 2 samples at 20 yuan.
        "652.50",
        "材料费 215.00 · 运行费 350.00 · 人工费 87.50",
        "内部服务",
        booking_id.as_str(),
    ] {
        assert!(unconfirmed.contains(shown), "{shown}: {unconfirmed}");
    }
    let action = format!("action=\"/receipts/dlut/{receipt_id}/confirm\"");
    assert!(unconfirmed.contains(&action));
    assert!(unconfirmed.contains(
        "<input type=\"radio\" name=\"rating\" value=\"4\"> <span class=\"stars\" aria-hidden=\"true\">★★★★☆</span><span class=\"visually-hidden\">4 星（满分 5 星）</span>"
    ));

    let csrf = page.hidden("csrf").unwrap();
    let url = format!("/receipts/dlut/{receipt_id}/confirm");
    let reply = form(
        &app,
        &url,
        &li,
        &[("csrf", &csrf), ("rating", "4"), ("comment", " 服务周到 ")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), Some("/receipts?notice=confirmed"));
    let mine = &backend.user_receipts("li")[0];
    assert_eq!(mine.rating, Some(4));
    assert_eq!(mine.comment, "服务周到");
    assert!(mine.confirmed_at.is_some());

    let page = get(&app, reply.location().unwrap(), &li).await;
    assert!(page.body.contains("已确认，评价已记录。"));
    assert!(page.body.contains("没有待确认的使用凭证。"));
    let confirmed = &page.body[page.body.find("id=\"receipts-confirmed\"").unwrap()..];
    assert!(confirmed.contains("★★★★☆") && confirmed.contains("服务周到"));

    let manager = page_login(&app, "manager").await;
    let issued = get(&app, MANAGE_RECEIPTS, &manager).await;
    let table = &issued.body[issued.body.find("id=\"issued-receipts\"").unwrap()..];
    assert!(
        table.contains("已确认") && table.contains("★★★★☆"),
        "{table}"
    );

    // Confirming twice is refused and changes nothing.
    let again = form(&app, &url, &li, &[("csrf", &csrf), ("rating", "1")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(backend.user_receipts("li")[0].rating, Some(4));
}

#[tokio::test]
async fn a_user_disputes_a_receipt_with_a_reason_and_cannot_confirm_it_after() {
    let (backend, app) = setup().await;
    completed(&app).await;
    let receipt_id = backend.issued()[0].receipt.receipt_id.clone();
    let li = page_login(&app, "li").await;
    let page = get(&app, "/receipts", &li).await;
    let url = format!("/receipts/dlut/{receipt_id}/dispute");
    assert!(page.body.contains(&format!("action=\"{url}\"")));
    assert!(page.body.contains("凭证与实际不符？提出异议"));
    let csrf = page.hidden("csrf").unwrap();

    // No reason: shown again, the dispute form open, nothing given.
    let reply = form(&app, &url, &li, &[("csrf", &csrf), ("reason", "  ")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("id=\"reason-error\""));
    assert!(reply.body.contains("<details class=\"dispute\" open>"));
    let long = "长".repeat(65);
    let reply = form(&app, &url, &li, &[("csrf", &csrf), ("reason", &long)]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("异议原因最多 64 个字。"));
    assert!(reply.body.contains(&long), "the reason is kept");
    assert_eq!(backend.user_receipts("li")[0].confirmed_at, None);

    let reply = form(
        &app,
        &url,
        &li,
        &[("csrf", &csrf), ("reason", " 实际只用了 60 分钟 ")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), Some("/receipts?notice=disputed"));
    let mine = &backend.user_receipts("li")[0];
    assert_eq!(mine.dispute.as_deref(), Some("实际只用了 60 分钟"));
    assert_eq!(mine.rating, None);
    let page = get(&app, reply.location().unwrap(), &li).await;
    assert!(page.body.contains("异议已提交"));
    let answered = &page.body[page.body.find("id=\"receipts-confirmed\"").unwrap()..];
    assert!(answered.contains("有异议") && answered.contains("实际只用了 60 分钟"));

    // The owner's managers see the dispute and its reason.
    let manager = page_login(&app, "manager").await;
    let issued = get(&app, MANAGE_RECEIPTS, &manager).await;
    let table = &issued.body[issued.body.find("id=\"issued-receipts\"").unwrap()..];
    assert!(
        table.contains("有异议") && table.contains("实际只用了 60 分钟"),
        "{table}"
    );

    // A dispute is final: no confirmation (and rating) afterwards.
    let confirm = format!("/receipts/dlut/{receipt_id}/confirm");
    let again = form(&app, &confirm, &li, &[("csrf", &csrf), ("rating", "5")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(backend.user_receipts("li")[0].rating, None);

    // Through the API: a reason is required, and the answer is final there too.
    let api = format!("/api/v1/receipts/dlut/{receipt_id}/dispute");
    let li_csrf = session_csrf(&app, &li).await;
    let reply = json(&app, Method::POST, &api, &li, Some(&li_csrf), json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["field"], "reason");
    let reply = json(
        &app,
        Method::POST,
        &api,
        &li,
        Some(&li_csrf),
        json!({"reason": "again"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_bad_rating_is_shown_again_and_changes_nothing() {
    let (backend, app) = setup().await;
    completed(&app).await;
    let receipt_id = backend.issued()[0].receipt.receipt_id.clone();
    let li = page_login(&app, "li").await;
    let csrf = session_csrf(&app, &li).await;
    let url = format!("/receipts/dlut/{receipt_id}/confirm");

    for rating in ["", "0", "6", "five"] {
        let reply = form(&app, &url, &li, &[("csrf", &csrf), ("rating", rating)]).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{rating}");
        assert!(reply.body.contains("id=\"rating-error\""), "{rating}");
        assert!(reply.body.contains("请选择 1 到 5 星的评分。"));
    }
    let long = "好".repeat(86);
    let reply = form(
        &app,
        &url,
        &li,
        &[("csrf", &csrf), ("rating", "3"), ("comment", &long)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("id=\"comment-error\""));
    assert!(reply.body.contains(&long), "the comment is kept");
    assert!(
        reply.body.contains("name=\"rating\" value=\"3\" checked>"),
        "the rating is kept"
    );
    let mine = &backend.user_receipts("li")[0];
    assert_eq!((mine.rating, mine.confirmed_at), (None, None));

    // Another user's receipt is nobody else's to confirm.
    let admin = page_login(&app, "admin").await;
    let csrf = session_csrf(&app, &admin).await;
    let reply = form(&app, &url, &admin, &[("csrf", &csrf), ("rating", "5")]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(backend.user_receipts("li")[0].rating, None);
}

#[tokio::test]
async fn the_managers_see_the_log_and_each_receipts_way_to_it() {
    let (backend, app) = setup().await;
    completed(&app).await;
    completed(&app).await;
    completed(&app).await;
    let ids: Vec<String> = backend
        .issued()
        .iter()
        .map(|r| r.receipt.receipt_id.clone())
        .collect();
    backend.edit_issued(&ids[0], |r| {
        r.standing = IssuedStanding::SingleSigned;
        r.awaiting_until = None;
        r.log_index = Some(17);
    });
    backend.edit_issued(&ids[1], |r| {
        r.standing = IssuedStanding::Confirmed;
        r.rating = Some(2);
        r.in_outbox = true;
        r.attempts = 3;
        r.last_error = Some("province unreachable".into());
    });
    backend.set_log_watch(LogWatchView {
        waiting: 1,
        proven: 41,
        head_size: Some(1234),
        head_at: Some(STARTED_AT),
        alarm: None,
    });
    let manager = page_login(&app, "manager").await;
    let page = get(&app, MANAGE_RECEIPTS, &manager).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"log-waiting\">1<"));
    assert!(page.body.contains("id=\"log-proven\">41<"));
    assert!(page.body.contains("id=\"log-head\">1234<"));
    assert!(page.body.contains("核验时间 2026-11-27 09:05 (北京时间)"));
    assert!(!page.body.contains("id=\"log-alarm\""));

    let row = |id: &str| {
        let start = page.body.find(&format!("data-receipt=\"{id}\"")).unwrap();
        let end = page.body[start..].find("</tr>").unwrap() + start;
        page.body[start..end].to_owned()
    };
    let single = row(&ids[0]);
    assert!(
        single.contains("单签") && single.contains("已记入省级日志 #17"),
        "{single}"
    );
    let outbox = row(&ids[1]);
    assert!(
        outbox.contains("已确认") && outbox.contains("★★☆☆☆"),
        "{outbox}"
    );
    assert!(outbox.contains("待报送") && outbox.contains("已尝试次数 3"));
    assert!(outbox.contains("province unreachable"));
    let waiting = row(&ids[2]);
    assert!(
        waiting.contains("待确认") && waiting.contains("截至"),
        "{waiting}"
    );
    assert!(waiting.contains("尚未报送"));
    // Newest first.
    let at = |id: &str| page.body.find(&format!("data-receipt=\"{id}\"")).unwrap();
    assert!(at(&ids[2]) < at(&ids[0]));

    let english = get(&app, &format!("{MANAGE_RECEIPTS}?lang=en"), &manager).await;
    assert!(english.body.contains("Single-signed") && english.body.contains("In the outbox"));
    assert!(!english.body.contains("单签"), "mixes languages");
}

#[tokio::test]
async fn a_stale_log_and_a_certificate_for_another_key_show_on_every_page() {
    let (backend, app) = setup().await;
    let quiet = get(&app, "/", "").await;
    assert!(!quiet.body.contains("id=\"log-stale\""));
    assert!(!quiet.body.contains("id=\"impostor-alarm\""));
    backend.set_trust_warnings(alliance_web::backend::TrustWarnings {
        log_stale_minutes: Some(42),
        impostors: 1,
    });
    let li = page_login(&app, "li").await;
    for (uri, cookie) in [("/", ""), ("/receipts", li.as_str())] {
        let page = get(&app, uri, cookie).await;
        assert!(
            page.body.contains("id=\"impostor-alarm\" role=\"alert\""),
            "{uri}"
        );
        assert!(page.body.contains("本节点已有 42 分钟没有核验到"), "{uri}");
    }
    let english = get(&app, "/?lang=en", "").await;
    assert!(english.body.contains("province&#39;s log for 42 minutes"));
}

#[tokio::test]
async fn the_log_alarm_shows_on_every_page_for_everyone() {
    let (backend, app) = setup().await;
    let li = page_login(&app, "li").await;
    let manager = page_login(&app, "manager").await;
    let quiet = get(&app, "/", "").await;
    assert!(!quiet.body.contains("id=\"log-alarm\""));
    assert!(!quiet.body.contains(ALARM_ZH));
    let status = get(&app, "/api/v1/status", "").await;
    assert!(
        status.body.contains("\"log_alarm\":null"),
        "{}",
        status.body
    );

    backend.set_log_watch(LogWatchView {
        alarm: Some(LogAlarmView {
            seen_size: 120,
            shown_size: 118,
            detected_at: STARTED_AT,
            resubmitted: 2,
        }),
        ..LogWatchView::default()
    });
    for (uri, cookie) in [
        ("/", ""),
        ("/instruments", ""),
        ("/nowhere", ""),
        ("/bookings", li.as_str()),
        ("/receipts", li.as_str()),
        ("/manage/bookings", manager.as_str()),
        (MANAGE_RECEIPTS, manager.as_str()),
    ] {
        let page = get(&app, uri, cookie).await;
        assert!(
            page.body.contains("id=\"log-alarm\" role=\"alert\""),
            "{uri}"
        );
        assert!(page.body.contains(ALARM_ZH), "{uri}");
    }
    // The status API says so too.
    let status = get(&app, "/api/v1/status", "").await;
    assert!(
        status.body.contains("\"log_alarm\":{\"seen_size\":120"),
        "{}",
        status.body
    );
    let english = get(&app, "/?lang=en", "").await;
    assert!(
        english
            .body
            .contains("Warning: the province&#39;s platform presented")
    );
    assert!(!english.body.contains(ALARM_ZH));

    // The managers also see the evidence.
    let page = get(&app, MANAGE_RECEIPTS, &manager).await;
    let evidence = &page.body[page.body.find("id=\"log-evidence\"").unwrap()..];
    assert!(evidence.contains("<dd>120</dd>") && evidence.contains("<dd>118</dd>"));
    assert!(evidence.contains("2026-11-27 09:05 (北京时间)"));
    assert!(evidence.contains("因省级日志回退而重新提交的使用凭证"));
    assert!(evidence.contains("<dd id=\"alarm-resubmitted\">2</dd>"));
    // The API carries no banner, only the view.
    let api = get(&app, "/api/v1/status", "").await;
    assert!(!api.body.contains(ALARM_ZH));
}

#[tokio::test]
async fn receipts_are_reached_from_the_navigation_and_the_managers_page() {
    let (_, app) = setup().await;
    let anonymous = get(&app, "/", "").await;
    assert!(!anonymous.body.contains("href=\"/receipts\""));
    let li = page_login(&app, "li").await;
    let page = get(&app, "/receipts", &li).await;
    assert!(
        page.body
            .contains("href=\"/receipts\" data-badge=\"receipts\" aria-current=\"page\">使用凭证<")
    );
    assert!(page.body.contains("还没有使用凭证"));
    let bookings = get(&app, "/bookings", &li).await;
    assert!(bookings.body.contains("href=\"/receipts\""));
    let manager = page_login(&app, "manager").await;
    let manage = get(&app, "/manage/bookings", &manager).await;
    assert!(manage.body.contains("href=\"/manage/receipts\""));
    assert!(manage.body.contains("href=\"/manage/sessions/new\""));
    let english = get(&app, "/receipts?lang=en", &li).await;
    assert!(english.body.contains("My usage receipts"));
    assert!(!english.body.contains("我的使用凭证"), "mixes languages");
}

#[tokio::test]
async fn receipts_through_the_api() {
    let (backend, app) = setup().await;
    let booking_id = booked(&app).await;
    let (manager, manager_csrf) = api_login(&app, "manager").await;
    let (li, li_csrf) = api_login(&app, "li").await;
    let complete = format!("/api/v1/manage/bookings/dlut/{booking_id}/complete");
    let good_facts = json!({
        "start": "2030-12-02T09:10",
        "end": "2030-12-02T11:00",
        "preparation_minutes": 10,
        "test_minutes": 80,
        "post_processing_minutes": 15,
        "samples": 2,
        "note": "",
    });

    // Roles, CSRF and bad facts first: nothing changes.
    let reply = json(
        &app,
        Method::POST,
        &complete,
        &li,
        Some(&li_csrf),
        good_facts.clone(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = json(
        &app,
        Method::POST,
        &complete,
        &manager,
        None,
        good_facts.clone(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"]["code"], "csrf");
    let mut bad = good_facts.clone();
    bad["end"] = json!("2030-12-02T09:00");
    bad["samples"] = json!(20_000);
    let reply = json(
        &app,
        Method::POST,
        &complete,
        &manager,
        Some(&manager_csrf),
        bad,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let body = reply.json();
    assert_eq!(body["error"]["code"], "invalid");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["end", "samples"]);
    assert_eq!(status_of(&backend, &booking_id), BookingState::Confirmed);

    let reply = json(
        &app,
        Method::POST,
        &complete,
        &manager,
        Some(&manager_csrf),
        good_facts,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["status"], "completed");

    // The user's receipts, and the confirmation.
    let mine = get(&app, "/api/v1/receipts", &li).await;
    assert_eq!(mine.status, StatusCode::OK);
    let receipt = &mine.json()[0];
    assert_eq!(receipt["rating"], serde_json::Value::Null);
    assert_eq!(receipt["receipt"]["test_minutes"], 80);
    assert_eq!(receipt["receipt"]["fees"]["materials_fen"], 21_500);
    let receipt_id = receipt["receipt"]["receipt_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirm = format!("/api/v1/receipts/dlut/{receipt_id}/confirm");
    let reply = json(
        &app,
        Method::POST,
        &confirm,
        &li,
        None,
        json!({"rating": 5}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = json(
        &app,
        Method::POST,
        &confirm,
        &li,
        Some(&li_csrf),
        json!({"rating": 9}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["field"], "rating");
    assert_eq!(backend.user_receipts("li")[0].rating, None);
    let reply = json(
        &app,
        Method::POST,
        &confirm,
        &li,
        Some(&li_csrf),
        json!({"rating": 5, "comment": "准时"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["rating"], 5);
    assert_eq!(backend.user_receipts("li")[0].comment, "准时");

    // A session without a booking.
    let session = json!({
        "local_id": "LCMS-1",
        "user_id": "wang",
        "user_name": "王同学",
        "home": "neu",
        "tier": "alliance_member",
        "mode": "staff_run",
        "facts": {"start": "2030-12-03T14:00", "end": "2030-12-03T15:00", "test_minutes": 60},
    });
    let sessions = "/api/v1/manage/sessions";
    let mut bad = session.clone();
    bad["local_id"] = json!("NOPE");
    let reply = json(
        &app,
        Method::POST,
        sessions,
        &manager,
        Some(&manager_csrf),
        bad,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["field"], "local_id");
    let reply = json(
        &app,
        Method::POST,
        sessions,
        &li,
        Some(&li_csrf),
        session.clone(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(backend.issued().len(), 1);
    let reply = json(
        &app,
        Method::POST,
        sessions,
        &manager,
        Some(&manager_csrf),
        session,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.json()["booking_id"], "");
    assert_eq!(reply.json()["external"], true);

    // What the managers follow.
    let reply = get(&app, "/api/v1/manage/receipts", &manager).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["log"]["waiting"], 0);
    assert_eq!(body["log"]["alarm"], serde_json::Value::Null);
    let issued = body["issued"].as_array().unwrap();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0]["receipt"]["user_id"], "wang");
    assert_eq!(issued[0]["standing"], "awaiting_confirmation");
    assert_eq!(issued[1]["standing"], "confirmed");
    assert_eq!(issued[1]["rating"], 5);
    assert_eq!(
        get(&app, "/api/v1/manage/receipts", &li).await.status,
        StatusCode::FORBIDDEN
    );
    let anonymous = get(&app, "/api/v1/receipts", "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn managers_see_the_mail_their_node_gave_up_a_page_at_a_time() {
    let (backend, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let none = get(&app, MANAGE_RECEIPTS, &manager).await;
    assert!(none.body.contains("没有无法送达的消息"), "{}", none.body);

    backend.give_up("neu", 25);
    let first = get(&app, MANAGE_RECEIPTS, &manager).await;
    assert_eq!(first.status, StatusCode::OK);
    let dead = &first.body[first.body.find("id=\"dead-letters\"").unwrap()..];
    // The newest 20 of 25, with the refusal and a way to the older ones.
    assert!(dead.contains("<span class=\"count\">25</span>"), "{dead}");
    assert_eq!(dead.matches("<tr>").count(), 1 + 20, "{dead}");
    assert!(dead.contains("receipt 24: only a receipt from its owner is taken"));
    assert!(!dead.contains("receipt 4:"));
    assert!(dead.contains("href=\"/manage/receipts?dead=20#dead-letters\""));
    let older = get(&app, "/manage/receipts?dead=20", &manager).await;
    let dead = &older.body[older.body.find("id=\"dead-letters\"").unwrap()..];
    assert_eq!(dead.matches("<tr>").count(), 1 + 5, "{dead}");
    assert!(dead.contains("receipt 0:"));
    assert!(dead.contains("href=\"/manage/receipts?dead=0#dead-letters\""));

    // The API pages them too, for managers only.
    let (cookie, _) = api_login(&app, "manager").await;
    let page = get(
        &app,
        "/api/v1/manage/dead-letters?offset=3&limit=2",
        &cookie,
    )
    .await
    .json();
    assert_eq!(page["total"], 25);
    assert_eq!(page["offset"], 3);
    assert_eq!(page["letters"].as_array().unwrap().len(), 2);
    assert_eq!(page["letters"][0]["to"], "neu");
    assert_eq!(page["letters"][0]["code"], "not_yours");
    for limit in ["0", "101"] {
        let refused = get(
            &app,
            &format!("/api/v1/manage/dead-letters?limit={limit}"),
            &cookie,
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "limit {limit}");
    }
    let (li, _) = api_login(&app, "li").await;
    assert_eq!(
        get(&app, "/api/v1/manage/dead-letters", &li).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_long_history_of_issued_receipts_comes_in_light_pages_filtered_by_standing() {
    let (backend, app) = setup().await;
    completed(&app).await;
    backend.issue_copies(2_999);
    let manager = page_login(&app, "manager").await;

    // 3,000 receipts: the page holds 50 of them, and says how many there are.
    let page = get(&app, MANAGE_RECEIPTS, &manager).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.len() < 200_000, "{} bytes", page.body.len());
    assert_eq!(page.body.matches("<tr data-receipt=").count(), 50);
    assert!(page.body.contains("data-total=\"3000\""));
    // Filters by standing, each with its count; the next page follows.
    assert!(page.body.contains("standing=confirmed&#38;offset=0#issued"));
    assert!(
        page.body
            .contains("已确认 <span class=\"count\">1000</span>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("offset=50#issued\" rel=\"next\""));
    let confirmed = get(
        &app,
        "/manage/receipts?standing=confirmed&offset=950",
        &manager,
    )
    .await;
    assert_eq!(confirmed.body.matches("<tr data-receipt=").count(), 50);
    assert!(confirmed.body.contains("data-total=\"1000\""));
    assert!(!confirmed.body.contains("rel=\"next\""), "the last page");
    let far = get(
        &app,
        &format!("/manage/receipts?offset={}", usize::MAX),
        &manager,
    )
    .await;
    assert_eq!(far.status, StatusCode::OK);

    // The API pages the same way, and refuses a standing it does not know.
    let api = get(
        &app,
        "/api/v1/manage/receipts?standing=awaiting_confirmation&offset=0&limit=100",
        &manager,
    )
    .await
    .json();
    assert_eq!(api["total"], 2_000);
    assert_eq!(api["issued"].as_array().unwrap().len(), 100);
    assert_eq!(api["counts"]["confirmed"], 1_000);
    let bad = get(&app, "/api/v1/manage/receipts?standing=lost", &manager).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_user_pages_through_receipts_and_confirms_several_at_once() {
    let (backend, app) = setup().await;
    completed(&app).await;
    let first = backend.user_receipts("li")[0].receipt.clone();
    // Ten of them of a use thirty days later.
    let later = 30 * 86_400;
    for n in 0..44 {
        let mut copy = first.clone();
        copy.receipt_id = format!("c{n:02}");
        if n >= 34 {
            copy.start += later;
            copy.end += later;
        }
        backend.receive_receipt("li", copy);
    }
    let li = page_login(&app, "li").await;
    // Filtered by the day the use started, both lists; the pages keep the filter.
    let day = chrono::DateTime::from_timestamp(first.start + later, 0)
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    let filtered = get(&app, &format!("/receipts?from={day}"), &li).await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert!(
        filtered.body.contains("data-total=\"10\""),
        "{}",
        filtered.body
    );
    assert!(filtered.body.contains(&format!("value=\"{day}\"")));
    let before = get(&app, &format!("/receipts?to={day}"), &li).await;
    assert!(
        before.body.contains("data-total=\"45\""),
        "the day itself counts"
    );
    let api = get(&app, &format!("/api/v1/receipts?from={day}"), &li).await;
    assert_eq!(api.headers["x-total-count"], "10");
    let bad = get(&app, "/receipts?from=someday", &li).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // 45 to confirm: twenty on a page, the rest a link away.
    let page = get(&app, "/receipts", &li).await;
    assert_eq!(page.status, StatusCode::OK);
    let pending = &page.body[page.body.find("id=\"unconfirmed\"").unwrap()..];
    assert!(pending.contains("data-total=\"45\""));
    let listed = |body: &str| {
        body.matches("<li class=\"result card\" data-receipt=")
            .count()
    };
    assert_eq!(listed(&page.body), 20);
    assert!(
        page.body
            .contains("pending=20&#38;done=0#unconfirmed\" rel=\"next\"")
    );
    let last = get(&app, "/receipts?pending=40", &li).await;
    assert_eq!(listed(&last.body), 5);
    // The API pages them too, and says how many there are.
    let api = get(&app, "/api/v1/receipts?offset=40&limit=20", &li).await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(api.headers["x-total-count"], "45");
    assert_eq!(api.json().as_array().unwrap().len(), 5);
    let too_many = get(&app, "/api/v1/receipts?limit=1000", &li).await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    // An offset from outside, however large, is an empty page, not a failure.
    let far = get(
        &app,
        &format!("/receipts?pending={}&done={}", usize::MAX, usize::MAX),
        &li,
    )
    .await;
    assert_eq!(far.status, StatusCode::OK);
    assert_eq!(listed(&far.body), 0);

    // Three ticked and confirmed with one rating.
    let csrf = session_csrf(&app, &li).await;
    let picked = ["dlut/c01", "dlut/c02", "dlut/c03"];
    let mut fields = vec![("csrf", csrf.as_str()), ("rating", "4"), ("comment", "")];
    fields.extend(picked.iter().map(|p| ("selected", *p)));
    let reply = form(&app, "/receipts/confirm-selected", &li, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let after = get(&app, reply.location().unwrap(), &li).await;
    assert!(after.body.contains("已确认 3 条使用记录"), "{}", after.body);
    let pending = &after.body[after.body.find("id=\"unconfirmed\"").unwrap()..];
    assert!(pending.contains("data-total=\"42\""));
    let rated: Vec<_> = backend
        .user_receipts("li")
        .into_iter()
        .filter(|r| r.rating == Some(4))
        .map(|r| r.receipt.receipt_id)
        .collect();
    assert_eq!(rated, ["c01", "c02", "c03"]);

    // Nothing ticked, or no rating: said so, nothing confirmed.
    let none = form(
        &app,
        "/receipts/confirm-selected",
        &li,
        &[("csrf", csrf.as_str()), ("rating", "5")],
    )
    .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        none.body.contains("请至少勾选一条使用记录"),
        "{}",
        none.body
    );
    let unrated = form(
        &app,
        "/receipts/confirm-selected",
        &li,
        &[("csrf", csrf.as_str()), ("selected", "dlut/c04")],
    )
    .await;
    assert_eq!(unrated.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        backend
            .user_receipts("li")
            .iter()
            .filter(|r| r.rating.is_some())
            .count(),
        3
    );
}

#[tokio::test]
async fn managers_see_their_hours_and_revenue_by_month_and_instrument() {
    let (backend, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let page = get(&app, NEW_SESSION, &manager).await;
    let csrf = page.hidden("csrf").unwrap();
    let recorded = form(&app, NEW_SESSION, &manager, &walk_in(&csrf)).await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    let fen = backend.issued()[0].receipt.fees.total_fen();
    let revenue = format!("{}.{:02}", fen / 100, fen % 100);

    // The session of 2 December 2030: 105 minutes, 1.8 hours.
    let usage = get(&app, "/manage/usage?month=2030-12", &manager).await;
    assert_eq!(usage.status, StatusCode::OK, "{}", usage.body);
    let months = &usage.body[usage.body.find("id=\"months-table\"").unwrap()..];
    let december = &months[months.find("<th scope=\"row\">2030-12</th>").unwrap()..];
    let december = &december[..december.find("</tr>").unwrap()];
    assert!(
        december.contains(">1.8<") && december.contains(&format!(">{revenue}<")),
        "{december}"
    );
    // Twelve months, the empty ones too, and charts of both with their words.
    assert_eq!(months.matches("<th scope=\"row\">20").count(), 12);
    for chart in ["hours-chart", "revenue-chart", "instrument-chart"] {
        let at = usage.body.find(&format!("id=\"{chart}\"")).unwrap();
        let figure = &usage.body[at..at + usage.body[at..].find("</figure>").unwrap()];
        assert!(
            figure.contains("<svg") && figure.contains("role=\"img\""),
            "{chart}"
        );
    }
    assert!(
        usage.body.contains("2030-12 1.8"),
        "the hours chart in words"
    );
    let instruments = &usage.body[usage.body.find("id=\"instruments-table\"").unwrap()..];
    assert!(
        instruments.contains("/instruments/dlut/LCMS-1") && instruments.contains(">1.8<"),
        "{instruments}"
    );
    // One instrument only; another month says it had none.
    let one = get(
        &app,
        "/manage/usage?month=2030-12&instrument=LCMS-1",
        &manager,
    )
    .await;
    assert!(one.body.contains("<option value=\"LCMS-1\" selected>"));
    let before = get(&app, "/manage/usage?month=2030-11", &manager).await;
    assert!(
        before.body.contains("这个月没有开出的使用凭证"),
        "{}",
        before.body
    );

    // A bad month is refused; a researcher may not look.
    let bad = get(&app, "/manage/usage?month=2030-13", &manager).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let researcher = page_login(&app, "li").await;
    let refused = get(&app, "/manage/usage", &researcher).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn issued_receipts_filter_by_the_day_they_were_issued() {
    let (backend, app) = setup().await;
    completed(&app).await;
    backend.issue_copies(4);
    let manager = page_login(&app, "manager").await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let yesterday = today.pred_opt().unwrap();
    let page = get(
        &app,
        &format!("{MANAGE_RECEIPTS}?from={today}&to={today}"),
        &manager,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("data-total=\"5\""), "issued today");
    // The filter stays in the standing tabs and the form.
    assert!(
        page.body.contains(&format!(
            "from={today}&#38;to={today}&#38;standing=confirmed"
        )),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("name=\"from\" value=\"{today}\""))
    );
    let before = get(&app, &format!("{MANAGE_RECEIPTS}?to={yesterday}"), &manager).await;
    assert!(
        before.body.contains("data-total=\"0\""),
        "none issued before today"
    );
    let bad = get(
        &app,
        &format!("{MANAGE_RECEIPTS}?from=2030-02-30"),
        &manager,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // The API filters the same way and names a bad date.
    let api = get(
        &app,
        &format!("/api/v1/manage/receipts?to={yesterday}"),
        &manager,
    )
    .await
    .json();
    assert_eq!(api["total"], 0);
    let bad = get(&app, "/api/v1/manage/receipts?from=tomorrow", &manager).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("from"), "{}", bad.body);
}
