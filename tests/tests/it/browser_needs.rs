//! The whole loop for a firm, in a real headless Chromium against real nodes: the firm
//! posts a need at its home node, another institution's manager offers on theirs, the
//! firm compares and accepts, the manager records the intake, the testing and uploads
//! the report, and the firm downloads it through its home.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::NodeHandle;
use alliance_tests::{
    browser::{Browser, body_text, click_and_wait, fill, sign_in},
    fixtures::{in_days, person, xps_by_sample},
    *,
};
use alliance_web::backend::{AccountRole, AccountState, PriceCategory};
use fantoccini::Locator;

/// `YYYY-MM-DDTHH:MM` in Beijing, `minutes_ago` before now.
fn beijing_ago(minutes_ago: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes_ago))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firm_posts_a_need_accepts_an_offer_and_downloads_the_report() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    xps_by_sample(&owner, [14_000; 4]).await;
    wait_catalogue(&home, "XPS-1 arrives", |c| {
        c.instrument("dlut/XPS-1").is_some()
    })
    .await;
    person(
        &home,
        "firm-wang",
        AccountRole::ExternalUser,
        "firm-wang@example.cn",
    )
    .await;
    home.accounts()
        .set_price_category(
            "firm-wang",
            PriceCategory::Enterprise {
                credit_code: "91350100M000100Y43".into(),
            },
        )
        .await
        .unwrap();
    home.accounts()
        .set_state("firm-wang", AccountState::Active)
        .await
        .unwrap();
    person(
        &owner,
        "mgr",
        AccountRole::InstrumentManager,
        "mgr@example.cn",
    )
    .await;

    let browser = Browser::start(false).await;
    let c = &browser.client;
    let home_url = home.url();
    let owner_url = owner.url();

    // The firm posts its need in plain words.
    sign_in(c, &home_url, "firm-wang", PASSWORD).await;
    c.goto(&format!("{home_url}needs")).await.unwrap();
    fill(c, "title", "不锈钢镀层价态分析").await;
    fill(c, "keywords", "XPS 价态").await;
    fill(c, "sample_kind", "镀层钢片").await;
    fill(c, "sample_count", "2").await;
    c.execute(
        "document.getElementById('deadline').value = arguments[0];",
        vec![serde_json::json!(in_days(20))],
    )
    .await
    .unwrap();
    click_and_wait(c, "#need-form button[type=submit]").await;
    assert!(
        body_text(c).await.contains("需求已发布"),
        "{}",
        body_text(c).await
    );
    let need_href = c
        .find(Locator::Css("#my-needs a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let need_id = need_href.trim_start_matches("/needs/").replace("%2F", "/");
    wait_catalogue(&owner, "the need reaches dlut", |cat| {
        cat.board().need(&need_id).is_some()
    })
    .await;

    // dlut's manager offers by the fee schedule on dlut's own node.
    sign_in(c, &owner_url, "mgr", PASSWORD).await;
    c.goto(&format!("{owner_url}{}", need_href.trim_start_matches('/')))
        .await
        .unwrap();
    fill(c, "instrument_local_id", "XPS-1").await;
    click_and_wait(c, "#offer-form button[type=submit]").await;
    assert!(
        body_text(c).await.contains("报价已提交"),
        "{}",
        body_text(c).await
    );
    wait_catalogue(&home, "the offer reaches neu", |cat| {
        cat.board()
            .offer(&need_id, &"dlut".parse().unwrap())
            .is_some()
    })
    .await;

    // The firm compares (one offer, by the schedule: 2 × ¥200) and accepts.
    sign_in(c, &home_url, "firm-wang", PASSWORD).await;
    c.goto(&format!("{home_url}{}", need_href.trim_start_matches('/')))
        .await
        .unwrap();
    let table = c
        .find(Locator::Id("offers"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(table.contains("¥400.00"), "{table}");
    click_and_wait(c, "#offers form[action$='/accept'] button").await;
    assert!(
        body_text(c).await.contains("已接受报价"),
        "{}",
        body_text(c).await
    );

    // dlut's manager sees whom to contact, records the intake, the testing, the report.
    until_order(&owner, "ordered").await;
    sign_in(c, &owner_url, "mgr", PASSWORD).await;
    c.goto(&format!("{owner_url}manage/orders")).await.unwrap();
    assert!(body_text(c).await.contains("firm-wang@example.cn"));
    fill(c, &format!("note-{}", local_of(&need_id)), "收到 2 片").await;
    click_and_wait(c, ".step-form button[value=samples_received]").await;
    click_and_wait(c, ".step-form button[value=testing]").await;
    let report = dir.path().join("XPS-report.pdf");
    std::fs::write(&report, b"%PDF-1.7\n% XPS: Cr(III) 62%\n%%EOF\n").unwrap();
    let local = local_of(&need_id);
    c.find(Locator::Id(&format!("file-{local}")))
        .await
        .unwrap()
        .send_keys(report.to_str().unwrap())
        .await
        .unwrap();
    for (field, minutes_ago) in [("start", 90), ("end", 30)] {
        c.execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![
                serde_json::json!(format!("{field}-{local}")),
                serde_json::json!(beijing_ago(minutes_ago)),
            ],
        )
        .await
        .unwrap();
    }
    click_and_wait(c, ".report-form button[type=submit]").await;
    assert!(
        body_text(c).await.contains("订单已更新"),
        "{}",
        body_text(c).await
    );

    // The firm follows it and downloads the report through its home.
    until_home_report(&home, &local).await;
    sign_in(c, &home_url, "firm-wang", PASSWORD).await;
    c.goto(&format!("{home_url}orders")).await.unwrap();
    let page = body_text(c).await;
    assert!(
        page.contains("报告已出具") && page.contains("收到 2 片"),
        "{page}"
    );
    let href = c
        .find(Locator::Css("#orders a[download]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let bytes = home_download(&home, "firm-wang", &href).await;
    assert_eq!(bytes, b"%PDF-1.7\n% XPS: Cr(III) 62%\n%%EOF\n");
    browser.close().await;
}

fn local_of(need_id: &str) -> String {
    need_id.split_once('/').unwrap().1.to_owned()
}

async fn until_order(owner: &NodeHandle, state: &str) {
    alliance_tests::node_api::until("dlut holds the order", DEADLINE, || async {
        owner
            .orders()
            .managed()
            .unwrap()
            .first()
            .is_some_and(|o| o.state.as_str() == state)
    })
    .await;
}

async fn until_home_report(home: &NodeHandle, local: &str) {
    alliance_tests::node_api::until("neu holds the report", DEADLINE, || async {
        home.orders()
            .home_order(local)
            .unwrap()
            .is_some_and(|o| o.report_held)
    })
    .await;
}

/// The file behind a download link, fetched with the user's own session (a headless
/// browser's downloads land on disk, out of the test's sight).
async fn home_download(home: &NodeHandle, user: &str, href: &str) -> Vec<u8> {
    let client = http::client();
    let signed_in = http::sign_in(&client, home, user, PASSWORD).await;
    assert!(signed_in.status().is_success());
    let answer = client
        .get(format!("{}{}", home.url(), href.trim_start_matches('/')))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.bytes().await.unwrap().to_vec()
}
