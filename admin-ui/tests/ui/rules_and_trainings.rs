//! The managers' pages for an instrument's booking rules and for training certifications:
//! what they show, what a valid form changes, and what they refuse (bad input, a missing
//! CSRF token, a user who does not manage bookings).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{MemoryBackend, Reply, app, form, get, page_login, session_csrf};
use alliance_protocol::UserTier;
use alliance_protocol::booking::BookingRules;
use alliance_web::{
    backend::{AccountRole, AccountState, BookingBackend, CatalogueBackend},
    instrument_input::InstrumentInput,
};
use axum::{Router, http::StatusCode};

const RULES: &str = "/manage/instruments/LCMS-1/rules";
const TRAININGS: &str = "/manage/trainings";
/// 2030-12-02 08:00 and 12:00 in Beijing.
const BLACKOUT: (i64, i64) = (1_922_400_000, 1_922_414_400);
/// 2030-12-02 00:00 and 2031-12-02 00:00 in Beijing.
const TRAINED_AT: i64 = 1_922_371_200;
const NEXT_YEAR: i64 = 1_953_907_200;

/// The usual cast plus an instrument manager, and one instrument.
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
        service_modes: vec!["self_operated".into()],
        ..InstrumentInput::default()
    };
    let record = input.to_record(&"dlut".parse().unwrap()).unwrap();
    backend.save_instrument(record).await.unwrap();
    let app = app(&backend);
    (backend, app)
}

async fn rules(backend: &MemoryBackend) -> BookingRules {
    backend.booking_rules("LCMS-1").await.unwrap()
}

/// Whether a page holds an input called `name` with `value`.
fn has_value(page: &Reply, name: &str, value: &str) -> bool {
    ["number", "text", "date"].iter().any(|kind| {
        let input = format!("name=\"{name}\" type=\"{kind}\" value=\"{value}\"");
        page.body.contains(&input)
    })
}

/// Whether the checkbox of `tier` is ticked.
fn ticked(page: &Reply, tier: &str) -> bool {
    page.body
        .contains(&format!("name=\"approval_tier\" value=\"{tier}\" checked>"))
}

/// A full rules form: the defaults with other numbers, two tiers and a new blackout.
fn rules_form(csrf: &str) -> Vec<(&str, &str)> {
    vec![
        ("csrf", csrf),
        ("min_lead_minutes", "120"),
        ("max_duration_minutes", "240"),
        ("granularity_minutes", "60"),
        ("cancel_deadline_hours", "12"),
        ("hold_hours", "24"),
        ("approval_tier", "alliance_member"),
        ("approval_tier", "enterprise"),
        ("blackout_start", "2030-12-02T08:00"),
        ("blackout_end", "2030-12-02T12:00"),
        ("blackout_kind", "maintenance"),
        ("blackout_reason", "更换离子源"),
        ("holidays_shown", "1"),
        ("open_on_holidays", "1"),
    ]
}

fn training_form(csrf: &str) -> Vec<(&str, &str)> {
    vec![
        ("csrf", csrf),
        ("local_id", "LCMS-1"),
        ("home", "neu"),
        ("user_id", "wang"),
        ("trained_on", "2030-12-02"),
        ("valid_until", "2031-12-01"),
    ]
}

