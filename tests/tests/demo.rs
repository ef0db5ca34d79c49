//! The demo alliance: `alliance demo` sets up a province and three members with
//! instruments, accounts and, on first start, bookings made over the network.

use alliance_node::{booking::state::BookingState, demo};
use alliance_tests::{DEADLINE, trace};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_starts_with_bookings_across_institutions_some_awaiting_approval() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let demo = demo::start(dir.path()).await.unwrap();
    let members = &demo.nodes[1..];
    assert_eq!(members.len(), 3);

    // Each member's researcher books two instruments of each other member and its firm
    // one: 3 × 2 × 3 = 18 bookings, each answered by its owner.
    let answered = |node: &alliance_node::NodeHandle| {
        node.bookings()
            .home()
            .all()
            .unwrap()
            .into_iter()
            .filter(|b| b.state != BookingState::Requested)
            .count()
    };
    let mut changes: Vec<_> = members
        .iter()
        .map(|n| n.bookings().home().changes())
        .collect();
    let seeded = tokio::time::timeout(DEADLINE * 3, async {
        loop {
            if members.iter().all(|n| answered(n) == 6) {
                return;
            }
            let (changed, _, _) =
                futures::future::select_all(changes.iter_mut().map(|c| Box::pin(c.changed())))
                    .await;
            if changed.is_err() {
                // A member stopped: the counts below say how far it got.
                return;
            }
        }
    })
    .await;
    let counts: Vec<usize> = members.iter().map(answered).collect();
    assert!(seeded.is_ok(), "answered bookings per member: {counts:?}");

    for node in members {
        let own = &node.config().node.institution_id;
        let bookings = node.bookings().home().all().unwrap();
        // Every booking is of another member's instrument.
        assert!(bookings.iter().all(|b| &b.owner != own), "{bookings:?}");
        let researcher = format!("{own}-researcher");
        assert_eq!(
            bookings
                .iter()
                .filter(|b| b.user_id == researcher && b.state == BookingState::Confirmed)
                .count(),
            4
        );
        // The owners hold the firms' requests for their managers' approval.
        let held = node
            .bookings()
            .ledger()
            .all()
            .unwrap()
            .into_iter()
            .filter(|b| b.state == BookingState::Held)
            .count();
        assert_eq!(held, 2, "held at {own}");
    }
    demo.shutdown().await;
}
