//! Booking benchmark between real nodes on loopback: real signatures, real libp2p
//! round trips, and the owner's durable (fsynced), per-instrument serialised
//! check-and-insert for every request.
//!
//! ```text
//! cargo build --release -p alliance-tests --example booking_bench
//! target/release/examples/booking_bench --mode latency
//! target/release/examples/booking_bench --mode throughput
//! ```
//!
//! Every node runs in this one process on a tokio runtime of two worker threads, with
//! its store in a temporary directory. The owner `dlut` publishes instruments open
//! around the clock ("每天 全天", staff-run) with the default booking rules; requesters
//! book as alliance members, whom those rules confirm at once.
//!
//! Modes:
//! - `latency`: a province, the owner and one requester `neu`. The requester sends
//!   `--requests` booking requests one after the other (after `--warmup` uncounted
//!   ones), each for its own free 30-minute slot, spread over `--instruments`
//!   instruments and eight weeks, at least two hours ahead. Each request is timed from
//!   the call of `Bookings::book` on the requester to its return with the owner's
//!   verified signed answer. Prints p50, p99 and max, and the answers by outcome; every
//!   answer must be `Confirmed`, or the run fails.
//! - `throughput`: a province, the owner and four requesters (`neu`, `imr`, `lnu`,
//!   `syu`), each running `--concurrency` tasks that send requests back to back for
//!   `--seconds` seconds over `--instruments` instruments. Every other request asks for
//!   a slot nobody asked for before; the others ask again for one of the slots most
//!   recently asked for (the same half hour, or the hour around it), so they meet a
//!   slot already taken, or race for it. Prints the answers per second (confirmed or
//!   refused, counted when the requester holds the verified answer), the answers by
//!   outcome and the latency under that load. Then it checks the owner's ledger: no two
//!   slots taken on an instrument overlap, the bookings taken are exactly those
//!   answered `Confirmed`, and the store's slot index agrees. Errors, refusals other
//!   than conflicts, and overlaps fail the run.
//!
//! Each run also prints the CPU time the process used while it was timed, per answer:
//! every node (requesters, owner, province) shares the same cores here, and every
//! confirmation inside the eight weeks the availability digests show makes the owner
//! republish that instrument's digest, which every other node verifies and stores.
//! `--days-ahead 60` puts every slot past those weeks, to see what that costs.
//!
//! `--mode all` runs both, each with its own nodes. `RUST_LOG=warn` (or finer) logs to
//! stderr.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, HashSet},
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alliance_node::{
    NodeHandle,
    booking::{
        service::{BookingAsk, HomeUser},
        state::BookingState,
    },
};
use alliance_protocol::{ServiceMode, UnixTime, UserTier, booking::Outcome};
use alliance_tests::{connected_institutions, sample_record, start_member, start_province};
use anyhow::{Context, bail, ensure};
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    All,
    Latency,
    Throughput,
}

