//! Booking across institutions in a real headless Chromium: a researcher at one member
//! books an instrument of another, that institution's manager approves, and the
//! researcher sees the booking confirmed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alliance_node::{NodeHandle, booking::rules::BookingRules};
use alliance_protocol::{ServiceMode, UnixTime, UserTier};
use alliance_tests::{
    browser::{Browser, body_text, click_and_wait, sign_in, submit},
    *,
};
use alliance_web::backend::{AccountRole, NewAccount};
use fantoccini::{Client, Locator};

async fn account(node: &NodeHandle, username: &str, name: &str, role: AccountRole) {
    node.accounts()
        .create(NewAccount {
            username: username.into(),
            password: PASSWORD.into(),
            display_name: name.into(),
            role,
            organization: node.config().node.institution_id.to_string(),
            email: format!("{username}@example.edu.cn"),
            phone: String::new(),
        })
        .await
        .unwrap();
}

/// `YYYY-MM-DDTHH:MM` (Shanghai) of 09:00 two days from now.
fn start_in_two_days() -> String {
    let now = UnixTime::now().0;
    let midnight = now - (now + 8 * 3600).rem_euclid(86_400) + 2 * 86_400;
    let local = chrono::DateTime::from_timestamp(midnight + 9 * 3600 + 8 * 3600, 0).unwrap();
    local.format("%Y-%m-%dT%H:%M").to_string()
}

/// Reloads `url` until its text contains `want`.
async fn wait_for_text(c: &Client, url: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        c.goto(url).await.unwrap();
        let text = body_text(c).await;
        if text.contains(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never showed {want:?}: {text}"
        );
        // The page has no live updates; the owner's decision arrives by the outbox.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_researcher_books_another_institutions_instrument_and_sees_it_approved() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;

    // dlut's XPS, open every day; its manager approves every request from outside.
    let mut record = sample_record("dlut", "XPS-1", "X射线光电子能谱仪");
    record.opening_hours = "每天 8:00-20:00".into();
    record.service_modes = vec![ServiceMode::StaffRun];
    dlut.catalogue().save_record(record).await.unwrap();
    let rules = BookingRules {
        approval_tiers: vec![
            UserTier::AllianceMember,
            UserTier::OutsideAcademic,
            UserTier::Enterprise,
        ],
        ..BookingRules::default()
    };
    dlut.bookings().set_rules("XPS-1", &rules).await.unwrap();
    account(&neu, "wang", "王研究员", AccountRole::Researcher).await;
    account(&dlut, "li-gong", "李工", AccountRole::InstrumentManager).await;
    wait_catalogue(&neu, "dlut's XPS on neu", |c| {
        c.instrument("dlut/XPS-1").is_some()
    })
    .await;
    wait_state(&neu, "neu sees dlut", |s| {
        connected_institutions(s).iter().any(|i| i == "dlut")
    })
    .await;

    let browser = Browser::start(false).await;
    let c = &browser.client;
    let (neu_url, dlut_url) = (neu.url(), dlut.url());

    // At neu, wang books dlut's XPS for one hour, staff-run, two samples.
    sign_in(c, &neu_url, "wang", PASSWORD).await;
    let start = start_in_two_days();
    c.goto(&format!(
        "{neu_url}instruments/dlut/XPS-1?start={start}#book"
    ))
    .await
    .unwrap();
    c.execute(
        "document.getElementById('minutes').value = '60';
         document.getElementById('mode').value = 'staff_run';
         document.getElementById('samples').value = '2';
         document.getElementById('purpose').value = '催化剂表面元素价态分析';",
        vec![],
    )
    .await
    .unwrap();
    submit(c, "/bookings").await;
    let answer = body_text(c).await;
    assert!(answer.contains("等待仪器管理员审批"), "{answer}");
    let mine = neu.bookings().home().all().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].user_id, "wang");

    // At dlut, the manager sees the request with its purpose and approves it.
    submit(c, "/logout").await;
    sign_in(c, &dlut_url, "li-gong", PASSWORD).await;
    // The menu says one request waits for a decision.
    let badge = c
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("a[data-badge=manage_bookings] .nav-badge"))
        .await
        .expect("the menu shows the request waiting");
    assert_eq!(badge.text().await.unwrap(), "1");
    c.goto(&format!("{dlut_url}manage/bookings")).await.unwrap();
    assert!(body_text(c).await.contains("催化剂表面元素价态分析"));
    click_and_wait(c, "button[name=decision][value=approve]").await;

    // Back at neu, wang's bookings show it confirmed, and the inbox says so.
    submit(c, "/logout").await;
    sign_in(c, &neu_url, "wang", PASSWORD).await;
    wait_for_text(c, &format!("{neu_url}bookings"), "已确认").await;
    let status = c
        .find(Locator::Css("#my-bookings .badge"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(status, "已确认");

    browser.close().await;
}