#[tokio::test]
async fn a_manager_sees_the_rules_form_with_the_current_values() {
    let (_, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let page = get(&app, RULES, &manager).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<html lang=\"zh-CN\""));
    assert!(page.body.contains("液相色谱-质谱联用仪"));
    for (name, value) in [
        ("min_lead_minutes", "60"),
        ("max_duration_minutes", "480"),
        ("granularity_minutes", "30"),
        ("cancel_deadline_hours", "24"),
        ("hold_hours", "48"),
        // Fair use, as the defaults say.
        ("horizon_days", "90"),
        ("max_active_per_user", "4"),
        ("max_active_per_home", "40"),
        ("max_holds_per_home", "10"),
        ("late_cancel_hours", "48"),
        ("strikes_before_approval", "3"),
        ("strike_period_days", "90"),
    ] {
        assert!(has_value(&page, name, value), "{name}: {}", page.body);
    }
    assert!(page.body.contains("公平使用") && page.body.contains("最多提前预约（天）"));
    assert!(ticked(&page, "outside_academic") && ticked(&page, "enterprise"));
    assert!(!ticked(&page, "own_institution") && !ticked(&page, "alliance_member"));
    assert!(page.body.contains("企业用户"));
    assert!(page.body.contains("暂无停用时段"));
    assert!(page.body.contains("法定节假日照常开放预约"));
    assert!(
        page.body.contains("id=\"open_on_holidays\">"),
        "closed on holidays by default"
    );
    assert!(page.hidden("csrf").is_some());

    let english = get(&app, &format!("{RULES}?lang=en"), &manager).await;
    assert_eq!(english.status, StatusCode::OK);
    assert!(english.body.contains("Booking rules") && english.body.contains("Add a blackout"));
    assert!(!english.body.contains("预约规则"), "mixes languages");

    let unknown = get(&app, "/manage/instruments/NOPE/rules", &manager).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_manager_changes_the_rules_and_removes_a_blackout() {
    let (backend, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let csrf = session_csrf(&app, &manager).await;
    let saved = form(&app, RULES, &manager, &rules_form(&csrf)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        saved.location(),
        Some("/manage/instruments/LCMS-1/rules?notice=saved")
    );

    let stored = rules(&backend).await;
    assert_eq!(stored.min_lead_minutes, 120);
    assert_eq!(stored.max_duration_minutes, 240);
    assert_eq!(stored.granularity_minutes, 60);
    assert_eq!(stored.cancel_deadline_hours, 12);
    assert_eq!(stored.hold_hours, 24);
    assert_eq!(
        stored.approval_tiers,
        [UserTier::AllianceMember, UserTier::Enterprise]
    );
    assert!(stored.open_on_holidays);
    assert_eq!(stored.blackouts.len(), 1);
    let b = &stored.blackouts[0];
    assert_eq!((b.start.0, b.end.0), BLACKOUT, "read as Beijing time");
    assert_eq!(
        (b.kind.as_str(), b.reason.as_str()),
        ("maintenance", "更换离子源")
    );

    let page = get(&app, saved.location().unwrap(), &manager).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("预约规则已保存"));
    assert!(has_value(&page, "min_lead_minutes", "120"));
    assert!(ticked(&page, "alliance_member") && !ticked(&page, "outside_academic"));
    assert!(page.body.contains("id=\"open_on_holidays\" checked>"));
    let list = &page.body[page.body.find("id=\"blackouts\"").unwrap()..];
    assert!(list.contains("2030-12-02 08:00–12:00 (北京时间)"));
    assert!(list.contains("维护") && list.contains("更换离子源"));

    let key = format!("{}_{}", BLACKOUT.0, BLACKOUT.1);
    let remove = [
        ("csrf", csrf.as_str()),
        ("min_lead_minutes", "120"),
        ("max_duration_minutes", "240"),
        ("granularity_minutes", "60"),
        ("cancel_deadline_hours", "12"),
        ("hold_hours", "24"),
        ("remove_blackout", key.as_str()),
        ("blackout_kind", "maintenance"),
        ("holidays_shown", "1"),
    ];
    let removed = form(&app, RULES, &manager, &remove).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let stored = rules(&backend).await;
    assert!(stored.blackouts.is_empty());
    assert!(!stored.open_on_holidays, "the box shown and left unticked");
    assert!(
        stored.approval_tiers.is_empty(),
        "no box ticked, no approval"
    );
}

