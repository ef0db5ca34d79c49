//! The province's publications through the web layer: the public results page of a period
//! with its log, rule, rows and sanctions list; the CSV and JSON downloads; what a
//! member's node says instead; the subsidy allocation and reporting compliance for the
//! province's administrators; and the same through the JSON API — with what each refuses
//! (roles, bad periods, bad budgets).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{
    MemoryBackend, api_login, app, form, get, page_login,
    results::{LOG_ROOT, SUBSIDY_RULE},
    session_csrf,
};
use alliance_web::backend::{AccountRole, AccountState};
use axum::{Router, http::StatusCode};

const RESULTS: &str = "/results?period=2026";
const SUBSIDY: &str = "/province/subsidy";
const COMPLIANCE: &str = "/province/compliance";
const NOT_HERE_ZH: &str =
    "评价结果由省级平台节点发布。本节点是联盟成员单位的节点，请到省级平台节点查看。";
/// 1,000,000.50 yuan, as typed in the form.
const BUDGET: &str = "1%2C000%2C000.50";

/// The usual cast plus a province admin (`prov`), on the province's node.
fn province() -> (MemoryBackend, Router) {
    let backend = MemoryBackend::seeded()
        .with("prov", AccountRole::ProvinceAdmin, AccountState::Active)
        .province_node();
    let app = app(&backend);
    (backend, app)
}

/// The same cast on a member's node.
fn member() -> (MemoryBackend, Router) {
    let backend =
        MemoryBackend::seeded().with("prov", AccountRole::ProvinceAdmin, AccountState::Active);
    let app = app(&backend);
    (backend, app)
}

/// The text of the element whose `id` is given (up to the next tag).
fn text_of<'a>(body: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no #{id}"));
    let start = body[start..].find('>').unwrap() + start + 1;
    let end = body[start..].find('<').unwrap() + start;
    &body[start..end]
}

