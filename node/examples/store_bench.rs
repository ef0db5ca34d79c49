//! Store benchmark: durable commit throughput, group commit, bulk load, disk and memory.
//!
//! ```text
//! cargo run --release -p alliance-node --example store_bench -- [--mode all] [flags]
//! ```
//!
//! Every commit is durable (fsynced) before it is counted. Modes:
//! - `single`: one writer, one small record per commit.
//! - `concurrent`: many writers at once, one small record per commit; the store's group
//!   commit lets them share fsyncs (sync rounds per commit is printed).
//! - `bulk`: random ~300-byte records in large durable batches; then the store's size on
//!   disk and the process's peak resident memory.
//!
//! Each mode gets a fresh store in its own directory (under `--dir`, or a temporary one).

#![allow(clippy::print_stdout)]

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alliance_node::store::{Batch, Space, Store, StoreStats};
use anyhow::Context;
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    All,
    Single,
    Concurrent,
    Bulk,
}

/// Durable-commit benchmark of the node's store.
#[derive(Debug, Parser)]
struct Args {
    /// Which measurement to run.
    #[arg(long, value_enum, default_value_t = Mode::All)]
    mode: Mode,
    /// Commits in the single-writer run.
    #[arg(long, default_value_t = 5_000)]
    single: u64,
    /// Writers in the concurrent run.
    #[arg(long, default_value_t = 16)]
    writers: u64,
    /// Commits per writer in the concurrent run.
    #[arg(long, default_value_t = 1_000)]
    per_writer: u64,
    /// Records in the bulk load.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Records per durable batch in the bulk load.
    #[arg(long, default_value_t = 1_000)]
    batch: u64,
    /// Mean value size in bytes of a bulk record (sizes vary ±10%).
    #[arg(long, default_value_t = 300)]
    value_size: usize,
    /// Where to create the stores (default: a temporary directory on the same disk as
    /// `TMPDIR`). Must not already hold stores of an earlier run.
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let temp;
    let root = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            temp.path().to_owned()
        }
    };
    println!("store bench in {} (every commit fsynced)", root.display());
    if matches!(args.mode, Mode::All | Mode::Single) {
        single(&root.join("single"), args.single)?;
    }
    if matches!(args.mode, Mode::All | Mode::Concurrent) {
        concurrent(&root.join("concurrent"), args.writers, args.per_writer)?;
    }
    if matches!(args.mode, Mode::All | Mode::Bulk) {
        bulk(
            &root.join("bulk"),
            args.records,
            args.batch,
            args.value_size,
        )?;
    }
    Ok(())
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
}

fn report_stats(label: &str, stats: StoreStats) {
    let rounds = stats.sync_rounds.max(1) as f64;
    println!(
        "{label}: {} batches in {} sync rounds ({:.3} sync rounds per commit, {:.1} batches per round)",
        stats.batches_committed,
        stats.sync_rounds,
        stats.sync_rounds as f64 / stats.batches_committed.max(1) as f64,
        stats.batches_committed as f64 / rounds,
    );
}

/// One writer, one small record per durable commit.
fn single(dir: &Path, commits: u64) -> anyhow::Result<()> {
    let store = Store::open(dir)?;
    let start = Instant::now();
    for i in 0..commits {
        let mut batch = Batch::new();
        batch.put(Space::Bench, i.to_be_bytes(), vec![0x5a; 100]);
        store.commit_blocking(batch)?;
    }
    let elapsed = start.elapsed();
    println!(
        "single writer: {commits} durable commits in {:.2} s = {:.0} commits/s",
        elapsed.as_secs_f64(),
        per_second(commits, elapsed)
    );
    report_stats("single writer", store.stats());
    Ok(())
}

/// `writers` threads at once, each committing `per_writer` small records one by one.
fn concurrent(dir: &Path, writers: u64, per_writer: u64) -> anyhow::Result<()> {
    let store = Store::open(dir)?;
    let start = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let store = store.clone();
                scope.spawn(move || -> anyhow::Result<()> {
                    for i in 0..per_writer {
                        let mut batch = Batch::new();
                        batch.put(
                            Space::Bench,
                            [w.to_be_bytes(), i.to_be_bytes()].concat(),
                            vec![0x5a; 100],
                        );
                        store.commit_blocking(batch)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("a writer thread panicked"))??;
        }
        Ok(())
    })?;
    let elapsed = start.elapsed();
    let commits = writers * per_writer;
    println!(
        "{writers} writers: {commits} durable commits in {:.2} s = {:.0} commits/s",
        elapsed.as_secs_f64(),
        per_second(commits, elapsed)
    );
    report_stats(&format!("{writers} writers"), store.stats());
    Ok(())
}

/// A fast deterministic generator (SplitMix64): the bench measures the store, not the RNG.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill(&mut self, out: &mut Vec<u8>, len: usize) {
        out.clear();
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
    }
}

/// `records` random records (16-byte random keys, values of ~`value_size` random bytes) in
/// durable batches of `per_batch`.
fn bulk(dir: &Path, records: u64, per_batch: u64, value_size: usize) -> anyhow::Result<()> {
    let store = Store::open(dir)?;
    let mut rng = SplitMix(0x00a1_11a9_ce00_5eed);
    let spread = (value_size / 10).max(1) as u64;
    let mut value = Vec::with_capacity(value_size + spread as usize);
    let mut payload_bytes = 0u64;
    let start = Instant::now();
    let mut written = 0;
    while written < records {
        let mut batch = Batch::new();
        let n = per_batch.min(records - written);
        for _ in 0..n {
            let key = [rng.next_u64().to_be_bytes(), rng.next_u64().to_be_bytes()].concat();
            let len = value_size - spread as usize + (rng.next_u64() % (2 * spread + 1)) as usize;
            rng.fill(&mut value, len);
            payload_bytes += (key.len() + len) as u64;
            batch.put(Space::Bench, key, value.clone());
        }
        store.commit_blocking(batch)?;
        written += n;
    }
    let elapsed = start.elapsed();
    println!(
        "bulk load: {records} records ({:.0} MiB of keys and values) in batches of {per_batch}: {:.2} s = {:.0} records/s",
        payload_bytes as f64 / 1048576.0,
        elapsed.as_secs_f64(),
        per_second(records, elapsed)
    );
    report_stats("bulk load", store.stats());
    println!(
        "bulk load: store on disk {:.0} MiB (open, right after the load)",
        mib(dir_size(dir)?)
    );
    drop(store);
    println!(
        "bulk load: store on disk {:.0} MiB (after closing)",
        mib(dir_size(dir)?)
    );
    match peak_rss_kib() {
        Some(kib) => println!(
            "peak RSS of the process: {:.0} MiB (VmHWM)",
            kib as f64 / 1024.0
        ),
        None => println!("peak RSS of the process: unknown (no /proc/self/status)"),
    }
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

/// Bytes of all files under `dir`.
fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The process's peak resident set size in KiB, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
