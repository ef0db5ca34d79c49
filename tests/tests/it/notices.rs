//! Notices by e-mail, through a real SMTP server (aiosmtpd): each event reaches the right
//! person once, from their own node; an owner's node never sends a user's address; a
//! server that is down delays mail and loses none; a person's choice is kept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::{NodeHandle, booking::service::HomeUser};
use alliance_protocol::{
    UserTier,
    booking::{BookingState, ManagerDecision},
};
use alliance_tests::{
    fixtures::*,
    mail_catcher::{Caught, MailCatcher},
    node_api::until,
    *,
};
use alliance_web::backend::AccountRole;

const MANAGER: &str = "mgr@dlut.example.cn";
const USER: &str = "firm7@neu.example.cn";

fn with_mail(catcher: &MailCatcher) -> impl FnOnce(&mut alliance_node::Config) + use<> {
    let url = catcher.url();
    move |config| {
        config.notify.smtp_url = Some(url);
        config.notify.from = Some("仪器共享联盟 <noreply@alliance.example.cn>".into());
    }
}

fn firm7() -> HomeUser {
    HomeUser {
        user_id: "firm7".into(),
        display_name: "华信检测部".into(),
        tier: UserTier::Enterprise,
    }
}

/// Each of `starts` begins the subject of one of `messages`.
fn assert_subjects(messages: &[Caught], starts: &[&str]) {
    let subjects: Vec<&str> = messages.iter().map(|m| m.subject.as_str()).collect();
    for start in starts {
        assert!(
            subjects.iter().any(|s| s.starts_with(start)),
            "{start}: {subjects:?}"
        );
    }
}

async fn caught(catcher: &MailCatcher, what: &str, count: usize) -> Vec<Caught> {
    until(what, DEADLINE * 3, || async {
        catcher.messages().len() >= count
    })
    .await;
    catcher.messages()
}

/// `firm7` asks for an hour of XPS-1 at `hour` o'clock the day after tomorrow, which
/// waits for approval.
async fn hold(home: &NodeHandle, booking_id: &str, hour: i64) {
    hold_at(home, booking_id, midnight_in(2) + hour * 3600).await;
}

async fn hold_at(home: &NodeHandle, booking_id: &str, start: i64) {
    let answer = home
        .bookings()
        .book(&firm7(), &xps_ask(start, 1), booking_id.into())
        .await
        .unwrap();
    assert!(
        matches!(
            answer.outcome,
            alliance_protocol::booking::Outcome::Held { .. }
        ),
        "{answer:?}"
    );
}

