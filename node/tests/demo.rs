//! The demo binary: four nodes come up, find each other, and stop cleanly on Ctrl-C.

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
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    let started = Instant::now();
    while urls.len() < 4 {
        let line = tokio::time::timeout(DEADLINE, lines.next_line())
            .await
            .expect("demo printed no UI addresses in time")
            .unwrap()
            .expect("demo exited before printing its addresses");
        if let Some(url) = line.trim().strip_prefix("UI: ") {
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            urls.push(url.trim_end_matches('/').to_owned());
        }
    }
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
