//! The home's indexes: each user's bookings, and those not over by state.
#![allow(clippy::unwrap_used)]

use alliance_protocol::{
    FeeComponents, UserTier,
    booking::{BookingAnswer, Outcome},
    quote::Quote,
};

use super::*;
use crate::store::time_index::Span;

fn asked(id: &str, user: &str, start: i64) -> HomeBooking {
    HomeBooking {
        booking_id: id.into(),
        owner: "dlut".parse().unwrap(),
        local_id: "XPS-1".into(),
        start: UnixTime(start),
        end: UnixTime(start + 3600),
        user_id: user.into(),
        mode: ServiceMode::StaffRun,
        samples: 1,
        purpose: String::new(),
        state: BookingState::Requested,
        version: 0,
        quote_fen: 0,
        hold_until: None,
        note: String::new(),
        request: Vec::new(),
        updated_at: UnixTime(start - 86_400),
    }
}

fn answer(id: &str, outcome: Outcome) -> BookingAnswer {
    BookingAnswer {
        booking_id: id.into(),
        outcome,
        quote: Quote {
            tier: UserTier::AllianceMember,
            lines: Vec::new(),
            total: FeeComponents::default(),
        },
        answered_at: UnixTime(1),
    }
}

fn ids(home: &HomeLedger, user: &str, span: Span, offset: usize) -> Vec<String> {
    home.page_of(user, span, offset, 10)
        .unwrap()
        .into_iter()
        .map(|b| b.booking_id)
        .collect()
}

#[tokio::test]
async fn each_user_pages_their_own_bookings_latest_first_without_refused_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let day = 1_800_000_000;
    {
        let home = HomeLedger::open(Store::open(dir.path()).unwrap()).unwrap();
        for (id, user, start) in [
            ("a1", "li", day),
            ("a2", "li", day + 86_400),
            ("a3", "li", day + 2 * 86_400),
            ("refused", "li", day + 3 * 86_400),
            ("unanswered", "li", day + 4 * 86_400),
            ("b1", "wang", day),
        ] {
            home.requested(&asked(id, user, start)).await.unwrap();
        }
        home.answered(&answer("a1", Outcome::Confirmed))
            .await
            .unwrap();
        let conflict = Outcome::Conflict {
            nearest_free: Vec::new(),
        };
        home.answered(&answer("refused", conflict)).await.unwrap();
        home.forget_unanswered("unanswered").await.unwrap();

        let all = (None, None);
        assert_eq!(ids(&home, "li", all, 0), ["a3", "a2", "a1"]);
        assert_eq!(home.count_of("li", all).unwrap(), 3);
        assert_eq!(ids(&home, "wang", all, 0), ["b1"]);
        assert_eq!(ids(&home, "li", all, 1), ["a2", "a1"]);
        let second_day = (Some(UnixTime(day + 86_400)), Some(UnixTime(day + 86_400)));
        assert_eq!(ids(&home, "li", second_day, 0), ["a2"]);
        assert_eq!(home.count_of("li", second_day).unwrap(), 1);

        // The inbox pages from its newest end: the pages add up to the whole list.
        let whole = home.notifications("li").unwrap();
        assert_eq!(whole.len(), 2, "an answer each");
        let (total, first) = home.notifications_page("li", 0, 1).unwrap();
        let (_, second) = home.notifications_page("li", 1, 5).unwrap();
        assert_eq!(total, 2);
        assert_eq!([first, second].concat(), whole);
        assert_eq!(home.notifications_page("wang", 0, 5).unwrap().0, 0);
    }
    // Bookings kept before the index existed are filed when the ledger opens.
    let store = Store::open(dir.path()).unwrap();
    let mut batch = Batch::new();
    for key in store
        .keys_with_prefix(Space::HomeBookingsByUser, b"")
        .unwrap()
    {
        batch.delete(Space::HomeBookingsByUser, key);
    }
    batch.delete(Space::Meta, b"home_bookings_by_user_indexed".to_vec());
    store.commit(batch).await.unwrap();
    let home = HomeLedger::open(store).unwrap();
    assert_eq!(ids(&home, "li", (None, None), 0), ["a3", "a2", "a1"]);
}

#[tokio::test]
async fn bookings_not_over_are_found_by_state_and_leave_the_index_when_over() {
    let dir = tempfile::tempdir().unwrap();
    let day = 1_800_000_000;
    let home = HomeLedger::open(Store::open(dir.path()).unwrap()).unwrap();
    for (id, start) in [("soon", day), ("later", day + 86_400), ("lost", day + 3600)] {
        home.requested(&asked(id, "li", start)).await.unwrap();
    }
    let ids = |state, span: Span| -> Vec<String> {
        home.in_state(state, span, 10)
            .unwrap()
            .into_iter()
            .map(|b| b.booking_id)
            .collect()
    };
    let all = (None, None);
    assert_eq!(ids(BookingState::Requested, all), ["soon", "lost", "later"]);
    home.answered(&answer("soon", Outcome::Confirmed))
        .await
        .unwrap();
    home.answered(&answer("later", Outcome::Confirmed))
        .await
        .unwrap();
    home.forget_unanswered("lost").await.unwrap();
    assert!(ids(BookingState::Requested, all).is_empty());
    assert_eq!(ids(BookingState::Confirmed, all), ["soon", "later"]);
    // The day before: only the booking starting within it.
    let tomorrow = (Some(UnixTime(day - 86_400)), Some(UnixTime(day)));
    assert_eq!(ids(BookingState::Confirmed, tomorrow), ["soon"]);
    // Over, it leaves: an owner's cancel.
    let update = alliance_protocol::booking::BookingUpdate {
        booking_id: "later".into(),
        home_institution: "neu".parse().unwrap(),
        institution_id: "dlut".parse().unwrap(),
        local_id: "XPS-1".into(),
        status: alliance_protocol::booking::BookingStatus::Cancelled,
        version: 2,
        by: "manager@dlut".into(),
        note: "维修".into(),
        at: UnixTime(2),
    };
    home.updated(&update).await.unwrap();
    assert_eq!(ids(BookingState::Confirmed, all), ["soon"]);
    assert_eq!(home.not_over(10).unwrap().len(), 1);
    assert!(
        ids(BookingState::Cancelled, all).is_empty(),
        "over is not listed"
    );

    // Bookings kept before the index existed are filed when the ledger opens.
    drop(home);
    let store = Store::open(dir.path()).unwrap();
    let mut batch = Batch::new();
    for key in store
        .keys_with_prefix(Space::HomeBookingsByState, b"")
        .unwrap()
    {
        batch.delete(Space::HomeBookingsByState, key);
    }
    batch.delete(Space::Meta, b"home_bookings_by_state_indexed".to_vec());
    store.commit(batch).await.unwrap();
    let home = HomeLedger::open(store).unwrap();
    let confirmed: Vec<String> = home
        .in_state(BookingState::Confirmed, all, 10)
        .unwrap()
        .into_iter()
        .map(|b| b.booking_id)
        .collect();
    assert_eq!(confirmed, ["soon"]);
}
