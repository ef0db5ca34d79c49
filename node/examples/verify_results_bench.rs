//! `alliance verify-results` over a year of 1,000,000 receipts: every check and the
//! recomputation, from bytes in memory (no network), the way the command runs once it has
//! downloaded them.
//!
//! ```text
//! cargo run --release -p alliance-node --example verify_results_bench -- [--receipts 1000000]
//! ```
//!
//! Before the clock starts: 200 institutions × 50 instruments, their certificates and
//! signed records, and the receipts — each signed by its owner, two in three confirmed
//! by the home — as log entries; then the province's statement of the year. Timed: the
//! statement's and evidence's checks, the Merkle root of every entry, both signatures of
//! every entry, and the recomputation of every row.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use alliance_node::{
    evaluation::{config::EvaluationConfig, metrics::Countersign},
    province::{
        evidence::EvidenceItem,
        results::LoggedUse,
        statement::{Statement, state},
    },
    verify,
};
use alliance_protocol::{
    FeeComponents, InstitutionId, InstrumentRecord, MembershipCertificate, Role, SecretKey,
    UnixTime, UserTier,
    receipt::{ReceiptConfirmation, ReceiptSubmission, UsageReceipt, Verdict, receipt_hash},
    transparency::{MerkleLog, TreeHead},
};
use clap::Parser;
use rayon::prelude::*;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    receipts: u32,
}

const INSTITUTIONS: usize = 200;
const INSTRUMENTS: u32 = 50;

fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = SecretKey::generate();
    let ids: Vec<InstitutionId> = (0..INSTITUTIONS)
        .map(|i| format!("inst{i}").parse())
        .collect::<Result<_, _>>()?;
    let keys: Vec<SecretKey> = ids.iter().map(|_| SecretKey::generate()).collect();
    // 2026 in Shanghai.
    let from = UnixTime(1_767_196_800);
    let period = alliance_node::evaluation::metrics::Period {
        from,
        to: UnixTime(from.0 + 365 * 86_400),
    };
    let mut evidence: Vec<EvidenceItem> = Vec::new();
    for (n, (id, key)) in ids.iter().zip(&keys).enumerate() {
        let signed = MembershipCertificate {
            institution_id: id.clone(),
            name_zh: format!("单位{n}"),
            name_en: id.to_string(),
            region: String::new(),
            node_public_key: key.public(),
            role: Role::Member,
            serial: n as u64 + 1,
            not_before: UnixTime(1_700_000_000),
            not_after: UnixTime(1_900_000_000),
        }
        .sign(&root);
        evidence.push(EvidenceItem::Certificate {
            signed: hex::encode(signed.encode()),
        });
        for i in 0..INSTRUMENTS {
            let mut record = InstrumentRecord::new(id.clone(), format!("I{i}"), "仪器".into());
            record.name_en = "Instrument".into();
            record.classification_code = "0102".into();
            record.location.city = "沈阳市".into();
            record.original_value_fen = 50_000_000;
            record.revision = 1;
            evidence.push(EvidenceItem::Record {
                signed: hex::encode(record.seal(key)),
            });
        }
    }
    let evidence: Vec<Vec<u8>> = evidence.iter().map(EvidenceItem::to_bytes).collect();

    let made = Instant::now();
    let made_entries: Vec<(Vec<u8>, LoggedUse)> = (0..args.receipts)
        .into_par_iter()
        .map(|n| {
            let owner = (n as usize) % INSTITUTIONS;
            let home = (n as usize / 7) % INSTITUTIONS;
            let slot = i64::from(n / (INSTITUTIONS as u32 * INSTRUMENTS));
            let start = from.0 + slot * 3_600;
            let receipt = UsageReceipt {
                receipt_id: format!("r{n}"),
                institution_id: ids[owner].clone(),
                local_id: format!("I{}", n / INSTITUTIONS as u32 % INSTRUMENTS),
                booking_id: String::new(),
                user_id: format!("u{}", n % 5_003),
                user_name: String::new(),
                home_institution: ids[home].clone(),
                tier: if owner == home {
                    UserTier::OwnInstitution
                } else {
                    UserTier::AllianceMember
                },
                start: UnixTime(start),
                end: UnixTime(start + 3_000),
                preparation_minutes: 5,
                test_minutes: 40,
                post_processing_minutes: 5,
                samples: 2,
                fees: FeeComponents {
                    materials_fen: 1_000,
                    operating_fen: 8_000,
                    labour_fen: 5_000,
                },
                issued_at: UnixTime(start + 3_000),
                report_sha256: None,
            };
            let sealed = receipt.seal(&keys[owner]);
            let rating = (n % 3 != 0).then_some(4 + (n % 2) as u8);
            let confirmation = rating.map(|rating| {
                ReceiptConfirmation {
                    receipt_hash: receipt_hash(&sealed),
                    receipt_id: receipt.receipt_id.clone(),
                    institution_id: receipt.institution_id.clone(),
                    user_id: receipt.user_id.clone(),
                    verdict: Verdict::Confirmed {
                        rating,
                        comment: String::new(),
                    },
                    confirmed_at: receipt.end,
                }
                .seal(&keys[home])
            });
            let entry = ReceiptSubmission {
                receipt: sealed,
                confirmation,
            }
            .encode();
            let logged = LoggedUse {
                index: u64::from(n),
                receipt,
                countersign: match rating {
                    Some(rating) => Countersign::Confirmed { rating },
                    None => Countersign::Missing,
                },
                dispute: None,
            };
            (entry, logged)
        })
        .collect();
    let (entries, uses): (Vec<Vec<u8>>, Vec<LoggedUse>) = made_entries.into_iter().unzip();
    let rooted = Instant::now();
    let mut log = MerkleLog::new();
    for entry in &entries {
        log.push(entry);
    }
    let rooting = rooted.elapsed();
    let config = EvaluationConfig::builtin();
    let stating = Instant::now();
    let (stated, _) = state(
        &root,
        Statement {
            label: "2026".into(),
            period,
            judged_on: chrono::NaiveDate::from_ymd_opt(2027, 1, 10).unwrap(),
            published: true,
            head: TreeHead {
                size: log.len(),
                root: log.root(),
                timestamp: UnixTime::now(),
            },
            uses: &uses,
            evidence: evidence.clone(),
            config: &config,
            issued_at: UnixTime::now(),
        },
    )?;
    // Evidence checked and every row computed: what the verifier does besides the
    // entries' signatures and root.
    let computing = stating.elapsed();
    drop(uses);
    println!(
        "made {} entries ({} evidence items) in {:.1} s",
        entries.len(),
        evidence.len(),
        made.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let report = verify::check(
        &root.public(),
        &stated.signed,
        &stated.figures,
        &stated.evidence,
        &entries,
    )?;
    let elapsed = started.elapsed();
    assert!(
        report.agrees(),
        "{:?}",
        &report.differences[..3.min(report.differences.len())]
    );
    println!(
        "of which, measured apart: Merkle root of the entries {:.2} s; evidence checked and every row recomputed {:.2} s; the rest is the entries' signatures",
        rooting.as_secs_f64(),
        computing.as_secs_f64()
    );
    println!(
        "verify-results over {} receipts ({} rows): {:.2} s, peak resident memory {} MiB, {} threads",
        report.entries,
        stated.figures().rows.len(),
        elapsed.as_secs_f64(),
        rss_mib(),
        rayon::current_num_threads()
    );
    Ok(())
}
