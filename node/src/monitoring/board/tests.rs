#![allow(clippy::unwrap_used)]

use alliance_protocol::heartbeat::InstrumentStatusReport;

use super::*;

/// 2026-03-02 00:00 in Shanghai (2026-03-01 16:00 UTC).
const D0: i64 = 1_772_380_800;
const DAY: i64 = 86_400;
const MINUTE: Duration = Duration::from_secs(60);

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn board(dir: &tempfile::TempDir) -> MonitorBoard {
    MonitorBoard::new(Store::open(dir.path()).unwrap(), 3 * MINUTE)
}

fn report(local_id: &str, state: InstrumentState, reported_at: i64) -> InstrumentStatusReport {
    InstrumentStatusReport {
        local_id: local_id.into(),
        state,
        reported_at: UnixTime(reported_at),
        note: String::new(),
    }
}

fn heartbeat(
    institution: &str,
    sent_at: i64,
    instruments: Vec<InstrumentStatusReport>,
) -> StatusHeartbeat {
    StatusHeartbeat {
        institution_id: institution.parse().unwrap(),
        sent_at: UnixTime(sent_at),
        instruments,
    }
}

/// A heartbeat of one instrument, sent and received when it was reported.
async fn beat(board: &MonitorBoard, t: i64, local_id: &str, state: InstrumentState, at: i64) {
    board
        .record(
            &heartbeat("dlut", t, vec![report(local_id, state, at)]),
            UnixTime(t),
        )
        .await
        .unwrap();
}

fn assert_fraction(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-12, "{actual} != {expected}");
}

#[tokio::test]
async fn the_board_keeps_the_latest_report_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let board = board(&dir);
        beat(&board, D0, "XPS-1", InstrumentState::Idle, D0).await;
        beat(&board, D0 + 60, "XPS-1", InstrumentState::Running, D0 + 55).await;
        // A newer heartbeat carrying an older report does not take the board back.
        beat(&board, D0 + 120, "XPS-1", InstrumentState::Idle, D0 + 10).await;
    }
    let board = board(&dir);
    let rows = board.live(UnixTime(D0 + 130), MINUTE * 5).unwrap();
    assert_eq!(
        rows,
        [LiveRow {
            instrument_id: "dlut/XPS-1".into(),
            state: InstrumentState::Running,
            note: String::new(),
            reported_at: UnixTime(D0 + 55),
            last_seen: UnixTime(D0 + 60),
            since: UnixTime(D0 + 60),
            silent: false,
        }]
    );
}

#[tokio::test]
async fn replayed_or_reordered_heartbeats_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let board = board(&dir);
    let first = heartbeat(
        "dlut",
        D0,
        vec![report("XPS-1", InstrumentState::Fault, D0)],
    );
    let second = heartbeat(
        "dlut",
        D0 + 60,
        vec![report("XPS-1", InstrumentState::Idle, D0 + 60)],
    );
    board.record(&first, UnixTime(D0)).await.unwrap();
    board.record(&second, UnixTime(D0 + 60)).await.unwrap();
    for old in [&second, &first] {
        assert!(matches!(
            board.record(old, UnixTime(D0 + 120)).await,
            Err(MonitoringError::Replay { recorded, .. }) if recorded == UnixTime(D0 + 60)
        ));
    }
    let rows = board.live(UnixTime(D0 + 120), MINUTE * 5).unwrap();
    assert_eq!(rows[0].state, InstrumentState::Idle);
    assert_eq!(rows[0].last_seen, UnixTime(D0 + 60));

    // Another institution keeps its own order.
    board
        .record(&heartbeat("neu", D0 + 30, vec![]), UnixTime(D0 + 120))
        .await
        .unwrap();
    // A heartbeat dated ahead of the province's clock would lock out the correct ones.
    let ahead = heartbeat("dlut", D0 + 120 + 301, vec![]);
    assert!(matches!(
        board.record(&ahead, UnixTime(D0 + 120)).await,
        Err(MonitoringError::FromTheFuture { .. })
    ));
    board
        .record(&heartbeat("dlut", D0 + 420, vec![]), UnixTime(D0 + 120))
        .await
        .unwrap();
}