async fn decide(owner: &NodeHandle, booking_id: &str, decision: ManagerDecision, note: &str) {
    owner
        .bookings()
        .decide(&"neu".parse().unwrap(), booking_id, decision, "mgr", note)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_mails_the_right_person_once_from_their_own_node_and_survives_a_down_server() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let owner_mail = MailCatcher::start(&dir.path().join("dlut-mail"));
    let mut home_mail = MailCatcher::start(&dir.path().join("neu-mail"));
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member_with(dir.path(), &province, "dlut", with_mail(&owner_mail)).await;
    let neu = start_member_with(dir.path(), &province, "neu", with_mail(&home_mail)).await;
    owner_instrument(&owner).await;
    wait_connected(&neu, "dlut").await;
    person(&owner, "mgr", AccountRole::InstrumentManager, MANAGER).await;
    person(&neu, "firm7", AccountRole::ExternalUser, USER).await;

    // A request waiting for approval: the owner's manager hears of it, once.
    hold(&neu, "n-1", 9).await;
    let to_owner = caught(&owner_mail, "the manager's notice", 1).await;
    assert_eq!(to_owner[0].to, [MANAGER]);
    assert!(
        to_owner[0].subject.starts_with("预约待审批"),
        "{:?}",
        to_owner[0]
    );
    assert!(
        to_owner[0].body.contains("华信检测部（neu）"),
        "{}",
        to_owner[0].body
    );
    assert!(
        to_owner[0].body.contains("manage/bookings"),
        "{}",
        to_owner[0].body
    );

    // The decision: the user hears of it from their home, with the manager's note.
    decide(&owner, "n-1", ManagerDecision::Approve, "请提前十分钟到场").await;
    let to_user = caught(&home_mail, "the user's notice", 1).await;
    assert_eq!(to_user[0].to, [USER]);
    assert!(to_user[0].subject.contains("已确认"), "{:?}", to_user[0]);
    assert!(
        to_user[0].body.contains("请提前十分钟到场"),
        "{}",
        to_user[0].body
    );

    // The home's mail server is down when the next decision comes: the notice waits.
    home_mail.stop();
    hold(&neu, "n-2", 11).await;
    caught(&owner_mail, "the second request's notice", 2).await;
    decide(&owner, "n-2", ManagerDecision::Reject, "仪器检修").await;
    wait_home_state(&neu, "n-2", BookingState::Rejected).await;
    assert_eq!(
        neu.notices().waiting().unwrap(),
        1,
        "queued while the server is down"
    );
    // Back up: it arrives, once.
    home_mail.restart();
    let to_user = caught(&home_mail, "the notice held while the server was down", 2).await;
    assert!(to_user[1].subject.contains("未获批准"), "{:?}", to_user[1]);
    until("the queue empties", DEADLINE, || async {
        neu.notices().waiting().unwrap() == 0
    })
    .await;

    // A use the owner records for the user: the receipt to confirm is mailed at home.
    let start = alliance_protocol::UnixTime::now().0 - 3_000;
    owner
        .bookings()
        .record_session(alliance_protocol::receipt::WalkIn {
            local_id: "XPS-1".into(),
            user_id: "firm7".into(),
            user_name: "华信检测部".into(),
            home: "neu".parse().unwrap(),
            tier: UserTier::Enterprise,
            mode: alliance_protocol::ServiceMode::StaffRun,
            service_item: String::new(),
            facts: alliance_protocol::receipt::SessionFacts {
                start: alliance_protocol::UnixTime(start),
                end: alliance_protocol::UnixTime(start + 60),
                preparation_minutes: 0,
                test_minutes: 1,
                post_processing_minutes: 0,
                samples: 1,
                note: String::new(),
            },
        })
        .await
        .unwrap();
    let to_user = caught(&home_mail, "the receipt's notice", 3).await;
    assert_eq!(to_user[2].to, [USER]);
    assert!(
        to_user[2].subject.starts_with("请确认使用凭证"),
        "{:?}",
        to_user[2]
    );
    assert!(to_user[2].body.contains("receipts"), "{}", to_user[2].body);

    // The user turns decisions off: the next one is not mailed.
    let mut prefs = alliance_web::backend::NoticePrefs::default();
    prefs
        .off
        .insert(alliance_web::backend::NoticeKind::BookingDecision);
    let client = http::client();
    let signed = http::sign_in(&client, &neu, "firm7", PASSWORD).await;
    let csrf = signed.json::<serde_json::Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let put = client
        .put(format!("{}api/v1/me/notifications", neu.url()))
        .header("X-CSRF-Token", csrf)
        .json(&prefs)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), reqwest::StatusCode::NO_CONTENT);
    let got: alliance_web::backend::NoticePrefs = client
        .get(format!("{}api/v1/me/notifications", neu.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, prefs);
    hold(&neu, "n-3", 13).await;
    caught(&owner_mail, "the third request's notice", 3).await;
    decide(&owner, "n-3", ManagerDecision::Approve, "").await;
    wait_home_state(&neu, "n-3", BookingState::Confirmed).await;
    until("the unwanted notice leaves the queue", DEADLINE, || async {
        neu.notices().waiting().unwrap() == 0
    })
    .await;
    assert_eq!(
        home_mail.messages().len(),
        3,
        "a notice the user turned off"
    );

    // Exactly one message per event, and nothing from the owner's node names the user's
    // address (its manager's notices name the user and their institution only).
    let to_owner = owner_mail.messages();
    assert_eq!(to_owner.len(), 3);
    for message in &to_owner {
        assert_eq!(message.to, [MANAGER]);
        assert!(!message.raw.contains(USER), "{}", message.raw);
    }
}

