//! Load across real hosts: a member that floods the province's log with reads, and
//! many bookings at once over links that lose packets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alliance_protocol::rpc::{Hello, Request, Response};
use alliance_tests::{DEADLINE, multihost::Alliance, node_api::*, rogue::Rogue, trace};

/// How the province answered the flood.
#[derive(Debug, Default)]
struct Answers {
    proofs: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_flooding_the_log_with_proof_requests_delays_no_one_elses_receipt() {
    trace();
    let alliance = Alliance::start_with(2, 1).await;
    let (dlut, neu) = (&alliance.members[0], &alliance.members[1]);
    for node in [dlut, neu] {
        alliance.add_user(node, "staff", "researcher");
        publish(node, "XPS-1", &format!("{} 能谱仪", node.name)).await;
    }
    let ids: Vec<(String, String)> = [dlut, neu]
        .iter()
        .map(|m| (format!("{}/XPS-1", m.name), format!("{} 能谱仪", m.name)))
        .collect();
    converge(&[&alliance.province], &ids, DEADLINE * 2).await;
    // A log of twenty receipts to ask proofs about.
    for n in 0..20 {
        walk_in(dlut, n).await;
    }
    confirm_all(dlut).await;
    until("dlut's receipts are logged", DEADLINE * 2, || async {
        proven(dlut).await == 20
    })
    .await;

    // The spare institution is certified; a hand-driven peer acts as it.
    retried("certify the flooder", || alliance.certify_spare(0)).await;
    let (key, certificate, _, _) = alliance.spares[0].identity();
    let (_, _, province_addr, province) = alliance.province.identity();
    let hello = Hello {
        certificate,
        roster_version: 0,
        head: Vec::new(),
    };
    let flooder =
        Arc::new(Rogue::start(&key, hello, vec![(province_addr, province)], vec![]).await);

    // 200 requests in flight at every moment, for 60 seconds.
    let answers = Arc::new(Answers::default());
    let flood_ends = Instant::now() + Duration::from_secs(60);
    let mut askers = Vec::new();
    for n in 0..200u64 {
        let (flooder, answers) = (flooder.clone(), answers.clone());
        askers.push(tokio::spawn(async move {
            let mut first = 1 + n % 19;
            while Instant::now() < flood_ends {
                let request = Request::LogConsistency { first, second: 20 };
                let counter = match flooder.ask(province, request).await {
                    Some(Response::LogConsistency(_)) => &answers.proofs,
                    Some(Response::Error(e)) if e.code == "busy" => &answers.busy,
                    _ => &answers.other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                first = 1 + (first + 7) % 19;
            }
        }));
    }

    // With the flood in full swing, neu's receipt is logged within ten seconds.
    until("the flood is in full swing", DEADLINE, || async {
        answers.proofs.load(Ordering::Relaxed) + answers.busy.load(Ordering::Relaxed) >= 1_000
    })
    .await;
    walk_in(neu, 0).await;
    let confirmed = Instant::now();
    confirm_all(neu).await;
    until(
        "neu's receipt is logged during the flood",
        Duration::from_secs(10),
        || async { proven(neu).await == 1 },
    )
    .await;
    let took = confirmed.elapsed();
    assert!(
        Instant::now() < flood_ends,
        "the flood ended before neu's receipt was logged"
    );
    for asker in askers {
        asker.await.unwrap();
    }
    let (proofs, busy, other) = (
        answers.proofs.load(Ordering::Relaxed),
        answers.busy.load(Ordering::Relaxed),
        answers.other.load(Ordering::Relaxed),
    );
    eprintln!("flood: {proofs} proofs, {busy} busy, {other} other; neu's receipt in {took:?}");
    // The flood was real: the province answered it, at its own pace.
    assert!(proofs > 0 && busy > 0, "{proofs} proofs, {busy} busy");
    Arc::into_inner(flooder).unwrap().stop();
}