/// Booking benchmark.
#[derive(Debug, Parser)]
struct Args {
    #[arg(long, value_enum, default_value_t = Mode::All)]
    mode: Mode,
    /// Timed sequential requests in the latency run.
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Uncounted requests before them.
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Instruments of the owner the latency run books (the throughput run uses 20
    /// unless given).
    #[arg(long)]
    instruments: Option<usize>,
    /// Concurrent tasks of each requesting member in the throughput run.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// How long the throughput run sends requests.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Puts the first slot this many days later than two hours from now. From 57 on,
    /// every slot lies past the eight weeks the availability digests show, so a
    /// confirmation republishes no digest: the difference is what keeping every node's
    /// calendar current costs.
    #[arg(long, default_value_t = 0)]
    days_ahead: i64,
}

const OWNER: &str = "dlut";
const REQUESTERS: [&str; 4] = ["neu", "imr", "lnu", "syu"];
const HALF_HOUR: i64 = 1800;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Days over which the latency run spreads its slots.
const DAYS: i64 = 56;

fn local_id(instrument: usize) -> String {
    format!("BK-{instrument:02}")
}

fn instrument_id(instrument: usize) -> String {
    format!("{OWNER}/{}", local_id(instrument))
}

/// The owner's instruments: open around the clock, staff-run testing, default rules.
async fn publish_instruments(owner: &NodeHandle, count: usize) -> anyhow::Result<()> {
    for i in 0..count {
        let mut record = sample_record(
            OWNER,
            &local_id(i),
            &format!("X射线光电子能谱仪（{i}号机）"),
        );
        record.opening_hours = "每天 全天".into();
        record.service_modes = vec![ServiceMode::StaffRun];
        owner.catalogue().save_record(record).await?;
    }
    Ok(())
}

fn researcher(home: &str, n: usize) -> HomeUser {
    HomeUser {
        user_id: format!("{home}-r{n}"),
        display_name: format!("研究员{n}"),
        tier: UserTier::AllianceMember,
    }
}

fn ask(instrument: usize, start: i64, end: i64) -> BookingAsk {
    BookingAsk {
        instrument_id: instrument_id(instrument),
        start: UnixTime(start),
        end: UnixTime(end),
        mode: ServiceMode::StaffRun,
        samples: 1,
        purpose: "表面元素与化学态分析".into(),
        service_item: String::new(),
    }
}

/// The first half hour (counted from midnight in Shanghai, which is a whole number of
/// half hours from the Unix epoch) at least two hours (and `days_ahead` days) from now:
/// well past the rules' 60-minute lead time for the whole run.
fn first_slot(days_ahead: i64) -> i64 {
    let earliest = UnixTime::now().0 + 2 * HOUR + days_ahead * DAY;
    earliest + (HALF_HOUR - (earliest + 8 * HOUR).rem_euclid(HALF_HOUR)) % HALF_HOUR
}

async fn wait_connected(node: &NodeHandle, to: &str) -> anyhow::Result<()> {
    let mut state = node.net().watch();
    tokio::time::timeout(
        Duration::from_secs(60),
        state.wait_for(|s| connected_institutions(s).iter().any(|i| i == to)),
    )
    .await
    .with_context(|| format!("{} never saw {to}", node.config().node.institution_id))??;
    Ok(())
}

/// CPU time (user and system) this process has used so far, from `/proc/self/stat`
/// (in clock ticks of 1/100 s, as Linux reports them).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    // utime and stime are the 14th and 15th fields; the 3rd is the first after the name.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// What the process's CPU did over a run: seconds, share of the cores, per answer.
fn cpu_line(cpu_before: Option<f64>, wall: Duration, answers: u64) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match (cpu_before, cpu_seconds()) {
        (Some(before), Some(after)) => {
            let used = after - before;
            format!(
                "CPU {used:.2} s over {:.2} s on {cores} cores ({:.0}% busy), {:.2} ms per answer, all nodes together",
                wall.as_secs_f64(),
                100.0 * used / (wall.as_secs_f64() * cores as f64),
                1000.0 * used / answers.max(1) as f64
            )
        }
        _ => "CPU time unknown".into(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Answers by outcome (and calls that failed).
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    confirmed: u64,
    held: u64,
    rejected: u64,
    conflict: u64,
    errors: u64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.confirmed += other.confirmed;
        self.held += other.held;
        self.rejected += other.rejected;
        self.conflict += other.conflict;
        self.errors += other.errors;
    }

    fn answers(&self) -> u64 {
        self.confirmed + self.held + self.rejected + self.conflict
    }

    fn line(&self) -> String {
        format!(
            "confirmed {}, conflicts {}, held {}, rejected {}, errors {}",
            self.confirmed, self.conflict, self.held, self.rejected, self.errors
        )
    }
}

/// The latency run's slot `i`: instruments in turn, then days, then half hours of the day.
fn latency_slot(first: i64, instruments: usize, i: usize) -> (usize, i64) {
    let k = (i / instruments) as i64;
    (
        i % instruments,
        first + (k % DAYS) * DAY + (k / DAYS) * HALF_HOUR,
    )
}

async fn latency(dir: &Path, args: &Args) -> anyhow::Result<()> {
    let instruments = args.instruments.unwrap_or(8).max(1);
    let total = args.warmup + args.requests;
    ensure!(
        total <= instruments * (DAYS * 48) as usize,
        "{total} requests do not fit in {instruments} instruments × {DAYS} days of half hours"
    );
    let province = start_province(dir, "lnsti").await;
    let owner = start_member(dir, &province, OWNER).await;
    let neu = start_member(dir, &province, "neu").await;
    publish_instruments(&owner, instruments).await?;
    wait_connected(&neu, OWNER).await?;

    let first = first_slot(args.days_ahead);
    let user = researcher("neu", 0);
    let mut tally = Tally::default();
    let mut times = Vec::with_capacity(args.requests);
    let mut timed = (None, Instant::now());
    for i in 0..total {
        if i == args.warmup {
            timed = (cpu_seconds(), Instant::now());
        }
        let (instrument, start) = latency_slot(first, instruments, i);
        let ask = ask(instrument, start, start + HALF_HOUR);
        let started = Instant::now();
        let answer = neu.bookings().book(&user, &ask, format!("lat-{i}")).await;
        let took = started.elapsed();
        let answer = answer.with_context(|| format!("request {i} got no answer"))?;
        if i < args.warmup {
            ensure!(
                answer.outcome == Outcome::Confirmed,
                "warm-up request {i} was answered {:?}",
                answer.outcome
            );
            continue;
        }
        match answer.outcome {
            Outcome::Confirmed => tally.confirmed += 1,
            Outcome::Held { .. } => tally.held += 1,
            Outcome::Rejected { .. } => tally.rejected += 1,
            Outcome::Conflict { .. } => tally.conflict += 1,
        }
        times.push(took);
    }
    times.sort();
    println!(
        "latency: {} sequential requests (after {} warm-up) from neu to dlut over {instruments} instruments",
        times.len(),
        args.warmup
    );
    println!(
        "latency: p50 {}  p99 {}  max {}  mean {}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().context("no requests")?),
        ms(times.iter().sum::<Duration>() / times.len() as u32),
    );
    println!("latency: answers: {}", tally.line());
    println!(
        "latency: {}",
        cpu_line(timed.0, timed.1.elapsed(), tally.answers())
    );
    ensure!(
        tally.confirmed == args.requests as u64,
        "not every answer was Confirmed: {}",
        tally.line()
    );
    let mut held = 0;
    for i in 0..instruments {
        held += owner.bookings().ledger().taken(&local_id(i)).await?.len();
    }
    ensure!(
        held == total,
        "the owner holds {held} bookings for {total} confirmed requests"
    );
    neu.shutdown().await;
    owner.shutdown().await;
    province.shutdown().await;
    Ok(())
}

/// Slots of the throughput run: fresh slot `k` is the half hour at the top of hour
/// `k / instruments` (counted from half an hour after the first slot) on instrument
/// `k % instruments`. The hour around it, from half an hour before, is asked only by
/// requests that collide with it, so at most one request per hour cell is confirmed.
#[derive(Debug)]
struct Slots {
    first: i64,
    instruments: usize,
    /// Fresh slots handed out so far.
    issued: AtomicU64,
}

impl Slots {
    fn fresh(&self, k: u64) -> (usize, i64, i64) {
        let instrument = (k % self.instruments as u64) as usize;
        let start = self.first + HALF_HOUR + (k / self.instruments as u64) as i64 * HOUR;
        (instrument, start, start + HALF_HOUR)
    }

