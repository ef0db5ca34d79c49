//! The calendar as the booking tool, in a real headless Chromium against a real node: the
//! owner's window and holidays reach the calendar through the signed digest, hours no
//! request could take have no link, a span picked on the grid fills the form, the user's
//! own booking is marked, and a phone gets the day view.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::booking::rules::{Blackout, BlackoutKind, BookingRules};
use alliance_protocol::{BookingWindow, ServiceMode, UnixTime};
use alliance_tests::{
    browser::{Browser, body_text, fits_the_screen, sign_in, submit},
    *,
};
use alliance_web::backend::{AccountRole, NewAccount};
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Timelike};
use chrono_tz::Asia::Shanghai;
use fantoccini::{Client, Locator};

/// Classes of the cells of the visible calendar whose start hour is `hour`
/// (`YYYY-MM-DDTHH`), and whether each links to the form.
async fn cells(c: &Client, table: &str, hour: &str) -> Vec<(String, bool)> {
    let found = c
        .execute(
            "const [table, hour] = arguments;
             return Array.from(document.querySelectorAll('#' + table + ' td.slot'))
               .filter(td => td.title.startsWith(hour.replace('T', ' ')))
               .map(td => [td.className, td.querySelector('a[data-start]') !== null]);",
            vec![table.into(), hour.into()],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

/// What the `id` element's `value` holds.
async fn value(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_offers_only_what_a_request_could_take() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;

    let mut record = sample_record("dlut", "SEM-1", "扫描电子显微镜");
    record.opening_hours = "每天 全天".into();
    record.service_modes = vec![ServiceMode::StaffRun];
    dlut.catalogue().save_record(record).await.unwrap();

    // Days counted from this Monday in Shanghai, as the digest counts them.
    let now = chrono::Utc::now().with_timezone(&Shanghai);
    let today = now.date_naive();
    let t = usize::try_from(today.weekday().num_days_from_monday()).unwrap();
    let day =
        |d: usize| today + Duration::days(i64::try_from(d).unwrap() - i64::try_from(t).unwrap());
    let midnight = |date: NaiveDate| {
        Shanghai
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .timestamp()
    };
    // Tomorrow is the owner's holiday; three hours' lead, three days ahead at most.
    let holiday = day(t + 1);
    let rules = BookingRules {
        min_lead_minutes: 180,
        horizon_days: 3,
        granularity_minutes: 30,
        max_duration_minutes: 480,
        approval_tiers: Vec::new(),
        blackouts: vec![Blackout {
            start: UnixTime(midnight(holiday)),
            end: UnixTime(midnight(holiday) + 86_400),
            kind: BlackoutKind::Holiday,
            reason: "校庆".into(),
        }],
        ..BookingRules::default()
    };
    dlut.bookings().set_rules("SEM-1", &rules).await.unwrap();
    let window = BookingWindow::from(&rules);
    let holiday_bit = 1u64 << (t + 1);
    wait_catalogue(&dlut, "the digest with the window and the holiday", |c| {
        c.instrument("dlut/SEM-1")
            .and_then(|v| v.availability)
            .is_some_and(|d| d.window == Some(window) && d.holiday_days & holiday_bit != 0)
    })
    .await;
    dlut.accounts()
        .create(NewAccount {
            username: "zhao".into(),
            password: PASSWORD.into(),
            display_name: "赵同学".into(),
            role: AccountRole::Researcher,
            organization: "dlut".into(),
            email: String::new(),
            phone: String::new(),
        })
        .await
        .unwrap();

    let browser = Browser::start(false).await;
    let c = &browser.client;
    let base = dlut.url();
    sign_in(c, &base, "zhao", PASSWORD).await;
    let page = format!("{base}instruments/dlut/SEM-1");

    // Today's week: the rules in words, today marked, the holiday named. (Loaded again
    // if the hour turned while loading, so the hour under way is the one the page saw.)
    let now = loop {
        let before = chrono::Utc::now().with_timezone(&Shanghai);
        c.goto(&format!("{page}?day={t}")).await.unwrap();
        if chrono::Utc::now().with_timezone(&Shanghai).hour() == before.hour() {
            break before;
        }
    };
    let text = body_text(c).await;
    assert!(text.contains("每格时段 30 分钟"), "{text}");
    assert!(text.contains("须提前 3 小时 预约"), "{text}");
    assert!(text.contains("可预约未来 3 天内"), "{text}");
    let today_head = c
        .find(Locator::Css("#calendar th[aria-current=date]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(today_head.contains("今天"), "{today_head}");

    // The hour under way is too soon; every earlier hour of today is past; none links.
    let hour = |date: NaiveDate, h: u32| format!("{date}T{h:02}");
    let current = now.hour();
    assert_eq!(
        cells(c, "calendar", &hour(today, current)).await,
        [("slot too-soon".to_owned(), false)]
    );
    for h in 0..current {
        assert_eq!(
            cells(c, "calendar", &hour(today, h)).await,
            [("slot past".to_owned(), false)],
            "{h}:00 today"
        );
    }
    // A past hour cannot be picked: clicking it leaves the form as it was.
    if current > 0 {
        let before = value(c, "start").await;
        c.execute(
            "document.querySelector('#calendar td.slot.past').click();",
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(value(c, "start").await, before);
    }

    // The holiday: every hour closed for it, none links.
    c.goto(&format!("{page}?day={}", t + 1)).await.unwrap();
    for h in [0, 9, 15, 23] {
        assert_eq!(
            cells(c, "calendar", &hour(holiday, h)).await,
            [("slot holiday".to_owned(), false)],
            "{h}:00 on the holiday"
        );
    }
    // Four days on is beyond the three-day horizon.
    let beyond = day(t + 4);
    c.goto(&format!("{page}?day={}", t + 4)).await.unwrap();
    assert_eq!(
        cells(c, "calendar", &hour(beyond, 10)).await,
        [("slot beyond".to_owned(), false)]
    );

    // The day after the holiday: pick 10:00, then 12:00 — three hours fill the form.
    let picked_day = day(t + 2);
    c.goto(&format!("{page}?day={}", t + 2)).await.unwrap();
    for h in [10, 12] {
        c.find(Locator::Css(&format!(
            "#calendar a[data-start='{}:00']",
            hour(picked_day, h)
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    }
    assert_eq!(
        value(c, "start").await,
        format!("{}:00", hour(picked_day, 10))
    );
    assert_eq!(value(c, "minutes").await, "180");
    let picked = c
        .find(Locator::Id("picked-span"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(picked.contains("10:00 – 13:00"), "{picked}");
    c.execute(
        "document.getElementById('purpose').value = '断口形貌观察';",
        vec![],
    )
    .await
    .unwrap();
    submit(c, "/bookings").await;
    let answer = body_text(c).await;
    assert!(answer.contains("预约已确认"), "{answer}");

    // The booking is the user's own in the calendar; the hour after it is free.
    c.goto(&format!("{page}?day={}", t + 2)).await.unwrap();
    for h in [10, 11, 12] {
        assert_eq!(
            cells(c, "calendar", &hour(picked_day, h)).await,
            [("slot mine".to_owned(), false)],
            "{h}:00"
        );
    }
    assert_eq!(
        cells(c, "calendar", &hour(picked_day, 13)).await,
        [("slot free".to_owned(), true)]
    );

    // On a phone: the day view, not the week; the page fits the screen.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{page}?day={}", t + 2)).await.unwrap();
    let shown = c
        .execute(
            "return [getComputedStyle(document.querySelector('.calendar-week')).display,
                     getComputedStyle(document.getElementById('calendar-day')).display];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown, serde_json::json!(["none", "block"]));
    assert!(fits_the_screen(c).await);
    assert_eq!(
        cells(c, "calendar-day-table", &hour(picked_day, 11)).await,
        [("slot mine".to_owned(), false)]
    );
    let day_text = c
        .find(Locator::Id("calendar-day"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(day_text.contains("我的预约"), "{day_text}");
    assert!(day_text.contains("后一天"), "{day_text}");
    browser.close().await;
}
