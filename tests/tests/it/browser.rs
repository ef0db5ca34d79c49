//! The web UI in a real headless Chromium against real nodes: an outside user registers,
//! the institution's admin approves, the user signs in; roles, language and phone layout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_tests::{
    browser::{
        Browser, body_text, click_and_wait, fill, fits_the_screen, html_lang, sign_in, submit,
    },
    *,
};

use fantoccini::Locator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_user_registers_is_approved_and_signs_in() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let member = start_member(dir.path(), &province, "dlut").await;
    wait_state(&member, "joined", |s| s.members.len() == 1).await;
    let base = member.url();
    let browser = Browser::start(false).await;
    let c = &browser.client;

    // Chinese by default; the status page names the connected province.
    c.goto(&base).await.unwrap();
    assert_eq!(html_lang(c).await, "zh-CN");
    assert!(
        body_text(c).await.contains("lnsti"),
        "status page lacks the connected province"
    );

    // An outside user registers and must wait for approval.
    c.goto(&format!("{base}register")).await.unwrap();
    fill(c, "username", "firm-wang").await;
    fill(c, "password", "a-strong-passphrase").await;
    fill(c, "display_name", "王经理").await;
    fill(c, "organization", "大连华信新材料有限公司").await;
    fill(c, "email", "wang@firm.example.cn").await;
    submit(c, "/register").await;
    assert!(body_text(c).await.contains("firm-wang"));
    sign_in(c, &base, "firm-wang", "a-strong-passphrase").await;
    c.find(Locator::Id("login-error"))
        .await
        .expect("a pending account cannot sign in");

    // The institution admin approves.
    sign_in(c, &base, "admin", PASSWORD).await;
    c.goto(&format!("{base}admin/accounts")).await.unwrap();
    let approve = "form[action='/admin/accounts/firm-wang/state'] input[name=state][value=active]";
    c.find(Locator::Css(approve))
        .await
        .expect("no approve button for the registration");
    // Approving an outside user sets what they pay: a firm, with its credit code.
    c.find(Locator::Id("price-firm-wang"))
        .await
        .unwrap()
        .select_by_value("enterprise")
        .await
        .unwrap();
    fill(c, "credit-firm-wang", "91350100M000100Y43").await;
    submit(c, "/admin/accounts/firm-wang/state").await;
    submit(c, "/logout").await;

    // Now the user signs in, sees their name, and may not administer accounts.
    sign_in(c, &base, "firm-wang", "a-strong-passphrase").await;
    assert!(
        c.find(Locator::Id("login-error")).await.is_err(),
        "{}",
        body_text(c).await
    );
    assert!(body_text(c).await.contains("王经理"));
    c.goto(&format!("{base}admin/accounts")).await.unwrap();
    assert!(
        c.find(Locator::Css("form[action='/admin/accounts']"))
            .await
            .is_err(),
        "an external user reached account administration"
    );

    // English on request, kept across pages.
    click_and_wait(c, "a.lang-switch").await;
    assert_eq!(html_lang(c).await, "en");
    c.goto(&base).await.unwrap();
    assert_eq!(html_lang(c).await, "en");

    browser.close().await;
    member.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_a_phone_screen() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let browser = Browser::start(true).await;
    let c = &browser.client;
    for path in ["", "login", "register", "instruments", "overview"] {
        c.goto(&format!("{}{path}", province.url())).await.unwrap();
        assert!(
            fits_the_screen(c).await,
            "/{path} scrolls sideways on a phone"
        );
    }
    sign_in(c, &province.url(), "admin", PASSWORD).await;
    c.goto(&format!("{}admin/accounts", province.url()))
        .await
        .unwrap();
    assert!(
        fits_the_screen(c).await,
        "the account table scrolls sideways on a phone"
    );
    // One's notices, chosen on a phone: decisions off, in English.
    c.goto(&format!("{}me", province.url())).await.unwrap();
    assert!(fits_the_screen(c).await, "/me scrolls sideways on a phone");
    c.find(Locator::Css("input[name=kind][value=booking_decision]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#notice-language option[value=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit(c, "/me/notifications").await;
    assert!(body_text(c).await.contains("通知设置已保存"));
    let decision = c
        .find(Locator::Css("input[name=kind][value=booking_decision]"))
        .await
        .unwrap();
    assert!(!decision.is_selected().await.unwrap(), "still ticked");
    let receipts = c
        .find(Locator::Css("input[name=kind][value=receipt_to_confirm]"))
        .await
        .unwrap();
    assert!(
        receipts.is_selected().await.unwrap(),
        "untouched kinds stay on"
    );
    let english = c
        .find(Locator::Css("#notice-language option[value=en]"))
        .await
        .unwrap();
    assert!(english.is_selected().await.unwrap());
    browser.close().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_researcher_finds_another_institutions_instrument_with_its_fees_and_calendar() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    let mut record = sample_record("dlut", "LCMS-1", "液相色谱-质谱联用仪");
    record.opening_hours = "周一至周五 8:30–11:30，13:30–17:30".into();
    record.fees = vec![alliance_protocol::FeeItem {
        item_zh: "样品测试".into(),
        item_en: "Sample test".into(),
        unit: alliance_protocol::FeeUnit::Sample,
        own_institution: fee(20, 10, 50),
        alliance_member: fee(20, 15, 80),
        outside_academic: fee(20, 20, 120),
        enterprise: fee(30, 30, 200),
    }];
    owner.catalogue().save_record(record).await.unwrap();
    wait_catalogue(&home, "record and digest reach neu", |c| {
        c.instrument("dlut/LCMS-1")
            .is_some_and(|v| v.availability.is_some())
    })
    .await;

    let browser = Browser::start(false).await;
    let c = &browser.client;
    c.goto(&format!("{}instruments", home.url())).await.unwrap();
    fill(c, "q", "质谱").await;
    click_and_wait(c, "form[action='/instruments'] button[type=submit]").await;
    let count = c
        .find(Locator::Css("#result-count strong"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(count, "1", "{}", body_text(c).await);
    click_and_wait(c, "a[href='/instruments/dlut/LCMS-1']").await;

    let fees = c
        .find(Locator::Id("fee-table"))
        .await
        .expect("the instrument page shows its fee table")
        .text()
        .await
        .unwrap();
    // Outside academic: 20 + 20 + 120 = 160 RMB per sample; enterprise 260.
    assert!(
        fees.contains("样品测试") && fees.contains("160.00") && fees.contains("260.00"),
        "{fees}"
    );
    // This week's calendar marks past hours as such; next week is all to come.
    c.goto(&format!("{}instruments/dlut/LCMS-1?week=1", home.url()))
        .await
        .unwrap();
    let free_slots = c
        .find_all(Locator::Css("#calendar td.slot.free"))
        .await
        .unwrap()
        .len();
    assert!(
        free_slots >= 5 * 8,
        "a week of opening hours is free: {free_slots}"
    );
    assert!(
        body_text(c).await.contains("dlut test institution")
            || body_text(c).await.contains("dlut 测试单位")
    );

    browser.close().await;
    for node in [home, owner, province] {
        node.shutdown().await;
    }
}

fn fee(materials: i64, operating: i64, labour: i64) -> alliance_protocol::FeeComponents {
    alliance_protocol::FeeComponents {
        materials_fen: materials * 100,
        operating_fen: operating * 100,
        labour_fen: labour * 100,
    }
}
