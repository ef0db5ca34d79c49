//! Entrusted testing across real nodes: a researcher's need, an offer from another
//! member, accepted through the home's API, becomes an order at the owner; the order
//! goes through every state, in order only; the report is size- and type-checked, its
//! SHA-256 is in the signed usage receipt the home receives, the home downloads it from
//! the owner and a changed copy does not verify.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::{NodeHandle, board::OfferDraft, orders::OrderError};
use alliance_protocol::{
    InstitutionId, ServiceMode, UnixTime,
    order::{MAX_REPORT_BYTES, OrderState},
};
use alliance_tests::{
    fixtures::{in_days, node_key, person, xps_by_sample},
    http,
    node_api::until,
    *,
};
use alliance_web::backend::AccountRole;
use serde_json::{Value, json};

/// `POST path` with `body` as the signed-in client, with its CSRF token.
async fn post(
    client: &reqwest::Client,
    node: &NodeHandle,
    csrf: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let answer = client
        .post(format!("{}{path}", node.url()))
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_need_becomes_an_order_that_ends_with_a_report_its_receipt_vouches_for() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    xps_by_sample(&owner, [4_000; 4]).await;
    wait_catalogue(&home, "XPS-1 arrives", |c| {
        c.instrument("dlut/XPS-1").is_some()
    })
    .await;
    person(&home, "res1", AccountRole::Researcher, "res1@example.cn").await;

    // The researcher posts a need through the home's API.
    let client = http::client();
    let session: Value = http::sign_in(&client, &home, "res1", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    let (status, need) = post(
        &client,
        &home,
        &csrf,
        "api/v1/needs",
        json!({
            "title": "涂层价态分析", "modes": ["staff_run"], "keywords": ["XPS"],
            "sample_kind": "镀层钢片", "sample_count": 3, "deadline": in_days(20)
        }),
    )
    .await;
    assert_eq!(status, 201, "{need}");
    let need_id = need["need_id"].as_str().unwrap().to_owned();
    let local = need_id.split_once('/').unwrap().1.to_owned();
    wait_catalogue(&owner, "the need reaches dlut", |c| {
        c.board().need(&need_id).is_some()
    })
    .await;
    owner
        .board()
        .offer(OfferDraft {
            need_id: need_id.clone(),
            instrument_local_id: "XPS-1".into(),
            mode: Some(ServiceMode::StaffRun),
            service_item: String::new(),
            quoted: None,
            earliest_date: in_days(1),
            turnaround_days: 5,
            conditions: String::new(),
        })
        .await
        .unwrap();
    wait_catalogue(&home, "the offer reaches neu", |c| {
        c.board()
            .offer(&need_id, &"dlut".parse().unwrap())
            .is_some()
    })
    .await;

    // Accepting through the API places the order with dlut, with whom to contact.
    let (status, accepted) = post(
        &client,
        &home,
        &csrf,
        &format!("api/v1/needs/{need_id}/accept"),
        json!({ "institution": "dlut" }),
    )
    .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["state"], "accepted");
    let neu: InstitutionId = "neu".parse().unwrap();
    until("dlut holds the order", DEADLINE, || async {
        owner
            .orders()
            .managed_order(&neu, &local)
            .unwrap()
            .is_some()
    })
    .await;
    let order = owner.orders().managed_order(&neu, &local).unwrap().unwrap();
    assert_eq!(order.state, OrderState::Ordered);
    assert_eq!(order.placed.contact.email, "res1@example.cn");
    assert_eq!(order.placed.sample_count(), 3);
    assert_eq!(order.placed.price_fen, 3 * 10_000);

    // Out of order: refused, nothing changes.
    let orders = owner.orders();
    assert!(matches!(
        orders.advance(&neu, &local, OrderState::Testing, "").await,
        Err(OrderError::OutOfOrder { .. })
    ));
    let now = UnixTime::now().0;
    let window = (UnixTime(now - 3_600), UnixTime(now - 600));
    assert!(matches!(
        orders
            .issue_report(&neu, &local, "r.pdf", b"%PDF-1.7".to_vec(), window)
            .await,
        Err(OrderError::OutOfOrder { .. })
    ));
    assert!(matches!(
        orders.advance(&neu, &local, OrderState::Refused, " ").await,
        Err(OrderError::Invalid { field: "note", .. })
    ));
    // The owner's manager records the intake through the API, and sees whom to contact.
    person(
        &owner,
        "mgr",
        AccountRole::InstrumentManager,
        "mgr@example.cn",
    )
    .await;
    let manager = http::client();
    let session: Value = http::sign_in(&manager, &owner, "mgr", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let mgr_csrf = session["csrf_token"].as_str().unwrap().to_owned();
    let listed: Value = manager
        .get(format!("{}api/v1/manage/orders", owner.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["email"], "res1@example.cn", "{listed}");
    let (status, stepped) = post(
        &manager,
        &owner,
        &mgr_csrf,
        &format!("api/v1/manage/orders/neu/{local}/state"),
        json!({ "state": "samples_received", "note": "收到 3 片，包装完好" }),
    )
    .await;
    assert_eq!(status, 200, "{stepped}");
    let (status, _) = post(
        &manager,
        &owner,
        &mgr_csrf,
        &format!("api/v1/manage/orders/neu/{local}/state"),
        json!({ "state": "closed" }),
    )
    .await;
    assert_eq!(status, 409, "a step skipped is out of order");

    // A photo of the samples taken in: a JPEG passes, anything else is refused; the home
    // hears of it and the user downloads it through the home, checked by its SHA-256.
    let photo = b"\xFF\xD8\xFF\xE0 three coated plates".to_vec();
    assert!(matches!(
        orders
            .add_intake_photo(&neu, &local, "样品.pdf", b"%PDF-1.7".to_vec())
            .await,
        Err(OrderError::Invalid { field: "photo", .. })
    ));
    orders
        .add_intake_photo(&neu, &local, "收样.jpg", photo.clone())
        .await
        .unwrap();
    until("the home holds the photo's SHA-256", DEADLINE, || async {
        home.orders()
            .home_order(&local)
            .unwrap()
            .is_some_and(|o| o.photos.len() == 1)
    })
    .await;
    let got = client
        .get(format!("{}api/v1/orders/{local}/photos/1", home.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.bytes().await.unwrap().to_vec(), photo);

    orders
        .advance(&neu, &local, OrderState::Testing, "")
        .await
        .unwrap();
    until("the home follows the order", DEADLINE, || async {
        home.orders()
            .home_order(&local)
            .unwrap()
            .is_some_and(|o| o.state == OrderState::Testing)
    })
    .await;
    let followed = home.orders().home_order(&local).unwrap().unwrap();
    assert!(
        followed
            .steps
            .iter()
            .any(|s| s.note == "收到 3 片，包装完好")
    );

    // The report: too large, or not a report, is refused.
    let big = vec![b'a'; MAX_REPORT_BYTES + 1];
    assert!(matches!(
        orders
            .issue_report(&neu, &local, "big.txt", big, window)
            .await,
        Err(OrderError::Invalid {
            field: "report",
            ..
        })
    ));
    assert!(matches!(
        orders
            .issue_report(
                &neu,
                &local,
                "r.pdf",
                b"MZ\x90\x00\x03\x00\xff\xfe".to_vec(),
                window
            )
            .await,
        Err(OrderError::Invalid {
            field: "report",
            ..
        })
    ));
    let pdf = b"%PDF-1.7\n% XPS report: Cr(III) 62%, Cr(VI) 38%\n%%EOF\n".to_vec();
    let beijing = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let uploaded = manager
        .post(format!(
            "{}api/v1/manage/orders/neu/{local}/report?file_name=XPS-report.pdf&start={}&end={}",
            owner.url(),
            beijing(window.0.0),
            beijing(window.1.0)
        ))
        .header("X-CSRF-Token", &mgr_csrf)
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200, "{:?}", uploaded.text().await);

    // The home holds it, fetched from the owner and checked; the receipt vouches for it.
    until("the home holds the report", DEADLINE, || async {
        home.orders()
            .home_order(&local)
            .unwrap()
            .is_some_and(|o| o.report_held)
    })
    .await;
    let (name, media_type, downloaded) = home.orders().report(&local).await.unwrap();
    assert_eq!(
        (name.as_str(), media_type.as_str()),
        ("XPS-report.pdf", "application/pdf")
    );
    assert_eq!(downloaded, pdf);
    until("the receipt reaches the home", DEADLINE, || async {
        !home.receipts().of_user("res1").unwrap().is_empty()
    })
    .await;
    let receipt = home.receipts().of_user("res1").unwrap().remove(0).receipt;
    assert!(receipt.report_matches(&downloaded));
    let mut changed = downloaded.clone();
    changed[20] ^= 1;
    assert!(
        !receipt.report_matches(&changed),
        "a changed report verifies"
    );
    assert_eq!(receipt.samples, 3);

    // The report over the API: the user's orders and the file.
    let mine: Value = client
        .get(format!("{}api/v1/orders", home.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine[0]["state"], "report_issued", "{mine}");
    let file = client
        .get(format!("{}api/v1/orders/{local}/report", home.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().to_vec(), pdf);

    // Closed, and nothing after.
    orders
        .advance(&neu, &local, OrderState::Closed, "")
        .await
        .unwrap();
    assert!(matches!(
        orders
            .advance(&neu, &local, OrderState::Refused, "太晚了")
            .await,
        Err(OrderError::OutOfOrder { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_cancelled_before_the_samples_arrive_and_not_after() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    xps_by_sample(&owner, [4_000; 4]).await;
    wait_catalogue(&home, "XPS-1 arrives", |c| {
        c.instrument("dlut/XPS-1").is_some()
    })
    .await;
    let dlut: InstitutionId = "dlut".parse().unwrap();
    let neu: InstitutionId = "neu".parse().unwrap();
    // Two needs of res1, each offered for by dlut and accepted: two orders.
    let mut locals = Vec::new();
    for title in ["第一批", "第二批", "第三批"] {
        let need = home
            .board()
            .post(
                "res1",
                alliance_protocol::UserTier::OwnInstitution,
                alliance_node::board::NeedDraft {
                    title: title.into(),
                    modes: vec![ServiceMode::StaffRun],
                    keywords: vec!["XPS".into()],
                    sample_count: 1,
                    deadline: in_days(10),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let id = need.id();
        wait_catalogue(&owner, "the need reaches dlut", |c| {
            c.board().need(&id).is_some()
        })
        .await;
        owner
            .board()
            .offer(OfferDraft {
                need_id: id.clone(),
                instrument_local_id: "XPS-1".into(),
                mode: Some(ServiceMode::StaffRun),
                service_item: String::new(),
                quoted: None,
                earliest_date: in_days(1),
                turnaround_days: 3,
                conditions: String::new(),
            })
            .await
            .unwrap();
        wait_catalogue(&home, "the offer reaches neu", |c| {
            c.board().offer(&id, &dlut).is_some()
        })
        .await;
        let offer = home.catalogue().board().offer(&id, &dlut).unwrap();
        let contact = alliance_protocol::order::OrderContact {
            user_id: "res1".into(),
            ..Default::default()
        };
        if locals.is_empty() {
            a_greedy_home_cannot_order_other_than_offered(&home, &owner, &need, &offer).await;
        }
        home.orders()
            .place_for(&need, &offer, contact)
            .await
            .unwrap();
        until("dlut holds the order", DEADLINE, || async {
            owner
                .orders()
                .managed_order(&neu, &need.local_id)
                .unwrap()
                .is_some()
        })
        .await;
        locals.push(need.local_id);
    }
    let (first, second) = (&locals[0], &locals[1]);

    // Only its user cancels, with a reason; the owner takes it and the home follows.
    assert!(matches!(
        home.orders()
            .cancel("someone-else", first, "不需要了")
            .await,
        Err(OrderError::NotFound(_))
    ));
    assert!(matches!(
        home.orders().cancel("res1", first, " ").await,
        Err(OrderError::Invalid {
            field: "reason",
            ..
        })
    ));
    home.orders()
        .cancel("res1", first, "样品已送往他处")
        .await
        .unwrap();
    let cancelled = owner.orders().managed_order(&neu, first).unwrap().unwrap();
    assert_eq!(cancelled.state, OrderState::Cancelled);
    until("the home follows the cancellation", DEADLINE, || async {
        home.orders()
            .home_order(first)
            .unwrap()
            .is_some_and(|o| o.state == OrderState::Cancelled)
    })
    .await;

    // Once the samples are in, the cancellation is refused, and nothing changes.
    owner
        .orders()
        .advance(&neu, second, OrderState::SamplesReceived, "已收样")
        .await
        .unwrap();
    until("the home hears of the intake", DEADLINE, || async {
        home.orders()
            .home_order(second)
            .unwrap()
            .is_some_and(|o| o.state == OrderState::SamplesReceived)
    })
    .await;
    assert!(matches!(
        home.orders().cancel("res1", second, "太慢了").await,
        Err(OrderError::OutOfOrder { .. })
    ));
    assert_eq!(
        owner
            .orders()
            .managed_order(&neu, second)
            .unwrap()
            .unwrap()
            .state,
        OrderState::SamplesReceived
    );

    // A need withdrawn after its order arrived: the owner takes no samples for it.
    let third = &locals[2];
    home.board().withdraw("res1", third).await.unwrap();
    let third_id = format!("neu/{third}");
    wait_catalogue(&owner, "dlut holds the need withdrawn", |c| {
        c.board().need(&third_id).is_some_and(|n| !n.is_open())
    })
    .await;
    assert!(matches!(
        owner
            .orders()
            .advance(&neu, third, OrderState::SamplesReceived, "已收样")
            .await,
        Err(OrderError::Invalid { field: "state", .. })
    ));
    owner
        .orders()
        .advance(&neu, third, OrderState::Refused, "需求已撤回")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_its_owner_refuses_opens_the_need_again_for_another_offer() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member(dir.path(), &province, "dlut").await;
    let home = start_member(dir.path(), &province, "neu").await;
    xps_by_sample(&owner, [4_000; 4]).await;
    wait_catalogue(&home, "XPS-1 arrives", |c| {
        c.instrument("dlut/XPS-1").is_some()
    })
    .await;
    person(&home, "res1", AccountRole::Researcher, "res1@example.cn").await;
    let client = http::client();
    let session: Value = http::sign_in(&client, &home, "res1", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    let (status, need) = post(
        &client,
        &home,
        &csrf,
        "api/v1/needs",
        json!({
            "title": "薄膜成分分析", "modes": ["staff_run"], "keywords": ["XPS"],
            "sample_count": 2, "deadline": in_days(20)
        }),
    )
    .await;
    assert_eq!(status, 201, "{need}");
    let need_id = need["need_id"].as_str().unwrap().to_owned();
    let local = need_id.split_once('/').unwrap().1.to_owned();
    let (dlut, neu): (InstitutionId, InstitutionId) =
        ("dlut".parse().unwrap(), "neu".parse().unwrap());
    wait_catalogue(&owner, "the need reaches dlut", |c| {
        c.board().need(&need_id).is_some()
    })
    .await;
    let draft = OfferDraft {
        need_id: need_id.clone(),
        instrument_local_id: "XPS-1".into(),
        mode: Some(ServiceMode::StaffRun),
        service_item: String::new(),
        quoted: None,
        earliest_date: in_days(1),
        turnaround_days: 5,
        conditions: String::new(),
    };
    owner.board().offer(draft.clone()).await.unwrap();
    wait_catalogue(&home, "the offer reaches neu", |c| {
        c.board().offer(&need_id, &dlut).is_some()
    })
    .await;

    // dlut revises its offer in the moment the user accepts the one they saw: the home
    // places the order as the user's page does, with the offer it held.
    let seen = home.catalogue().board().offer(&need_id, &dlut).unwrap();
    let need = home.catalogue().board().need(&need_id).unwrap();
    owner
        .board()
        .offer(OfferDraft {
            quoted: Some((45_000, "需加急处理".into())),
            service_item: "加急XPS测试".into(),
            ..draft
        })
        .await
        .unwrap();
    let contact = alliance_protocol::order::OrderContact {
        user_id: "res1".into(),
        ..Default::default()
    };
    home.orders()
        .place_for(&need, &seen, contact)
        .await
        .unwrap();
    home.board().accept("res1", &local, &dlut).await.unwrap();
    home.orders().reopen_if_refused(&local).await.unwrap();

    // dlut refuses it for good: the home marks the order refused with dlut's words and
    // the need takes offers again (not a dead letter that leaves the order "ordered").
    until("the home marks the order refused", DEADLINE, || async {
        home.orders()
            .home_order(&local)
            .unwrap()
            .is_some_and(|o| o.state == OrderState::Refused)
    })
    .await;
    let refused = home.orders().home_order(&local).unwrap().unwrap();
    assert!(
        refused
            .steps
            .last()
            .unwrap()
            .note
            .contains("not the one offered"),
        "{:?}",
        refused.steps
    );
    until("the need is open again at neu", DEADLINE, || async {
        home.catalogue()
            .board()
            .need(&need_id)
            .is_some_and(|n| n.is_open())
    })
    .await;
    assert!(
        owner
            .orders()
            .managed_order(&neu, &local)
            .unwrap()
            .is_none()
    );

    // The user accepts the revised offer through the API: dlut takes that order.
    wait_catalogue(&home, "the revision reaches neu", |c| {
        c.board().offer(&need_id, &dlut).is_some_and(|o| o.quoted)
    })
    .await;
    let (status, accepted) = post(
        &client,
        &home,
        &csrf,
        &format!("api/v1/needs/{need_id}/accept"),
        json!({ "institution": "dlut" }),
    )
    .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["state"], "accepted");
    until("dlut takes the order", DEADLINE, || async {
        owner
            .orders()
            .managed_order(&neu, &local)
            .unwrap()
            .is_some()
    })
    .await;
    let taken = owner.orders().managed_order(&neu, &local).unwrap().unwrap();
    assert_eq!(taken.placed.price_fen, 45_000);
    until("the home hears dlut took it", DEADLINE, || async {
        home.orders()
            .home_order(&local)
            .unwrap()
            .is_some_and(|o| o.state == OrderState::Ordered && o.version > 0)
    })
    .await;

    // dlut refuses it after all: the need opens again, and dlut may not take it again.
    owner
        .orders()
        .advance(&neu, &local, OrderState::Refused, "仪器故障，暂停服务")
        .await
        .unwrap();
    until(
        "the need is open again after dlut's refusal",
        DEADLINE,
        || async {
            home.catalogue()
                .board()
                .need(&need_id)
                .is_some_and(|n| n.is_open())
        },
    )
    .await;
    let (status, again) = post(
        &client,
        &home,
        &csrf,
        &format!("api/v1/needs/{need_id}/accept"),
        json!({ "institution": "dlut" }),
    )
    .await;
    assert!((400..500).contains(&status), "{status} {again}");
    assert!(again.to_string().contains("refused"), "{again}");
    assert!(home.catalogue().board().need(&need_id).unwrap().is_open());
}

/// A home signs orders the owner's offer does not stand behind — at a price of its
/// choosing, on another instrument, for more samples, under a revision never made —
/// and sends them straight to the owner: each is refused and none is kept.
async fn a_greedy_home_cannot_order_other_than_offered(
    home: &NodeHandle,
    owner: &NodeHandle,
    need: &alliance_protocol::Need,
    offer: &alliance_protocol::Offer,
) {
    let genuine = alliance_protocol::order::OrderPlaced {
        order_id: need.local_id.clone(),
        home: need.home.clone(),
        owner: offer.institution_id.clone(),
        offer_revision: offer.revision,
        instrument_local_id: offer.instrument_local_id.clone(),
        service_item: offer.service_item.clone(),
        price_fen: offer.price_fen,
        samples: vec![alliance_protocol::order::SampleLine {
            label: "样品".into(),
            count: need.sample_count,
            note: String::new(),
        }],
        contact: Default::default(),
        tier: need.tier_at(&offer.institution_id),
        placed_at: UnixTime::now(),
        title: need.title.clone(),
    };
    type Forge = fn(&mut alliance_protocol::order::OrderPlaced);
    let forgeries: [(&str, Forge); 4] = [
        ("price 0", |p| p.price_fen = 0),
        ("another instrument", |p| {
            p.instrument_local_id = "XPS-2".into()
        }),
        ("more samples", |p| p.samples[0].count += 5),
        ("a later revision", |p| p.offer_revision += 1),
    ];
    for (what, forge) in forgeries {
        let mut placed = genuine.clone();
        forge(&mut placed);
        let answer = home
            .net()
            .send_mail(&offer.institution_id, placed.seal(&node_key(home)))
            .await;
        assert!(
            matches!(
                &answer,
                Err(alliance_node::net::NetError::Refused(
                    alliance_node::net::Refusal::BadRequest(_)
                ))
            ),
            "{what}: {answer:?}"
        );
    }
    assert!(
        owner
            .orders()
            .managed_order(&need.home, &need.local_id)
            .unwrap()
            .is_none()
    );
}
