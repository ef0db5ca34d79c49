#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_protocol::{
    FeeComponents, FeeUnit, InstrumentStatus, ServiceMode, SharingScope, UserTier,
    booking::BookingUser,
};

use super::*;
use crate::booking::rules::RulesCheck;
use crate::catalogue::schedule::{self, Week};

/// 2026-12-01 00:00 in Shanghai.
const DAY: i64 = 1_796_054_400;
const HOUR: i64 = 3600;

fn at(hours: i64) -> UnixTime {
    UnixTime(DAY + hours * HOUR)
}

fn fees() -> Vec<FeeItem> {
    vec![FeeItem {
        item_zh: "上机测试".into(),
        item_en: "Machine time".into(),
        unit: FeeUnit::Hour,
        own_institution: FeeComponents::default(),
        alliance_member: FeeComponents {
            materials_fen: 0,
            operating_fen: 6_000,
            labour_fen: 4_000,
        },
        outside_academic: FeeComponents::default(),
        enterprise: FeeComponents {
            materials_fen: 2_000,
            operating_fen: 12_000,
            labour_fen: 10_000,
        },
    }]
}

struct Fixture {
    rules: BookingRules,
    open: Week,
    fees: Vec<FeeItem>,
    strikes: u32,
    now: UnixTime,
}

impl Fixture {
    /// The default rules but for quotas no test here reaches unless it sets them.
    fn new() -> Fixture {
        Fixture {
            rules: BookingRules {
                max_active_per_user: 10_000,
                max_active_per_home: 10_000,
                max_holds_per_home: 10_000,
                ..BookingRules::default()
            },
            strikes: 0,
            open: schedule::parse("每天 全天"),
            fees: fees(),
            // The day before.
            now: UnixTime(DAY - 12 * HOUR),
        }
    }

    fn context(&self) -> RequestContext<'_> {
        RequestContext {
            rules: &self.rules,
            facts: InstrumentFacts {
                status: InstrumentStatus::InService,
                scope: SharingScope::OpenToSociety,
                modes: &[ServiceMode::SelfOperated, ServiceMode::StaffRun],
                open: &self.open,
            },
            fees: &self.fees,
            trained: true,
            strikes: self.strikes,
            now: self.now,
        }
    }
}

fn request(id: &str, start: UnixTime, end: UnixTime, tier: UserTier) -> BookingRequest {
    BookingRequest {
        booking_id: id.into(),
        institution_id: "dlut".parse().unwrap(),
        local_id: "XPS-1".into(),
        start,
        end,
        user: BookingUser {
            user_id: format!("user-{id}"),
            display_name: "王小明".into(),
            home_institution: "neu".parse().unwrap(),
            tier,
            email: String::new(),
        },
        mode: ServiceMode::StaffRun,
        samples: 2,
        purpose: String::new(),
        service_item: String::new(),
        sent_at: UnixTime(DAY - 12 * HOUR),
    }
}

fn open_ledger(dir: &std::path::Path) -> (Ledger, SecretKey) {
    let key = SecretKey::generate();
    (
        Ledger::open(
            Store::open(dir).expect("the store opens"),
            key.clone(),
            "dlut".parse().unwrap(),
        )
        .expect("the ledger opens"),
        key,
    )
}

