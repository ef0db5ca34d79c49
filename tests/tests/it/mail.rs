//! Mail between real nodes across restarts: every kind that waits in an outbox (an
//! owner's booking update, a receipt, service statistics; a home's cancel, a receipt
//! confirmation, a publication) is queued while its recipient is down, survives the
//! sender's restart, and is delivered once the recipient is back; a message refused for
//! good becomes a dead letter with the refusal's reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::{
    Node, NodeHandle,
    booking::{
        service::{HomeUser, SessionFacts},
        state::BookingState,
    },
    receipts::issued::Standing,
};
use alliance_protocol::{
    Domain, UnixTime,
    publication::{Publication, PublicationKind},
    receipt::Verdict,
};
use alliance_tests::{fixtures::*, http, *};
use alliance_web::backend::{AccountRole, NewAccount};

/// Stops `node`, returning what starts it again on the same addresses (so the others'
/// bootstrap and redial find it).
async fn stop(node: NodeHandle) -> alliance_node::Config {
    let mut config = node.config().clone();
    config.network.listen = bootstrap_of(&node)
        .iter()
        .map(|a| a.split("/p2p/").next().unwrap().to_owned())
        .collect();
    node.shutdown().await;
    config
}

async fn restart(node: NodeHandle) -> NodeHandle {
    Node::start(stop(node).await).await.unwrap()
}

/// Waits until `node`'s outbox is empty.
async fn outbox_drained(node: &NodeHandle, what: &str) {
    let mail = node.mail().clone();
    let mut deliveries = mail.deliveries();
    let drained = tokio::time::timeout(DEADLINE, async {
        while mail.depth().unwrap() > 0 {
            deliveries.changed().await.unwrap();
        }
    })
    .await;
    assert!(
        drained.is_ok(),
        "{what}: {} messages still wait",
        mail.depth().unwrap()
    );
}

fn user() -> HomeUser {
    HomeUser {
        user_id: "wang".into(),
        ..researcher(1)
    }
}

