//! The owner's booking core alone: how many requests per second the ledger answers — the
//! per-instrument serialised check-and-insert, committed durably (fsync) before each
//! answer — with no network, as a central platform's database would. Run beside
//! PostgreSQL's answer to the same load by `scripts/booking-core-vs-postgres.sh`.
//!
//! ```text
//! cargo run --release -p alliance-node --example booking_core_bench -- [--clients 8] [--seconds 10]
//! ```
//!
//! Load: `--clients` concurrent clients, each asking in a loop for a random 1–3 hour
//! slot on the half hour of one of `--instruments` instruments over `--days` days, so
//! that many requests collide. Every answer (confirmed, or conflict with the nearest free
//! slots) counts. The ledger also signs each answer with ed25519, which the database does
//! not do; the figure includes it. At the end the slots taken are checked for overlaps.

#![allow(clippy::print_stdout)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alliance_node::{
    booking::{
        ledger::{Ledger, RequestContext},
        rules::{BookingRules, InstrumentFacts},
    },
    catalogue::schedule,
    store::Store,
};
use alliance_protocol::{
    InstrumentStatus, SecretKey, ServiceMode, SharingScope, UnixTime, UserTier,
    booking::{BookingRequest, BookingUser, Outcome},
};
use anyhow::Context;
use clap::Parser;

/// Booking core benchmark.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: u64,
    /// How long to run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Instruments the requests spread over.
    #[arg(long, default_value_t = 20)]
    instruments: u64,
    /// Days the slots spread over.
    #[arg(long, default_value_t = 60)]
    days: u64,
    /// Where to create the store (default: a temporary directory).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Sign every answer, as a node does.
    #[arg(long)]
    sign: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let temp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().join("core"));
    let store = Store::open(&dir).context("store")?;
    let ledger = if args.sign {
        Ledger::open(store, SecretKey::generate(), "dlut".parse()?)?
    } else {
        Ledger::open_unsigned_answers(store, SecretKey::generate(), "dlut".parse()?)?
    };
    // The core's cost, not the fair-use quotas: one client books like many users.
    let rules = Arc::new(BookingRules {
        min_lead_minutes: 0,
        horizon_days: 730,
        max_active_per_user: 10_000,
        max_active_per_home: 10_000,
        max_holds_per_home: 10_000,
        ..BookingRules::default()
    });
    let open = Arc::new(schedule::parse("每天 全天"));
    // Slots start tomorrow at midnight, Shanghai time.
    let now = UnixTime::now();
    let base = now.0 - (now.0 + 8 * 3600).rem_euclid(86_400) + 86_400;
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let answered = Arc::new(AtomicU64::new(0));
    let confirmed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for client in 0..args.clients {
        let (ledger, rules, open) = (ledger.clone(), rules.clone(), open.clone());
        let (answered, confirmed) = (answered.clone(), confirmed.clone());
        let (instruments, days) = (args.instruments, args.days);
        let owner: alliance_protocol::InstitutionId = "dlut".parse()?;
        let home: alliance_protocol::InstitutionId = "neu".parse()?;
        clients.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let instrument = rand::random_range(0..instruments);
                let half_hours = rand::random_range(0..days * 48) as i64;
                let start = base + half_hours * 1800;
                let hours = rand::random_range(1..=3);
                let request = BookingRequest {
                    booking_id: format!("c{client}-{n}"),
                    institution_id: owner.clone(),
                    local_id: format!("I{instrument}"),
                    start: UnixTime(start),
                    end: UnixTime(start + hours * 3600),
                    user: BookingUser {
                        user_id: format!("u{client}"),
                        display_name: String::new(),
                        home_institution: home.clone(),
                        tier: UserTier::AllianceMember,
                        email: String::new(),
                    },
                    mode: ServiceMode::StaffRun,
                    samples: 1,
                    purpose: String::new(),
                    service_item: String::new(),
                    sent_at: UnixTime::now(),
                };
                let context = RequestContext {
                    rules: &rules,
                    facts: InstrumentFacts {
                        status: InstrumentStatus::InService,
                        scope: SharingScope::OpenToSociety,
                        modes: &[ServiceMode::StaffRun],
                        open: &open,
                    },
                    fees: &[],
                    trained: false,
                    strikes: 0,
                    now: UnixTime::now(),
                };
                let answer = ledger.request(&request, &context).await?;
                answered.fetch_add(1, Ordering::Relaxed);
                if answer.answer.outcome == Outcome::Confirmed {
                    confirmed.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        }));
    }
    for client in clients {
        client.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let answered = answered.load(Ordering::Relaxed);
    let confirmed = confirmed.load(Ordering::Relaxed);
    let mut overlaps = 0;
    let mut taken_total = 0;
    for instrument in 0..args.instruments {
        let taken = ledger.taken(&format!("I{instrument}")).await?;
        taken_total += taken.len();
        for pair in taken.windows(2) {
            if pair[0].end.0 > pair[1].start.0 {
                overlaps += 1;
            }
        }
    }
    println!(
        "booking core{}: {} clients, {:.1} s: {} answers, {:.0} answers/s ({} confirmed, {} slots taken, {} overlaps)",
        if args.sign { ", answers signed" } else { "" },
        args.clients,
        elapsed,
        answered,
        answered as f64 / elapsed,
        confirmed,
        taken_total,
        overlaps
    );
    anyhow::ensure!(overlaps == 0, "overlapping bookings");
    anyhow::ensure!(confirmed as usize == taken_total, "confirmed != taken");
    Ok(())
}
