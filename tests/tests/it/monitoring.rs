//! Remote monitoring between real nodes: an agent reports to its institution's node with
//! the instrument's token; the node's signed heartbeat puts it on the province's board
//! within seconds; silent instruments open for booking are flagged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alliance_node::{
    Node, NodeHandle,
    monitoring::{AgentRefusal, board::AlertKind},
};
use alliance_protocol::{UnixTime, heartbeat::InstrumentState};
use alliance_tests::{node_api::until, *};

/// Publishes dlut's record of `local_id` and waits until the province holds it: the
/// province keeps reports only of instruments its catalogue knows.
async fn publish_instrument(member: &NodeHandle, province: &NodeHandle, local_id: &str) {
    member
        .catalogue()
        .save_record(sample_record("dlut", local_id, "X射线光电子能谱仪"))
        .await
        .unwrap();
    let id = format!("dlut/{local_id}");
    wait_catalogue(province, "the province holds the record", |c| {
        c.has_instrument(&id)
    })
    .await;
}

/// Waits until the province's board satisfies `predicate` (checked on every heartbeat).
async fn wait_board(
    province: &NodeHandle,
    what: &str,
    mut predicate: impl FnMut(&alliance_node::monitoring::board::MonitorBoard) -> bool,
) {
    let board = province.monitoring().board().unwrap().clone();
    let mut changes = province.monitoring().board_changes();
    tokio::time::timeout(DEADLINE, async {
        while !predicate(&board) {
            changes.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not within {DEADLINE:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_report_reaches_the_province_board_and_silence_is_flagged() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let mut config = certified_member(dir.path(), &province, "dlut", bootstrap_of(&province)).await;
    // Heartbeats rarely on their own: the report must travel at once.
    config.monitoring.heartbeat_interval = Duration::from_secs(3_600);
    let member = Node::start(config).await.unwrap();
    wait_state(&member, "dlut sees the province", |s| {
        connected_institutions(s).contains(&"lnsti".to_owned())
    })
    .await;

    publish_instrument(&member, &province, "XPS-1").await;
    let monitoring = member.monitoring();
    let token = monitoring.tokens().issue("XPS-1").await.unwrap();
    // A wrong token is refused and reports nothing.
    assert!(matches!(
        monitoring
            .agent_report("XPS-1", "not-the-token", InstrumentState::Running, "")
            .await,
        Err(AgentRefusal::Unauthorized)
    ));
    assert!(matches!(
        monitoring
            .agent_report("NMR-1", &token, InstrumentState::Running, "")
            .await,
        Err(AgentRefusal::Unauthorized)
    ));
    monitoring
        .agent_report("XPS-1", &token, InstrumentState::Running, "样品 3/5")
        .await
        .unwrap();

    let silent_after = province.monitoring().silent_after();
    wait_board(&province, "the board shows dlut/XPS-1 running", |board| {
        board
            .live(UnixTime::now(), silent_after)
            .unwrap()
            .iter()
            .any(|row| row.instrument_id == "dlut/XPS-1" && row.state == InstrumentState::Running)
    })
    .await;
    let board = province.monitoring().board().unwrap();
    let open = ["dlut/XPS-1".to_owned(), "dlut/TEM-2".to_owned()];
    let now = UnixTime::now();
    let alerts = board.alerts(now, silent_after, &open).unwrap();
    // Heard just now: no alert; never heard of: silent.
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].instrument_id, "dlut/TEM-2");
    assert!(matches!(
        alerts[0].kind,
        AlertKind::Silent { last_seen: None }
    ));
    // Unheard for longer than the silence allowed: flagged.
    let later = UnixTime(now.0 + i64::try_from(silent_after.as_secs()).unwrap() + 1);
    let alerts = board.alerts(later, silent_after, &open).unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.instrument_id == "dlut/XPS-1" && matches!(a.kind, AlertKind::Silent { .. }))
    );

    // A fault is on the board as soon as the agent says so.
    monitoring
        .agent_report("XPS-1", &token, InstrumentState::Fault, "真空泵报警")
        .await
        .unwrap();
    wait_board(&province, "the board shows the fault", |board| {
        board
            .alerts(UnixTime::now(), silent_after, &open[..1])
            .unwrap()
            .iter()
            .any(|a| matches!(a.kind, AlertKind::Fault { .. }))
    })
    .await;

    // The province counted its board at start, for the states over the day.
    until("the province counted its board", DEADLINE, || async {
        !board
            .samples(UnixTime(0), UnixTime::now())
            .unwrap()
            .is_empty()
    })
    .await;

    member.shutdown().await;
    province.shutdown().await;
}