fn neu() -> InstitutionId {
    "neu".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_overlapping_requests_never_share_a_slot_and_all_get_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, key) = open_ledger(dir.path());
    let fixture = Arc::new(Fixture::new());
    // 50 requests of 1 to 3 hours, starting on the half hour between 08:00 and 14:00:
    // many overlap.
    let mut tasks = Vec::new();
    for n in 0..50i64 {
        let ledger = ledger.clone();
        let fixture = fixture.clone();
        let tier = if n % 3 == 0 {
            UserTier::Enterprise
        } else {
            UserTier::AllianceMember
        };
        tasks.push(tokio::spawn(async move {
            let start = UnixTime(at(8).0 + (n * 7 % 13) * 1800);
            let end = UnixTime(start.0 + (1 + n % 3) * HOUR);
            let r = request(&format!("b{n}"), start, end, tier);
            ledger.request(&r, &fixture.context()).await.map(|a| (r, a))
        }));
    }
    let mut taken: Vec<Slot> = Vec::new();
    let mut answered = 0;
    for task in tasks {
        let (request, answered_now) = task
            .await
            .expect("the request task ends")
            .expect("every request gets an answer");
        answered += 1;
        // Every answer is signed by the owner and is about its request.
        let read = BookingAnswer::open(&answered_now.signed, &key.public()).unwrap();
        assert_eq!(read.booking_id, request.booking_id);
        if matches!(read.outcome, Outcome::Held { .. } | Outcome::Confirmed) {
            taken.push(request.slot());
        }
    }
    assert_eq!(answered, 50);
    // Which requests win depends on their order: two 3-hour slots can fill the span, so
    // at least two fit, not necessarily three.
    assert!(taken.len() >= 2, "some requests must succeed: {taken:?}");
    for (i, a) in taken.iter().enumerate() {
        for b in &taken[i + 1..] {
            assert!(
                a.end.0 <= b.start.0 || b.end.0 <= a.start.0,
                "{a:?} overlaps {b:?}"
            );
        }
    }
    // The calendar on disk says the same after a restart.
    drop(ledger);
    let (reopened, _) = open_ledger(dir.path());
    assert_eq!(reopened.taken("XPS-1").await.unwrap().len(), taken.len());
}