#[tokio::test]
async fn invalid_rules_are_shown_again_and_change_nothing() {
    let (backend, app) = setup().await;
    let before = rules(&backend).await;
    let manager = page_login(&app, "manager").await;
    let csrf = session_csrf(&app, &manager).await;

    let mut bad = rules_form(&csrf);
    bad[1] = ("min_lead_minutes", "abc");
    bad[3] = ("granularity_minutes", "0");
    let reply = form(&app, RULES, &manager, &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("请填写 0 或正整数"));
    assert!(reply.body.contains("时间单位须为 1 到 1440 分钟"));
    // What was typed is kept, the new blackout too.
    assert!(
        has_value(&reply, "min_lead_minutes", "abc"),
        "{}",
        reply.body
    );
    assert!(has_value(&reply, "max_duration_minutes", "240"));
    assert!(ticked(&reply, "alliance_member") && !ticked(&reply, "outside_academic"));
    assert!(reply.body.contains("value=\"2030-12-02T08:00\""));
    assert!(reply.body.contains("value=\"更换离子源\""));

    let missing: Vec<_> = rules_form(&csrf)
        .into_iter()
        .filter(|(k, _)| *k != "hold_hours")
        .collect();
    let reply = form(&app, RULES, &manager, &missing).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("id=\"hold_hours-error\""));

    let mut backwards = rules_form(&csrf);
    backwards[9] = ("blackout_end", "2030-12-02T07:00");
    let reply = form(&app, RULES, &manager, &backwards).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("结束时间须晚于开始时间"));

    assert_eq!(rules(&backend).await, before);
}

#[tokio::test]
async fn rules_need_the_session_csrf_token() {
    let (backend, app) = setup().await;
    let before = rules(&backend).await;
    let manager = page_login(&app, "manager").await;
    let missing: Vec<_> = rules_form("")
        .into_iter()
        .filter(|(k, _)| *k != "csrf")
        .collect();
    let reply = form(&app, RULES, &manager, &missing).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let wrong = form(&app, RULES, &manager, &rules_form(&"0".repeat(64))).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(rules(&backend).await, before);
}

#[tokio::test]
async fn a_manager_records_a_training() {
    let (backend, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let page = get(&app, TRAININGS, &manager).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("尚未记录培训认证"));
    assert!(
        page.body
            .contains("<option value=\"LCMS-1\">液相色谱-质谱联用仪 (LCMS-1)</option>")
    );

    let csrf = page.hidden("csrf").unwrap();
    let recorded = form(&app, TRAININGS, &manager, &training_form(&csrf)).await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    assert_eq!(
        recorded.location(),
        Some("/manage/trainings?notice=recorded")
    );
    let stored = backend.trainings().await;
    assert_eq!(stored.len(), 1);
    let t = &stored[0];
    assert_eq!((t.local_id.as_str(), t.home.as_str()), ("LCMS-1", "neu"));
    assert_eq!(
        (t.user_id.as_str(), t.recorded_by.as_str()),
        ("wang", "manager")
    );
    assert_eq!(t.trained_at.0, TRAINED_AT, "the day's start in Beijing");
    assert_eq!(t.valid_until.0, NEXT_YEAR - 1, "through its last day");

    let page = get(&app, recorded.location().unwrap(), &manager).await;
    assert!(page.body.contains("培训认证已记录"));
    let list = &page.body[page.body.find("id=\"trainings-list\"").unwrap()..];
    for shown in [
        "液相色谱-质谱联用仪",
        "<code>neu</code>",
        ">wang<",
        ">2030-12-02<",
        ">2031-12-01<",
        ">manager<",
    ] {
        assert!(list.contains(shown), "{shown}");
    }
    // People are picked from a list: active accounts here (not the pending or disabled).
    assert!(
        page.body
            .contains("<option value=\"dlut/li\">li 的名字（li）· 大连理工大学</option>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("value=\"dlut/gone\""));
    assert!(!page.body.contains("value=\"dlut/firm\""));
    let picked = [
        ("csrf", csrf.as_str()),
        ("local_id", "LCMS-1"),
        ("person", "dlut/li"),
        ("trained_on", "2030-12-02"),
        ("valid_until", "2031-12-01"),
    ];
    let recorded = form(&app, TRAININGS, &manager, &picked).await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    let stored = backend.trainings().await;
    assert_eq!(
        (stored[1].home.as_str(), stored[1].user_id.as_str()),
        ("dlut", "li")
    );
    let nobody = [
        ("csrf", csrf.as_str()),
        ("local_id", "LCMS-1"),
        ("trained_on", "2030-12-02"),
        ("valid_until", "2031-12-01"),
    ];
    let refused = form(&app, TRAININGS, &manager, &nobody).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(backend.trainings().await.len(), 2);

    let english = get(&app, &format!("{TRAININGS}?lang=en"), &manager).await;
    assert!(english.body.contains("Training certifications"));
    assert!(!english.body.contains("培训认证"), "mixes languages");
}

