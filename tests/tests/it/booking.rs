//! Booking between real nodes on loopback: the owner's node is the only authority for
//! its calendar, whatever arrives concurrently from other members.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::{
    NodeHandle,
    booking::service::{BookError, HomeUser},
};
use alliance_protocol::{
    AvailabilityDigest, HourState, ServiceMode, UnixTime, UserTier,
    booking::{BookingAsk, BookingState, ManagerDecision, Outcome, Slot, Training},
};
use alliance_tests::{fixtures::*, *};

/// Midnight (Shanghai) two days from now: far enough for every lead time.
fn day_after_tomorrow() -> i64 {
    midnight_in(2)
}

fn ask(start: i64, hours: i64) -> BookingAsk {
    xps_ask(start, hours)
}

/// The digest's state of the hour starting at `t`.
fn state_at(digest: &AvailabilityDigest, t: i64) -> Option<HourState> {
    let first = chrono::NaiveDate::parse_from_str(&digest.first_day, "%Y-%m-%d").ok()?;
    // Shanghai midnight of the first day: 16:00 UTC the day before.
    let midnight = first.and_hms_opt(0, 0, 0)?.and_utc().timestamp() - 8 * 3600;
    let hour = usize::try_from((t - midnight) / 3600).ok()?;
    digest.hours.get(hour).copied()
}