#[tokio::test]
async fn a_retried_request_gets_the_same_answer_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let fixture = Fixture::new();
    let r = request("same", at(9), at(10), UserTier::AllianceMember);
    let first = ledger.request(&r, &fixture.context()).await.unwrap();
    assert_eq!(first.answer.outcome, Outcome::Confirmed);
    // 60 + 40 yuan for one hour at the member price.
    assert_eq!(first.answer.quote.total.total_fen(), 10_000);
    let mut later = Fixture::new();
    later.now = UnixTime(later.now.0 + 600);
    let again = ledger.request(&r, &later.context()).await.unwrap();
    assert_eq!(again.signed, first.signed);
    assert_eq!(ledger.taken("XPS-1").await.unwrap().len(), 1);
    // The same id for a different slot is a client bug, not a new booking.
    let other = request("same", at(11), at(12), UserTier::AllianceMember);
    assert!(matches!(
        ledger.request(&other, &fixture.context()).await,
        Err(LedgerError::IdReused(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_racing_the_first_write_get_its_answer_and_a_reused_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let fixture = Arc::new(Fixture::new());
    // The same request sent ten times at once, and the same id for other slots of this and
    // another instrument: whichever comes first, every copy of the request gets one answer
    // and the other slots are refused, while the first write may still be in flight.
    let mut copies = Vec::new();
    let mut reused = Vec::new();
    for n in 0..10 {
        let (l, f) = (ledger.clone(), fixture.clone());
        copies.push(tokio::spawn(async move {
            let r = request("raced", at(9), at(10), UserTier::AllianceMember);
            l.request(&r, &f.context()).await
        }));
        let (l, f) = (ledger.clone(), fixture.clone());
        reused.push(tokio::spawn(async move {
            let mut r = request("raced", at(11), at(12), UserTier::AllianceMember);
            if n % 2 == 0 {
                r.local_id = "NMR-2".into();
            }
            l.request(&r, &f.context()).await
        }));
    }
    let mut answers = Vec::new();
    for copy in copies {
        if let Ok(answered) = copy.await.unwrap() {
            answers.push(answered.signed);
        }
    }
    let reused_accepted = {
        let mut accepted = 0;
        for r in reused {
            if r.await.unwrap().is_ok() {
                accepted += 1;
            }
        }
        accepted
    };
    // Either the request won the id (all ten copies answered alike) or another slot did
    // (its copies all succeed and every copy of the request is refused).
    if answers.is_empty() {
        assert!(reused_accepted > 0);
    } else {
        assert_eq!(answers.len(), 10, "a copy of the request was refused");
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "copies got different answers"
        );
        assert_eq!(reused_accepted, 0, "the id was used for two slots");
    }
    let bookings = ledger.all().unwrap();
    assert_eq!(bookings.len(), 1, "{bookings:?}");
    let slots =
        ledger.taken("XPS-1").await.unwrap().len() + ledger.taken("NMR-2").await.unwrap().len();
    assert_eq!(slots, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_stops_waiting_leaves_a_consistent_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let fixture = Fixture::new();
    let r = request("dropped", at(9), at(10), UserTier::AllianceMember);
    // Give up on the first attempt at every point it can stop, then retry: the retry gets
    // one answer and the slot is taken exactly once.
    for polls in 0..8 {
        let context = fixture.context();
        let attempt = ledger.request(&r, &context);
        let mut attempt = std::pin::pin!(attempt);
        for _ in 0..polls {
            // A finished attempt is not polled again (that would be a misuse of the
            // future, not a caller giving up).
            if futures::poll!(attempt.as_mut()).is_ready() {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    let answered = ledger.request(&r, &fixture.context()).await.unwrap();
    assert_eq!(answered.answer.outcome, Outcome::Confirmed);
    assert_eq!(
        ledger.request(&r, &fixture.context()).await.unwrap().signed,
        answered.signed
    );
    assert_eq!(ledger.taken("XPS-1").await.unwrap().len(), 1);
    let overlapping = request("other", at(9), at(10), UserTier::AllianceMember);
    assert!(matches!(
        ledger
            .request(&overlapping, &fixture.context())
            .await
            .unwrap()
            .answer
            .outcome,
        Outcome::Conflict { .. }
    ));
}

#[tokio::test]
async fn a_conflict_offers_the_nearest_free_slots() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let fixture = Fixture::new();
    let first = request("a", at(9), at(11), UserTier::AllianceMember);
    ledger.request(&first, &fixture.context()).await.unwrap();
    let clash = request("b", at(10), at(11), UserTier::AllianceMember);
    let answer = ledger
        .request(&clash, &fixture.context())
        .await
        .unwrap()
        .answer;
    let Outcome::Conflict { nearest_free } = answer.outcome else {
        panic!("expected a conflict, got {:?}", answer.outcome);
    };
    // One hour each, nearest the asked 10:00 first, none touching 09:00–11:00.
    let starts: Vec<UnixTime> = nearest_free.iter().map(|s| s.start).collect();
    assert_eq!(starts, [at(11), UnixTime(at(11).0 + 1800), at(8)]);
    assert!(nearest_free.iter().all(|s| s.end.0 - s.start.0 == HOUR));
    // Each is free: the first is taken at once when asked for.
    let r = request(
        "alt",
        nearest_free[0].start,
        nearest_free[0].end,
        UserTier::AllianceMember,
    );
    assert_eq!(
        ledger
            .request(&r, &fixture.context())
            .await
            .unwrap()
            .answer
            .outcome,
        Outcome::Confirmed
    );
}

#[tokio::test]
async fn a_cancel_that_arrives_first_refuses_the_late_request() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let fixture = Fixture::new();
    let outcome = ledger
        .cancel(
            &neu(),
            "early",
            "XPS-1",
            &fixture.rules,
            "user-early@neu",
            fixture.now,
        )
        .await
        .unwrap();
    assert_eq!(outcome, CancelOutcome::Remembered);
    let late = request("early", at(9), at(10), UserTier::AllianceMember);
    let answer = ledger
        .request(&late, &fixture.context())
        .await
        .unwrap()
        .answer;
    assert!(matches!(answer.outcome, Outcome::Rejected { ref code, .. } if code == "cancelled"));
    assert!(ledger.taken("XPS-1").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_confirmed_booking_cannot_be_cancelled_after_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let fixture = Fixture::new();
    let r = request("c", at(9), at(10), UserTier::AllianceMember);
    ledger.request(&r, &fixture.context()).await.unwrap();
    // 12 hours before the start; the deadline is 24.
    let late = ledger
        .cancel(
            &neu(),
            "c",
            "XPS-1",
            &fixture.rules,
            "user-c@neu",
            fixture.now,
        )
        .await;
    assert!(matches!(late, Err(LedgerError::TooLate)));
    let lenient = BookingRules {
        cancel_deadline_hours: 2,
        ..BookingRules::default()
    };
    let done = ledger
        .cancel(&neu(), "c", "XPS-1", &lenient, "user-c@neu", fixture.now)
        .await
        .unwrap();
    let CancelOutcome::Cancelled(booking) = done else {
        panic!("expected a cancellation");
    };
    assert_eq!(booking.state, BookingState::Cancelled);
    assert_eq!(booking.history.len(), 2);
    assert_eq!(booking.history[1].by, "user-c@neu");
    // The slot is free again.
    let next = request("d", at(9), at(10), UserTier::AllianceMember);
    assert_eq!(
        ledger
            .request(&next, &fixture.context())
            .await
            .unwrap()
            .answer
            .outcome,
        Outcome::Confirmed
    );
}

#[tokio::test]
async fn a_hold_survives_a_restart_and_lapses_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new();
    let until = {
        let (ledger, _) = open_ledger(dir.path());
        let r = request("firm", at(9), at(10), UserTier::Enterprise);
        let answer = ledger.request(&r, &fixture.context()).await.unwrap().answer;
        let Outcome::Held { until } = answer.outcome else {
            panic!("a firm's request waits for approval");
        };
        until
    };
    let (ledger, _) = open_ledger(dir.path());
    assert_eq!(ledger.next_hold_expiry(), Some(until));
    // Still held just before it lapses: the slot is taken.
    assert!(
        ledger
            .expire_holds(UnixTime(until.0 - 1))
            .await
            .unwrap()
            .is_empty()
    );
    let clash = request("member", at(9), at(10), UserTier::AllianceMember);
    assert!(matches!(
        ledger
            .request(&clash, &fixture.context())
            .await
            .unwrap()
            .answer
            .outcome,
        Outcome::Conflict { .. }
    ));
    let expired = ledger.expire_holds(until).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].state, BookingState::Cancelled);
    assert_eq!(expired[0].history.last().unwrap().note, "hold expired");
    assert_eq!(ledger.next_hold_expiry(), None);
    assert!(ledger.taken("XPS-1").await.unwrap().is_empty());
}

#[tokio::test]
async fn managers_decide_only_what_a_state_allows() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let fixture = Fixture::new();
    let r = request("h", at(9), at(10), UserTier::Enterprise);
    ledger.request(&r, &fixture.context()).await.unwrap();
    let approved = ledger
        .decide(
            &neu(),
            "h",
            ManagerDecision::Approve,
            "manager@dlut",
            "",
            fixture.now,
        )
        .await
        .unwrap();
    assert_eq!(approved.state, BookingState::Confirmed);
    assert_eq!(approved.hold_until, None);
    assert_eq!(ledger.next_hold_expiry(), None);
    let again = ledger
        .decide(
            &neu(),
            "h",
            ManagerDecision::Approve,
            "manager@dlut",
            "",
            fixture.now,
        )
        .await;
    assert!(matches!(
        again,
        Err(LedgerError::InvalidTransition {
            from: BookingState::Confirmed,
            ..
        })
    ));
    let done = ledger
        .decide(
            &neu(),
            "h",
            ManagerDecision::NoShow,
            "manager@dlut",
            "未到",
            fixture.now,
        )
        .await
        .unwrap();
    assert_eq!(done.state, BookingState::NoShow);
    let states: Vec<BookingState> = done.history.iter().map(|e| e.to).collect();
    assert_eq!(
        states,
        [
            BookingState::Held,
            BookingState::Confirmed,
            BookingState::NoShow
        ]
    );
    assert!(matches!(
        ledger
            .decide(
                &neu(),
                "nope",
                ManagerDecision::Approve,
                "m",
                "",
                fixture.now
            )
            .await,
        Err(LedgerError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_request_that_breaks_a_rule_is_refused_with_its_reason_and_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let mut fixture = Fixture::new();
    fixture.open = schedule::parse("周一至周五 8:00-17:00");
    let night = request("n", at(20), at(21), UserTier::AllianceMember);
    let first = ledger.request(&night, &fixture.context()).await.unwrap();
    assert!(matches!(
        first.answer.outcome,
        Outcome::Rejected { ref code, .. } if code == "outside_opening_hours"
    ));
    // Asked again once the hours changed: still the first answer (idempotency).
    fixture.open = schedule::parse("每天 全天");
    let again = ledger.request(&night, &fixture.context()).await.unwrap();
    assert_eq!(again.signed, first.signed);
}

/// Every step of the window, nearest first, earlier first on a tie: what the jumping
/// search must find.
fn nearest_free_by_every_step(
    context: &RequestContext<'_>,
    calendar: &Calendar,
    asked: &Proposal,
) -> Vec<Slot> {
    let step = i64::from(context.rules.granularity_minutes) * 60;
    let length = asked.slot.end.0 - asked.slot.start.0;
    let mut found = Vec::new();
    let mut offset = step;
    while found.len() < 3 && offset <= 14 * 86_400 {
        for start in [asked.slot.start.0 - offset, asked.slot.start.0 + offset] {
            let slot = Slot {
                start: UnixTime(start),
                end: UnixTime(start + length),
            };
            let proposal = Proposal { slot, ..*asked };
            if found.len() < 3
                && !calendar.overlaps(&slot)
                && context.rules.check(&context.facts, &proposal).is_ok()
            {
                found.push(slot);
            }
        }
        offset += step;
    }
    found
}

#[test]
fn alternatives_jump_over_taken_slots_and_find_what_every_step_would() {
    let mut fixture = Fixture::new();
    // Opening hours and lead time make some free steps unusable too.
    fixture.open = schedule::parse("周一至周五 8:00-18:00");
    fixture.now = at(20);
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    let mut random = |below: i64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % below.unsigned_abs()).cast_signed()
    };
    for round in 0..200 {
        // A calendar from sparse to nearly full over a few days around the asked start.
        let mut calendar = Calendar::default();
        let density = 1 + round % 8;
        let mut t = at(0).0;
        while t < at(24 * 6).0 {
            let length = (1 + random(6)) * 1800;
            if random(8) < density {
                calendar.taken.insert(
                    t,
                    Taken {
                        end: t + length,
                        key: vec![],
                        user: String::new(),
                        held: false,
                    },
                );
            }
            t += length + random(3) * 1800;
        }
        let start = at(24 * 2 + random(48)).0;
        let asked = Proposal {
            slot: Slot {
                start: UnixTime(start),
                end: UnixTime(start + (1 + random(4)) * 1800),
            },
            tier: UserTier::AllianceMember,
            mode: ServiceMode::StaffRun,
            trained: true,
            now: fixture.now,
        };
        let context = fixture.context();
        assert_eq!(
            nearest_free(&context, &calendar, &asked),
            nearest_free_by_every_step(&context, &calendar, &asked),
            "round {round}"
        );
    }
}

/// A request of `user` of `home` for `hours` from `start`.
fn request_of(id: &str, (user, home): (&str, &str), start: i64, tier: UserTier) -> BookingRequest {
    let mut r = request(id, at(start), at(start + 1), tier);
    r.user.user_id = user.into();
    r.user.home_institution = home.parse().unwrap();
    r
}

fn code_of(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Rejected { code, .. } => code,
        Outcome::Confirmed => "confirmed",
        Outcome::Held { .. } => "held",
        Outcome::Conflict { .. } => "conflict",
    }
}

#[tokio::test]
async fn users_and_homes_past_their_quotas_are_refused_with_their_own_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let mut fixture = Fixture::new();
    fixture.rules.max_active_per_user = 2;
    fixture.rules.max_active_per_home = 3;
    fixture.rules.max_holds_per_home = 1;
    let ask = async |id: &str, who: (&str, &str), start: i64, tier: UserTier| {
        let r = request_of(id, who, start, tier);
        let answer = ledger.request(&r, &fixture.context()).await.unwrap();
        code_of(&answer.answer.outcome).to_owned()
    };
    let member = UserTier::AllianceMember;
    assert_eq!(ask("a1", ("wang", "neu"), 8, member).await, "confirmed");
    assert_eq!(ask("a2", ("wang", "neu"), 9, member).await, "confirmed");
    // A third of wang's at once: refused for the user's quota, with its reason.
    assert_eq!(ask("a3", ("wang", "neu"), 10, member).await, "user_quota");
    // Another user of neu may; then neu is at its quota for everyone.
    assert_eq!(ask("b1", ("li", "neu"), 10, member).await, "confirmed");
    assert_eq!(ask("c1", ("zhao", "neu"), 11, member).await, "home_quota");
    // Another home is not held back by neu.
    assert_eq!(ask("d1", ("chen", "imr"), 11, member).await, "confirmed");
    // Requests waiting for approval: one per home at a time.
    let firm = UserTier::Enterprise;
    assert_eq!(ask("e1", ("firm1", "imr"), 12, firm).await, "held");
    assert_eq!(ask("e2", ("firm2", "imr"), 13, firm).await, "home_holds");
    // Quota refusals take no slot: 13:00 is still free for another home.
    assert_eq!(ask("f1", ("sun", "sy"), 13, member).await, "confirmed");
}

