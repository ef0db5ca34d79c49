//! A burst of wrong sign-ins does not starve a real node: password hashing runs behind a
//! limit no larger than the cores and a bounded queue, so the status API keeps answering.
//!
//! In a test binary of its own: the hashing limit is process-wide, and other tests' sign-ins
//! would be turned away as busy while this one floods it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use alliance_tests::*;
use reqwest::StatusCode;
use serde_json::json;

/// How long the status API may take during the burst (generous for a loaded CI machine).
const STATUS_WITHIN: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_answers_promptly_while_200_wrong_sign_ins_run() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province_with(dir.path(), "lnsti", |config| {
        // Let every attempt reach the password check: the lock-out is not under test here.
        config.sign_in.account_lockout_after = 1_000_000;
        config.sign_in.address_lockout_after = 1_000_000;
        // All 200 come from one address; the connection cap per address is not under test.
        config.http.max_connections_per_address = 1_024;
    })
    .await;
    let base = node.url();
    let client = reqwest::Client::new();

    let attempts: Vec<_> = (0..200)
        .map(|i| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let reply = client
                    .post(format!("{base}api/v1/session"))
                    .json(
                        &json!({ "username": format!("guess-{i}"), "password": "wrong password" }),
                    )
                    .send()
                    .await
                    .unwrap();
                let status = reply.status();
                let retry = reply.headers().get("retry-after").is_some();
                let body: serde_json::Value = reply.json().await.unwrap();
                (
                    status,
                    retry,
                    body["error"]["code"].as_str().unwrap_or("").to_owned(),
                )
            })
        })
        .collect();
    let all_answered = futures::future::join_all(attempts);
    tokio::pin!(all_answered);

    let mut checks = 0;
    let mut slowest = Duration::ZERO;
    let results = loop {
        let started = Instant::now();
        let status = tokio::time::timeout(
            STATUS_WITHIN,
            client.get(format!("{base}api/v1/status")).send(),
        )
        .await
        .expect("the status API answers during the burst")
        .unwrap();
        assert_eq!(status.status(), StatusCode::OK);
        slowest = slowest.max(started.elapsed());
        checks += 1;
        // Between checks, give the burst a moment, and stop once it is all answered.
        let pause = tokio::time::sleep(Duration::from_millis(100));
        tokio::select! {
            results = &mut all_answered => break results,
            () = pause => {}
        }
    };
    let mut unauthorized = 0;
    let mut busy = 0;
    for result in results {
        let (status, retry, code) = result.unwrap();
        match status {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(code, "busy");
                assert!(retry, "busy answers carry Retry-After");
                busy += 1;
            }
            other => panic!("unexpected answer {other} ({code})"),
        }
    }
    tracing::info!(checks, ?slowest, unauthorized, busy, "burst answered");
    assert_eq!(unauthorized + busy, 200);
    // 200 at once cannot all be queued: at most (cores − 1) run and 64 wait, and the rest
    // are turned away at once instead of holding 19 MiB each.
    assert!(busy > 0, "the queue of password checks is bounded");

    // Afterwards the node signs in as usual.
    let reply = client
        .post(format!("{base}api/v1/session"))
        .json(&json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    node.shutdown().await;
}
