//! What an attack costs honest users, on a real province node on loopback.
//!
//! ```text
//! cargo build --release -p alliance-tests --example hostile_bench
//! target/release/examples/hostile_bench --seconds 20 --attackers 200
//! ```
//!
//! 1. Honest load: `--clients` tasks (from 127.0.0.2) ask `GET /api/v1/status` and a
//!    search back to back for `--seconds`; answers per second are printed.
//! 2. The same while `--attackers` tasks, each from its own loopback address
//!    (127.0.1.x–127.0.2.x), send wrong passwords to `POST /api/v1/session` as fast as
//!    they are answered. The attackers run in a second process (this program again, with
//!    `--attack URL`), so their client work is not counted as the node's. Prints the
//!    honest throughput kept (percent of step 1), the attackers' answers by status, and
//!    the node process's resident memory before and during the attack.
//! 3. `GET /results.csv` of a province with `--instruments` instruments, `--requests`
//!    times one after the other, after one uncounted request fills the cache: p50, p99
//!    and max.
//!
//! The node and the honest clients share this process's two tokio worker threads.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alliance_tests::*;
use clap::Parser;
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    #[arg(long, default_value_t = 200)]
    attackers: u32,
    #[arg(long, default_value_t = 8)]
    clients: u32,
    #[arg(long, default_value_t = 500)]
    instruments: u32,
    #[arg(long, default_value_t = 1000)]
    requests: u32,
    /// Run only the attackers against this node URL for `--seconds`, then print their
    /// answers by status as JSON.
    #[arg(long)]
    attack: Option<String>,
}

fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn client_from(ip: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Honest answers per second over `seconds`, from `clients` tasks.
async fn honest_rate(base: &str, clients: u32, seconds: u64) -> f64 {
    let answered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let client = client_from(IpAddr::from([127, 0, 0, 2]));
        let (answered, stop, base) = (answered.clone(), stop.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let url = if i % 2 == 0 {
                    format!("{base}api/v1/status")
                } else {
                    format!("{base}api/v1/instruments?q=%E8%B4%A8%E8%B0%B1")
                };
                if let Ok(r) = client.get(url).send().await
                    && r.status().is_success()
                    && r.bytes().await.is_ok()
                {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for t in tasks {
        t.await.unwrap();
    }
    answered.load(Ordering::Relaxed) as f64 / elapsed
}

/// Sends wrong passwords from `attackers` addresses for `seconds`; answers by status.
async fn attack(base: &str, attackers: u32, seconds: u64) -> BTreeMap<u16, u64> {
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(std::sync::Mutex::new(BTreeMap::<u16, u64>::new()));
    let mut tasks = Vec::new();
    for i in 0..attackers {
        let ip = IpAddr::from([127, 0, 1 + (i / 200) as u8, 1 + (i % 200) as u8]);
        let client = client_from(ip);
        let (stop, outcomes, base) = (stop.clone(), outcomes.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body =
                    json!({ "username": format!("user{}", n % 7), "password": "not-the-password" });
                let status = match client
                    .post(format!("{base}api/v1/session"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                *outcomes.lock().unwrap().entry(status).or_default() += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    outcomes.lock().unwrap().clone()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    if let Some(base) = &args.attack {
        let outcomes = attack(base, args.attackers, args.seconds).await;
        println!("{}", serde_json::to_string(&outcomes).unwrap());
        return;
    }
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province_with(dir.path(), "lnsti", |config| {
        config.http.expensive_per_minute = 65_536;
        config.http.max_connections_per_address = 4096;
        config.http.max_connections = 8192;
    })
    .await;
    for i in 0..args.instruments {
        let record = sample_record("lnsti", &format!("MS-{i:04}"), &format!("质谱仪 {i}"));
        province.catalogue().save_record(record).await.unwrap();
    }
    let base = province.url();

    let quiet = honest_rate(&base, args.clients, args.seconds).await;
    println!("honest answers/s, quiet: {quiet:.0}");

    let rss_before = resident_mib();
    let attack = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--attack", &base])
        .args(["--attackers", &args.attackers.to_string()])
        .args(["--seconds", &(args.seconds + 2).to_string()])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Let the attack reach full speed before the honest clients are counted.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let attacked = honest_rate(&base, args.clients, args.seconds).await;
    let rss_during = resident_mib();
    let output = attack.wait_with_output().await.unwrap();
    let outcomes: BTreeMap<u16, u64> = serde_json::from_slice(&output.stdout).unwrap();
    println!(
        "honest answers/s under {} attackers: {attacked:.0} ({:.0} % of quiet)",
        args.attackers,
        100.0 * attacked / quiet.max(1.0)
    );
    println!("attackers' answers by status: {outcomes:?}");
    println!(
        "resident memory: {rss_before:.0} MiB before the attack, {rss_during:.0} MiB during (+{:.0} MiB)",
        rss_during - rss_before
    );

    let client = client_from(IpAddr::from([127, 0, 0, 3]));
    let url = format!("{base}results.csv");
    let first = client.get(&url).send().await.unwrap();
    assert!(first.status().is_success(), "{}", first.status());
    let size = first.bytes().await.unwrap().len();
    let mut times = Vec::new();
    for _ in 0..args.requests {
        let started = Instant::now();
        let r = client.get(&url).send().await.unwrap();
        assert!(r.status().is_success());
        r.bytes().await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "cached /results.csv ({} instruments, {size} bytes), {} requests: p50 {:?}, p99 {:?}, max {:?}",
        args.instruments,
        args.requests,
        at(0.5),
        at(0.99),
        times[times.len() - 1]
    );
    province.shutdown().await;
}