#[tokio::test]
async fn a_user_with_strikes_waits_for_approval_and_strikes_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let mut fixture = Fixture::new();
    fixture.rules.strikes_before_approval = 2;
    let member = UserTier::AllianceMember;
    // wang books twice and does not come; the manager marks both no-shows.
    for (id, start) in [("n1", 8), ("n2", 10)] {
        let r = request_of(id, ("wang", "neu"), start, member);
        ledger.request(&r, &fixture.context()).await.unwrap();
        ledger
            .decide(
                &neu(),
                id,
                ManagerDecision::NoShow,
                "manager",
                "",
                at(start + 1),
            )
            .await
            .unwrap();
    }
    // A late cancel counts too; an early one does not.
    let late = request_of("c1", ("wang", "neu"), 40, member);
    ledger.request(&late, &fixture.context()).await.unwrap();
    let early = request_of("c2", ("wang", "neu"), 100, member);
    ledger.request(&early, &fixture.context()).await.unwrap();
    for (id, local_id) in [("c1", "XPS-1"), ("c2", "XPS-1")] {
        ledger
            .cancel(&neu(), id, local_id, &fixture.rules, "wang", at(12))
            .await
            .unwrap();
    }
    let strikes = ledger.strikes(&neu(), "wang", at(0)).unwrap();
    assert_eq!(strikes, 3, "two no-shows and one late cancel");
    assert_eq!(ledger.strikes(&neu(), "li", at(0)).unwrap(), 0);
    // Outside the period they no longer count.
    assert_eq!(ledger.strikes(&neu(), "wang", at(12)).unwrap(), 1);
    // Past the limit, a member's request (confirmed at once otherwise) waits for a manager.
    fixture.strikes = strikes;
    let r = request_of("next", ("wang", "neu"), 60, member);
    let answer = ledger.request(&r, &fixture.context()).await.unwrap();
    assert_eq!(code_of(&answer.answer.outcome), "held");
}

