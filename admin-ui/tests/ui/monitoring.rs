//! Instrument monitoring through the web layer: an instrument agent reporting its state
//! with its token (no session, no CSRF token), the managers' page of states where agent
//! tokens are issued — shown once — and revoked, the province's live board with its
//! alerts, and the board through the JSON API — with what each refuses (tokens, roles,
//! CSRF, bad reports, a member's node).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{
    MemoryBackend, Reply, api_login, app, get, json, monitoring::sample_board, page_login, request,
    send, session_csrf,
};
use alliance_web::{
    backend::{AccountRole, AccountState, CatalogueBackend, MonitoringBackend},
    instrument_input::InstrumentInput,
};
use axum::{
    Router,
    body::Body,
    http::{Method, StatusCode, header},
};
use serde_json::{Value, json};

const MANAGE: &str = "/manage/monitoring";
const BOARD: &str = "/province/monitoring";
const BOARD_API: &str = "/api/v1/province/monitoring";
const SHOWN_ONCE_ZH: &str = "令牌只显示这一次";

/// The usual cast plus an instrument manager and a province admin (`prov`), and two
/// instruments: `LCMS-1` and `XRD-2`.
async fn setup() -> (MemoryBackend, Router) {
    let backend = MemoryBackend::seeded()
        .with(
            "manager",
            AccountRole::InstrumentManager,
            AccountState::Active,
        )
        .with("prov", AccountRole::ProvinceAdmin, AccountState::Active);
    for (local_id, name_zh, name_en) in [
        ("LCMS-1", "液相色谱-质谱联用仪", "LC-MS"),
        ("XRD-2", "X射线衍射仪", "X-ray diffractometer"),
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

/// A token for `local_id`, issued by the manager straight at the backend.
async fn issued(backend: &MemoryBackend, local_id: &str) -> String {
    let manager = backend.account("manager").unwrap();
    backend.issue_agent_token(&manager, local_id).await.unwrap()
}

fn agent_url(local_id: &str) -> String {
    format!("/api/v1/agent/instruments/{local_id}/state")
}

/// Posts a report as the agent script does: JSON, with `authorization` if given, and
/// `cookies` (an agent has none).
async fn post_state(
    app: &Router,
    local_id: &str,
    authorization: Option<&str>,
    cookies: &str,
    body: &str,
) -> Reply {
    let mut builder = request(Method::POST, &agent_url(local_id), cookies)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "alliance-instrument-agent/1");
    if let Some(authorization) = authorization {
        builder = builder.header(header::AUTHORIZATION, authorization);
    }
    send(app, builder.body(Body::from(body.to_owned())).unwrap()).await
}

async fn report(app: &Router, local_id: &str, token: &str, body: Value) -> Reply {
    let bearer = format!("Bearer {token}");
    post_state(app, local_id, Some(&bearer), "", &body.to_string()).await
}

/// A form POST with only the `csrf` field, as the managers' page sends it, addressed to
/// `host`.
async fn post_csrf(app: &Router, uri: &str, cookie: &str, csrf: &str) -> Reply {
    let request = request(Method::POST, uri, cookie)
        .header(header::HOST, "lab.dlut.edu.cn")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}")))
        .unwrap();
    send(app, request).await
}

/// The table row of the instrument `id` on a page.
fn row_of<'a>(body: &'a str, id: &str) -> &'a str {
    let marker = format!("<tr data-instrument=\"{id}\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no row {id}"));
    let end = body[start..].find("</tr>").unwrap() + start;
    &body[start..end]
}

fn assert_token_refused(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(reply.json()["error"]["code"], "unauthorized");
    let challenge = reply.header("www-authenticate").expect("a challenge");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
}

