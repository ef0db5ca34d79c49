//! The province's Merkle log at 1,000,000 entries: appending, inclusion proofs, and
//! consistency proofs between any two sizes (what members ask for when they check a
//! head), all from the stored subtree hashes.
//!
//! ```text
//! cargo run --release -p alliance-protocol --example log_proofs_bench -- [entries]
//! ```

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use alliance_protocol::transparency::{MerkleLog, entry_hash};

fn main() {
    let entries: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    let mut log = MerkleLog::new();
    for n in 0..entries {
        log.push_hash(entry_hash(&n.to_be_bytes()));
    }
    let appended = started.elapsed();
    // Deterministic spread of sizes and indices.
    let pick = |i: u64, modulo: u64| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) % modulo + 1;
    let proofs = 10_000u64;
    let started = Instant::now();
    let mut bytes = 0;
    for i in 0..proofs {
        bytes += log.prove_inclusion(pick(i, entries) - 1).unwrap().len();
    }
    let inclusion = started.elapsed();
    let started = Instant::now();
    for i in 0..proofs {
        let second = pick(i, entries);
        let first = pick(i + 7, second);
        bytes += log.prove_consistency_between(first, second).unwrap().len();
    }
    let consistency = started.elapsed();
    // The previous way, for comparison: rebuild the tree of the earlier size, then prove.
    let started = Instant::now();
    let rebuilt = 3u64;
    for i in 0..rebuilt {
        let second = entries - 1 - i;
        let mut tree =
            ct_merkle::mem_backed_tree::MemoryBackedTree::<sha2::Sha256, [u8; 32]>::new();
        for n in 0..second {
            tree.push(entry_hash(&n.to_be_bytes()));
        }
        bytes += tree
            .prove_consistency(usize::try_from(second / 2).unwrap())
            .as_bytes()
            .len();
    }
    let rebuilding = started.elapsed();
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!(
        "{entries} entries appended in {:.2} s; resident {} MiB",
        appended.as_secs_f64(),
        rss / 1024
    );
    println!(
        "inclusion proofs: {:.0}/s; consistency proofs between two earlier sizes: {:.0}/s ({bytes} bytes in all)",
        proofs as f64 / inclusion.as_secs_f64(),
        proofs as f64 / consistency.as_secs_f64()
    );
    println!(
        "the same by rebuilding the earlier tree (as before): {:.2} s each",
        rebuilding.as_secs_f64() / rebuilt as f64
    );
}