#[tokio::test]
async fn a_request_names_its_service_item_and_is_quoted_for_it_only() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let mut fixture = Fixture::new();
    let sample = |zh: &str, fen: i64| FeeItem {
        item_zh: zh.into(),
        item_en: String::new(),
        unit: FeeUnit::Sample,
        own_institution: FeeComponents::default(),
        alliance_member: FeeComponents {
            materials_fen: 0,
            operating_fen: fen,
            labour_fen: 0,
        },
        outside_academic: FeeComponents::default(),
        enterprise: FeeComponents::default(),
    };
    fixture.fees = vec![sample("XPS 全谱", 30_000), sample("XPS 深度剖析", 60_000)];
    let member = UserTier::AllianceMember;
    let ask = |id: &str, item: &str, start: i64| {
        let mut r = request(id, at(start), at(start + 1), member);
        r.service_item = item.into();
        r
    };
    let none = ask("a", "", 8);
    let answer = ledger
        .request(&none, &fixture.context())
        .await
        .unwrap()
        .answer;
    assert_eq!(code_of(&answer.outcome), "service_item_required");
    let Outcome::Rejected { reason, .. } = &answer.outcome else {
        unreachable!()
    };
    assert!(reason.contains("XPS 全谱、XPS 深度剖析"), "{reason}");
    let unknown = ask("b", "拉曼", 8);
    let answer = ledger
        .request(&unknown, &fixture.context())
        .await
        .unwrap()
        .answer;
    assert_eq!(code_of(&answer.outcome), "unknown_service_item");
    // Two samples of 深度剖析: 1,200 yuan, not the 1,800 of both items.
    let chosen = ask("c", "XPS 深度剖析", 8);
    let answered = ledger.request(&chosen, &fixture.context()).await.unwrap();
    assert_eq!(code_of(&answered.answer.outcome), "confirmed");
    assert_eq!(answered.answer.quote.total.total_fen(), 120_000);
    let kept = ledger.booking(&neu(), "c").unwrap().unwrap();
    assert_eq!(kept.service_item, "XPS 深度剖析");
}