#[tokio::test]
async fn an_agent_with_its_token_reports_the_state() {
    let (backend, app) = setup().await;
    let token = issued(&backend, "LCMS-1").await;
    let before = chrono::Utc::now().timestamp();
    let reply = report(
        &app,
        "LCMS-1",
        &token,
        json!({ "state": "running", "note": "样品 3/5" }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert!(reply.body.is_empty());
    let stored = backend.agent_report_of("LCMS-1").unwrap();
    assert_eq!(
        (stored.state.as_str(), stored.note.as_str()),
        ("running", "样品 3/5")
    );
    assert!(stored.reported_at >= before);

    // The next report replaces it; a note may be left out.
    let reply = report(&app, "LCMS-1", &token, json!({ "state": "maintenance" })).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let stored = backend.agent_report_of("LCMS-1").unwrap();
    assert_eq!(
        (stored.state.as_str(), stored.note.as_str()),
        ("maintenance", "")
    );
    assert!(backend.agent_report_of("XRD-2").is_none());
}

#[tokio::test]
async fn a_missing_malformed_wrong_or_revoked_token_is_refused_and_stores_nothing() {
    let (backend, app) = setup().await;
    let token = issued(&backend, "LCMS-1").await;
    let other = issued(&backend, "XRD-2").await;
    let body = json!({ "state": "fault", "note": "真空泵报警" }).to_string();

    let missing = post_state(&app, "LCMS-1", None, "", &body).await;
    assert_token_refused(&missing);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    for malformed in [
        format!("Basic {token}"),
        "Bearer".to_owned(),
        format!("Bearer {token} extra"),
        format!("Token {token}"),
    ] {
        let reply = post_state(&app, "LCMS-1", Some(&malformed), "", &body).await;
        assert_token_refused(&reply);
    }
    // A wrong token, another instrument's token, a token for an unknown instrument.
    for (local_id, given) in [
        ("LCMS-1", "0".repeat(64)),
        ("LCMS-1", other.clone()),
        ("NOPE-9", token.clone()),
    ] {
        let reply = post_state(&app, local_id, Some(&format!("Bearer {given}")), "", &body).await;
        assert_token_refused(&reply);
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer error=\"invalid_token\"")
        );
        assert!(!reply.body.contains(&given));
    }
    assert!(backend.agent_report_of("LCMS-1").is_none());
    assert!(backend.agent_report_of("NOPE-9").is_none());

    // A revoked token stops working.
    let manager = backend.account("manager").unwrap();
    backend
        .revoke_agent_token(&manager, "LCMS-1")
        .await
        .unwrap();
    let reply = report(&app, "LCMS-1", &token, json!({ "state": "idle" })).await;
    assert_token_refused(&reply);
    assert!(backend.agent_report_of("LCMS-1").is_none());
}

