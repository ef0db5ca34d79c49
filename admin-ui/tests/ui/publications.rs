//! Publications through the web layer (R13): a user registers a paper, patent or report
//! that used alliance instruments on `/publications` and sees it listed with its DOI as a
//! link, its instruments and whether the province has it; the same through the JSON API —
//! with what each refuses (bad input, no CSRF token, no session) and how a refusal by the
//! node shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{MemoryBackend, api_login, app, form, get, json, page_login, session_csrf};
use alliance_web::{
    backend::{AccountRole, AccountState, ActionFailure, CatalogueBackend},
    instrument_input::InstrumentInput,
};
use axum::{
    Router,
    http::{Method, StatusCode},
};
use chrono_tz::Asia::Shanghai;
use serde_json::json;

const PAGE: &str = "/publications";
const API: &str = "/api/v1/publications";
const DOI: &str = "10.1016/j.apsusc.2026.160001";
const DOI_LINK: &str = "https://doi.org/10.1016/J.APSUSC.2026.160001";
const TITLE: &str = "Surface oxidation of Ti-6Al-4V studied by XPS";
const PUBLISHED: &str = "2025-09-01";

/// The usual cast plus an instrument manager, and two instruments of dlut.
async fn setup() -> (MemoryBackend, Router) {
    let backend = MemoryBackend::seeded().with(
        "manager",
        AccountRole::InstrumentManager,
        AccountState::Active,
    );
    for (local_id, name_zh, name_en) in [
        (
            "XPS-1",
            "X射线光电子能谱仪",
            "X-ray photoelectron spectrometer",
        ),
        ("LCMS-1", "液相色谱-质谱联用仪", "LC-MS"),
    ] {
        let input = InstrumentInput {
            local_id: local_id.into(),
            name_zh: name_zh.into(),
            name_en: name_en.into(),
            original_value: "3680000".into(),
            classification_code: "0102".into(),
            status: "in_service".into(),
            sharing_scope: "open_to_society".into(),
            service_modes: vec!["staff_run".into()],
            ..InstrumentInput::default()
        };
        let record = input.to_record(&"dlut".parse().unwrap()).unwrap();
        backend.save_instrument(record).await.unwrap();
    }
    let app = app(&backend);
    (backend, app)
}

/// A form's fields in order, as posted.
type Fields = Vec<(String, String)>;