/// 09:00 (Shanghai) `days` from now.
fn nine_oclock_in(days: i64) -> i64 {
    midnight_in(days) + 9 * 3600
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_waits_out_a_restart_and_a_refused_one_is_a_dead_letter() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    owner_instrument(&dlut).await;
    bookable_now(&dlut).await;
    wait_catalogue(&neu, "neu sees dlut/XPS-1", |c| {
        c.instrument_unfiltered("dlut/XPS-1").is_some()
    })
    .await;
    wait_connected(&neu, "dlut").await;
    // b-done begins within a minute (it is completed once begun), b-cancel in 4 days.
    let start = next_minute();
    for (id, at) in [("b-done", start), ("b-cancel", nine_oclock_in(4))] {
        neu.bookings()
            .book(&user(), &xps_ask(at, 1), id.into())
            .await
            .unwrap();
    }
    until(start).await;
    let neu_id = "neu".parse().unwrap();

    // The owner's side, with the home and the province down: a completion (its update
    // and its receipt to neu), statistics to the province, and a receipt naming another
    // institution's instrument, which neu will refuse.
    let neu = stop(neu).await;
    let province = stop(province).await;
    let facts = SessionFacts {
        start: UnixTime(start),
        end: UnixTime(start + 3_600),
        preparation_minutes: 10,
        test_minutes: 40,
        post_processing_minutes: 10,
        samples: 1,
        note: "正常完成".into(),
    };
    let (_, signed) = dlut
        .bookings()
        .complete(&neu_id, "b-done", facts, "manager")
        .await
        .unwrap();
    let receipt = alliance_protocol::receipt::UsageReceipt::open(
        &signed,
        &dlut.certificate().node_public_key,
    )
    .unwrap();
    assert!(
        dlut.bookings()
            .queue_statistics(UnixTime::now())
            .await
            .unwrap()
    );
    let mut planted = receipt.clone();
    planted.receipt_id = "planted-1".into();
    planted.institution_id = "imr".parse().unwrap();
    dlut.mail()
        .queue(&neu_id, "planted", 0, planted.seal(&node_key(&dlut)))
        .await
        .unwrap();
    assert_eq!(
        dlut.mail().depth().unwrap(),
        4,
        "update, receipt, statistics, planted"
    );

    // The owner restarts with its mail waiting; the others come back.
    let dlut = restart(dlut).await;
    assert_eq!(
        dlut.mail().depth().unwrap(),
        4,
        "the outbox survives a restart"
    );
    let province = Node::start(province).await.unwrap();
    let neu = Node::start(neu).await.unwrap();
    outbox_drained(&dlut, "the owner's mail").await;

    let held = neu.receipts().of_user("wang").unwrap();
    assert_eq!(held.len(), 1, "the receipt, not the planted one");
    assert_eq!(held[0].receipt, receipt);
    let done = neu.bookings().home().get("b-done").unwrap().unwrap();
    assert_eq!(done.state, BookingState::Completed, "the owner's update");
    // Any time at all: what matters is that the report arrived.
    let always = alliance_node::evaluation::metrics::Period {
        from: UnixTime(0),
        to: UnixTime(i64::from(u32::MAX)),
    };
    assert!(
        province
            .receipts()
            .statistics()
            .of_instrument("dlut/XPS-1", &always)
            .unwrap()
            .requests
            >= 2,
        "the statistics reached the province"
    );
    let dead = dlut.mail().dead_letters(0, 10).unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].to, neu_id);
    assert_eq!(dead[0].kind, Domain::RECEIPT.0);
    assert_eq!(dead[0].code, "not_yours");
    assert!(
        dead[0].reason.contains("from its owner"),
        "{}",
        dead[0].reason
    );
    // Its managers see it through the API, as the page does.
    dlut.accounts()
        .create(NewAccount {
            username: "manager".into(),
            password: PASSWORD.into(),
            display_name: "仪器管理员".into(),
            role: AccountRole::InstrumentManager,
            organization: "大连理工大学".into(),
            email: String::new(),
            phone: String::new(),
        })
        .await
        .unwrap();
    let manager = http::client();
    let signed = http::sign_in(&manager, &dlut, "manager", PASSWORD).await;
    assert!(signed.status().is_success(), "{}", signed.status());
    let page = http::get_json(
        &manager,
        &format!("{}api/v1/manage/dead-letters", dlut.url()),
    )
    .await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["letters"][0]["to"], neu_id.as_str());
    assert_eq!(page["letters"][0]["code"], "not_yours");

    // The home's side, with the owner and the province down: a confirmation, a cancel
    // and a publication.
    let dlut = stop(dlut).await;
    let province = stop(province).await;
    wait_state(&neu, "neu alone", |s| s.members.is_empty()).await;
    neu.receipts()
        .confirm(
            "wang",
            &"dlut".parse().unwrap(),
            &receipt.receipt_id,
            Verdict::Confirmed {
                rating: 5,
                comment: "很好".into(),
            },
        )
        .await
        .unwrap();
    neu.bookings()
        .cancel("wang", "b-cancel", "计划有变")
        .await
        .unwrap();
    neu.receipts()
        .register_publication(Publication {
            publication_id: "p-xps-1".into(),
            home_institution: neu_id.clone(),
            user_id: "wang".into(),
            kind: PublicationKind::Paper,
            title: "Surface oxidation of Ti-6Al-4V studied by XPS".into(),
            authors: "王小明".into(),
            identifier: "10.1016/j.apsusc.2026.160001".into(),
            acknowledgement: "感谢大连理工大学分析测试中心".into(),
            instruments: vec!["dlut/XPS-1".into()],
            published_on: "2026-09-01".into(),
            registered_at: UnixTime::now(),
        })
        .await
        .unwrap();
    assert_eq!(
        neu.mail().depth().unwrap(),
        3,
        "confirmation, cancel, publication"
    );

    let neu = restart(neu).await;
    assert_eq!(
        neu.mail().depth().unwrap(),
        3,
        "the outbox survives a restart"
    );
    let province = Node::start(province).await.unwrap();
    let dlut = Node::start(dlut).await.unwrap();
    outbox_drained(&neu, "the home's mail").await;

    let issued = dlut
        .receipts()
        .issued_receipt(&receipt.receipt_id)
        .unwrap()
        .unwrap();
    assert!(
        matches!(issued.standing, Standing::Confirmed { .. }),
        "{:?}",
        issued.standing
    );
    let cancelled = dlut
        .bookings()
        .ledger()
        .booking(&neu_id, "b-cancel")
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.state, BookingState::Cancelled);
    assert_eq!(
        province
            .receipts()
            .publications()
            .count("dlut/XPS-1", &always)
            .unwrap(),
        1
    );
    assert!(neu.mail().dead_letters(0, 10).unwrap().is_empty());

    neu.shutdown().await;
    dlut.shutdown().await;
    province.shutdown().await;
}
