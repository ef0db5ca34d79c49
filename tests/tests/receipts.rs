//! Usage receipts between real nodes on loopback: the owner issues, the user's home
//! confirms, the province logs, and the owner holds a proof it verified.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::{
    NodeHandle,
    booking::service::{BookingAsk, HomeUser, SessionFacts},
    receipts::issued::Standing,
};
use alliance_protocol::{
    ServiceMode, UnixTime, UserTier,
    receipt::{ReceiptSubmission, UsageReceipt},
    transparency::{TreeHead, verify_inclusion},
};
use alliance_tests::*;

async fn owner_instrument(owner: &NodeHandle) {
    let mut record = sample_record("dlut", "XPS-1", "X射线光电子能谱仪");
    record.opening_hours = "每天 全天".into();
    record.service_modes = vec![ServiceMode::StaffRun];
    owner.catalogue().save_record(record).await.unwrap();
}

async fn province_knows_instrument(province: &NodeHandle) {
    wait_catalogue(province, "the province sees dlut/XPS-1", |c| {
        c.instrument_unfiltered("dlut/XPS-1").is_some()
    })
    .await;
}

async fn wait_connected(node: &NodeHandle, to: &str) {
    let label = format!("{} sees {to}", node.config().node.institution_id);
    wait_state(node, &label, |s| {
        connected_institutions(s).iter().any(|i| i == to)
    })
    .await;
}

/// 09:00 (Shanghai) three days from now: a slot every rule allows.
fn hour_in_three_days() -> i64 {
    let now = UnixTime::now().0;
    let local_midnight = now - (now + 8 * 3600).rem_euclid(86_400);
    local_midnight + 3 * 86_400 + 9 * 3600
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
    wait_connected(&neu, "dlut").await;
    province_knows_instrument(&province).await;

    // A researcher of neu books; the owner's manager completes the booking.
    let start = hour_in_three_days();
    let user = HomeUser {
        user_id: "wang".into(),
        display_name: "王小明".into(),
        email: String::new(),
        tier: UserTier::AllianceMember,
    };
    let ask = BookingAsk {
        instrument_id: "dlut/XPS-1".into(),
        start: UnixTime(start),
        end: UnixTime(start + 7_200),
        mode: ServiceMode::StaffRun,
        samples: 2,
        purpose: "表面分析".into(),
    };
    neu.bookings()
        .book(&user, &ask, "b-receipt-1".to_owned())
        .await
        .unwrap();
    let neu_id = "neu".parse().unwrap();
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

    // The receipt reaches the user's home, where the user confirms and rates it.
    wait_receipts(&neu, "neu holds the receipt", |r| {
        r.of_user("wang").unwrap().len() == 1
    })
    .await;
    let held = neu.receipts().of_user("wang").unwrap();
    assert_eq!(held[0].receipt, receipt);
    neu.receipts()
        .confirm(
            "wang",
            &"dlut".parse().unwrap(),
            &receipt.receipt_id,
            5,
            "数据很好",
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

    neu.shutdown().await;
    owner.shutdown().await;
    province.shutdown().await;
}
