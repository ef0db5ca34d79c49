//! The province's receipt ingestion: how many receipt submissions per second it checks
//! (the owner's signature, the home's confirmation, membership, ownership), de-duplicates
//! and appends durably to its log, beside the raw ed25519 verification rate measured in
//! the same run — each submission carries two signatures, so half the raw rate in
//! signatures is the bound in receipts. Also: inclusion proofs generated per second.
//!
//! ```text
//! cargo run --release -p alliance-node --example receipt_ingest_bench -- [--receipts 100000] [--batch 1000]
//! ```
//!
//! Submissions are made (and signed) before the clock starts: 20 owners, 20 homes.

#![allow(clippy::print_stdout)]

use std::{collections::HashMap, time::Instant};

use alliance_node::{
    province::receipt_log::{InstrumentOwners, LogRules, MemberHistory, ReceiptLog},
    store::Store,
};
use alliance_protocol::{
    FeeComponents, InstitutionId, PublicKey, SecretKey, UnixTime, UserTier,
    receipt::{ReceiptConfirmation, ReceiptSubmission, UsageReceipt, receipt_hash},
    transparency::MerkleLog,
};
use anyhow::Context;
use clap::Parser;
use rayon::prelude::*;

#[derive(Debug, Parser)]
struct Args {
    /// Submissions to ingest.
    #[arg(long, default_value_t = 100_000)]
    receipts: u32,
    /// Submissions per call (one fsync each).
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
}

struct Members(HashMap<[u8; 32], InstitutionId>);

impl MemberHistory for Members {
    fn institution_at(&self, key: &PublicKey, _at: UnixTime) -> Option<InstitutionId> {
        self.0.get(&key.to_bytes()).cloned()
    }

    fn was_member(&self, institution: &InstitutionId, _at: UnixTime) -> bool {
        self.0.values().any(|i| i == institution)
    }
}

struct AnyInstrument;

impl InstrumentOwners for AnyInstrument {
    fn owns(&self, _: &InstitutionId, _: &str) -> bool {
        true
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let keys: Vec<(InstitutionId, SecretKey)> = (0..40)
        .map(|i| Ok((format!("inst{i}").parse()?, SecretKey::generate())))
        .collect::<anyhow::Result<_>>()?;
    let members = Members(
        keys.iter()
            .map(|(id, key)| (key.public().to_bytes(), id.clone()))
            .collect(),
    );
    let now = UnixTime::now();
    let first = now.0 - (i64::from(args.receipts / 100) + 1) * 4 * 3_600 - 86_400;
    let submissions: Vec<Vec<u8>> = (0..args.receipts)
        .into_par_iter()
        .map(|n| {
            let (owner, owner_key) = &keys[(n % 20) as usize];
            let (home, home_key) = &keys[20 + (n / 20 % 20) as usize];
            // Receipt n is of owner n % 20's instrument n % 50: 100 instruments, each
            // used two hours in every four from `first` on, so no two uses overlap.
            let start = first + i64::from(n / 100) * 4 * 3_600;
            let receipt = UsageReceipt {
                receipt_id: format!("r{n}"),
                institution_id: owner.clone(),
                local_id: format!("I{}", n % 50),
                booking_id: format!("b{n}"),
                user_id: format!("u{}", n % 997),
                user_name: "王小明".into(),
                home_institution: home.clone(),
                tier: UserTier::AllianceMember,
                start: UnixTime(start),
                end: UnixTime(start + 7_200),
                preparation_minutes: 15,
                test_minutes: 90,
                post_processing_minutes: 15,
                samples: 3,
                fees: FeeComponents {
                    materials_fen: 2_000,
                    operating_fen: 9_000,
                    labour_fen: 6_000,
                },
                issued_at: UnixTime(start + 7_200),
                report_sha256: None,
            };
            let sealed = receipt.seal(owner_key);
            let confirmation = ReceiptConfirmation {
                receipt_hash: receipt_hash(&sealed),
                receipt_id: receipt.receipt_id.clone(),
                institution_id: owner.clone(),
                user_id: receipt.user_id.clone(),
                verdict: alliance_protocol::receipt::Verdict::Confirmed {
                    rating: 4,
                    comment: "服务及时".into(),
                },
                confirmed_at: now,
            };
            ReceiptSubmission {
                receipt: sealed,
                confirmation: Some(confirmation.seal(home_key)),
            }
            .encode()
        })
        .collect();

    // The raw bound: ed25519 verifications per second, one core and every core.
    let signed: Vec<(PublicKey, Vec<u8>, Vec<u8>)> = (0..20_000u32)
        .map(|n| {
            let key = &keys[(n % 40) as usize].1;
            let message = format!(
                "message {n} of about a receipt's length {}",
                "x".repeat(300)
            );
            (
                key.public(),
                message.clone().into_bytes(),
                key.sign(message.as_bytes()).to_vec(),
            )
        })
        .collect();
    let started = Instant::now();
    for (key, message, signature) in &signed {
        key.verify(message, signature).context("verify")?;
    }
    let one_core = signed.len() as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    signed
        .par_iter()
        .try_for_each(|(key, message, signature)| key.verify(message, signature))
        .context("verify")?;
    let all_cores = signed.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "raw ed25519 verify_strict: {one_core:.0}/s on one core, {all_cores:.0}/s on {} cores; bound {:.0} receipts/s (two signatures each)",
        rayon::current_num_threads(),
        all_cores / 2.0
    );

    let dir = tempfile::tempdir()?;
    let rules = LogRules {
        effective_allowance_minutes: 30,
        late_window_seconds: now.0 - first + 86_400,
    };
    let log = ReceiptLog::open(Store::open(dir.path())?, SecretKey::generate(), rules)?;
    let started = Instant::now();
    let mut accepted = 0usize;
    for chunk in submissions.chunks(args.batch.max(1)) {
        let answers = log.submit(chunk, &members, &AnyInstrument, now).await?;
        accepted += answers.iter().filter(|a| a.is_ok()).count();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = accepted as f64 / elapsed;
    println!(
        "ingestion: {accepted} of {} receipts checked and durably appended in {elapsed:.2} s: {rate:.0} receipts/s ({:.0} % of the bound), batches of {}",
        submissions.len(),
        100.0 * rate / (all_cores / 2.0),
        args.batch
    );
    anyhow::ensure!(accepted == submissions.len(), "some receipts were refused");

    let mut tree = MerkleLog::new();
    for s in &submissions {
        tree.push(s);
    }
    let started = Instant::now();
    let mut bytes = 0usize;
    for i in 0..100_000u64 {
        let index = i.wrapping_mul(2_654_435_761) % tree.len();
        bytes += tree.prove_inclusion(index).map_or(0, |p| p.len());
    }
    println!(
        "inclusion proofs: {:.0}/s from a log of {} entries ({} bytes each on average)",
        100_000.0 / started.elapsed().as_secs_f64(),
        tree.len(),
        bytes / 100_000
    );
    Ok(())
}
