//! Usage receipts between real nodes on loopback: the owner issues, the user's home
//! confirms, the province logs, and the owner holds a proof it verified.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alliance_node::net::Target;
use alliance_node::{
    Node, NodeHandle,
    booking::service::{BookingAsk, HomeUser, SessionFacts, WalkIn},
    receipts::issued::Standing,
};
use alliance_protocol::{
    ServiceMode, UnixTime, UserTier,
    receipt::{ReceiptSubmission, UsageReceipt, Verdict},
    rpc::{LogAnswer, Request, Response},
    transparency::{TreeHead, verify_inclusion},
};
use alliance_tests::{fixtures::*, *};

async fn province_knows_instrument(province: &NodeHandle) {
    wait_catalogue(province, "the province sees dlut/XPS-1", |c| {
        c.instrument_unfiltered("dlut/XPS-1").is_some()
    })
    .await;
}

fn facts(start: i64) -> SessionFacts {
    SessionFacts {
        start: UnixTime(start),
        end: UnixTime(start + 7_200),
        preparation_minutes: 15,
        test_minutes: 90,
        post_processing_minutes: 15,
        samples: 2,
        note: "正常完成".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_booking_is_confirmed_by_the_home_and_proven_in_the_province_log() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    owner_instrument(&owner).await;
    bookable_now(&owner).await;
    wait_connected(&neu, "dlut").await;
    province_knows_instrument(&province).await;

    // A researcher of neu books; the owner's manager completes the booking once the
    // session has begun (not before: see below).
    let start = next_minute();
    let user = HomeUser {
        user_id: "wang".into(),
        display_name: "王小明".into(),
        tier: UserTier::AllianceMember,
    };
    let ask = BookingAsk {
        instrument_id: "dlut/XPS-1".into(),
        start: UnixTime(start),
        end: UnixTime(start + 7_200),
        mode: ServiceMode::StaffRun,
        samples: 2,
        purpose: "表面分析".into(),
        service_item: String::new(),
    };
    neu.bookings()
        .book(&user, &ask, "b-receipt-1".to_owned())
        .await
        .unwrap();
    let neu_id = "neu".parse().unwrap();
    let early = owner
        .bookings()
        .complete(&neu_id, "b-receipt-1", facts(start), "manager")
        .await;
    assert!(
        matches!(&early, Err(e) if e.to_string().contains("not started")),
        "{early:?}"
    );
    until(start).await;
    let (booking, signed) = owner
        .bookings()
        .complete(&neu_id, "b-receipt-1", facts(start), "manager")
        .await
        .unwrap();
    assert_eq!(
        booking.state,
        alliance_node::booking::state::BookingState::Completed
    );
    let receipt = UsageReceipt::open(&signed, &owner.certificate().node_public_key).unwrap();
    assert_eq!(receipt.effective_minutes(), 120);
    assert!(receipt.is_external());
    // Completing again issues no second receipt.
    assert!(
        owner
            .bookings()
            .complete(&neu_id, "b-receipt-1", facts(start), "manager")
            .await
            .is_err()
    );

    // A walk-in cannot name a home that is not a member: nobody there could confirm it.
    let invented = WalkIn {
        home: "nowhere".parse().unwrap(),
        tier: UserTier::OutsideAcademic,
        ..walk_in(0)
    };
    let refused = owner.bookings().record_session(invented).await;
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("not a member")),
        "{refused:?}"
    );

    // The receipt reaches the user's home, where the user confirms and rates it.
    wait_receipts(&neu, "neu holds the receipt", |r| {
        r.of_user("wang").unwrap().len() == 1
    })
    .await;
    let held = neu.receipts().of_user("wang").unwrap();
    assert_eq!(held[0].receipt, receipt);
    // A member cannot plant a receipt of another's instrument: dlut sends one naming imr.
    let mut planted = receipt.clone();
    planted.receipt_id = "planted-1".into();
    planted.institution_id = "imr".parse().unwrap();
    let refused = owner
        .net()
        .send_mail(&"neu".parse().unwrap(), planted.seal(&node_key(&owner)))
        .await;
    assert!(
        matches!(
            &refused,
            Err(alliance_node::net::NetError::Refused(
                alliance_node::net::Refusal::NotYours(_)
            ))
        ),
        "{refused:?}"
    );
    assert_eq!(neu.receipts().of_user("wang").unwrap().len(), 1);
    neu.receipts()
        .confirm(
            "wang",
            &"dlut".parse().unwrap(),
            &receipt.receipt_id,
            Verdict::Confirmed {
                rating: 5,
                comment: "数据很好".into(),
            },
        )
        .await
        .unwrap();

    // The owner gets the countersigned confirmation, submits, and verifies the proof.
    wait_receipts(&owner, "the owner holds a proof", |r| {
        r.proven().unwrap() == 1
    })
    .await;
    let issued = owner
        .receipts()
        .issued_receipt(&receipt.receipt_id)
        .unwrap()
        .unwrap();
    assert_eq!(issued.standing, Standing::Confirmed { rating: 5 });
    assert_eq!(owner.receipts().waiting().unwrap(), 0);

    // What the province logged is the countersigned receipt, provably in its log.
    let log = province.receipt_log().unwrap();
    assert_eq!(log.len().await, 1);
    let entry = log.entry(0).unwrap().unwrap();
    let submission = ReceiptSubmission::decode(&entry).unwrap();
    assert_eq!(submission.receipt, signed);
    assert!(submission.confirmation.is_some());
    let root = province.config().alliance.root_public_key;
    let head = TreeHead::open(&log.head().await, &root).unwrap();
    let views = owner.receipts().issued().unwrap();
    assert_eq!(views[0].logged_at, Some(0));
    // A log of one entry: its root is the entry's leaf hash, the proof empty.
    verify_inclusion(&head, &entry, 0, &[]).unwrap();
    // Both members check the province's head as it grows.
    wait_receipts(&owner, "the owner verified a head", |r| {
        r.latest_head().unwrap().is_some_and(|h| h.size == 1)
    })
    .await;
    assert!(owner.receipts().alarm().unwrap().is_none());

    // Over the network: a replay gets its place back; an altered receipt, or one signed
    // by a node that does not own the instrument, is refused; the log does not grow.
    // The user's name changed from 王小明 to 王大明 under the owner's signature.
    let mut altered = submission.clone();
    let (small, big) = ("小".as_bytes(), "大".as_bytes());
    let at = altered
        .receipt
        .windows(small.len())
        .position(|w| w == small)
        .unwrap();
    altered.receipt[at..at + small.len()].copy_from_slice(big);
    let mut by_other = submission.clone();
    by_other.receipt = receipt.seal(&node_key(&neu));
    by_other.confirmation = None;
    let answer = neu
        .net()
        .ask(
            Target::Province,
            Request::Receipts(vec![entry.clone(), altered.encode(), by_other.encode()]),
        )
        .await
        .unwrap();
    let Response::Receipts(answers) = answer else {
        panic!("not an answer to receipts: {answer:?}")
    };
    assert!(matches!(
        answers[0],
        LogAnswer::Logged {
            index: 0,
            already: true,
            ..
        }
    ));
    let codes: Vec<&str> = answers[1..]
        .iter()
        .map(|a| match a {
            LogAnswer::Refused(e) => e.code.as_str(),
            LogAnswer::Logged { .. } => "logged",
        })
        .collect();
    assert_eq!(codes, ["forged", "not_the_owner"]);
    assert_eq!(log.len().await, 1);

    // The owner reports its booking statistics (requests count in the month they
    // arrived: today's); the province's published results of the year count the use,
    // from log entry 0, and take the statistics. (Both before the first computation:
    // figures other than receipts may be reused for a minute.)
    assert!(
        owner
            .bookings()
            .queue_statistics(UnixTime::now())
            .await
            .unwrap()
    );
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let (this_year, _) = alliance_node::evaluation::metrics::Period::parse("", today).unwrap();
    wait_receipts(&province, "the province holds dlut's statistics", |r| {
        r.statistics()
            .of_instrument("dlut/XPS-1", &this_year)
            .unwrap()
            .requests
            == 1
    })
    .await;
    let published = province
        .publication()
        .unwrap()
        .results("", today)
        .await
        .unwrap();
    assert_eq!(published.head.size, 1);
    let dlut = published
        .results
        .institutions
        .iter()
        .find(|i| i.id.as_str() == "dlut")
        .unwrap();
    assert_eq!(dlut.instruments[0].entries, [0]);
    assert_eq!(dlut.metrics.effective_hours(), 2.0);
    assert_eq!(dlut.metrics.external_hours(), 2.0);
    assert_eq!(dlut.metrics.ratings, 1);
    // Confirmed at once: one request, one response, no time taken, no refusal.
    assert_eq!(
        (
            dlut.metrics.requests,
            dlut.metrics.responses,
            dlut.metrics.rejections
        ),
        (1, 1, 0)
    );

    neu.shutdown().await;
    owner.shutdown().await;
    province.shutdown().await;
}