/// A member's heartbeat that names an instrument the province's catalogue does not hold:
/// that report is dropped unstored, the rest of the heartbeat is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_of_instruments_the_province_does_not_know_do_not_grow_the_board() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let member = start_member(dir.path(), &province, "dlut").await;
    wait_state(&member, "dlut sees the province", |s| {
        connected_institutions(s).contains(&"lnsti".to_owned())
    })
    .await;
    publish_instrument(&member, &province, "XPS-1").await;
    let monitoring = member.monitoring();
    for n in 0..20 {
        let ghost = format!("GHOST-{n}");
        let token = monitoring.tokens().issue(&ghost).await.unwrap();
        monitoring
            .agent_report(&ghost, &token, InstrumentState::Running, "")
            .await
            .unwrap();
    }
    // The known instrument reports last, so the heartbeat that carries it carries every
    // ghost too.
    let token = monitoring.tokens().issue("XPS-1").await.unwrap();
    monitoring
        .agent_report("XPS-1", &token, InstrumentState::Idle, "")
        .await
        .unwrap();
    let silent_after = province.monitoring().silent_after();
    wait_board(&province, "the board shows dlut/XPS-1", |board| {
        board
            .live(UnixTime::now(), silent_after)
            .unwrap()
            .iter()
            .any(|row| row.instrument_id == "dlut/XPS-1" && row.state == InstrumentState::Idle)
    })
    .await;
    let rows: Vec<String> = province
        .monitoring()
        .board()
        .unwrap()
        .live(UnixTime::now(), silent_after)
        .unwrap()
        .into_iter()
        .map(|row| row.instrument_id)
        .collect();
    assert_eq!(rows, ["dlut/XPS-1"]);

    member.shutdown().await;
    province.shutdown().await;
}

/// The sample agent script, as an instrument PC would run it.
fn agent_script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scripts")
        .join("instrument-agent.py")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_agent_script_reports_over_http_and_the_province_shows_it() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let member = start_member(dir.path(), &province, "dlut").await;
    wait_state(&member, "dlut sees the province", |s| {
        connected_institutions(s).contains(&"lnsti".to_owned())
    })
    .await;
    publish_instrument(&member, &province, "XPS-1").await;
    let token = member.monitoring().tokens().issue("XPS-1").await.unwrap();
    let run = |token: &str, state: &str| {
        let script = agent_script();
        let node = member.url();
        let token = token.to_owned();
        let state = state.to_owned();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3")
                .arg(script)
                .args(["--node", &node, "--instrument", "XPS-1", "--state", &state])
                .args(["--note", "样品 2/4", "--once"])
                .env("ALLIANCE_AGENT_TOKEN", token)
                .output()
                .unwrap()
        })
    };
    // A wrong token: the script fails and says so, without printing the token.
    let refused = run("0123456789abcdef", "running").await.unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr).into_owned()
        + &String::from_utf8_lossy(&refused.stdout);
    assert!(!said.contains("0123456789abcdef"), "{said}");

    let posted = run(&token, "running").await.unwrap();
    assert!(
        posted.status.success(),
        "{}",
        String::from_utf8_lossy(&posted.stderr)
    );
    let silent_after = province.monitoring().silent_after();
    wait_board(&province, "the board shows the script's report", |board| {
        board
            .live(UnixTime::now(), silent_after)
            .unwrap()
            .iter()
            .any(|row| {
                row.instrument_id == "dlut/XPS-1"
                    && row.state == InstrumentState::Running
                    && row.note == "样品 2/4"
            })
    })
    .await;

    member.shutdown().await;
    province.shutdown().await;
}