    /// The next request's slot; `collide` asks again for one of the 64 most recent.
    fn pick(&self, collide: bool, rng: &mut u64) -> (usize, i64, i64) {
        let issued = self.issued.load(Ordering::Relaxed);
        if !collide || issued == 0 {
            return self.fresh(self.issued.fetch_add(1, Ordering::Relaxed));
        }
        let r = xorshift(rng);
        let k = issued - 1 - r % issued.min(64);
        let (instrument, start, end) = self.fresh(k);
        if (r >> 32) & 1 == 0 {
            (instrument, start, end)
        } else {
            (instrument, start - HALF_HOUR, end)
        }
    }
}

fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

/// What one requesting task saw.
#[derive(Debug, Default)]
struct TaskResult {
    tally: Tally,
    times: Vec<Duration>,
    /// Booking ids answered Confirmed.
    confirmed: Vec<String>,
    first_error: Option<String>,
}

async fn throughput(dir: &Path, args: &Args) -> anyhow::Result<()> {
    let instruments = args.instruments.unwrap_or(20).max(1);
    let province = start_province(dir, "lnsti").await;
    let owner = start_member(dir, &province, OWNER).await;
    let mut requesters = Vec::new();
    for id in REQUESTERS {
        requesters.push(start_member(dir, &province, id).await);
    }
    publish_instruments(&owner, instruments).await?;
    for node in &requesters {
        wait_connected(node, OWNER).await?;
    }

    let slots = Arc::new(Slots {
        first: first_slot(args.days_ahead),
        instruments,
        issued: AtomicU64::new(0),
    });
    let fsyncs = |nodes: &[&NodeHandle]| -> u64 {
        nodes
            .iter()
            .map(|n| n.bookings().store().stats().sync_rounds)
            .sum()
    };
    let requester_nodes: Vec<&NodeHandle> = requesters.iter().collect();
    let fsyncs_before = (fsyncs(&[&owner]), fsyncs(&requester_nodes));
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for (r, node) in requesters.iter().enumerate() {
        for t in 0..args.concurrency {
            let bookings = node.bookings().clone();
            let home = REQUESTERS[r];
            let user = researcher(home, t);
            let slots = slots.clone();
            let mut rng = 0x9E37_79B9_7F4A_7C15_u64 ^ (((r * 1_000 + t + 1) as u64) << 17);
            tasks.push(tokio::spawn(async move {
                let mut result = TaskResult::default();
                let mut n = 0usize;
                while Instant::now() < deadline {
                    let (instrument, start, end) = slots.pick(n % 2 == 1, &mut rng);
                    let booking_id = format!("t{t:03}-{n}");
                    let ask = ask(instrument, start, end);
                    let sent = Instant::now();
                    let answer = bookings.book(&user, &ask, booking_id.clone()).await;
                    result.times.push(sent.elapsed());
                    match answer {
                        Ok(answer) => match answer.outcome {
                            Outcome::Confirmed => {
                                result.tally.confirmed += 1;
                                result.confirmed.push(format!("{home}/{booking_id}"));
                            }
                            Outcome::Held { .. } => result.tally.held += 1,
                            Outcome::Rejected { code, reason } => {
                                result.tally.rejected += 1;
                                result
                                    .first_error
                                    .get_or_insert(format!("rejected {code}: {reason}"));
                            }
                            Outcome::Conflict { .. } => result.tally.conflict += 1,
                        },
                        Err(e) => {
                            result.tally.errors += 1;
                            result.first_error.get_or_insert(e.to_string());
                        }
                    }
                    n += 1;
                }
                result
            }));
        }
    }
    let mut tally = Tally::default();
    let mut times = Vec::new();
    let mut confirmed_ids = HashSet::new();
    let mut first_error = None;
    for task in tasks {
        let result = task.await?;
        tally.add(&result.tally);
        times.extend(result.times);
        confirmed_ids.extend(result.confirmed);
        if first_error.is_none() {
            first_error = result.first_error;
        }
    }
    let elapsed = started.elapsed();
    let cpu = cpu_line(cpu_before, elapsed, tally.answers());
    let per_answer = |n: u64| n as f64 / tally.answers().max(1) as f64;
    let fsync_line = format!(
        "fsyncs per answer: owner {:.2}, requesters {:.2}",
        per_answer(fsyncs(&[&owner]) - fsyncs_before.0),
        per_answer(fsyncs(&requester_nodes) - fsyncs_before.1)
    );
    times.sort();
    println!(
        "throughput: {} requesters × {} tasks over {instruments} instruments for {} s: {} answers in {:.2} s",
        REQUESTERS.len(),
        args.concurrency,
        args.seconds,
        tally.answers(),
        elapsed.as_secs_f64()
    );
    println!(
        "throughput: {:.0} answers/s ({:.0} confirmed/s)",
        tally.answers() as f64 / elapsed.as_secs_f64(),
        tally.confirmed as f64 / elapsed.as_secs_f64()
    );
    println!("throughput: answers: {}", tally.line());
    if !times.is_empty() {
        println!(
            "throughput: latency under load: p50 {}  p99 {}  max {}",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().context("no requests")?)
        );
    }
    println!("throughput: {cpu}");
    println!("throughput: {fsync_line}");
    if let Some(e) = &first_error {
        println!("throughput: first error or refusal: {e}");
    }

