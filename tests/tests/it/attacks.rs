//! Hostile input against real nodes: each attack fails and the node keeps serving.
//! Huge page numbers, slow-header connections, a store that stops accepting writes, a
//! formula in a member's instrument name, a config with a zero interval, and scraping the
//! metrics without their token. (Sign-in throttling and peer limits have their own files.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Write as _,
    net::{IpAddr, SocketAddr},
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use alliance_node::{Node, NodeHandle, StartError};
use alliance_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpSocket,
};

/// A client that connects from another loopback address than the attacker's 127.0.0.1,
/// as an honest user elsewhere would.
fn honest_client() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn status_of(client: &reqwest::Client, url: String) -> StatusCode {
    client.get(url).send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_page_numbers_are_refused_by_name_and_the_node_keeps_serving() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province(dir.path(), "lnsti").await;
    let base = node.url();
    let client = honest_client();
    for query in [
        "page=10000000000000",
        "page=184467440737095516",
        "page=101&per_page=100",
        "page=18446744073709551615&per_page=100",
    ] {
        let reply = client
            .get(format!("{base}api/v1/instruments?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = reply.json().await.unwrap();
        let fields = body["error"]["fields"].to_string();
        assert!(fields.contains("page"), "{query}: {body}");
        // The search page says the same, in words, and stays up.
        let page = client
            .get(format!("{base}instruments?{query}"))
            .send()
            .await
            .unwrap();
        assert!(page.status().is_success() || page.status().is_client_error());
    }
    let last_page_in_window = client
        .get(format!("{base}api/v1/instruments?page=100&per_page=100"))
        .send()
        .await
        .unwrap();
    assert_eq!(last_page_in_window.status(), StatusCode::OK);
    assert_eq!(
        status_of(&client, format!("{base}api/v1/status")).await,
        StatusCode::OK,
        "the node still serves"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_connections_do_not_stop_healthz_and_are_closed() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let done = alliance_node::init::init(province_options(dir.path()))
        .await
        .unwrap();
    let mut config = done.config;
    fast_timers(&mut config);
    config.http.header_read_timeout = Duration::from_secs(1);
    let node = Node::start(config).await.unwrap();
    let addr = node.http_addr();

    // 500 clients from one address start a request and never finish its headers.
    let mut slow = Vec::new();
    for _ in 0..500 {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        // The server may already have closed a connection over the per-address cap.
        let _ = stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await;
        slow.push(stream);
    }
    let client = honest_client();
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        client.get(format!("{}healthz", node.url())).send(),
    )
    .await
    .expect("healthz answered while 500 slow clients hold connections")
    .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);

    // Every slow connection is closed by the server: refused over the cap at once, the
    // rest when their headers are late.
    let closed = tokio::time::timeout(DEADLINE, async {
        for mut stream in slow {
            let mut buf = [0u8; 1024];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    // A 408 or the like before closing is fine.
                    Ok(_) => continue,
                }
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "slow connections were left open");
    assert_eq!(
        status_of(&client, format!("{}healthz", node.url())).await,
        StatusCode::OK
    );
    node.shutdown().await;
}

fn province_options(dir: &Path) -> alliance_node::init::InitOptions {
    alliance_node::init::InitOptions {
        role: alliance_protocol::Role::Aggregator,
        institution_id: "lnsti".parse().unwrap(),
        name_zh: "lnsti 测试单位".into(),
        name_en: "lnsti test institution".into(),
        region: "辽宁省".into(),
        data_dir: dir.join("lnsti"),
        root_public_key: None,
        p2p_listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        bootstrap: Vec::new(),
        http_listen: ([127, 0, 0, 1], 0).into(),
        admin_username: "admin".into(),
        admin_password: PASSWORD.into(),
    }
}

const FULL_DISK_CHILD: &str = "ALLIANCE_FULL_DISK_CHILD_DIR";
const FULL_DISK_TEST: &str = "attacks::a_store_that_stops_accepting_writes_turns_healthz_to_503";

/// The parent runs this very test again in a private mount namespace (where the child
/// may mount a small tmpfs as its data dir) and reads its verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_stops_accepting_writes_turns_healthz_to_503() {
    trace();
    if let Ok(dir) = std::env::var(FULL_DISK_CHILD) {
        full_disk_child(Path::new(&dir)).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mount_point = dir.path().join("disk");
    std::fs::create_dir(&mount_point).unwrap();
    let output = Command::new("unshare")
        .args(["--mount", "--map-root-user", "--propagation", "private"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", FULL_DISK_TEST, "--nocapture", "--test-threads=1"])
        .env(FULL_DISK_CHILD, &mount_point)
        .stdin(Stdio::null())
        .output()
        .expect("unshare (util-linux) runs the child in its own mount namespace");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("FULL-DISK-VERDICT: 503"),
        "child failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
}

/// In the child: a province node whose data dir is a 32 MiB tmpfs, filled up from
/// outside; the next write fails, the store fail-stops, and `/healthz` says so.
async fn full_disk_child(mount_point: &Path) {
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32m", "tmpfs"])
        .arg(mount_point)
        .status()
        .unwrap();
    assert!(mounted.success(), "cannot mount a tmpfs");
    let node = start_province(mount_point, "lnsti").await;
    let client = reqwest::Client::new();
    let health = format!("{}healthz", node.url());
    assert_eq!(status_of(&client, health.clone()).await, StatusCode::OK);

    // Fill the disk.
    let mut filler = std::fs::File::create(mount_point.join("filler")).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while filler.write_all(&chunk).is_ok() {}
    drop(filler);

    // Each sign-in writes a session; the journal's page in memory still has room for a
    // few, then a write fails.
    let mut failed = false;
    for _ in 0..500 {
        let login = client
            .post(format!("{}api/v1/session", node.url()))
            .json(&json!({ "username": "admin", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        if login.status().is_server_error() {
            failed = true;
            break;
        }
        assert_eq!(login.status(), StatusCode::OK);
    }
    assert!(failed, "no write failed on a full disk");

    let reply = tokio::time::timeout(Duration::from_secs(1), client.get(&health).send())
        .await
        .unwrap()
        .unwrap();
    let status = reply.status();
    let body = reply.text().await.unwrap();
    assert!(body.contains("store"), "{body}");
    let mut out = std::io::stdout().lock();
    writeln!(out, "FULL-DISK-VERDICT: {}", status.as_u16()).unwrap();
    out.flush().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_formula_in_a_member_instrument_name_is_neutralised_in_every_export() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let member = start_member(dir.path(), &province, "dlut").await;
    let formula = "=HYPERLINK(\"http://evil.example\",\"XPS\")";
    let mut record = sample_record("dlut", "XPS-1", formula);
    record.name_en = "@SUM(A1:A9)".into();
    member.catalogue().save_record(record).await.unwrap();
    wait_catalogue(&province, "the province holds the record", |c| {
        c.instrument("dlut/XPS-1").is_some()
    })
    .await;

    let client = honest_client();
    // The province's public results.
    let csv = client
        .get(format!("{}results.csv", province.url()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&csv);
    assert!(
        text.contains(&format!("\"'{}\"", formula.replace('"', "\"\""))),
        "{text}"
    );
    assert_cells_are_inert(&csv);

    // The member's own catalogue export.
    let cookies = reqwest::Client::builder()
        .cookie_store(true)
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let login = cookies
        .post(format!("{}api/v1/session", member.url()))
        .json(&json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let export = cookies
        .get(format!(
            "{}api/v1/own/instruments/export?format=csv",
            member.url()
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&export).contains("'=HYPERLINK"));
    assert_cells_are_inert(&export);
    member.shutdown().await;
    province.shutdown().await;
}

/// No cell of the CSV starts the way a spreadsheet formula does.
fn assert_cells_are_inert(csv: &[u8]) {
    let body = csv.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r']),
                "a cell a spreadsheet would run: {cell:?}"
            );
            // A leading '-' is a negative number when the rest is one.
            if let Some(rest) = cell.strip_prefix('-') {
                assert!(
                    rest.parse::<f64>().is_ok(),
                    "a cell a spreadsheet would run: {cell:?}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_with_a_zero_interval_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let done = alliance_node::init::init(province_options(dir.path()))
        .await
        .unwrap();
    let path = done
        .config
        .node
        .data_dir
        .join(alliance_node::init::CONFIG_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("[booking]"));
    std::fs::write(
        &path,
        format!("{text}\n[booking]\nretry_interval = \"0s\"\n"),
    )
    .unwrap();
    let err = alliance_node::Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("booking.retry_interval"), "{err}");
    // Built in code, the same config cannot start a node either.
    let mut config = done.config;
    config.network.announce_interval = Duration::ZERO;
    match Node::start(config).await {
        Err(StartError::Config(message)) => {
            assert!(message.contains("network.announce_interval"), "{message}")
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a node started with a zero interval"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_their_token_and_count_requests_by_route() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node: NodeHandle = start_province(dir.path(), "lnsti").await;
    let client = honest_client();
    for _ in 0..3 {
        client
            .get(format!(
                "{}api/v1/instruments/lnsti/nothing-here",
                node.url()
            ))
            .send()
            .await
            .unwrap();
    }
    let url = format!("{}metrics", node.url());
    assert_eq!(
        status_of(&client, url.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    let wrong = client
        .get(&url)
        .bearer_auth("0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let token = std::fs::read_to_string(alliance_node::metrics::token_path(
        &node.config().node.data_dir,
    ))
    .unwrap();
    let text = client
        .get(&url)
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The route's template, not the path asked for.
    assert!(
        text.contains("route=\"/api/v1/instruments/{institution}/{local_id}\""),
        "{text}"
    );
    assert!(!text.contains("nothing-here"), "{text}");
    for family in [
        "alliance_http_requests_total",
        "alliance_http_request_duration_seconds_bucket",
        "alliance_booking_answers_total",
        "alliance_outbox_depth",
        "alliance_catalogue_entries_total",
        "alliance_members_connected",
        "alliance_log_size",
        "alliance_store_accepts_writes 1",
        "alliance_tasks_stopped 0",
    ] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
    node.shutdown().await;
}