#[tokio::test]
async fn alerts_flag_silent_faulty_and_never_seen_open_instruments_only() {
    let dir = tempfile::tempdir().unwrap();
    let board = board(&dir);
    let t = D0;
    let states = |at_fault: i64, at_afm: i64, at_xps: i64| {
        vec![
            report("XPS-1", InstrumentState::Running, at_xps),
            report("NMR-600", InstrumentState::Fault, at_fault),
            report("AFM-2", InstrumentState::Idle, at_afm),
            report("TEM-9", InstrumentState::Fault, at_fault),
        ]
    };
    board
        .record(&heartbeat("dlut", t, states(t, t, t)), UnixTime(t))
        .await
        .unwrap();
    // Ten minutes on the node still sends AFM-2's old report: its agent went quiet.
    let later = t + 600;
    board
        .record(
            &heartbeat("dlut", later, states(later - 5, t, later - 5)),
            UnixTime(later),
        )
        .await
        .unwrap();

    let silent_after = MINUTE * 5;
    let live = board.live(UnixTime(later), silent_after).unwrap();
    let silent: Vec<_> = live
        .iter()
        .filter(|r| r.silent)
        .map(|r| r.instrument_id.as_str())
        .collect();
    assert_eq!(silent, ["dlut/AFM-2"]);

    let open: Vec<String> = ["dlut/XPS-1", "dlut/NMR-600", "dlut/AFM-2", "neu/SEM-1"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        board.alerts(UnixTime(later), silent_after, &open).unwrap(),
        [
            Alert {
                instrument_id: "dlut/NMR-600".into(),
                kind: AlertKind::Fault { since: UnixTime(t) },
            },
            Alert {
                instrument_id: "dlut/AFM-2".into(),
                kind: AlertKind::Silent {
                    last_seen: Some(UnixTime(t)),
                },
            },
            Alert {
                instrument_id: "neu/SEM-1".into(),
                kind: AlertKind::Silent { last_seen: None },
            },
        ]
    );
    // Once every agent stops, all the open ones are silent, the faulty one included.
    let quiet = board
        .alerts(UnixTime(later + 301), silent_after, &open)
        .unwrap();
    assert!(
        quiet
            .iter()
            .all(|a| matches!(a.kind, AlertKind::Silent { .. }))
    );
    assert_eq!(quiet.len(), 4);
    assert_eq!(
        serde_json::to_value(&quiet[3]).unwrap(),
        serde_json::json!({"instrument_id": "neu/SEM-1", "kind": "silent", "last_seen": null})
    );
}