#[tokio::test]
async fn invalid_trainings_are_shown_again_and_record_nothing() {
    let (backend, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let csrf = session_csrf(&app, &manager).await;
    let bad = [
        ("csrf", csrf.as_str()),
        ("local_id", "NOPE"),
        ("home", "NEU"),
        ("user_id", ""),
        ("trained_on", "2030-12-02"),
        ("valid_until", "2030-12-01"),
    ];
    let reply = form(&app, TRAININGS, &manager, &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["local_id", "home", "user_id", "valid_until"] {
        assert!(
            reply.body.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
    }
    assert!(reply.body.contains("有效期须晚于培训日期"));
    assert!(has_value(&reply, "home", "NEU"));
    assert!(has_value(&reply, "valid_until", "2030-12-01"));

    let mut no_date = training_form(&csrf);
    no_date[4] = ("trained_on", "02/12/2030");
    let reply = form(&app, TRAININGS, &manager, &no_date).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("id=\"trained_on-error\""));
    assert!(has_value(&reply, "user_id", "wang"));
    assert!(backend.trainings().await.is_empty());
}

#[tokio::test]
async fn trainings_need_the_session_csrf_token() {
    let (backend, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let missing: Vec<_> = training_form("")
        .into_iter()
        .filter(|(k, _)| *k != "csrf")
        .collect();
    let reply = form(&app, TRAININGS, &manager, &missing).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let wrong = form(&app, TRAININGS, &manager, &training_form(&"0".repeat(64))).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(backend.trainings().await.is_empty());
}

#[tokio::test]
async fn researchers_may_not_set_rules_or_record_trainings() {
    let (backend, app) = setup().await;
    let before = rules(&backend).await;
    let li = page_login(&app, "li").await;
    let csrf = session_csrf(&app, &li).await;
    for uri in [RULES, TRAININGS] {
        assert_eq!(
            get(&app, uri, &li).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
        let anonymous = get(&app, uri, "").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{uri}");
        assert!(anonymous.location().unwrap().starts_with("/login?next="));
    }
    let post = form(&app, RULES, &li, &rules_form(&csrf)).await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    let post = form(&app, TRAININGS, &li, &training_form(&csrf)).await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    assert_eq!(rules(&backend).await, before);
    assert!(backend.trainings().await.is_empty());
}

#[tokio::test]
async fn the_managers_pages_link_to_rules_and_trainings() {
    let (_, app) = setup().await;
    let manager = page_login(&app, "manager").await;
    let manage = get(&app, "/manage/bookings", &manager).await;
    assert!(manage.body.contains("href=\"/manage/trainings\""));
    // Managers reach every instrument's rules from the trainings page.
    let trainings = get(&app, TRAININGS, &manager).await;
    assert!(
        trainings.body.contains(&format!("href=\"{RULES}\"")),
        "{}",
        trainings.body
    );
    let admin = page_login(&app, "admin").await;
    let own = get(&app, "/admin/instruments", &admin).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.body.contains(&format!("href=\"{RULES}\"")),
        "{}",
        own.body
    );
    // Institution admins manage bookings, so the link leads somewhere they may go.
    assert_eq!(get(&app, RULES, &admin).await.status, StatusCode::OK);
    assert_eq!(get(&app, TRAININGS, &admin).await.status, StatusCode::OK);
}
