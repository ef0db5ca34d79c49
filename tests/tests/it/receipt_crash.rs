//! A member killed with SIGKILL after issuing a receipt and before submitting it
//! delivers it after restart: the receipt was durable in its outbox before the manager
//! was told it was issued.
//!
//! The test re-executes its own binary as the member (an environment variable gives the
//! child its data directory). The province is stopped while the child issues the
//! receipt, so nothing can be submitted before the kill.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use alliance_node::{
    Config, Node, NodeHandle,
    booking::service::{SessionFacts, WalkIn},
    init::CONFIG_FILE,
};
use alliance_protocol::{
    ServiceMode, UnixTime, UserTier,
    receipt::{ReceiptSubmission, UsageReceipt},
};
use alliance_tests::*;

const TEST_NAME: &str =
    "receipt_crash::a_member_killed_before_submitting_a_receipt_delivers_it_after_restart";
const MEMBER_DIR_ENV: &str = "ALLIANCE_RECEIPT_CRASH_MEMBER_DIR";

/// The member's config as every run of it uses it: fast timers, no grace period.
fn member_config(data_dir: &Path) -> Config {
    let mut config = Config::load(&data_dir.join(CONFIG_FILE)).unwrap();
    fast_timers(&mut config);
    config.receipts.confirmation_grace = Duration::ZERO;
    config
}

/// A line to the parent, on stdout (which it reads).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

/// The child: start the member, publish its instrument, say READY; on `issue`, record a
/// session and say ISSUED with the receipt id; then wait to be killed.
async fn run_member(data_dir: &Path) -> ! {
    let node = Node::start(member_config(data_dir)).await.unwrap();
    let mut record = sample_record("dlut", "XPS-1", "X射线光电子能谱仪");
    record.service_modes = vec![ServiceMode::StaffRun];
    node.catalogue().save_record(record).await.unwrap();
    say("READY");
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    assert_eq!(line.trim(), "issue");
    let start = UnixTime::now().0 - 1_800;
    let signed = node
        .bookings()
        .record_session(WalkIn {
            local_id: "XPS-1".into(),
            user_id: "staff1".into(),
            user_name: "职工".into(),
            home: "dlut".parse().unwrap(),
            tier: UserTier::OwnInstitution,
            mode: ServiceMode::StaffRun,
            service_item: String::new(),
            facts: SessionFacts {
                start: UnixTime(start),
                end: UnixTime(start + 1_200),
                preparation_minutes: 5,
                test_minutes: 10,
                post_processing_minutes: 5,
                samples: 1,
                note: String::new(),
            },
        })
        .await
        .unwrap();
    let receipt = UsageReceipt::open(&signed, &node.certificate().node_public_key).unwrap();
    say(&format!("ISSUED {}", receipt.receipt_id));
    std::future::pending().await
}

fn expect_line(lines: &mpsc::Receiver<String>, prefix: &str) -> String {
    loop {
        let line = lines
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|e| panic!("no {prefix} from the member: {e:?}"));
        // libtest may print the test's name on the same line first.
        if let Some(at) = line.find(prefix) {
            return line[at + prefix.len()..].trim().to_owned();
        }
    }
}

/// The TCP listen addresses a node has now, to come back on after a restart.
fn tcp_listen(node: &NodeHandle) -> Vec<String> {
    node.net()
        .state()
        .listen_addrs
        .iter()
        .map(ToString::to_string)
        .filter(|a| a.contains("/tcp/"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_killed_before_submitting_a_receipt_delivers_it_after_restart() {
    if let Some(dir) = std::env::var_os(MEMBER_DIR_ENV) {
        run_member(&PathBuf::from(dir)).await;
    }
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let config = certified_member(dir.path(), &province, "dlut", bootstrap_of(&province)).await;
    let data_dir = config.node.data_dir.clone();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(MEMBER_DIR_ENV, &data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let lines = tokio::task::spawn_blocking(move || {
        expect_line(&lines, "READY");
        lines
    })
    .await
    .unwrap();
    wait_catalogue(&province, "the province sees dlut/XPS-1", |c| {
        c.instrument_unfiltered("dlut/XPS-1").is_some()
    })
    .await;

    // The province goes down; the member issues a receipt and is killed at once.
    let mut province_config = province.config().clone();
    province_config.network.listen = tcp_listen(&province);
    province.shutdown().await;
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "issue").unwrap();
    let receipt_id = tokio::task::spawn_blocking(move || expect_line(&lines, "ISSUED "))
        .await
        .unwrap();
    child.kill().unwrap(); // SIGKILL on Unix.
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "not killed: {status}");

    // Both come back; the receipt reaches the province's log exactly once.
    let province = Node::start(province_config).await.unwrap();
    let member = Node::start(member_config(&data_dir)).await.unwrap();
    wait_receipts(&member, "the receipt is proven after the restart", |r| {
        r.proven().unwrap() == 1
    })
    .await;
    let log = province.receipt_log().unwrap();
    assert_eq!(log.len().await, 1);
    let entry = ReceiptSubmission::decode(&log.entry(0).unwrap().unwrap()).unwrap();
    let logged = UsageReceipt::open(&entry.receipt, &member.certificate().node_public_key).unwrap();
    assert_eq!(logged.receipt_id, receipt_id);

    member.shutdown().await;
    province.shutdown().await;
}