#[tokio::test]
async fn uptime_credits_gaps_only_up_to_the_cap_and_not_while_faulty() {
    use InstrumentState::{Fault, Idle, Running};
    let dir = tempfile::tempdir().unwrap();
    let board = board(&dir);
    // First sighting: nothing to credit yet.
    beat(&board, D0, "XPS-1", Idle, D0).await;
    // 60 s after an idle report: 60.
    beat(&board, D0 + 60, "XPS-1", Running, D0 + 60).await;
    // The same report again: the agent was not heard, nothing is credited.
    beat(&board, D0 + 120, "XPS-1", Running, D0 + 60).await;
    // 940 s of silence, capped at 180.
    beat(&board, D0 + 1_000, "XPS-1", Running, D0 + 990).await;
    // 60 s running, then a fault is reported: 60.
    beat(&board, D0 + 1_060, "XPS-1", Fault, D0 + 1_060).await;
    // The 60 s after the fault report are not credited.
    beat(&board, D0 + 1_120, "XPS-1", Idle, D0 + 1_120).await;
    // 60 s idle again: 60.
    beat(&board, D0 + 1_180, "XPS-1", Idle, D0 + 1_180).await;
    let first_day = 60 + 180 + 60 + 60;
    assert_fraction(
        board.uptime("dlut/XPS-1", day(2), day(2)).unwrap(),
        first_day as f64 / DAY as f64,
    );

    // Back after most of a day: the 180 s after the last idle report count, no more.
    beat(&board, D0 + DAY - 30, "XPS-1", Idle, D0 + DAY - 30).await;
    // Across Shanghai midnight (16:00 UTC), the credit is split between the two days.
    beat(&board, D0 + DAY + 30, "XPS-1", Running, D0 + DAY + 30).await;
    assert_fraction(
        board.uptime("dlut/XPS-1", day(2), day(2)).unwrap(),
        (first_day + 180 + 30) as f64 / DAY as f64,
    );
    assert_fraction(
        board.uptime("dlut/XPS-1", day(3), day(3)).unwrap(),
        30.0 / DAY as f64,
    );
    assert_fraction(
        board.uptime("dlut/XPS-1", day(1), day(4)).unwrap(),
        (first_day + 180 + 60) as f64 / (4 * DAY) as f64,
    );
    // No data, another instrument, or an empty period: nothing.
    assert_eq!(board.uptime("dlut/XPS-1", day(4), day(9)).unwrap(), 0.0);
    assert_eq!(board.uptime("dlut/XPS", day(2), day(3)).unwrap(), 0.0);
    assert_eq!(board.uptime("dlut/XPS-1", day(3), day(2)).unwrap(), 0.0);
}

#[tokio::test]
async fn an_instrument_seen_at_every_cap_interval_for_a_day_is_up_all_day() {
    let dir = tempfile::tempdir().unwrap();
    let board = board(&dir);
    let mut t = D0;
    while t <= D0 + DAY {
        beat(&board, t, "XPS-1", InstrumentState::Running, t).await;
        t += 180;
    }
    assert_fraction(board.uptime("dlut/XPS-1", day(2), day(2)).unwrap(), 1.0);
    assert_fraction(board.uptime("dlut/XPS-1", day(2), day(3)).unwrap(), 0.5);
}

#[tokio::test]
async fn the_counts_over_the_day_take_each_instrument_once_and_forget_old_days() {
    let dir = tempfile::tempdir().unwrap();
    let board = board(&dir);
    let t = D0 + 9 * 3_600;
    beat(&board, t, "XPS-1", InstrumentState::Running, t).await;
    beat(&board, t + 1, "SEM-2", InstrumentState::Fault, t + 1).await;
    beat(&board, t + 2, "NMR-3", InstrumentState::Idle, t + 2).await;
    let open = vec![
        "dlut/XPS-1".to_owned(),
        "dlut/SEM-2".to_owned(),
        "dlut/NEVER".to_owned(),
        "dlut/NEVER".to_owned(),
    ];
    let first = board
        .sample(UnixTime(t + 60), 10 * MINUTE, &open)
        .await
        .unwrap();
    assert_eq!(
        (
            first.running,
            first.idle,
            first.fault,
            first.maintenance,
            first.silent
        ),
        (1, 1, 1, 0, 1),
        "the one never heard of is silent, once"
    );
    // An hour later nothing was heard: the three are silent, not in their old states.
    let later = board
        .sample(UnixTime(t + 3_600), 10 * MINUTE, &open)
        .await
        .unwrap();
    assert_eq!((later.running, later.fault, later.silent), (0, 0, 4));
    assert_eq!(
        board.samples(UnixTime(t), UnixTime(t + 3_600)).unwrap(),
        vec![first, later]
    );
    // A sample nine days on forgets those older than the days kept.
    let far = t + 9 * DAY;
    board
        .sample(UnixTime(far), 10 * MINUTE, &open)
        .await
        .unwrap();
    assert!(
        board
            .samples(UnixTime(t), UnixTime(t + DAY))
            .unwrap()
            .is_empty()
    );
    assert_eq!(board.samples(UnixTime(t), UnixTime(far)).unwrap().len(), 1);
    // The board's own records are untouched.
    assert_eq!(board.live(UnixTime(far), 10 * MINUTE).unwrap().len(), 3);
}