/// A province, the owner `dlut` with its instrument, and the home `neu` connected to it.
async fn owner_and_home(dir: &std::path::Path) -> (NodeHandle, NodeHandle, NodeHandle) {
    let province = start_province(dir, "lnsti").await;
    let owner = start_member(dir, &province, "dlut").await;
    let neu = start_member(dir, &province, "neu").await;
    owner_instrument(&owner).await;
    wait_connected(&neu, "dlut").await;
    (province, owner, neu)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_from_two_nodes_never_share_a_slot() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    let imr = start_member(dir.path(), &province, "imr").await;
    owner_instrument(&owner).await;
    wait_connected(&neu, "dlut").await;
    wait_connected(&imr, "dlut").await;

    let base = day_after_tomorrow() + 8 * 3600;
    let mut requests = Vec::new();
    for n in 0..50usize {
        let home = if n % 2 == 0 { &neu } else { &imr }.bookings().clone();
        // 1 to 3 hours from 08:00 + n half hours mod 13: many overlap.
        let start = base + (n as i64 * 7 % 13) * 1800;
        let hours = 1 + n as i64 % 3;
        requests.push(tokio::spawn(async move {
            let ask = ask(start, hours);
            let answer = home.book(&researcher(n), &ask, format!("req-{n}")).await;
            (ask, answer)
        }));
    }
    let mut taken: Vec<Slot> = Vec::new();
    for request in requests {
        let (ask, answer) = request.await.unwrap();
        let answer = answer.expect("every request gets an answer");
        match answer.outcome {
            Outcome::Confirmed | Outcome::Held { .. } => taken.push(Slot {
                start: ask.start,
                end: ask.end,
            }),
            Outcome::Conflict { .. } => {}
            Outcome::Rejected { code, reason } => panic!("unexpected refusal {code}: {reason}"),
        }
    }
    // Which requests win depends on their order; whatever it is, more than one fits.
    assert!(taken.len() >= 2, "some requests succeed: {taken:?}");
    for (i, a) in taken.iter().enumerate() {
        for b in &taken[i + 1..] {
            assert!(
                a.end.0 <= b.start.0 || b.end.0 <= a.start.0,
                "{a:?} overlaps {b:?}"
            );
        }
    }
    // The owner's calendar holds exactly what was granted.
    let mut held: Vec<(i64, i64)> = owner
        .bookings()
        .ledger()
        .taken("XPS-1")
        .await
        .unwrap()
        .iter()
        .map(|b| (b.start.0, b.end.0))
        .collect();
    let mut granted: Vec<(i64, i64)> = taken.iter().map(|s| (s.start.0, s.end.0)).collect();
    held.sort();
    granted.sort();
    assert_eq!(held, granted);

    // Every node's calendar shows the granted hours as booked.
    wait_catalogue(&imr, "booked hours on imr's calendar", |c| {
        let Some(digest) = c.instrument("dlut/XPS-1").and_then(|v| v.availability) else {
            return false;
        };
        granted
            .iter()
            .all(|(start, _)| state_at(&digest, *start) == Some(HourState::Booked))
    })
    .await;

    // A retry of a granted request through the network gets the same answer.
    let first = neu
        .bookings()
        .book(&researcher(0), &ask(base, 1), "req-0".into())
        .await
        .unwrap();
    let again = neu
        .bookings()
        .book(&researcher(0), &ask(base, 1), "req-0".into())
        .await
        .unwrap();
    assert_eq!(first.outcome, again.outcome);
    assert_eq!(first.answered_at, again.answered_at);
    assert_eq!(
        owner
            .bookings()
            .ledger()
            .taken("XPS-1")
            .await
            .unwrap()
            .len(),
        held.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_owner_is_reported_unreachable_and_nothing_is_booked() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (_province, owner, neu) = owner_and_home(dir.path()).await;
    let owner_config = owner.config().clone();
    owner.shutdown().await;
    wait_state(&neu, "dlut gone", |s| {
        !connected_institutions(s).iter().any(|i| i == "dlut")
    })
    .await;
    let start = day_after_tomorrow() + 9 * 3600;
    let result = neu
        .bookings()
        .book(&researcher(1), &ask(start, 1), "offline-1".into())
        .await;
    assert!(
        matches!(result, Err(BookError::Unreachable(ref i)) if i.as_str() == "dlut"),
        "{result:?}"
    );
    // Back online, the owner holds nothing for that request.
    let owner = alliance_node::Node::start(owner_config).await.unwrap();
    assert!(
        owner
            .bookings()
            .ledger()
            .booking(&"neu".parse().unwrap(), "offline-1")
            .unwrap()
            .is_none()
    );
}

fn firm(n: usize) -> HomeUser {
    HomeUser {
        tier: UserTier::Enterprise,
        ..researcher(n)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_made_while_the_home_node_is_down_reaches_it_after_it_restarts() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (_province, owner, neu) = owner_and_home(dir.path()).await;

    let start = day_after_tomorrow() + 10 * 3600;
    let answer = neu
        .bookings()
        .book(&firm(7), &ask(start, 2), "firm-7".into())
        .await
        .unwrap();
    assert!(matches!(answer.outcome, Outcome::Held { .. }), "{answer:?}");
    wait_home_state(&neu, "firm-7", BookingState::Held).await;

    let neu_config = neu.config().clone();
    neu.shutdown().await;
    let approved = owner
        .bookings()
        .decide(
            &"neu".parse().unwrap(),
            "firm-7",
            ManagerDecision::Approve,
            "manager@dlut",
            "样品要求已确认",
        )
        .await
        .unwrap();
    assert_eq!(approved.state, BookingState::Confirmed);

    let neu = alliance_node::Node::start(neu_config).await.unwrap();
    wait_home_state(&neu, "firm-7", BookingState::Confirmed).await;
    let inbox = neu.bookings().home().notifications("r7").unwrap();
    assert_eq!(inbox[0].state, BookingState::Confirmed);
    assert_eq!(inbox[0].note, "样品要求已确认");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_cancel_reaches_the_owner_and_frees_the_slot() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (_province, owner, neu) = owner_and_home(dir.path()).await;

    let start = day_after_tomorrow() + 9 * 3600;
    neu.bookings()
        .book(&firm(3), &ask(start, 1), "hold-3".into())
        .await
        .unwrap();
    assert_eq!(
        owner
            .bookings()
            .ledger()
            .taken("XPS-1")
            .await
            .unwrap()
            .len(),
        1
    );
    // Someone else's user cannot cancel it.
    assert!(neu.bookings().cancel("r4", "hold-3", "").await.is_err());
    let cancelled = neu
        .bookings()
        .cancel("r3", "hold-3", "课题调整")
        .await
        .unwrap();
    assert_eq!(cancelled.state, BookingState::Cancelled);
    let at_owner = owner
        .bookings()
        .ledger()
        .booking(&"neu".parse().unwrap(), "hold-3")
        .unwrap()
        .unwrap();
    assert_eq!(at_owner.state, BookingState::Cancelled);
    assert_eq!(at_owner.history.last().unwrap().by, "r3@neu");
    assert!(
        owner
            .bookings()
            .ledger()
            .taken("XPS-1")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_restored_from_a_backup_takes_the_owners_word_when_they_reconnect() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (_province, owner, neu) = owner_and_home(dir.path()).await;
    let start = day_after_tomorrow() + 14 * 3600;
    neu.bookings()
        .book(&firm(5), &ask(start, 1), "firm-5".into())
        .await
        .unwrap();
    let held = neu.bookings().home().get("firm-5").unwrap().unwrap();
    assert_eq!(held.state, BookingState::Held);
    owner
        .bookings()
        .decide(
            &"neu".parse().unwrap(),
            "firm-5",
            ManagerDecision::Approve,
            "manager@dlut",
            "",
        )
        .await
        .unwrap();
    wait_home_state(&neu, "firm-5", BookingState::Confirmed).await;

    // The home goes back to a backup taken while the booking was held: the owner's
    // outbox has nothing left to send, so only asking the owner can fix it.
    let config = neu.config().clone();
    neu.shutdown().await;
    {
        let store = alliance_node::store::Store::open(&config.store_path()).unwrap();
        alliance_node::booking::home::HomeLedger::open(store)
            .unwrap()
            .requested(&held)
            .await
            .unwrap();
    }
    let neu = alliance_node::Node::start(config).await.unwrap();
    wait_home_state(&neu, "firm-5", BookingState::Confirmed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_operated_use_needs_the_training_the_owner_recorded() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    let mut record = sample_record("dlut", "SEM-1", "场发射扫描电子显微镜");
    record.opening_hours = "每天 全天".into();
    record.service_modes = vec![ServiceMode::SelfOperated, ServiceMode::StaffRun];
    owner.catalogue().save_record(record).await.unwrap();
    wait_connected(&neu, "dlut").await;

    let start = day_after_tomorrow() + 10 * 3600;
    let own_hands = BookingAsk {
        instrument_id: "dlut/SEM-1".into(),
        mode: ServiceMode::SelfOperated,
        ..ask(start, 2)
    };
    let book = |user: HomeUser, id: &str| {
        let (bookings, ask, id) = (neu.bookings().clone(), own_hands.clone(), id.to_owned());
        async move { bookings.book(&user, &ask, id).await.unwrap() }
    };
    let answer = book(researcher(9), "self-1").await;
    assert!(
        matches!(answer.outcome, Outcome::Rejected { ref code, .. } if code == "training_required"),
        "{answer:?}"
    );

    let dlut: alliance_protocol::InstitutionId = "dlut".parse().unwrap();
    let known_at_home = |user: &str| {
        neu.bookings()
            .home_knows_trained(user, &dlut, "SEM-1", UnixTime::now())
            .unwrap()
    };
    let training = |user_id: &str| Training {
        local_id: "SEM-1".into(),
        home: "neu".parse().unwrap(),
        user_id: user_id.into(),
        trained_at: UnixTime(start - 30 * 86_400),
        valid_until: UnixTime(start + 365 * 86_400),
        recorded_by: "manager@dlut".into(),
    };
    let mut sent = owner.mail().deliveries();
    let dead_before = owner.mail().dead_letter_count().unwrap();
    // r9 has no account at neu (the fixtures' researchers are vouched for, not signed
    // up): the owner records the training and checks it; the home refuses to keep it.
    owner
        .bookings()
        .record_training(&training("r9"))
        .await
        .unwrap();
    tokio::time::timeout(DEADLINE, async {
        while owner.mail().dead_letter_count().unwrap() == dead_before {
            sent.changed().await.unwrap();
        }
    })
    .await
    .expect("the home never refused the training of someone it does not know");
    assert!(!known_at_home("r9"));
    // wang has an account at neu: the owner tells the home (signed mail), so the home's
    // pages offer self-operated use.
    neu.accounts()
        .create(alliance_web::backend::NewAccount {
            username: "wang".into(),
            password: PASSWORD.into(),
            display_name: "王研究员".into(),
            role: alliance_web::backend::AccountRole::Researcher,
            organization: "neu".into(),
            email: String::new(),
            phone: String::new(),
        })
        .await
        .unwrap();
    owner
        .bookings()
        .record_training(&training("wang"))
        .await
        .unwrap();
    tokio::time::timeout(DEADLINE, async {
        while !known_at_home("wang") {
            sent.changed().await.unwrap();
        }
    })
    .await
    .expect("the home never heard of the training");
    assert!(!known_at_home("r8"));
    assert_eq!(
        book(researcher(9), "self-2").await.outcome,
        Outcome::Confirmed
    );
    // Training is personal: another researcher of the same home is still refused.
    assert!(matches!(
        book(researcher(8), "self-3").await.outcome,
        Outcome::Rejected { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_id_of_another_user_is_refused_without_revealing_its_answer() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (_province, _owner, neu) = owner_and_home(dir.path()).await;
    let start = day_after_tomorrow() + 15 * 3600;
    neu.bookings()
        .book(&researcher(1), &ask(start, 1), "mine-1".into())
        .await
        .unwrap();
    let stolen = neu
        .bookings()
        .book(&researcher(2), &ask(start, 1), "mine-1".into())
        .await;
    assert!(matches!(stolen, Err(BookError::Invalid(_))), "{stolen:?}");
    // The same user reusing the id for another slot is refused by the owner, and the
    // booking the id names stays as it was.
    let moved = neu
        .bookings()
        .book(&researcher(1), &ask(start + 3600, 1), "mine-1".into())
        .await;
    assert!(
        matches!(
            moved,
            Err(BookError::Refused(alliance_node::net::Refusal::IdReused(_)))
        ),
        "{moved:?}"
    );
    let kept = neu.bookings().home().get("mine-1").unwrap().unwrap();
    assert_eq!((kept.user_id.as_str(), kept.start.0), ("r1", start));
    assert_eq!(kept.state, BookingState::Confirmed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_bookings_republishes_far_fewer_digests_than_bookings() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (province, owner, neu) = owner_and_home(dir.path()).await;
    // The owner's start-up digest is out before the burst begins.
    wait_catalogue(&owner, "dlut's first digest", |c| {
        c.instrument("dlut/XPS-1")
            .is_some_and(|v| v.availability.is_some())
    })
    .await;
    let before = owner.catalogue().own_revision();

    // Twenty one-hour bookings at once, none overlapping.
    let began = std::time::Instant::now();
    let base = day_after_tomorrow() + 8 * 3600;
    let starts: Vec<i64> = (0..20).map(|n| base + n * 3600).collect();
    let requests: Vec<_> = starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let home = neu.bookings().clone();
            tokio::spawn(async move {
                home.book(&researcher(n), &ask(start, 1), format!("burst-{n}"))
                    .await
            })
        })
        .collect();
    for request in requests {
        let answer = request.await.unwrap().unwrap();
        assert_eq!(answer.outcome, Outcome::Confirmed);
    }
    // Every booking shows in the owner's calendar...
    wait_catalogue(&owner, "all twenty booked on dlut's calendar", |c| {
        let Some(digest) = c.instrument("dlut/XPS-1").and_then(|v| v.availability) else {
            return false;
        };
        starts
            .iter()
            .all(|&start| state_at(&digest, start) == Some(HourState::Booked))
    })
    .await;
    // ...through a few republished digests, not one per booking: at most one round per
    // 200 ms cooldown while the burst lasted, and one more for the last changes.
    let published = owner.catalogue().own_revision() - before;
    let rounds = began.elapsed().as_millis() / 200 + 2;
    assert!(
        published >= 1 && u128::from(published) <= rounds.min(19),
        "{published} digests for 20 bookings in {:?}",
        began.elapsed()
    );
    neu.shutdown().await;
    owner.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_home_flooding_requests_cannot_starve_another_home() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    // The owner answers each home ten requests a minute, two at a time.
    let mut config = certified_member(dir.path(), &province, "dlut", bootstrap_of(&province)).await;
    config.booking.requests_per_home_per_minute = 10;
    config.booking.concurrent_requests_per_home = 2;
    let owner = alliance_node::Node::start(config).await.unwrap();
    let neu = start_member(dir.path(), &province, "neu").await;
    let imr = start_member(dir.path(), &province, "imr").await;
    owner_instrument(&owner).await;
    wait_connected(&neu, "dlut").await;
    wait_connected(&imr, "dlut").await;

    // neu floods thirty requests at once; imr asks for five meanwhile. Slots never
    // overlap, users differ: only the fair shares can turn a request away.
    let base = day_after_tomorrow() + 8 * 3600;
    let send = |home: &NodeHandle, n: usize, hour: i64, tag: &'static str| {
        let bookings = home.bookings().clone();
        tokio::spawn(async move {
            bookings
                .book(
                    &researcher(n),
                    &ask(base + hour * 3600, 1),
                    format!("{tag}-{n}"),
                )
                .await
        })
    };
    let flood: Vec<_> = (0..30).map(|n| send(&neu, n, n as i64, "flood")).collect();
    let fair: Vec<_> = (0..5)
        .map(|n| send(&imr, n, 40 + n as i64, "fair"))
        .collect();
    for request in fair {
        let answer = request.await.unwrap().expect("imr is answered");
        assert_eq!(answer.outcome, Outcome::Confirmed);
    }
    let mut answered = 0;
    let mut busy = 0;
    for request in flood {
        match request.await.unwrap() {
            Ok(answer) => {
                assert_eq!(answer.outcome, Outcome::Confirmed);
                answered += 1;
            }
            Err(BookError::Refused(refusal)) => {
                assert_eq!(refusal.code(), "busy", "{refusal}");
                busy += 1;
            }
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    // neu had at most its minute's share answered (fewer if its retries ran out while
    // its two turns were taken); the rest was told to come back.
    assert!(
        (1..=10).contains(&answered),
        "{answered} answered, {busy} busy"
    );
    assert_eq!(answered + busy, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_attempts_are_kept_but_never_listed_or_fed_as_bookings() {
    use alliance_tests::http::{client, get_json, sign_in};
    use alliance_web::backend::AccountRole;
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (_province, owner, neu) = owner_and_home(dir.path()).await;
    account(&neu, "wang1", AccountRole::Researcher, "东北大学").await;
    let wang = HomeUser {
        user_id: "wang1".into(),
        ..researcher(1)
    };
    let start = day_after_tomorrow() + 9 * 3600;
    let booked = neu
        .bookings()
        .book(&wang, &ask(start, 2), "kept-1".into())
        .await
        .unwrap();
    assert_eq!(booked.outcome, Outcome::Confirmed);
    // A taken slot, and a year 9999 start: refused at once.
    let clash = neu
        .bookings()
        .book(&wang, &ask(start + 3600, 1), "clash-1".into())
        .await
        .unwrap();
    assert!(matches!(clash.outcome, Outcome::Conflict { .. }));
    let far = neu
        .bookings()
        .book(&wang, &ask(253_402_214_400, 1), "far-1".into())
        .await
        .unwrap();
    assert!(matches!(&far.outcome, Outcome::Rejected { code, .. } if code == "beyond_horizon"));
    // Kept as history on both sides...
    assert!(neu.bookings().home().get("clash-1").unwrap().is_some());
    assert!(
        owner
            .bookings()
            .ledger()
            .booking(&"neu".parse().unwrap(), "far-1")
            .unwrap()
            .is_some()
    );

    // ...but the user's list, the managers' list and the user's feed show one booking.
    let user = client();
    assert!(
        sign_in(&user, &neu, "wang1", PASSWORD)
            .await
            .status()
            .is_success()
    );
    let mine = get_json(&user, &format!("{}api/v1/bookings", neu.url())).await;
    let ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["booking_id"].as_str())
        .collect();
    assert_eq!(ids, ["kept-1"], "{mine}");
    let page = user
        .get(format!("{}bookings", neu.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page.find("/feeds/").expect("the page gives the feed");
    let feed_path: String = page[at..].chars().take_while(|c| *c != '"').collect();
    let feed = reqwest::get(format!("{}{}", neu.url(), &feed_path[1..]))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(feed.matches("BEGIN:VEVENT").count(), 1, "{feed}");
    let admin = client();
    assert!(
        sign_in(&admin, &owner, "admin", PASSWORD)
            .await
            .status()
            .is_success()
    );
    let managed = get_json(&admin, &format!("{}api/v1/manage/bookings", owner.url())).await;
    let text = managed.to_string();
    assert!(text.contains("kept-1"), "{text}");
    assert!(
        !text.contains("clash-1") && !text.contains("far-1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_user_books_only_at_the_price_category_an_administrator_set() {
    use alliance_tests::http::{client, sign_in};
    use alliance_web::backend::{AccountRole, PriceCategory};
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (_province, _owner, neu) = owner_and_home(dir.path()).await;
    // A name that reads like a university: nothing is guessed from it.
    account(&neu, "acme", AccountRole::ExternalUser, "某某大学").await;
    let user = client();
    let session: serde_json::Value = sign_in(&user, &neu, "acme", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    let start = day_after_tomorrow() + 10 * 3600;
    let book = |id: &str| {
        let body = serde_json::json!({
            "booking_id": id,
            "instrument_id": "dlut/XPS-1",
            "start": chrono::DateTime::from_timestamp(start, 0).unwrap()
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%Y-%m-%dT%H:%M").to_string(),
            "minutes": 60,
            "mode": "staff_run",
            "samples": 1,
            "purpose": "测试",
        });
        user.post(format!("{}api/v1/bookings", neu.url()))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    let refused = book("acme-1").await.unwrap();
    let status = refused.status();
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(status, reqwest::StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "price_category_missing", "{body}");
    // The administrator sets it: a firm, whatever the name says; the booking is priced so.
    neu.accounts()
        .set_price_category(
            "acme",
            PriceCategory::Enterprise {
                credit_code: "91350100M000100Y43".into(),
            },
        )
        .await
        .unwrap();
    let answered = book("acme-2").await.unwrap();
    assert!(
        answered.status().is_success(),
        "{}",
        answered.text().await.unwrap()
    );
    let kept = neu.bookings().home().get("acme-2").unwrap().unwrap();
    let request = alliance_protocol::booking::BookingRequest::open(
        &kept.request,
        &neu.certificate().node_public_key,
    )
    .unwrap();
    assert_eq!(request.user.tier, UserTier::Enterprise);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_answered_busy_never_makes_the_home_forget_what_the_owner_confirmed() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    // The owner answers each home two requests a minute.
    let mut config = certified_member(dir.path(), &province, "dlut", bootstrap_of(&province)).await;
    config.booking.requests_per_home_per_minute = 2;
    let owner = alliance_node::Node::start(config).await.unwrap();
    let neu = start_member(dir.path(), &province, "neu").await;
    owner_instrument(&owner).await;
    wait_connected(&neu, "dlut").await;
    let base = day_after_tomorrow() + 8 * 3600;
    for (n, id) in ["lost-answer", "second"].iter().enumerate() {
        let answer = neu
            .bookings()
            .book(
                &researcher(n),
                &ask(base + n as i64 * 3600, 1),
                (*id).into(),
            )
            .await
            .unwrap();
        assert_eq!(answer.outcome, Outcome::Confirmed);
    }
    // The owner's answer to the first is lost on the way back: the home holds it as
    // requested and asks again, and the owner, past its share for the minute, says busy.
    let home = neu.bookings().home().clone();
    let mut lost = home.get("lost-answer").unwrap().unwrap();
    lost.state = BookingState::Requested;
    lost.version = 0;
    home.requested(&lost).await.unwrap();
    // The home keeps it through every busy answer until the owner's word arrives.
    let mut changes = home.changes();
    let settled = tokio::time::timeout(std::time::Duration::from_secs(90), async {
        loop {
            let held = home.get("lost-answer").unwrap();
            assert!(
                held.is_some(),
                "the home forgot a booking the owner confirmed"
            );
            if held.is_some_and(|b| b.state == BookingState::Confirmed) {
                return;
            }
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(1), changes.changed()).await;
        }
    })
    .await;
    assert!(settled.is_ok(), "the owner's answer never came back");
    let at_owner = owner
        .bookings()
        .ledger()
        .booking(&"neu".parse().unwrap(), "lost-answer")
        .unwrap()
        .unwrap();
    assert_eq!(at_owner.state, BookingState::Confirmed);
}
