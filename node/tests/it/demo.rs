//! The demo binary: four nodes come up, find each other, mail their notices to the
//! demo's own mail page, and stop cleanly on Ctrl-C; without `RUST_LOG` it logs only the
//! alliance's own events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

const DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_starts_four_connected_nodes_and_exits_cleanly_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_alliance"))
        .args(["demo", "--data-dir"])
        .arg(dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut log_lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let kept = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = log_lines.next_line().await {
            kept.lock().unwrap().push(without_colour(&line));
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    let mut mail_page = None;
    let started = Instant::now();
    while urls.len() < 4 || mail_page.is_none() {
        let line = tokio::time::timeout(DEADLINE, lines.next_line())
            .await
            .expect("demo printed no UI addresses in time")
            .unwrap()
            .expect("demo exited before printing its addresses");
        if let Some(url) = line.trim().strip_prefix("UI: ") {
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            urls.push(url.trim_end_matches('/').to_owned());
        }
        if let Some(url) = line.trim().strip_prefix("Mail: ") {
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            mail_page = Some(url.to_owned());
        }
    }
    // Quiet by default: only the alliance's own events at INFO, no library chatter.
    let log = log.lock().unwrap().clone();
    assert!(
        log.iter().any(|l| l.contains("node started")),
        "the nodes' own events are missing: {log:#?}"
    );
    let chatter: Vec<&String> = log
        .iter()
        .filter(|l| {
            l.split_once(" INFO ")
                .is_some_and(|(_, rest)| !is_ours(rest))
        })
        .collect();
    assert!(chatter.is_empty(), "library INFO lines: {chatter:#?}");
    // Keep draining stdout so the demo never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let client = reqwest::Client::new();
    for url in &urls {
        loop {
            assert!(started.elapsed() < DEADLINE, "{url} never saw 3 members");
            let status: Option<serde_json::Value> =
                match client.get(format!("{url}/api/v1/status")).send().await {
                    Ok(r) => r.json().await.ok(),
                    Err(_) => None,
                };
            if status
                .as_ref()
                .and_then(|s| s["members_connected"].as_u64())
                >= Some(3)
            {
                break;
            }
            // Polling another process's HTTP API: there is no event to wait on.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // The requests the demo's users make that wait for approval are mailed to the
    // owners' managers, and the demo's mail page shows them.
    let mail_page = mail_page.unwrap();
    loop {
        assert!(
            started.elapsed() < DEADLINE * 2,
            "the demo's mail page never showed a manager's notice"
        );
        let page = match client.get(&mail_page).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if page.contains("预约待审批") && page.contains("-manager@") {
            break;
        }
        // Another process's page: there is no event to wait on.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let pid = i32::try_from(child.id().unwrap()).unwrap();
    // The workspace forbids `unsafe`, so signal through the `kill` command.
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .expect("demo did not stop")
        .unwrap();
    assert_eq!(status.code(), Some(0), "demo exit status {status:?}");
}

/// Whether a log line's text after its level comes from the alliance's own code: its
/// target (after any spans, which end with `: `) is one of our crates.
fn is_ours(after_level: &str) -> bool {
    after_level.starts_with("alliance") || after_level.contains(": alliance")
}

/// `line` without the ANSI colour codes of the log format.
fn without_colour(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the escape sequence (`ESC [ … m`).
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