    // The owner's ledger: no overlaps, and exactly the bookings answered Confirmed.
    let ledger = owner.bookings().ledger();
    let mut overlaps = 0;
    let mut taken_ids = HashSet::new();
    let mut not_confirmed = 0;
    let mut index_mismatches = 0;
    for i in 0..instruments {
        let taken = ledger.taken(&local_id(i)).await?;
        let mut by_start: BTreeMap<i64, i64> = BTreeMap::new();
        let mut latest_end = i64::MIN;
        let mut sorted: Vec<(i64, i64)> = taken.iter().map(|b| (b.start.0, b.end.0)).collect();
        sorted.sort_unstable();
        for (start, end) in &sorted {
            if *start < latest_end {
                overlaps += 1;
            }
            latest_end = latest_end.max(*end);
            by_start.insert(*start, *end);
        }
        for booking in &taken {
            if booking.state != BookingState::Confirmed {
                not_confirmed += 1;
            }
            taken_ids.insert(format!("{}/{}", booking.home, booking.booking_id));
        }
        let spans: BTreeMap<i64, i64> = ledger
            .taken_spans(&local_id(i))?
            .into_iter()
            .map(|(s, e)| (s.0, e.0))
            .collect();
        if spans != by_start || sorted.len() != by_start.len() {
            index_mismatches += 1;
        }
    }
    println!(
        "throughput: owner's ledger: {} bookings taken, {} answered Confirmed; overlaps: {overlaps}",
        taken_ids.len(),
        tally.confirmed
    );
    ensure!(overlaps == 0, "{overlaps} overlapping bookings");
    ensure!(
        not_confirmed == 0,
        "{not_confirmed} bookings taken are not confirmed"
    );
    ensure!(
        taken_ids.len() as u64 == tally.confirmed && taken_ids == confirmed_ids,
        "the bookings taken ({}) are not those answered Confirmed ({})",
        taken_ids.len(),
        tally.confirmed
    );
    ensure!(
        index_mismatches == 0,
        "{index_mismatches} instruments' stored slot index differs from their calendar"
    );
    if tally.errors > 0 || tally.rejected > 0 || tally.held > 0 {
        bail!(
            "unexpected answers: {} ({})",
            tally.line(),
            first_error.unwrap_or_default()
        );
    }
    ensure!(tally.conflict > 0, "no request met a taken slot");
    for node in requesters {
        node.shutdown().await;
    }
    owner.shutdown().await;
    province.shutdown().await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let dir = tempfile::tempdir()?;
    if matches!(args.mode, Mode::All | Mode::Latency) {
        latency(&dir.path().join("latency"), &args).await?;
    }
    if matches!(args.mode, Mode::All | Mode::Throughput) {
        throughput(&dir.path().join("throughput"), &args).await?;
    }
    Ok(())
}
