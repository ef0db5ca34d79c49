//! Durable commits survive SIGKILL of the writing process.
//!
//! The test re-executes its own binary as the writer (an environment variable tells the
//! child which role to play). The child's threads commit records one by one, each record
//! a batch of two keys in two spaces, and print a record's key only after
//! `commit_blocking` returned. The parent reads those lines, kills the child with SIGKILL
//! mid-stream (no destructor or flush runs), reopens the store and checks that every
//! printed record is there, and that every record there is whole (batches are atomic).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::process::ExitStatusExt,
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use alliance_node::store::{Batch, Space, Store};

const TEST_NAME: &str = "store_crash::store_commits_survive_sigkill";
const WRITER_DIR_ENV: &str = "ALLIANCE_STORE_CRASH_WRITER_DIR";
const WRITER_THREADS: usize = 4;
const RECORDS_BEFORE_KILL: usize = 200;
const PREFIX: &str = "committed ";

#[test]
fn store_commits_survive_sigkill() {
    if let Some(dir) = std::env::var_os(WRITER_DIR_ENV) {
        write_until_killed(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(WRITER_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();

    // Lines arrive through a thread so that waiting for them is bounded by a deadline.
    let stdout = child.stdout.take().unwrap();
    let (lines, arrivals) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut acknowledged = Vec::new();
    while acknowledged.len() < RECORDS_BEFORE_KILL {
        let wait = deadline.saturating_duration_since(Instant::now());
        match arrivals.recv_timeout(wait) {
            Ok(line) => {
                if let Some(key) = line.strip_prefix(PREFIX) {
                    acknowledged.push(key.to_owned());
                }
            }
            Err(e) => {
                let _ = child.kill();
                panic!("the writer gave {} records, then {e:?}", acknowledged.len());
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix.
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(libc::SIGKILL),
        "the writer was not killed: {status}"
    );

    let store = Store::open(dir.path()).unwrap();
    for key in &acknowledged {
        assert!(
            store.get(Space::Bench, key.as_bytes()).unwrap().is_some(),
            "acknowledged record {key} was lost"
        );
        assert!(
            store.get(Space::Meta, key.as_bytes()).unwrap().is_some(),
            "half of acknowledged record {key} was lost"
        );
    }
    // Records committed but not yet printed when the kill came may be there too: whole.
    let bench = store.scan_prefix(Space::Bench, b"").unwrap();
    let meta = store.scan_prefix(Space::Meta, b"").unwrap();
    assert!(bench.len() >= acknowledged.len());
    let keys =
        |pairs: &[(Vec<u8>, Vec<u8>)]| pairs.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&bench), keys(&meta), "a batch was applied in part");
}

/// The child's role: commit records from several threads until killed.
#[allow(clippy::print_stdout)]
fn write_until_killed(dir: &Path) -> ! {
    let store = Store::open(dir).unwrap();
    std::thread::scope(|scope| {
        for thread in 0..WRITER_THREADS {
            let store = store.clone();
            scope.spawn(move || {
                for i in 0u64.. {
                    let key = format!("t{thread}-{i:08}");
                    let mut batch = Batch::new();
                    batch.put(Space::Bench, key.clone(), vec![0xab; 300]).put(
                        Space::Meta,
                        key.clone(),
                        i.to_be_bytes().to_vec(),
                    );
                    store.commit_blocking(batch).unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{PREFIX}{key}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
    unreachable!("the writer threads never end")
}