#[tokio::test]
async fn the_results_page_is_public_with_rows_sanctions_and_the_log() {
    let (_, app) = province();
    let page = get(&app, RESULTS, "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert_eq!(text_of(body, "results-period"), "2026");
    assert!(body.contains("2026-01-01 至 2026-12-31"));
    // The log the figures come from, and why anyone can check it.
    assert!(body.contains(&format!(
        "根据省级平台使用记录日志前 4242 条（根哈希 <code class=\"breakable\" id=\"log-root\">{LOG_ROOT}</code>）计算。"
    )));
    assert!(body.contains("联盟每个成员节点都持续核验同一份省级日志"));
    // The rule: groups with weights, indicators, grade thresholds.
    for group in ["组织管理", "运行使用", "共享服务"] {
        assert!(
            body.contains(&format!("<th scope=\"row\">{group}</th>")),
            "{group}"
        );
    }
    assert!(body.contains("<td class=\"money\">20</td>"));
    assert!(body.contains("共享率 15"));
    assert!(body.contains("≥ 90 分"));
    assert!(body.contains("较差</span> 低于 60 分"));
    // Institutions with their figures, each with its instruments beneath.
    let neu = body.find("data-institution=\"neu\"").unwrap();
    let dlut = body.find("data-institution=\"dlut\"").unwrap();
    assert!(neu < dlut, "published order");
    assert!(body.contains("东北大学"));
    assert!(body.contains("92.25"));
    assert!(body.contains("<span class=\"badge active\">优秀</span>"));
    assert!(body.contains("<span class=\"badge error\">较差</span>"));
    assert!(body.contains("380,500.50"));
    assert!(body.contains("56.0%"));
    assert!(body.contains("<details"));
    assert!(body.contains("data-instrument=\"dlut/LCMS-1\""));
    assert!(body.contains("<a href=\"/instruments/dlut/LCMS-1\">液相色谱-质谱联用仪</a>"));
    assert!(body.contains("透射电子显微镜"));
    // The sanctions list with every reason.
    assert!(body.contains("处理名单"));
    let sanctions = &body[body.find("id=\"sanctions-list\"").unwrap()..];
    assert!(sanctions.contains("辽宁大学"));
    assert!(sanctions.contains("<li>大型科研仪器未按期入网（逾期 12 个工作日）</li>"));
    assert!(sanctions.contains("<li>连续两个季度未报送使用记录</li>"));
    // Downloads and the table's wrapper for phones.
    assert!(body.contains("href=\"/results.csv?period=2026\""));
    assert!(body.contains("href=\"/results.json?period=2026\""));
    assert!(body.contains("<div class=\"table-wrap\">\n    <table class=\"wide-table\""));
    // Public: the navigation links it for everyone, here as the current page.
    assert!(
        body.contains("href=\"/results\" aria-current=\"page\">评价结果<"),
        "navigation"
    );

    let english = get(&app, "/results?period=2026&lang=en", "").await;
    assert!(english.body.contains("Evaluation results"));
    assert!(
        english
            .body
            .contains("Computed from the first 4242 entries")
    );
    assert!(english.body.contains(">Excellent<"));
    assert!(english.body.contains("Sharing rate 15"));
    assert!(!english.body.contains("评价规则"), "mixes languages");
}

#[tokio::test]
async fn the_period_defaults_to_this_year_and_may_be_a_quarter() {
    let (_, app) = province();
    let this_year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y")
        .to_string();
    let page = get(&app, "/results", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(text_of(&page.body, "results-period"), this_year);
    let quarter = get(&app, "/results?period=2026-Q3", "").await;
    assert_eq!(quarter.status, StatusCode::OK);
    assert_eq!(text_of(&quarter.body, "results-period"), "2026-Q3");
    assert!(quarter.body.contains("2026-07-01 至 2026-09-30"));
    assert!(
        quarter
            .body
            .contains("href=\"/results?period=2026-Q3\" aria-current=\"page\">2026-Q3<")
    );
    assert!(
        quarter
            .body
            .contains("href=\"/results.csv?period=2026-Q3\"")
    );
}

#[tokio::test]
async fn a_bad_period_is_a_400_with_the_message() {
    let (_, app) = province();
    for period in ["2026-Q5", "abc", "1999"] {
        let page = get(&app, &format!("/results?period={period}"), "").await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{period}");
        assert!(
            page.body
                .contains("评价期间无效：请填写年份（如 2026）或季度（如 2026-Q3）。"),
            "{period}"
        );
        assert!(
            page.body
                .contains(&format!("<code class=\"breakable\">{period}</code>"))
        );
        assert!(page.body.contains("aria-invalid=\"true\""));
        assert!(!page.body.contains("id=\"results-table\""));
    }
    let english = get(&app, "/results?period=2026-Q5&lang=en", "").await;
    assert_eq!(english.status, StatusCode::BAD_REQUEST);
    assert!(english.body.contains("Not a period"));
    for download in ["/results.csv?period=2026-Q5", "/results.json?period=abc"] {
        assert_eq!(
            get(&app, download, "").await.status,
            StatusCode::BAD_REQUEST,
            "{download}"
        );
    }
}

#[tokio::test]
async fn the_csv_download_has_its_headers_and_rows() {
    let (_, app) = province();
    let reply = get(&app, "/results.csv?period=2026", "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"results-2026.csv\"")
    );
    assert!(
        reply
            .body
            .starts_with("\u{feff}单位代码,单位名称,仪器编号,仪器名称")
    );
    let lines: Vec<&str> = reply.body.lines().collect();
    assert_eq!(lines.len(), 8, "a header and seven rows");
    assert!(lines[1].starts_with("neu,东北大学,,,1250.5,700.25,"));
    assert!(lines[1].ends_with(",92.25,优秀,310,1,0"), "{}", lines[1]);
    assert!(lines[3].starts_with("dlut,大连理工大学,,,"));
    assert!(lines[4].starts_with("dlut,大连理工大学,dlut/LCMS-1,液相色谱-质谱联用仪,"));

    let quarter = get(&app, "/results.csv?period=2026-Q3", "").await;
    assert_eq!(
        quarter.header("content-disposition"),
        Some("attachment; filename=\"results-2026-Q3.csv\"")
    );
}

#[tokio::test]
async fn the_json_download_is_the_results_view() {
    let (_, app) = province();
    let reply = get(&app, "/results.json?period=2026-Q3", "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"results-2026-Q3.json\"")
    );
    let json = reply.json();
    assert_eq!(json["period"], "2026-Q3");
    assert_eq!(json["log_size"], 4242);
    assert_eq!(json["log_root"], LOG_ROOT);
    assert_eq!(json["rows"].as_array().unwrap().len(), 7);
    assert_eq!(json["rows"][0]["institution"], "neu");
    assert_eq!(json["rows"][0]["grade"], "优秀");
    assert_eq!(json["sanctions"][0]["institution"], "lnu");
    assert_eq!(json["sanctions"][0]["reasons"].as_array().unwrap().len(), 2);
    assert_eq!(json["groups"].as_array().unwrap().len(), 3);
    assert_eq!(json["subsidy_rule"], SUBSIDY_RULE);
}