#[tokio::test]
async fn a_completion_and_its_receipt_land_together_or_not_at_all() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) = open_ledger(dir.path());
    let fixture = Fixture::new();
    let confirmed = |id: &'static str, hour: i64| {
        let ledger = ledger.clone();
        let fixture = &fixture;
        async move {
            let r = request(id, at(hour), at(hour + 1), UserTier::Enterprise);
            ledger.request(&r, &fixture.context()).await.unwrap();
            ledger
                .decide(&neu(), id, ManagerDecision::Approve, "m", "", fixture.now)
                .await
                .unwrap();
        }
    };
    // The receipt cannot be issued: nothing is written, the booking stays confirmed.
    confirmed("refused", 9).await;
    let refused = ledger
        .complete_with(&neu(), "refused", "m", "", fixture.now, |_, _batch| async {
            Err::<(), _>(LedgerError::Receipt("overlapping".into()))
        })
        .await;
    assert!(matches!(refused, Err(LedgerError::Receipt(_))));
    let kept = ledger.booking(&neu(), "refused").unwrap().unwrap();
    assert_eq!(kept.state, BookingState::Confirmed);

    // A cancel racing a completion: whichever comes first under the instrument's lock,
    // a receipt is written exactly when the booking ends completed.
    for (n, hour) in (11..19).enumerate() {
        let id: &'static str = Box::leak(format!("race{n}").into_boxed_str());
        confirmed(id, hour).await;
        let issued = Arc::new(AtomicBool::new(false));
        let store = ledger.inner.store.clone();
        let flag = issued.clone();
        let home = neu();
        let (cancel, complete) = tokio::join!(
            ledger.decide(
                &home,
                id,
                ManagerDecision::CancelByOwner,
                "m",
                "",
                fixture.now
            ),
            ledger.complete_with(&home, id, "m", "", fixture.now, |_, batch| async move {
                store.commit(batch).await?;
                flag.store(true, Ordering::SeqCst);
                Ok(())
            }),
        );
        let state = ledger.booking(&neu(), id).unwrap().unwrap().state;
        assert_eq!(
            state == BookingState::Completed,
            issued.load(Ordering::SeqCst),
            "{id}: {state:?}, cancel {cancel:?}, complete {complete:?}"
        );
        assert_eq!(cancel.is_ok(), complete.is_err(), "{id}: exactly one wins");
    }
}