/// The home's webhook (an SMS gateway, say) gets each notice as signed JSON; one it
/// refuses is sent again until taken, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_gets_each_notice_signed_and_once_after_refusing_it() {
    use alliance_tests::webhook_catcher::WebhookCatcher;
    trace();
    let dir = tempfile::tempdir().unwrap();
    let hook = WebhookCatcher::start().await;
    hook.answer_with(503);
    let secret = "短信网关的共享密钥 7f3a";
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let url = hook.url.clone();
    let neu = start_member_with(dir.path(), &province, "neu", move |config| {
        use std::os::unix::fs::PermissionsExt;
        let file = config.node.data_dir.join("webhook-secret");
        std::fs::write(&file, format!("{secret}\n")).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        config.notify.webhook_url = Some(url);
        config.notify.webhook_secret_file = Some("webhook-secret".into());
    })
    .await;
    owner_instrument(&owner).await;
    wait_connected(&neu, "dlut").await;
    person(&neu, "firm7", AccountRole::ExternalUser, USER).await;

    hold(&neu, "w-1", 9).await;
    decide(&owner, "w-1", ManagerDecision::Approve, "").await;
    wait_home_state(&neu, "w-1", BookingState::Confirmed).await;
    assert_eq!(neu.notices().waiting().unwrap(), 1);
    assert!(hook.hooks().is_empty(), "refused, so not taken");
    hook.answer_with(204);
    until("the gateway takes the notice", DEADLINE * 3, || async {
        !hook.hooks().is_empty()
    })
    .await;
    until("the queue empties", DEADLINE, || async {
        neu.notices().waiting().unwrap() == 0
    })
    .await;
    let hooks = hook.hooks();
    assert_eq!(hooks.len(), 1);
    let taken = &hooks[0];
    assert_eq!(
        taken.signature,
        alliance_node::notify::signature(secret.as_bytes(), &taken.body).unwrap()
    );
    let body: serde_json::Value = serde_json::from_slice(&taken.body).unwrap();
    assert_eq!(body["event"], "booking_decision");
    assert_eq!(body["username"], "firm7");
    assert_eq!(body["email"], USER);
    assert!(
        body["subject"].as_str().unwrap().contains("已确认"),
        "{body}"
    );
}

/// Reminders: the managers hear of a held request about to lapse, the user of a booking
/// starting within a day — each once, however often the node looks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsing_hold_and_a_booking_tomorrow_are_each_reminded_once() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let owner_mail = MailCatcher::start(&dir.path().join("dlut-mail"));
    let home_mail = MailCatcher::start(&dir.path().join("neu-mail"));
    let often = |catcher: &MailCatcher| {
        let mail = with_mail(catcher);
        move |config: &mut alliance_node::Config| {
            mail(config);
            config.notify.reminder_interval = std::time::Duration::from_secs(1);
        }
    };
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member_with(dir.path(), &province, "dlut", often(&owner_mail)).await;
    let neu = start_member_with(dir.path(), &province, "neu", often(&home_mail)).await;
    owner_instrument(&owner).await;
    // Holds last an hour here: less than the twelve hours' warning.
    let rules = alliance_protocol::booking::BookingRules {
        hold_hours: 1,
        ..Default::default()
    };
    owner.bookings().set_rules("XPS-1", &rules).await.unwrap();
    wait_connected(&neu, "dlut").await;
    person(&owner, "mgr", AccountRole::InstrumentManager, MANAGER).await;
    person(&neu, "firm7", AccountRole::ExternalUser, USER).await;

    // Two hours from the next half hour: within a day.
    let now = alliance_protocol::UnixTime::now().0;
    hold_at(&neu, "soon-1", now - now.rem_euclid(1800) + 1800 + 2 * 3600).await;
    let to_owner = caught(&owner_mail, "the request and the lapsing hold", 2).await;
    assert_subjects(&to_owner, &["预约待审批", "待审批预约即将失效"]);

    decide(&owner, "soon-1", ManagerDecision::Approve, "").await;
    let to_user = caught(&home_mail, "the decision and the reminder", 2).await;
    assert_subjects(&to_user, &["您的预约已确认", "预约提醒"]);

    // Looking again finds nothing new to tell, and nothing more was sent.
    let now = alliance_protocol::UnixTime::now();
    assert_eq!(owner.bookings().remind_now(now).await.unwrap(), 0);
    assert_eq!(neu.bookings().remind_now(now).await.unwrap(), 0);
    until("both queues empty", DEADLINE, || async {
        owner.notices().waiting().unwrap() == 0 && neu.notices().waiting().unwrap() == 0
    })
    .await;
    assert_eq!(owner_mail.messages().len(), 2);
    assert_eq!(home_mail.messages().len(), 2);
}