#[tokio::test]
async fn a_member_node_says_the_province_publishes_results() {
    let (_, app) = member();
    let page = get(&app, RESULTS, "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(NOT_HERE_ZH));
    assert!(!page.body.contains("id=\"results-table\""));
    assert!(!page.body.contains("href=\"/results.csv"));
    let english = get(&app, "/results?lang=en", "").await;
    assert!(
        english
            .body
            .contains("Evaluation results are published by the province&#39;s node.")
    );
    for download in ["/results.csv?period=2026", "/results.json?period=2026"] {
        assert_eq!(
            get(&app, download, "").await.status,
            StatusCode::NOT_FOUND,
            "{download}"
        );
    }
    // A province admin on a member's node is told the same on the province's pages.
    let prov = page_login(&app, "prov").await;
    for uri in [COMPLIANCE, &format!("{SUBSIDY}?period=2026&budget=100")] {
        let page = get(&app, uri, &prov).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(page.body.contains(NOT_HERE_ZH), "{uri}");
    }
}

#[tokio::test]
async fn the_navigation_links_results_for_everyone_and_province_pages_for_its_admins() {
    let (_, app) = province();
    let anonymous = get(&app, "/", "").await;
    assert!(anonymous.body.contains("href=\"/results\">评价结果<"));
    assert!(!anonymous.body.contains("href=\"/province/subsidy\""));
    for username in ["li", "admin"] {
        let cookie = page_login(&app, username).await;
        let page = get(&app, "/", &cookie).await;
        assert!(page.body.contains("href=\"/results\""), "{username}");
        assert!(
            !page.body.contains("href=\"/province/subsidy\""),
            "{username}"
        );
        assert!(
            !page.body.contains("href=\"/province/compliance\""),
            "{username}"
        );
    }
    let prov = page_login(&app, "prov").await;
    let page = get(&app, SUBSIDY, &prov).await;
    assert!(
        page.body
            .contains("href=\"/province/subsidy\" aria-current=\"page\">补贴分配<")
    );
    assert!(
        page.body
            .contains("href=\"/province/compliance\">入网报送<")
    );
    assert!(page.body.contains("href=\"/province/reviews\""));
}

#[tokio::test]
async fn the_subsidy_allocation_is_shown_and_adds_up_to_the_budget() {
    let (backend, app) = province();
    let prov = page_login(&app, "prov").await;
    let form = get(&app, SUBSIDY, &prov).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("id=\"subsidy-form\""));
    assert!(
        form.body
            .contains("method=\"get\" action=\"/province/subsidy\"")
    );
    assert!(!form.body.contains("id=\"allocation-table\""));
    assert_eq!(backend.allocations_computed(), 0);

    let page = get(
        &app,
        &format!("{SUBSIDY}?period=2026&budget={BUDGET}"),
        &prov,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert_eq!(backend.allocations_computed(), 1);
    assert!(body.contains(SUBSIDY_RULE));
    assert_eq!(text_of(body, "subsidy-period"), "2026");
    assert_eq!(text_of(body, "subsidy-budget"), "1,000,000.50");
    assert_eq!(text_of(body, "subsidy-total"), "1,000,000.50");
    // 东北大学 92.25 and 大连理工大学 86.5 share it; 辽宁大学 (较差) gets nothing.
    let neu = &body[body.find("<tr data-institution=\"neu\"").unwrap()..];
    assert!(neu.contains("<span class=\"badge active\">优秀</span>"));
    assert!(neu.contains("<td data-label=\"分配金额（元）\" class=\"money\">516,084.17</td>"));
    let dlut = &body[body.find("<tr data-institution=\"dlut\"").unwrap()..];
    assert!(dlut.contains("86.50"));
    assert!(dlut.contains("<td data-label=\"分配金额（元）\" class=\"money\">483,916.33</td>"));
    assert!(!body.contains("data-institution=\"lnu\""));
    // The form keeps what was typed.
    assert!(body.contains("value=\"1,000,000.50\""));
    assert!(!body.contains("id=\"subsidy-why\""));
}

#[tokio::test]
async fn an_allocation_of_nothing_says_why_and_who_is_closest() {
    let (backend, app) = province();
    backend.edit_province(|p| p.subsidy_min_score = 95.0);
    let prov = page_login(&app, "prov").await;
    let page = get(
        &app,
        &format!("{SUBSIDY}?period=2026&budget={BUDGET}"),
        &prov,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("本期间没有达到分配条件的单位"));
    assert!(body.contains("综合得分须达到 95 分"), "{body}");
    // Best first, each with the points it lacks.
    let table = &body[body.find("id=\"closest-table\"").unwrap()..];
    let (neu, dlut, lnu) = (
        table.find("东北大学").unwrap(),
        table.find("大连理工大学").unwrap(),
        table.find("辽宁大学").unwrap(),
    );
    assert!(neu < dlut && dlut < lnu);
    assert!(table.contains(">2.75<"), "neu: 95 − 92.25");
    assert!(table.contains(">8.50<"), "dlut: 95 − 86.5");
    assert!(table.contains(">40.00<"), "lnu: 95 − 55");
    assert!(body.contains("href=\"/results?period=2026\""));
}

#[tokio::test]
async fn subsidy_and_compliance_need_the_province_admin_role() {
    let (backend, app) = province();
    let with_budget = format!("{SUBSIDY}?period=2026&budget={BUDGET}");
    for uri in [SUBSIDY, with_budget.as_str(), COMPLIANCE] {
        let anonymous = get(&app, uri, "").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{uri}");
        assert!(
            anonymous
                .location()
                .unwrap()
                .starts_with("/login?next=/province/"),
            "{uri}"
        );
        for username in ["li", "admin"] {
            let cookie = page_login(&app, username).await;
            assert_eq!(
                get(&app, uri, &cookie).await.status,
                StatusCode::FORBIDDEN,
                "{uri} as {username}"
            );
        }
    }
    assert_eq!(backend.allocations_computed(), 0);
    let prov = page_login(&app, "prov").await;
    for uri in [SUBSIDY, COMPLIANCE] {
        assert_eq!(get(&app, uri, &prov).await.status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn a_bad_budget_is_a_422_and_nothing_is_computed() {
    let (backend, app) = province();
    let prov = page_login(&app, "prov").await;
    for budget in [
        "",
        "abc",
        "0",
        "-5",
        "12%2C34",
        "1.005",
        "1%2C000%2C000%2C000%2C000.01",
    ] {
        let page = get(
            &app,
            &format!("{SUBSIDY}?period=2026&budget={budget}"),
            &prov,
        )
        .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{budget}");
        assert!(page.body.contains("id=\"budget-error\""), "{budget}");
        assert!(
            page.body.contains(
                "请填写大于 0、不超过 1 万亿元的金额（元，最多两位小数），如 1,000,000.50。"
            ),
            "{budget}"
        );
        assert!(!page.body.contains("id=\"allocation-table\""), "{budget}");
    }
    let page = get(&app, &format!("{SUBSIDY}?period=2026-Q9&budget=abc"), &prov).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"period-error\""));
    assert!(page.body.contains("id=\"budget-error\""));
    assert!(page.body.contains("value=\"2026-Q9\""));
    let page = get(&app, &format!("{SUBSIDY}?period=2026-Q9&budget=100"), &prov).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("评价期间无效"));
    assert_eq!(backend.allocations_computed(), 0);
    // A trillion yuan is still a budget.
    let page = get(
        &app,
        &format!("{SUBSIDY}?period=2026&budget=1%2C000%2C000%2C000%2C000"),
        &prov,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(text_of(&page.body, "subsidy-total"), "1,000,000,000,000.00");
}

#[tokio::test]
async fn compliance_rows_are_grouped_with_their_standing_in_words() {
    let (_, app) = province();
    let prov = page_login(&app, "prov").await;
    let page = get(&app, COMPLIANCE, &prov).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(body.contains("30 个工作日"));
    assert!(
        body.contains("href=\"/province/compliance\" aria-current=\"page\">入网报送<"),
        "navigation"
    );
    let dlut = body
        .find("<section class=\"card\" aria-labelledby=\"inst-dlut\"")
        .unwrap();
    let neu = body
        .find("<section class=\"card\" aria-labelledby=\"inst-neu\"")
        .unwrap();
    let (dlut_part, neu_part) = (&body[dlut..neu], &body[neu..]);
    assert!(dlut_part.contains("大连理工大学"));
    assert!(dlut_part.contains("data-instrument=\"dlut/ICP-3\""));
    assert!(dlut_part.contains("data-instrument=\"dlut/SEM-4\""));
    assert!(dlut_part.contains("2026-03-02"));
    assert!(dlut_part.contains("2026-05-06"));
    assert!(dlut_part.contains("2026-04-14"));
    assert!(dlut_part.contains("<td data-label=\"逾期工作日\">15</td>"));
    assert!(dlut_part.contains("<span class=\"badge pending\">逾期入网</span>"));
    assert!(dlut_part.contains("<span class=\"badge error\">未入网</span>"));
    assert!(neu_part.contains("data-instrument=\"neu/CT-5\""));
    assert!(neu_part.contains("超出已知法定节假日日历，需人工核定"));
    assert!(!neu_part.contains("dlut/"));

    let english = get(&app, "/province/compliance?lang=en", &prov).await;
    assert!(english.body.contains("Networked late"));
    assert!(english.body.contains("Beyond the known official calendar"));
}

#[tokio::test]
async fn results_subsidy_and_compliance_through_the_api() {
    let (backend, app) = province();
    // Results are public.
    let reply = get(&app, "/api/v1/results?period=2026-Q3", "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["period"], "2026-Q3");
    assert_eq!(json["log_size"], 4242);
    assert_eq!(json["rows"].as_array().unwrap().len(), 7);
    let reply = get(&app, "/api/v1/results?period=2026-Q5", "").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], "invalid");
    assert_eq!(reply.json()["error"]["field"], "period");

    // Subsidy and compliance are for province admins.
    let subsidy = "/api/v1/province/subsidy?period=2026&budget_fen=100000050";
    let compliance = "/api/v1/province/compliance";
    for uri in [subsidy, compliance] {
        assert_eq!(
            get(&app, uri, "").await.status,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
        let (li, _) = api_login(&app, "li").await;
        let reply = get(&app, uri, &li).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(reply.json()["error"]["code"], "forbidden");
    }
    assert_eq!(backend.allocations_computed(), 0);
    let (prov, _) = api_login(&app, "prov").await;
    let reply = get(&app, subsidy, &prov).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let allocations = reply.json();
    let allocations = allocations.as_array().unwrap();
    assert_eq!(allocations.len(), 2);
    assert_eq!(allocations[0]["institution"], "neu");
    assert_eq!(allocations[0]["amount_fen"], 51_608_417);
    let total: i64 = allocations
        .iter()
        .map(|a| a["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 100_000_050);
    for bad in ["0", "abc", "100000000000001", ""] {
        let reply = get(
            &app,
            &format!("/api/v1/province/subsidy?period=2026&budget_fen={bad}"),
            &prov,
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.json()["error"]["field"], "budget_fen", "{bad}");
    }
    let reply = get(
        &app,
        "/api/v1/province/subsidy?period=2026-Q0&budget_fen=100",
        &prov,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["field"], "period");
    assert_eq!(backend.allocations_computed(), 1);

    let reply = get(&app, compliance, &prov).await;
    assert_eq!(reply.status, StatusCode::OK);
    let standings: Vec<String> = reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["standing"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(standings, ["late", "missing", "beyond_calendar"]);

    // A member's node answers 404 with a clear message.
    let (_, member) = member();
    let (prov, _) = api_login(&member, "prov").await;
    for uri in ["/api/v1/results?period=2026", subsidy, compliance] {
        let reply = get(&member, uri, &prov).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.json()["error"]["code"], "not_found");
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains("published by the province's node"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn downloads_carry_an_etag_and_a_client_holding_it_gets_304() {
    let (_backend, app) = province();
    let first = get(&app, "/results.csv?period=2026", "").await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.header("etag").unwrap().to_owned();
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    let again = crate::common::send(
        &app,
        crate::common::request(axum::http::Method::GET, "/results.csv?period=2026", "")
            .header("if-none-match", &etag)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    // Another version is sent whole.
    let stale = crate::common::send(
        &app,
        crate::common::request(axum::http::Method::GET, "/results.csv?period=2026", "")
            .header("if-none-match", "\"0000\"")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, first.body);
}

#[tokio::test]
async fn expensive_answers_are_limited_per_client_address() {
    let backend = MemoryBackend::seeded().province_node();
    let app = alliance_web::router(
        backend.clone(),
        alliance_web::WebOptions {
            expensive_per_minute: Some(3),
            ..alliance_web::WebOptions::default()
        },
    );
    for uri in ["/results.csv", "/api/v1/results", "/results?period=2026"] {
        assert_eq!(get(&app, uri, "").await.status, StatusCode::OK, "{uri}");
    }
    let api = get(&app, "/api/v1/results", "").await;
    assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(api.json()["error"]["code"], "rate_limited");
    assert!(api.header("retry-after").is_some());
    let page = get(&app, "/instruments?free_from=2026-12-07", "").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("请求过于频繁"), "{}", page.body);
    // Cheap answers are not counted.
    assert_eq!(get(&app, "/api/v1/status", "").await.status, StatusCode::OK);
    assert_eq!(
        get(&app, "/instruments?q=质谱", "").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_a_province_admin_is_offered_publishing_and_the_form_checks_its_token() {
    let (_, app) = province();
    // Visitors and other roles see the results, not the form.
    assert!(!get(&app, RESULTS, "").await.body.contains("publish-form"));
    let li = page_login(&app, "li").await;
    assert!(!get(&app, RESULTS, &li).await.body.contains("publish-form"));
    let prov = page_login(&app, "prov").await;
    let page = get(&app, RESULTS, &prov).await;
    assert!(page.body.contains("publish-form"), "{}", page.body);
    let csrf = page.hidden("csrf").unwrap();
    // Without the token, or as another role: refused, nothing published.
    let forged = form(
        &app,
        "/results/publish",
        &prov,
        &[("csrf", "0"), ("period", "2025")],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let li_csrf = session_csrf(&app, &li).await;
    let not_admin = form(
        &app,
        "/results/publish",
        &li,
        &[("csrf", &li_csrf), ("period", "2025")],
    )
    .await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);
    // A period that has ended: published, and the page says so.
    let done = form(
        &app,
        "/results/publish",
        &prov,
        &[("csrf", &csrf), ("period", "2025")],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        done.location().unwrap(),
        "/results?period=2025&notice=published"
    );
    // This year has not ended: refused with the reason, in Chinese.
    let this_year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y")
        .to_string();
    let early = form(
        &app,
        "/results/publish",
        &prov,
        &[("csrf", &csrf), ("period", &this_year)],
    )
    .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(
        early.body.contains("本期尚未结束，不能发布。"),
        "{}",
        early.body
    );
}

#[tokio::test]
async fn the_score_chart_agrees_with_the_table() {
    let (_, app) = province();
    let page = get(&app, "/results?period=2026", "").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    let chart_at = body
        .find("id=\"score-chart\"")
        .expect("a chart of the scores");
    let chart = &body[chart_at..body[chart_at..].find("</figure>").unwrap() + chart_at];
    assert!(chart.contains("<svg"), "drawn on the server");
    assert!(chart.contains("role=\"img\""));
    // Every institution of the table is a bar labelled with its score as the table has it,
    // and the grade lines are named.
    for (id, score) in [("neu", "92.25"), ("dlut", "86.50"), ("lnu", "55.00")] {
        let row = &body[body.find(&format!("data-institution=\"{id}\"")).unwrap()..];
        assert!(
            row[..row.find("</tr>").unwrap()].contains(score),
            "{id} table"
        );
        assert!(chart.contains(&format!("\n{score}\n")), "{id} bar: {chart}");
    }
    for line in ["合格 60", "良好 75", "优秀 90"] {
        assert!(chart.contains(line), "{line}");
    }
    // The text alternative says the same.
    assert!(chart.contains("东北大学 92.25（优秀）"), "{chart}");
}

#[tokio::test]
async fn the_instrument_charts_agree_with_the_instruments_table() {
    let (_, app) = province();
    let body = get(&app, "/results?period=2026", "").await.body;
    let figure = |id: &str| {
        let at = body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id}"));
        body[at..at + body[at..].find("</figure>").unwrap()].to_owned()
    };
    let utilisation = figure("utilisation-chart");
    let sharing = figure("sharing-chart");
    // Each instrument's bar carries the figure its row in the table shows, most used first.
    for (instrument, used, shared) in [
        ("neu/XRD-2", "89.3%", "56.0%"),
        ("dlut/LCMS-1", "85.7%", "33.3%"),
        ("dlut/TEM-01", "64.3%", "25.6%"),
    ] {
        let row = &body[body.find(&format!("/instruments/{instrument}\"")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains(used) && row.contains(shared),
            "{instrument}: {row}"
        );
        assert!(
            utilisation.contains(&format!("\n{used}\n")),
            "{instrument}: {utilisation}"
        );
        assert!(
            sharing.contains(&format!("\n{shared}\n")),
            "{instrument}: {sharing}"
        );
    }
    let order = |chart: &str, names: [&str; 3]| {
        let at: Vec<usize> = names.iter().map(|n| chart.rfind(n).unwrap()).collect();
        at.windows(2).all(|w| w[0] < w[1])
    };
    assert!(order(&utilisation, ["89.3%", "85.7%", "64.3%"]));
    assert!(
        utilisation.contains("东北大学 X射线衍射仪 89.3%"),
        "{utilisation}"
    );
}

#[tokio::test]
async fn an_institutions_instruments_are_folded_to_twenty_and_paged_on_their_own() {
    let (backend, app) = province();
    // dlut with 73 instruments (copies of its LC-MS row).
    backend.edit_province(|p| {
        let lcms = p
            .rows
            .iter()
            .find(|r| r.instrument == "dlut/LCMS-1")
            .cloned()
            .unwrap();
        let at = p
            .rows
            .iter()
            .position(|r| r.instrument == "dlut/LCMS-1")
            .unwrap();
        for n in 0..71 {
            let mut copy = lcms.clone();
            copy.instrument = format!("dlut/X-{n:02}");
            p.rows.insert(at + 1 + n, copy);
        }
    });
    let whole = get(&app, "/results?period=2026", "").await.body;
    let dlut = &whole[whole.find("data-institution=\"dlut\"").unwrap()..];
    let dlut = &dlut[..dlut.find("data-institution=\"lnu\"").unwrap()];
    assert_eq!(dlut.matches("<tr data-instrument=").count(), 20);
    assert!(
        dlut.contains("<span class=\"count\">73</span>"),
        "the count is all of them"
    );
    assert!(
        dlut.contains("institution=dlut&#38;offset=0#institutions"),
        "{dlut}"
    );

    // On its own: 50 a page, the next a link away, the other institutions left out.
    let alone = get(&app, "/results?period=2026&institution=dlut&offset=0", "").await;
    assert_eq!(alone.status, StatusCode::OK);
    let body = &alone.body;
    assert_eq!(body.matches("<tr data-instrument=").count(), 50);
    assert!(!body.contains("data-institution=\"neu\""));
    assert!(
        body.contains("offset=50#institutions\" rel=\"next\""),
        "{body}"
    );
    let last = get(&app, "/results?period=2026&institution=dlut&offset=50", "").await;
    assert_eq!(last.body.matches("<tr data-instrument=").count(), 23);
    assert!(last.body.contains("rel=\"prev\""));
    // An offset from outside, however large, is an empty page.
    let far = get(
        &app,
        &format!(
            "/results?period=2026&institution=dlut&offset={}",
            usize::MAX
        ),
        "",
    )
    .await;
    assert_eq!(far.status, StatusCode::OK);
    assert_eq!(far.body.matches("<tr data-instrument=").count(), 0);
}