/// A province and the owner `dlut`, whose receipts go to the province at once (a grace
/// period of zero: no home to wait for).
async fn province_and_owner_without_grace(dir: &std::path::Path) -> (NodeHandle, NodeHandle) {
    let province = start_province(dir, "lnsti").await;
    let mut config = certified_member(dir, &province, "dlut", bootstrap_of(&province)).await;
    config.receipts.confirmation_grace = Duration::ZERO;
    (province, Node::start(config).await.unwrap())
}

/// A walk-in session of one of dlut's own researchers (no home to wait for: with a grace
/// period of zero it goes to the province at once, single-signed): a minute of use, 100
/// seconds after the previous number's, so that no two overlap.
fn walk_in(n: i64) -> WalkIn {
    // Within dlut's membership: its certificate dates from an hour before it was issued.
    let start = UnixTime::now().0 - 3_300 + n * 100;
    WalkIn {
        local_id: "XPS-1".into(),
        user_id: format!("staff{n}"),
        user_name: format!("职工{n}"),
        home: "dlut".parse().unwrap(),
        tier: UserTier::OwnInstitution,
        mode: ServiceMode::StaffRun,
        service_item: String::new(),
        facts: SessionFacts {
            start: UnixTime(start),
            end: UnixTime(start + 60),
            preparation_minutes: 0,
            test_minutes: 1,
            post_processing_minutes: 0,
            samples: 1,
            note: String::new(),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_made_while_the_province_is_down_all_arrive_once_after_it_returns() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (province, owner) = province_and_owner_without_grace(dir.path()).await;
    owner_instrument(&owner).await;
    province_knows_instrument(&province).await;
    owner.bookings().record_session(walk_in(0)).await.unwrap();
    wait_receipts(&owner, "the first receipt is proven", |r| {
        r.proven().unwrap() == 1
    })
    .await;

    // The province goes down; the owner keeps recording sessions.
    // It comes back on the port it had (the member's bootstrap address).
    let mut province_config = province.config().clone();
    province_config.network.listen = province
        .net()
        .state()
        .listen_addrs
        .iter()
        .map(ToString::to_string)
        .filter(|a| a.contains("/tcp/"))
        .collect();
    province.shutdown().await;
    wait_state(&owner, "dlut sees the province gone", |s| {
        !connected_institutions(s).contains(&"lnsti".to_owned())
    })
    .await;
    for n in 1..=5 {
        owner.bookings().record_session(walk_in(n)).await.unwrap();
    }
    wait_receipts(&owner, "five receipts wait in the outbox", |r| {
        r.waiting().unwrap() == 5
    })
    .await;
    let issued = owner.receipts().issued().unwrap();
    assert!(
        issued
            .iter()
            .all(|v| v.issued.standing == Standing::SingleSigned)
    );

    // Back up at the same address: everything arrives, nothing twice.
    let province = Node::start(province_config).await.unwrap();
    wait_receipts(&owner, "all six are proven", |r| {
        r.proven().unwrap() == 6 && r.waiting().unwrap() == 0
    })
    .await;
    let log = province.receipt_log().unwrap();
    assert_eq!(log.len().await, 6);
    let mut ids = Vec::new();
    for i in 0..6 {
        let entry = ReceiptSubmission::decode(&log.entry(i).unwrap().unwrap()).unwrap();
        let receipt = UsageReceipt::claimed_signer(&entry.receipt)
            .and_then(|k| UsageReceipt::open(&entry.receipt, &k))
            .unwrap();
        assert!(entry.confirmation.is_none(), "single-signed, marked so");
        ids.push(receipt.receipt_id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "no receipt logged twice");
    // The owner's view of the log grew consistently across the restart.
    wait_receipts(&owner, "the owner verified the head of six", |r| {
        r.latest_head().unwrap().is_some_and(|h| h.size == 6)
    })
    .await;
    assert!(owner.receipts().alarm().unwrap().is_none());

    owner.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_checked_side_by_side_while_the_log_grows_raise_no_false_alarm() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (province, owner) = province_and_owner_without_grace(dir.path()).await;
    let watcher = start_member(dir.path(), &province, "neu").await;
    owner_instrument(&owner).await;
    province_knows_instrument(&province).await;
    wait_connected(&watcher, "lnsti").await;
    // Thirty heads of a growing log, one per receipt.
    let log = province.receipt_log().unwrap();
    let mut heads = Vec::new();
    for n in 0..30 {
        owner.bookings().record_session(walk_in(n)).await.unwrap();
        let size = usize::try_from(n + 1).unwrap();
        wait_receipts(&owner, "proven", |r| r.proven().unwrap() == size).await;
        heads.push(log.head().await);
    }
    // A member that has seen none checks them all at once, in no order: each check asks
    // for a proof against the latest head it verified, which the others move.
    heads.reverse();
    heads.rotate_left(11);
    let checks: Vec<_> = heads
        .into_iter()
        .map(|head| {
            let receipts = watcher.receipts().clone();
            tokio::spawn(async move { receipts.check_head(&head).await })
        })
        .collect();
    for check in checks {
        check.await.unwrap().unwrap();
    }
    assert!(
        watcher.receipts().alarm().unwrap().is_none(),
        "an honest log raised the alarm"
    );
    assert_eq!(watcher.receipts().latest_head().unwrap().unwrap().size, 30);

    watcher.shutdown().await;
    owner.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publication_registered_at_the_home_counts_for_the_instrument_at_the_province() {
    use alliance_protocol::publication::{Publication, PublicationKind};
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    owner_instrument(&owner).await;
    wait_connected(&neu, "lnsti").await;
    wait_state(&neu, "neu holds the roster", |s| s.roster_version > 0).await;
    province_knows_instrument(&province).await;

    // An instrument's networked date is the province's first sighting of its record:
    // dlut typed an acceptance and a networked date in 2020, but the province first saw
    // the record today, so it counts as put on the network late.
    let mut typed = sample_record("dlut", "XPS-2", "第二台 XPS");
    typed.acceptance_date = "2020-03-02".into();
    typed.networked_date = "2020-03-20".into();
    owner.catalogue().save_record(typed).await.unwrap();
    wait_catalogue(&province, "the province sees dlut/XPS-2", |c| {
        c.instrument_unfiltered("dlut/XPS-2").is_some()
    })
    .await;
    let shanghai_today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let flagged = province.publication().unwrap().compliance(shanghai_today);
    let (record, standing) = flagged
        .iter()
        .find(|(r, _)| r.local_id == "XPS-2")
        .expect("XPS-2 is listed");
    assert_eq!(
        record.networked_date,
        shanghai_today.format("%Y-%m-%d").to_string()
    );
    assert!(format!("{standing:?}").starts_with("Late"), "{standing:?}");

    let paper = Publication {
        publication_id: "p-xps-1".into(),
        home_institution: "neu".parse().unwrap(),
        user_id: "wang".into(),
        kind: PublicationKind::Paper,
        title: "Surface oxidation of Ti-6Al-4V studied by XPS".into(),
        authors: "王小明, 李华".into(),
        identifier: "10.1016/j.apsusc.2026.160001".into(),
        acknowledgement: "感谢大连理工大学分析测试中心 XPS 测试支持".into(),
        instruments: vec!["dlut/XPS-1".into()],
        published_on: "2026-09-01".into(),
        registered_at: UnixTime::now(),
    };
    neu.receipts()
        .register_publication(paper.clone())
        .await
        .unwrap();
    // Registering it again is the same publication; other contents under its id are not.
    neu.receipts()
        .register_publication(paper.clone())
        .await
        .unwrap();
    let mut changed = paper.clone();
    changed.title = "Another title".into();
    assert!(neu.receipts().register_publication(changed).await.is_err());

    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let (year, _) = alliance_node::evaluation::metrics::Period::parse("2026", today).unwrap();
    wait_receipts(&province, "the province counts the paper", |r| {
        r.publications().count("dlut/XPS-1", &year).unwrap() == 1
    })
    .await;
    let (earlier, _) = alliance_node::evaluation::metrics::Period::parse("2025", today).unwrap();
    assert_eq!(
        province
            .receipts()
            .publications()
            .count("dlut/XPS-1", &earlier)
            .unwrap(),
        0
    );
    // The home shows it delivered once the province acknowledged it.
    let mut deliveries = neu.mail().deliveries();
    let delivered = tokio::time::timeout(DEADLINE, async {
        while !neu.receipts().publications().of_user("wang").unwrap()[0].1 {
            deliveries.changed().await.unwrap();
        }
    })
    .await;
    assert!(
        delivered.is_ok(),
        "the home never saw the province acknowledge it"
    );
    // The province keeps it, but its results count it for no instrument: wang never used
    // dlut/XPS-1 (no receipt his home confirmed), so the paper is not the instrument's.
    let published = province
        .publication()
        .unwrap()
        .results("2026", today)
        .await
        .unwrap();
    let dlut = published
        .results
        .institutions
        .iter()
        .find(|i| i.id.as_str() == "dlut")
        .unwrap();
    assert_eq!(dlut.metrics.publications, 0);

    neu.shutdown().await;
    owner.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyone_can_read_the_log_in_pages_and_check_it_against_the_signed_head() {
    use alliance_protocol::transparency::MerkleLog;
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (province, owner) = province_and_owner_without_grace(dir.path()).await;
    owner_instrument(&owner).await;
    province_knows_instrument(&province).await;
    for n in 0..5 {
        owner.bookings().record_session(walk_in(n)).await.unwrap();
    }
    wait_receipts(&owner, "five receipts proven", |r| r.proven().unwrap() == 5).await;

    // No session: the log is public. Pages of two, until there is no next.
    let http = reqwest::Client::new();
    let mut from = Some(0u64);
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut last_head = String::new();
    while let Some(at) = from {
        let page: serde_json::Value = http
            .get(format!(
                "{}api/v1/log/entries?from={at}&limit=2",
                province.url()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for entry in page["entries"].as_array().unwrap() {
            assert_eq!(entry["index"].as_u64().unwrap(), entries.len() as u64);
            entries.push(hex::decode(entry["submission"].as_str().unwrap()).unwrap());
        }
        last_head = page["signed_head"].as_str().unwrap().to_owned();
        from = page["next"].as_u64();
    }
    assert_eq!(entries.len(), 5);
    // The head is the province's; the entries rebuild its root; each entry is signed.
    let root_key = province.config().alliance.root_public_key;
    let head = TreeHead::open(&hex::decode(&last_head).unwrap(), &root_key).unwrap();
    let mut tree = MerkleLog::new();
    for entry in &entries {
        tree.push(entry);
        let submission = ReceiptSubmission::decode(entry).unwrap();
        let signer = UsageReceipt::claimed_signer(&submission.receipt).unwrap();
        assert_eq!(signer, owner.certificate().node_public_key);
        UsageReceipt::open(&submission.receipt, &signer).unwrap();
    }
    assert_eq!((tree.len(), tree.root()), (head.size, head.root));
    // Out of bounds: a clear refusal; a member's node keeps no log.
    let bad = http
        .get(format!("{}api/v1/log/entries?limit=5000", province.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::BAD_REQUEST);
    let member = http
        .get(format!("{}api/v1/log/entries", owner.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(member.status(), reqwest::StatusCode::NOT_FOUND);
    owner.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_in_is_charged_for_the_service_item_used_only() {
    use alliance_protocol::{FeeComponents, FeeItem, FeeUnit};
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let item = |zh: &str, operating_fen: i64| FeeItem {
        item_zh: zh.into(),
        item_en: String::new(),
        unit: FeeUnit::Sample,
        own_institution: FeeComponents {
            materials_fen: 0,
            operating_fen,
            labour_fen: 0,
        },
        alliance_member: FeeComponents::default(),
        outside_academic: FeeComponents::default(),
        enterprise: FeeComponents::default(),
    };
    let mut record = sample_record("dlut", "XPS-1", "X射线光电子能谱仪");
    record.service_modes = vec![ServiceMode::StaffRun];
    record.fees = vec![item("XPS 全谱", 30_000), item("XPS 深度剖析", 60_000)];
    owner.catalogue().save_record(record).await.unwrap();
    // Which of the two was used must be said.
    let unnamed = owner.bookings().record_session(walk_in(0)).await;
    assert!(
        matches!(&unnamed, Err(e) if e.to_string().contains("service_item")),
        "{unnamed:?}"
    );
    let named = WalkIn {
        service_item: "XPS 深度剖析".into(),
        ..walk_in(1)
    };
    let signed = owner.bookings().record_session(named).await.unwrap();
    let receipt = UsageReceipt::open(&signed, &owner.certificate().node_public_key).unwrap();
    // One sample of 深度剖析 (600 yuan), not both items (900).
    assert_eq!(receipt.fees.total_fen(), 60_000);
    owner.shutdown().await;
    province.shutdown().await;
}

/// Publishes `period` at the province through the API as its administrator.
async fn publish(province: &NodeHandle, period: &str) -> reqwest::Response {
    let admin = alliance_tests::http::client();
    let session: serde_json::Value =
        alliance_tests::http::sign_in(&admin, province, "admin", PASSWORD)
            .await
            .json()
            .await
            .unwrap();
    admin
        .post(format!("{}api/v1/results/publish", province.url()))
        .header("X-CSRF-Token", session["csrf_token"].as_str().unwrap())
        .json(&serde_json::json!({ "period": period }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_results_are_frozen_corrected_in_the_open_and_recomputed_by_anyone() {
    use chrono::Datelike;
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (province, owner) = province_and_owner_without_grace(dir.path()).await;
    owner_instrument(&owner).await;
    province_knows_instrument(&province).await;
    for n in 0..3 {
        owner.bookings().record_session(walk_in(n)).await.unwrap();
    }
    wait_receipts(&owner, "three receipts proven", |r| {
        r.proven().unwrap() == 3
    })
    .await;

    // This year, not published: a provisional statement anyone recomputes alike.
    let report = verify_results(&province, "").await;
    assert!(report.agrees(), "{:?}", report.differences);
    assert!(!report.statement.published);
    assert_eq!(report.entries, 3);
    // It has not ended: it cannot be published.
    let year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .year();
    let this_year = year.to_string();
    let refused = publish(&province, &this_year).await;
    assert_eq!(refused.status(), reqwest::StatusCode::CONFLICT);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ended");

    // Last year is published once: frozen, signed, and it verifies.
    let last_year = (year - 1).to_string();
    assert_eq!(
        publish(&province, &last_year).await.status(),
        reqwest::StatusCode::OK
    );
    let again = publish(&province, &last_year).await;
    assert_eq!(again.status(), reqwest::StatusCode::CONFLICT);
    let report = verify_results(&province, &last_year).await;
    assert!(report.agrees(), "{:?}", report.differences);
    assert!(report.statement.published);
    let http = reqwest::Client::new();
    let results_of = |period: String| {
        let http = http.clone();
        let url = format!("{}api/v1/results?period={period}", province.url());
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let published = results_of(last_year.clone()).await;
    assert!(published["published_at"].is_i64());
    assert_eq!(published["corrections"].as_array().unwrap().len(), 0);

    // Later evidence for the period — an instrument put on the network since — changes
    // no published figure: it shows as a correction beside them.
    let mut record = sample_record("dlut", "NMR-2", "核磁共振波谱仪");
    record.service_modes = vec![ServiceMode::StaffRun];
    owner.catalogue().save_record(record).await.unwrap();
    wait_catalogue(&province, "the province sees dlut/NMR-2", |c| {
        c.instrument_unfiltered("dlut/NMR-2").is_some()
    })
    .await;
    let corrected = results_of(last_year.clone()).await;
    let rows = corrected["rows"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["instrument"] != "dlut/NMR-2"));
    let corrections = corrected["corrections"].as_array().unwrap();
    assert!(
        corrections
            .iter()
            .any(|c| c["instrument"] == "dlut/NMR-2" && c["figure"] == "row"),
        "{corrections:?}"
    );
    // The published statement still verifies, unchanged.
    let after = verify_results(&province, &last_year).await;
    assert!(after.agrees());
    assert_eq!(after.statement, report.statement);
    // A member's node publishes nothing.
    let member = http
        .get(format!("{}api/v1/results/statement", owner.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(member.status(), reqwest::StatusCode::NOT_FOUND);
    owner.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_member_checks_the_provinces_log_as_soon_as_it_is_connected() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (province, owner) = province_and_owner_without_grace(dir.path()).await;
    owner_instrument(&owner).await;
    province_knows_instrument(&province).await;
    owner.bookings().record_session(walk_in(0)).await.unwrap();
    wait_receipts(&owner, "dlut's receipt is proven", |r| {
        r.proven().unwrap() == 1
    })
    .await;
    let config = owner.config().clone();
    owner.shutdown().await;

    // While dlut is down the log grows by another member's receipt.
    let mut neu_config =
        certified_member(dir.path(), &province, "neu", bootstrap_of(&province)).await;
    neu_config.receipts.confirmation_grace = Duration::ZERO;
    let neu = Node::start(neu_config).await.unwrap();
    let mut record = sample_record("neu", "NMR-1", "核磁共振波谱仪");
    record.service_modes = vec![ServiceMode::StaffRun];
    neu.catalogue().save_record(record).await.unwrap();
    wait_catalogue(&province, "the province sees neu/NMR-1", |c| {
        c.instrument_unfiltered("neu/NMR-1").is_some()
    })
    .await;
    let mut session = walk_in(1);
    session.local_id = "NMR-1".into();
    session.home = "neu".parse().unwrap();
    neu.bookings().record_session(session).await.unwrap();
    wait_receipts(&neu, "neu's receipt is proven", |r| {
        r.proven().unwrap() == 1
    })
    .await;

    // Restarted, dlut verifies the grown log as soon as the province is connected — not
    // a log check interval (a minute) later.
    assert_eq!(config.receipts.log_check_interval, Duration::from_secs(60));
    let owner = Node::start(config).await.unwrap();
    wait_receipts(&owner, "dlut verifies the grown log", |r| {
        r.latest_head().unwrap().is_some_and(|h| h.size == 2)
    })
    .await;
    neu.shutdown().await;
    owner.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_flooding_the_log_with_reads_gets_busy_while_others_still_log() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (province, owner) = province_and_owner_without_grace(dir.path()).await;
    owner_instrument(&owner).await;
    province_knows_instrument(&province).await;
    owner.bookings().record_session(walk_in(0)).await.unwrap();
    wait_receipts(&owner, "the first receipt is proven", |r| {
        r.proven().unwrap() == 1
    })
    .await;
    let flooder = start_member(dir.path(), &province, "neu").await;
    wait_state(&flooder, "neu meets the province", |s| {
        !s.members.is_empty()
    })
    .await;

    // Two hundred proofs asked for at once, again and again: the province answers its
    // share and says busy to the rest. (How many reach it within one second depends on
    // the machine's load, as the connection carries only so many streams at once: the
    // waves go on until a second holds more than the share, within a deadline.)
    let net = flooder.net().clone();
    let ask = move || {
        let net = net.clone();
        async move {
            net.ask(
                Target::Province,
                Request::LogConsistency {
                    first: 1,
                    second: 1,
                },
            )
            .await
        }
    };
    let (mut busy, mut proven) = (0, 0);
    let waves = tokio::time::timeout(Duration::from_secs(30), async {
        while busy == 0 || proven == 0 {
            let answers = futures::future::join_all((0..200).map(|_| ask())).await;
            busy += answers
                .iter()
                .filter(|a| matches!(a, Ok(Response::Error(e)) if e.code == "busy"))
                .count();
            proven += answers
                .iter()
                .filter(|a| matches!(a, Ok(Response::LogConsistency(_))))
                .count();
        }
    })
    .await;
    assert!(waves.is_ok(), "busy {busy}, proven {proven}");

    // Kept up while another member's receipt goes to the log: it is logged within 10 s.
    let flooding = tokio::spawn(async move {
        loop {
            futures::future::join_all((0..200).map(|_| ask())).await;
        }
    });
    owner.bookings().record_session(walk_in(1)).await.unwrap();
    let logged = tokio::time::timeout(Duration::from_secs(10), async {
        let receipts = owner.receipts().clone();
        let mut changes = receipts.changes();
        while receipts.proven().unwrap() < 2 {
            changes.changed().await.unwrap();
        }
    })
    .await;
    flooding.abort();
    assert!(
        logged.is_ok(),
        "a receipt waited more than 10 s behind the flood"
    );
    owner.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_hears_no_fresh_head_says_the_log_is_stale() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let mut config = certified_member(dir.path(), &province, "dlut", bootstrap_of(&province)).await;
    config.receipts.max_head_age = Duration::from_secs(2);
    let member = Node::start(config).await.unwrap();
    wait_connected(&member, "lnsti").await;
    // Just checked: fresh.
    member.receipts().fetch_head().await.unwrap();
    assert_eq!(
        member.receipts().log_staleness(UnixTime::now()).unwrap(),
        None
    );
    // The province goes quiet: after the configured age the member says so.
    province.shutdown().await;
    let stale = tokio::time::timeout(DEADLINE, async {
        let mut ticks = tokio::time::interval(Duration::from_millis(250));
        loop {
            ticks.tick().await;
            if let Some(age) = member.receipts().log_staleness(UnixTime::now()).unwrap() {
                return age;
            }
        }
    })
    .await
    .expect("the log never reported stale");
    assert!(stale > 2);
    let status: serde_json::Value = reqwest::get(format!("{}api/v1/status", member.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        status["log_stale_seconds"].as_u64().unwrap() > 2,
        "{status}"
    );
    member.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_relayed_by_a_member_is_checked_by_the_others_and_a_fork_is_caught() {
    use alliance_protocol::transparency::MerkleLog;
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (province, owner) = province_and_owner_without_grace(dir.path()).await;
    let neu = start_member(dir.path(), &province, "neu").await;
    owner_instrument(&owner).await;
    province_knows_instrument(&province).await;
    wait_connected(&neu, "dlut").await;
    for n in 0..2 {
        owner.bookings().record_session(walk_in(n)).await.unwrap();
    }
    wait_receipts(&owner, "two receipts proven", |r| r.proven().unwrap() == 2).await;
    neu.receipts().fetch_head().await.unwrap();
    assert_eq!(neu.receipts().latest_head().unwrap().unwrap().size, 2);

    // The province's key signs another history of the same size, shown to dlut alone;
    // dlut relays the head it was shown, as every member relays the heads it verifies.
    let root = alliance_node::keyfile::read(&province.config().root_key_path().unwrap()).unwrap();
    let mut fork = MerkleLog::new();
    fork.push(b"a forged receipt");
    fork.push(b"another forged receipt");
    let forked = fork.head(UnixTime::now()).seal(&root);
    owner.net().publish_tree_head(forked).await.unwrap();
    // neu checks every head it hears, whoever relays it: two roots for one size.
    wait_receipts(&neu, "neu catches the fork", |r| {
        r.alarm().unwrap().is_some()
    })
    .await;
    neu.shutdown().await;
    owner.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_joins_later_hears_the_heads_others_witnessed_in_their_hello() {
    use alliance_protocol::transparency::MerkleLog;
    trace();
    let dir = tempfile::tempdir().unwrap();
    let (province, owner) = province_and_owner_without_grace(dir.path()).await;
    owner_instrument(&owner).await;
    province_knows_instrument(&province).await;
    for n in 0..2 {
        owner.bookings().record_session(walk_in(n)).await.unwrap();
    }
    wait_receipts(&owner, "two receipts proven", |r| r.proven().unwrap() == 2).await;

    // dlut was shown another history of the same size, and relayed it long before neu
    // joined: gossip is not replayed, so only dlut's hello can tell neu.
    let root = alliance_node::keyfile::read(&province.config().root_key_path().unwrap()).unwrap();
    let mut fork = MerkleLog::new();
    fork.push(b"a forged receipt");
    fork.push(b"another forged receipt");
    let forked = fork.head(UnixTime::now()).seal(&root);
    owner.net().publish_tree_head(forked).await.unwrap();

    let neu = start_member(dir.path(), &province, "neu").await;
    wait_connected(&neu, "dlut").await;
    wait_receipts(&neu, "neu catches the fork from dlut's hello", |r| {
        r.alarm().unwrap().is_some()
    })
    .await;
    neu.shutdown().await;
    owner.shutdown().await;
    province.shutdown().await;
}