/// A paper as the form posts it: the DOI pasted as a link, the instruments in three
/// inputs (one typed loosely, one left empty).
fn paper(csrf: &str) -> Fields {
    [
        ("csrf", csrf),
        ("kind", "paper"),
        ("title", TITLE),
        ("authors", "王小明, 李华"),
        ("identifier", DOI_LINK),
        (
            "acknowledgement",
            "感谢大连理工大学分析测试中心 XPS 测试支持",
        ),
        ("instruments", " DLUT/XPS-1 "),
        ("instruments", ""),
        ("instruments", "dlut/LCMS-1"),
        ("published_on", PUBLISHED),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `fields` with every `name` replaced by one per value (none: the field is left out).
fn with(fields: &[(String, String)], name: &str, values: &[&str]) -> Fields {
    let mut out: Fields = fields.iter().filter(|(k, _)| k != name).cloned().collect();
    out.extend(values.iter().map(|v| (name.to_owned(), (*v).to_owned())));
    out
}

async fn post(app: &Router, cookie: &str, fields: &[(String, String)]) -> crate::common::Reply {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form(app, PAGE, cookie, &fields).await
}

/// `YYYY-MM-DD` of today in Beijing, `days` later.
fn beijing_day(days: u64) -> String {
    let today = chrono::Utc::now().with_timezone(&Shanghai).date_naive();
    (today + chrono::Days::new(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn a_paper_is_registered_with_its_doi_link_normalised_and_listed() {
    let (backend, app) = setup().await;
    let li = page_login(&app, "li").await;
    let csrf = session_csrf(&app, &li).await;

    let page = get(&app, PAGE, &li).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("还没有登记成果"));
    assert!(page.body.contains("action=\"/publications\""));
    assert_eq!(page.hidden("csrf"), Some(csrf.clone()));
    // The instrument inputs suggest the catalogue's instruments.
    assert!(page.body.contains("list=\"instrument-options\""));
    assert!(
        page.body
            .contains("<option value=\"dlut/XPS-1\">X射线光电子能谱仪 · 大连理工大学</option>"),
        "{}",
        page.body
    );

    let reply = post(&app, &li, &paper(&csrf)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), Some("/publications?notice=registered"));
    let stored = backend.publications("li");
    assert_eq!(stored.len(), 1);
    let p = &stored[0];
    assert_eq!(p.kind, "paper");
    assert_eq!(p.identifier, DOI);
    assert_eq!(p.title, TITLE);
    assert_eq!(p.published_on, PUBLISHED);
    assert_eq!(
        p.instruments,
        [
            ("dlut/XPS-1".to_owned(), "X射线光电子能谱仪".to_owned()),
            ("dlut/LCMS-1".to_owned(), "液相色谱-质谱联用仪".to_owned()),
        ]
    );

    let page = get(&app, "/publications?notice=registered", &li).await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "成果已登记，本节点签名后报送省级平台。",
        TITLE,
        "王小明, 李华",
        "<span class=\"badge\">论文</span>",
        "<dt>DOI</dt>",
        &format!("<a href=\"https://doi.org/{DOI}\" rel=\"external noopener\">{DOI}</a>"),
        "<a href=\"/instruments/dlut/XPS-1\">X射线光电子能谱仪</a>",
        "<a href=\"/instruments/dlut/LCMS-1\">液相色谱-质谱联用仪</a>",
        PUBLISHED,
        "感谢大连理工大学分析测试中心 XPS 测试支持",
        "待报送",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(!page.body.contains("badge active\">已报送"));
    backend.deliver_publications();
    let page = get(&app, PAGE, &li).await;
    assert!(page.body.contains("badge active\">已报送"), "{}", page.body);

    // A patent keeps its number as typed, without a link.
    let patent = with(&paper(&csrf), "kind", &["patent"]);
    let patent = with(&patent, "identifier", &[" ZL202610012345.6 "]);
    let reply = post(&app, &li, &patent).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(backend.publications("li")[1].identifier, "ZL202610012345.6");
    let page = get(&app, PAGE, &li).await;
    assert!(page.body.contains("<dt>专利号</dt>"));
    assert!(page.body.contains("ZL202610012345.6"));
    assert!(!page.body.contains("doi.org/ZL"));

    let english = get(&app, "/publications?lang=en", &li).await;
    for shown in [
        "My publications",
        "Paper",
        "Patent",
        "Delivered",
        "Patent number",
    ] {
        assert!(english.body.contains(shown), "{shown}");
    }
    assert!(!english.body.contains("我的成果"), "mixes languages");
    // Others see only their own.
    let admin = page_login(&app, "admin").await;
    assert!(!get(&app, PAGE, &admin).await.body.contains(TITLE));
}

#[tokio::test]
async fn invalid_publications_are_shown_again_and_nothing_is_stored() {
    let (backend, app) = setup().await;
    let li = page_login(&app, "li").await;
    let csrf = session_csrf(&app, &li).await;
    let good = paper(&csrf);
    let tomorrow = beijing_day(1);
    let long_title = "题".repeat(301);
    let eleven: Vec<String> = (0..11).map(|i| format!("dlut/XPS-{i}")).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    let cases: Vec<(&str, Fields, &str)> = vec![
        (
            "identifier",
            with(&good, "identifier", &["10.abc/xyz"]),
            "请填写有效的 DOI",
        ),
        (
            "identifier",
            with(&good, "identifier", &["https://example.org/10.1016/x"]),
            "请填写有效的 DOI",
        ),
        ("identifier", with(&good, "identifier", &[""]), "此项必填。"),
        (
            "published_on",
            with(&good, "published_on", &[&tomorrow]),
            "日期不能晚于今天（北京时间）。",
        ),
        (
            "published_on",
            with(&good, "published_on", &["2026-02-30"]),
            "请按 2024-05-20 的格式填写有效日期。",
        ),
        (
            "instruments",
            with(&good, "instruments", &["", " "]),
            "请至少填写一台所用仪器。",
        ),
        (
            "instruments",
            with(&good, "instruments", &[]),
            "请至少填写一台所用仪器。",
        ),
        (
            "instruments",
            with(&good, "instruments", &["dlut/XPS-1", "dlut/NOPE-9"]),
            "dlut/NOPE-9: 联盟仪器目录中没有这台仪器。",
        ),
        (
            "instruments",
            with(&good, "instruments", &["XPS-1"]),
            "XPS-1: 请写作“单位标识/仪器编号”",
        ),
        (
            "instruments",
            with(&good, "instruments", &eleven),
            "最多填写 10 台仪器。",
        ),
        (
            "title",
            with(&good, "title", &[&long_title]),
            "题名最多 300 个字符。",
        ),
        (
            "kind",
            with(&good, "kind", &["book"]),
            "请从列出的选项中选择。",
        ),
    ];
    for (field, fields, message) in cases {
        let reply = post(&app, &li, &fields).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            reply.body
        );
        assert!(
            reply.body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            reply.body
        );
        assert!(reply.body.contains(message), "{message}: {}", reply.body);
        assert!(reply.body.contains("请修改下方标出的字段。"));
        assert!(backend.publications("li").is_empty(), "{field} stored");
    }

    // What was typed is shown again, the DOI already bare.
    let bad = with(&good, "published_on", &[&tomorrow]);
    let reply = post(&app, &li, &bad).await;
    assert!(reply.body.contains(&format!("value=\"{DOI}\"")));
    assert!(reply.body.contains(&format!("value=\"{TITLE}\"")));
    assert!(reply.body.contains("value=\"dlut/XPS-1\""));
    assert!(reply.body.contains("value=\"dlut/LCMS-1\""));
    assert!(reply.body.contains(&format!("value=\"{tomorrow}\"")));
    assert!(backend.publications("li").is_empty());

    // Today in Beijing is not the future.
    let today = with(&good, "published_on", &[&beijing_day(0)]);
    let reply = post(&app, &li, &today).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(backend.publications("li").len(), 1);
}

#[tokio::test]
async fn the_publication_form_needs_the_session_csrf_token() {
    let (backend, app) = setup().await;
    let li = page_login(&app, "li").await;
    let good = paper(&session_csrf(&app, &li).await);
    let missing = with(&good, "csrf", &[]);
    let wrong = with(&good, "csrf", &[&"0".repeat(64)]);
    for fields in [missing, wrong] {
        let reply = post(&app, &li, &fields).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    assert!(backend.publications("li").is_empty());
    let reply = post(&app, &li, &good).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn publications_need_a_signed_in_user() {
    let (backend, app) = setup().await;
    let anonymous = get(&app, PAGE, "").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), Some("/login?next=/publications"));
    let reply = post(&app, "", &paper("")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().unwrap().starts_with("/login?next="));
    assert_eq!(get(&app, API, "").await.status, StatusCode::UNAUTHORIZED);
    let body = json!({"kind": "paper", "title": TITLE});
    let reply = json(&app, Method::POST, API, "", None, body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(backend.publications("li").is_empty());
}

#[tokio::test]
async fn publications_are_reached_from_the_navigation_and_the_receipts_page() {
    let (_, app) = setup().await;
    let anonymous = get(&app, "/", "").await;
    assert!(!anonymous.body.contains("href=\"/publications\""));
    let li = page_login(&app, "li").await;
    let page = get(&app, PAGE, &li).await;
    assert!(
        page.body.contains(
            "<li><a href=\"/receipts\" data-badge=\"receipts\">使用凭证</a></li>\n        <li><a href=\"/publications\" aria-current=\"page\">成果登记</a></li>"
        ),
        "{}",
        page.body
    );
    let receipts = get(&app, "/receipts", &li).await;
    assert!(receipts.body.contains(
        "<a class=\"button\" href=\"/publications\">登记使用联盟仪器产出的论文、专利和报告</a>"
    ));
    let status = get(&app, "/", &li).await;
    assert!(
        status
            .body
            .contains("<li><a href=\"/publications\">成果登记</a></li>")
    );
}

#[tokio::test]
async fn publications_through_the_api() {
    let (backend, app) = setup().await;
    let (li, csrf) = api_login(&app, "li").await;
    let good = json!({
        "kind": "paper",
        "title": TITLE,
        "authors": "王小明, 李华",
        "identifier": DOI_LINK,
        "acknowledgement": "感谢大连理工大学分析测试中心 XPS 测试支持",
        "instruments": ["dlut/XPS-1"],
        "published_on": PUBLISHED,
    });

    let reply = json(&app, Method::POST, API, &li, None, good.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"]["code"], "csrf");

    for (field, value) in [
        ("identifier", json!("doi:10.1016")),
        ("instruments", json!([])),
        ("instruments", json!(["dlut/NOPE-9"])),
        ("published_on", json!(beijing_day(1))),
        ("kind", json!("book")),
        ("acknowledgement", json!(" ")),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        let reply = json(&app, Method::POST, API, &li, Some(&csrf), bad).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            reply.body
        );
        let body = reply.json();
        assert_eq!(body["error"]["code"], "invalid");
        assert_eq!(body["error"]["field"], field, "{}", reply.body);
    }
    assert!(backend.publications("li").is_empty());

    let reply = json(&app, Method::POST, API, &li, Some(&csrf), good).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let created = reply.json();
    assert_eq!(created["identifier"], DOI);
    assert_eq!(created["kind"], "paper");
    assert_eq!(created["delivered"], false);
    assert_eq!(
        created["instruments"],
        json!([["dlut/XPS-1", "X射线光电子能谱仪"]])
    );

    let mine = get(&app, API, &li).await;
    assert_eq!(mine.status, StatusCode::OK);
    let list = mine.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["publication_id"], created["publication_id"]);
    assert_eq!(list[0]["title"], TITLE);
    let (admin, _) = api_login(&app, "admin").await;
    assert_eq!(get(&app, API, &admin).await.json(), json!([]));
}

#[tokio::test]
async fn a_refusal_by_the_node_shows_beside_its_field() {
    let (backend, app) = setup().await;
    let li = page_login(&app, "li").await;
    let csrf = session_csrf(&app, &li).await;
    backend.refuse_publication(ActionFailure::Invalid {
        field: "acknowledgement".into(),
        message: "does not name the alliance".into(),
    });
    let reply = post(&app, &li, &paper(&csrf)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains(
            "<p class=\"field-error\" id=\"acknowledgement-error\">does not name the alliance</p>"
        ),
        "{}",
        reply.body
    );
    backend.refuse_publication(ActionFailure::Unreachable);
    let reply = post(&app, &li, &paper(&csrf)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(backend.publications("li").is_empty());

    let (cookie, api_csrf) = api_login(&app, "li").await;
    backend.refuse_publication(ActionFailure::Invalid {
        field: "instruments".into(),
        message: "not an instrument of the alliance".into(),
    });
    let body = json!({
        "kind": "report",
        "title": "2026 年度测试报告",
        "authors": "李华",
        "identifier": "DLUT-2026-017",
        "acknowledgement": "感谢辽宁省大型科研仪器开放共享联盟",
        "instruments": ["dlut/LCMS-1"],
        "published_on": PUBLISHED,
    });
    let reply = json(&app, Method::POST, API, &cookie, Some(&api_csrf), body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["field"], "instruments");
    assert!(backend.publications("li").is_empty());
}