#[tokio::test]
async fn a_bad_state_or_note_is_refused_with_its_field() {
    let (backend, app) = setup().await;
    let token = issued(&backend, "LCMS-1").await;
    for (body, field) in [
        (json!({ "state": "broken" }), "state"),
        (json!({ "state": "" }), "state"),
        (json!({ "note": "no state" }), "state"),
        (json!({ "state": "idle", "note": "x".repeat(101) }), "note"),
        (
            json!({ "state": "idle", "note": "line one\nline two" }),
            "note",
        ),
    ] {
        let reply = report(&app, "LCMS-1", &token, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error"]["code"], "invalid", "{body}");
        assert_eq!(reply.json()["error"]["field"], field, "{body}");
    }
    // A hundred characters is the most a note may have.
    let note = "页".repeat(100);
    let reply = report(
        &app,
        "LCMS-1",
        &token,
        json!({ "state": "idle", "note": "x".repeat(5_000) }),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    assert!(backend.agent_report_of("LCMS-1").is_none());
    let reply = report(
        &app,
        "LCMS-1",
        &token,
        json!({ "state": "idle", "note": note }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(backend.agent_report_of("LCMS-1").unwrap().note, note);
}

#[tokio::test]
async fn agent_reports_need_neither_a_session_nor_a_csrf_token() {
    let (backend, app) = setup().await;
    let token = issued(&backend, "LCMS-1").await;
    let bearer = format!("Bearer {token}");
    let body = json!({ "state": "running", "note": "" }).to_string();
    // No cookie at all.
    let reply = post_state(&app, "LCMS-1", Some(&bearer), "", &body).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    // A PC where someone is also signed in: the session cookie comes along, the session's
    // CSRF token does not; the bearer token is what counts.
    let (cookie, _) = api_login(&app, "manager").await;
    let body = json!({ "state": "idle", "note": "夜间空闲" }).to_string();
    let reply = post_state(&app, "LCMS-1", Some(&bearer), &cookie, &body).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(backend.agent_report_of("LCMS-1").unwrap().note, "夜间空闲");
    // A session does not stand in for the token.
    let reply = post_state(&app, "LCMS-1", None, &cookie, &body).await;
    assert_token_refused(&reply);
}

#[tokio::test]
async fn a_manager_issues_a_token_that_is_shown_once() {
    let (backend, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let page = get(&app, MANAGE, &manager).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let row = row_of(&page.body, "LCMS-1");
    assert!(
        row.contains("action=\"/manage/monitoring/LCMS-1/token\""),
        "{row}"
    );
    assert!(row.contains("未签发") && row.contains("签发令牌"), "{row}");
    assert!(!row.contains("/revoke"), "{row}");
    let csrf = page.hidden("csrf").unwrap();

    let answer = post_csrf(&app, "/manage/monitoring/LCMS-1/token", &manager, &csrf).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let token = backend.agent_token_of("LCMS-1").expect("a token");
    assert!(
        answer
            .body
            .contains(&format!("<code id=\"agent-token\">{token}</code>"))
    );
    assert!(answer.body.contains(SHOWN_ONCE_ZH));
    let command = format!(
        "ALLIANCE_NODE=http://lab.dlut.edu.cn ALLIANCE_INSTRUMENT=LCMS-1 \
         ALLIANCE_AGENT_TOKEN={token} python3 instrument-agent.py"
    );
    assert!(answer.body.contains(&command), "{}", answer.body);
    assert!(answer.body.contains("--state-command"));
    // The new token works at once.
    let reply = report(&app, "LCMS-1", &token, json!({ "state": "idle" })).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);

    // It is not shown again.
    let later = get(&app, MANAGE, &manager).await;
    assert!(!later.body.contains(&token));
    assert!(!later.body.contains(SHOWN_ONCE_ZH));
    let row = row_of(&later.body, "LCMS-1");
    assert!(row.contains("已签发") && row.contains("重新签发"), "{row}");
    assert!(
        row.contains("action=\"/manage/monitoring/LCMS-1/revoke\""),
        "{row}"
    );

    // Issuing again replaces it: the old token stops working.
    let again = post_csrf(&app, "/manage/monitoring/LCMS-1/token", &manager, &csrf).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let new = backend.agent_token_of("LCMS-1").unwrap();
    assert_ne!(new, token);
    assert!(again.body.contains(&new) && !again.body.contains(&token));
    let old = report(&app, "LCMS-1", &token, json!({ "state": "idle" })).await;
    assert_token_refused(&old);
    let fresh = report(&app, "LCMS-1", &new, json!({ "state": "running" })).await;
    assert_eq!(fresh.status, StatusCode::NO_CONTENT, "{}", fresh.body);
}

#[tokio::test]
async fn tokens_are_for_managers_with_the_csrf_token_only() {
    let (backend, app) = setup().await;
    let issue = "/manage/monitoring/LCMS-1/token";
    let manager = page_login(&app, "manager").await;
    let csrf = session_csrf(&app, &manager).await;
    for given in ["", "0000"] {
        let reply = post_csrf(&app, issue, &manager, given).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    assert!(backend.agent_token_of("LCMS-1").is_none());

    // Researchers and province admins neither see the page nor issue tokens.
    for username in ["li", "prov"] {
        let cookie = page_login(&app, username).await;
        let own_csrf = session_csrf(&app, &cookie).await;
        assert_eq!(
            get(&app, MANAGE, &cookie).await.status,
            StatusCode::FORBIDDEN
        );
        let reply = post_csrf(&app, issue, &cookie, &own_csrf).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{username}");
        let reply = post_csrf(&app, "/manage/monitoring/LCMS-1/revoke", &cookie, &own_csrf).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{username}");
    }
    assert!(backend.agent_token_of("LCMS-1").is_none());
    // Signed out: to the sign-in page.
    let reply = get(&app, MANAGE, "").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/login?next=/manage/monitoring"));
    // An institution admin may; an unknown instrument is not found.
    let admin = page_login(&app, "admin").await;
    let admin_csrf = session_csrf(&app, &admin).await;
    let reply = post_csrf(&app, issue, &admin, &admin_csrf).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(backend.agent_token_of("LCMS-1").is_some());
    let reply = post_csrf(&app, "/manage/monitoring/NOPE-9/token", &manager, &csrf).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(backend.agent_token_of("NOPE-9").is_none());
}

#[tokio::test]
async fn a_manager_revokes_a_token() {
    let (backend, app) = setup().await;
    let token = issued(&backend, "LCMS-1").await;
    let revoke = "/manage/monitoring/LCMS-1/revoke";
    let manager = page_login(&app, "manager").await;
    let csrf = session_csrf(&app, &manager).await;
    let refused = post_csrf(&app, revoke, &manager, "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(backend.agent_token_of("LCMS-1"), Some(token.clone()));

    let reply = post_csrf(&app, revoke, &manager, &csrf).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), Some("/manage/monitoring?notice=revoked"));
    assert!(backend.agent_token_of("LCMS-1").is_none());
    let agent = report(&app, "LCMS-1", &token, json!({ "state": "idle" })).await;
    assert_token_refused(&agent);

    let page = get(&app, "/manage/monitoring?notice=revoked", &manager).await;
    assert!(page.body.contains("令牌已吊销"));
    assert!(row_of(&page.body, "LCMS-1").contains("未签发"));
}

#[tokio::test]
async fn the_managers_page_shows_the_reported_states() {
    let (backend, app) = setup().await;
    let token = issued(&backend, "LCMS-1").await;
    let reply = report(
        &app,
        "LCMS-1",
        &token,
        json!({ "state": "fault", "note": "真空泵报警" }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let manager = page_login(&app, "manager").await;
    let page = get(&app, MANAGE, &manager).await;
    assert_eq!(page.status, StatusCode::OK);
    let reported = row_of(&page.body, "LCMS-1");
    assert!(reported.contains("液相色谱-质谱联用仪"), "{reported}");
    assert!(reported.contains(">故障<"), "{reported}");
    assert!(reported.contains("真空泵报警"), "{reported}");
    assert!(reported.contains("(北京时间)"), "{reported}");
    assert!(
        reported.contains("href=\"/instruments/dlut/LCMS-1\""),
        "{reported}"
    );
    let silent = row_of(&page.body, "XRD-2");
    assert!(silent.contains(">未上报<"), "{silent}");

    let english = get(&app, "/manage/monitoring?lang=en", &manager).await;
    assert!(row_of(&english.body, "LCMS-1").contains(">Fault<"));
    assert!(row_of(&english.body, "LCMS-1").contains("(Beijing time)"));
    assert!(row_of(&english.body, "XRD-2").contains("X-ray diffractometer"));
    assert!(row_of(&english.body, "XRD-2").contains(">Not reported<"));
    for state in ["idle", "running", "maintenance"] {
        report(&app, "LCMS-1", &token, json!({ "state": state })).await;
        let page = get(&app, MANAGE, &manager).await;
        let word = match state {
            "idle" => ">空闲<",
            "running" => ">运行中<",
            _ => ">维护中<",
        };
        assert!(row_of(&page.body, "LCMS-1").contains(word), "{state}");
    }
}

#[tokio::test]
async fn the_province_board_shows_alerts_first_then_every_instrument() {
    let (backend, app) = setup().await;
    let now = chrono::Utc::now().timestamp();
    backend.set_board(sample_board(now));
    let prov = page_login(&app, "prov").await;
    let page = get(&app, BOARD, &prov).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    assert!(body.contains("超过 10 分钟未上报"));
    assert!(body.contains("href=\"/province/monitoring\" aria-current=\"page\""));

    // The silent counter agrees with the silent alerts: the one never heard of counts.
    let tallies = &body[body.find("id=\"board-tallies\"").unwrap()..];
    assert!(
        tallies
            .contains("<span class=\"stat-value\">2</span><span class=\"stat-label\">失联</span>"),
        "{tallies}"
    );

    // Alerts come first: the silent ones, then the fault.
    let alerts = body.find("id=\"board-alerts\"").unwrap();
    let rows = body.find("id=\"board-rows\"").unwrap();
    assert!(alerts < rows);
    let alert = |id: &str| {
        let marker = format!("data-instrument=\"{id}\" data-kind=");
        let start = body
            .find(&marker)
            .unwrap_or_else(|| panic!("no alert {id}"));
        assert!(start < rows, "{id}");
        &body[start..body[start..].find("</li>").unwrap() + start]
    };
    let never = alert("dlut/TEM-01");
    assert!(
        never.contains("从未收到上报") && never.contains("失联"),
        "{never}"
    );
    assert!(never.contains("透射电子显微镜") && never.contains("大连理工大学"));
    let quiet = alert("neu/XRD-2");
    assert!(
        quiet.contains("最近上报") && quiet.contains("(北京时间)"),
        "{quiet}"
    );
    let fault = alert("lnu/NMR-1");
    assert!(
        fault.contains("data-kind=\"fault\"") && fault.contains("故障开始于"),
        "{fault}"
    );

    // Then every instrument, its state in words and colour, silent ones marked.
    let running = row_of(body, "dlut/LCMS-1");
    assert!(
        running.contains("badge state-running\">运行中<"),
        "{running}"
    );
    assert!(
        running.contains("样品 3/5") && running.contains("刚刚"),
        "{running}"
    );
    assert!(!running.contains("badge silent"), "{running}");
    let silent = row_of(body, "neu/XRD-2");
    assert!(silent.contains(">空闲<") && silent.contains("badge silent\">失联<"));
    assert!(
        silent.contains("1 小时前") || silent.contains("60 分钟前"),
        "{silent}"
    );
    let faulty = row_of(body, "lnu/NMR-1");
    assert!(faulty.contains("badge state-fault\">故障<") && faulty.contains("真空泵报警"));

    let english = get(&app, "/province/monitoring?lang=en", &prov).await;
    assert!(english.body.contains("Never heard from"));
    assert!(english.body.contains("Faulty since"));
    assert!(row_of(&english.body, "neu/XRD-2").contains(">Silent<"));
    assert!(row_of(&english.body, "dlut/LCMS-1").contains(">Running<"));
}

#[tokio::test]
async fn the_board_is_for_province_admins_on_the_province_node() {
    let (backend, app) = setup().await;
    // A member's node: the province keeps the board.
    let prov = page_login(&app, "prov").await;
    let page = get(&app, BOARD, &prov).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("仪器状态监测看板由省级平台节点维护"));
    assert!(!page.body.contains("http-equiv=\"refresh\""));

    backend.set_board(sample_board(chrono::Utc::now().timestamp()));
    for username in ["li", "admin", "manager"] {
        let cookie = page_login(&app, username).await;
        let page = get(&app, BOARD, &cookie).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{username}");
        assert!(!page.body.contains("dlut/TEM-01"), "{username}");
    }
    let anonymous = get(&app, BOARD, "").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.location(),
        Some("/login?next=/province/monitoring")
    );
}

#[tokio::test]
async fn the_board_through_the_api() {
    let (backend, app) = setup().await;
    let (prov, csrf) = api_login(&app, "prov").await;
    let member = get(&app, BOARD_API, &prov).await;
    assert_eq!(member.status, StatusCode::NOT_FOUND);
    assert_eq!(member.json()["error"]["code"], "not_found");
    let message = member.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("monitoring board"), "{message}");

    let board = sample_board(chrono::Utc::now().timestamp());
    backend.set_board(board.clone());
    let reply = get(&app, BOARD_API, &prov).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json(), serde_json::to_value(&board).unwrap());
    assert_eq!(reply.json()["alerts"][0]["kind"], "silent");
    assert_eq!(reply.json()["rows"][2]["state"], "fault");

    assert_eq!(
        get(&app, BOARD_API, "").await.status,
        StatusCode::UNAUTHORIZED
    );
    let (li, _) = api_login(&app, "li").await;
    assert_eq!(
        get(&app, BOARD_API, &li).await.status,
        StatusCode::FORBIDDEN
    );
    // Read-only: a POST is not a route.
    let post = json(&app, Method::POST, BOARD_API, &prov, Some(&csrf), json!({})).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn monitoring_is_reached_from_the_managers_page_and_the_province_navigation() {
    let (_, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let manage = get(&app, "/manage/bookings", &manager).await;
    assert!(manage.body.contains("href=\"/manage/monitoring\""));
    assert!(manage.body.contains("仪器状态监测"));
    assert!(!manage.body.contains("href=\"/province/monitoring\""));
    let prov = page_login(&app, "prov").await;
    let status = get(&app, "/", &prov).await;
    assert!(status.body.contains("href=\"/province/monitoring\""));
    let li = page_login(&app, "li").await;
    let status = get(&app, "/", &li).await;
    assert!(!status.body.contains("/province/monitoring"));
    assert!(!status.body.contains("/manage/monitoring"));
}

#[tokio::test]
async fn the_boards_table_filters_by_state_and_pages() {
    let (backend, app) = setup().await;
    let now = chrono::Utc::now().timestamp();
    let mut board = sample_board(now);
    // 120 more instruments idle, to page through.
    let template = board.rows[0].clone();
    for i in 0..120 {
        board.rows.push(alliance_web::backend::BoardRowView {
            instrument_id: format!("dlut/IDLE-{i:03}"),
            state: "idle".into(),
            ..template.clone()
        });
    }
    backend.set_board(board);
    let prov = page_login(&app, "prov").await;
    let page = get(&app, BOARD, &prov).await;
    let table = &page.body[page.body.find("id=\"rows-title\"").unwrap()..];
    assert!(
        table.contains("<span class=\"count\">123</span>"),
        "{table}"
    );
    assert_eq!(table.matches("<tr data-instrument=").count(), 50);
    // Each counter filters the table.
    assert!(
        page.body
            .contains("href=\"/province/monitoring?state=fault&#38;offset=0#rows-title\"")
    );
    let faulty = get(&app, "/province/monitoring?state=fault", &prov).await;
    let table = &faulty.body[faulty.body.find("id=\"rows-title\"").unwrap()..];
    assert!(table.contains("<span class=\"count\">1</span>"), "{table}");
    assert!(table.contains("data-instrument=\"lnu/NMR-1\""));
    assert_eq!(table.matches("<tr data-instrument=").count(), 1);
    // Idle ones: 121 (the XRD and the 120), in three pages.
    let last = get(&app, "/province/monitoring?state=idle&offset=100", &prov).await;
    let table = &last.body[last.body.find("id=\"rows-title\"").unwrap()..];
    assert!(table.contains("<span class=\"count\">121</span>"));
    assert_eq!(table.matches("<tr data-instrument=").count(), 21);
    assert!(table.contains("rel=\"prev\""));
    assert!(!table.contains("rel=\"next\""));
    // An unknown state is no filter; a huge offset an empty page.
    let odd = get(
        &app,
        "/province/monitoring?state=%3Cx%3E&offset=18446744073709551615",
        &prov,
    )
    .await;
    assert_eq!(odd.status, StatusCode::OK);
}

#[tokio::test]
async fn the_board_shows_its_states_over_the_day_as_a_chart_beside_its_table() {
    let (backend, app) = setup().await;
    let now = chrono::Utc::now().timestamp();
    backend.set_board(sample_board(now));
    let prov = page_login(&app, "prov").await;
    let body = get(&app, BOARD, &prov).await.body;
    let day = &body[body.find("id=\"board-day\"").unwrap()..];
    let day = &day[..day.find("</section>").unwrap()];
    let chart = &day[day.find("id=\"day-chart\"").unwrap()..];
    assert!(chart.contains("<svg") && chart.contains("role=\"img\""));
    // Every state is named in the legend.
    for state in ["运行中", "空闲", "维护中", "故障", "失联"] {
        assert!(chart.contains(&format!("\n{state}\n")), "{state}: {chart}");
    }
    // The table: one row an hour, newest first, each with that hour's last counts — the
    // newest shows the NMR's fault, as the alerts do.
    let table = &day[day.find("id=\"day-table\"").unwrap()..];
    let rows: Vec<&str> = table.split("<tr><th scope=\"row\">").skip(1).collect();
    assert!((24..=25).contains(&rows.len()), "{}", rows.len());
    let newest = rows[0];
    assert!(
        newest.contains("<td class=\"money\">1</td><td class=\"money\">0</td><td class=\"money\">1</td><td class=\"money\">2</td>"),
        "idle 1, maintenance 0, fault 1, silent 2: {newest}"
    );
    // The same in words for those who cannot see the chart.
    assert!(day.contains("故障 1 失联 2"), "{day}");
}