/// The ids of one section's bookings within `span`, in its order.
fn section_ids(
    ledger: &Ledger,
    section: Section,
    span: crate::store::time_index::Span,
) -> Vec<String> {
    let ids: Vec<String> = ledger
        .section_page(section, span, 0, 100)
        .unwrap()
        .into_iter()
        .map(|b| b.booking_id)
        .collect();
    assert_eq!(ledger.section_count(section, span).unwrap(), ids.len());
    ids
}

#[tokio::test]
async fn bookings_move_between_the_managers_sections_as_they_change_and_refusals_are_not_listed() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new();
    let all = (None, None);
    {
        let (ledger, _) = open_ledger(dir.path());
        let ask = |id: &str, from: i64, tier| request(id, at(from), at(from + 1), tier);
        for r in [
            ask("firm", 9, UserTier::Enterprise),
            ask("m1", 11, UserTier::AllianceMember),
            ask("m2", 13, UserTier::AllianceMember),
            // Clashes with m1: refused at once, an attempt and not a booking.
            ask("clash", 11, UserTier::AllianceMember),
        ] {
            ledger.request(&r, &fixture.context()).await.unwrap();
        }
        assert_eq!(section_ids(&ledger, Section::Waiting, all), ["firm"]);
        assert_eq!(section_ids(&ledger, Section::Active, all), ["m1", "m2"]);
        assert!(section_ids(&ledger, Section::Closed, all).is_empty());

        let decide = |id: &'static str, d| {
            let ledger = ledger.clone();
            async move {
                ledger
                    .decide(&neu(), id, d, "manager@dlut", "", fixture.now)
                    .await
                    .unwrap()
            }
        };
        decide("firm", ManagerDecision::Approve).await;
        decide("m1", ManagerDecision::NoShow).await;
        ledger
            .cancel(
                &neu(),
                "m2",
                "XPS-1",
                &fixture.rules,
                "user-m2@neu",
                fixture.now,
            )
            .await
            .unwrap();
        assert!(section_ids(&ledger, Section::Waiting, all).is_empty());
        assert_eq!(section_ids(&ledger, Section::Active, all), ["firm"]);
        // Ended ones latest start first.
        assert_eq!(section_ids(&ledger, Section::Closed, all), ["m2", "m1"]);
        // A span of days: those starting in it.
        let from_noon = (Some(at(12)), None);
        assert_eq!(section_ids(&ledger, Section::Closed, from_noon), ["m2"]);
        let before_ten = (None, Some(at(10)));
        assert_eq!(section_ids(&ledger, Section::Active, before_ten), ["firm"]);
        assert!(section_ids(&ledger, Section::Closed, before_ten).is_empty());
        // Paging skips within the section.
        let second: Vec<String> = ledger
            .section_page(Section::Closed, all, 1, 10)
            .unwrap()
            .into_iter()
            .map(|b| b.booking_id)
            .collect();
        assert_eq!(second, ["m1"]);
    }
    // Bookings kept before the index existed are filed when the ledger opens.
    {
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::new();
        for key in store
            .keys_with_prefix(Space::BookingsBySection, b"")
            .unwrap()
        {
            batch.delete(Space::BookingsBySection, key);
        }
        batch.delete(Space::Meta, b"bookings_by_section_indexed".to_vec());
        store.commit(batch).await.unwrap();
    }
    let (ledger, _) = open_ledger(dir.path());
    assert_eq!(section_ids(&ledger, Section::Active, all), ["firm"]);
    assert_eq!(section_ids(&ledger, Section::Closed, all), ["m2", "m1"]);
}
