//! Evaluation over a year of receipts: the metrics of every instrument and institution
//! and their scores and grades, from 1,000,000 receipts (the issue's goal: under 2 s).
//!
//! ```text
//! cargo run --release -p alliance-node --example evaluation_bench -- [--receipts 1000000]
//! ```
//!
//! Receipts are made in memory before the clock starts (200 institutions × 50
//! instruments); the timed part groups them by instrument, computes each instrument's
//! metrics, adds them up per institution and scores every institution and instrument.

#![allow(clippy::print_stdout)]

use std::{collections::HashMap, time::Instant};

use alliance_node::evaluation::{
    config::EvaluationConfig,
    metrics::{Countersign, InstrumentFacts, Metrics, Period, Use},
    scoring::evaluate,
};
use alliance_protocol::{FeeComponents, InstitutionId, UnixTime, UserTier, receipt::UsageReceipt};
use clap::Parser;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    receipts: u32,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let institutions: Vec<InstitutionId> = (0..200)
        .map(|i| format!("inst{i}").parse())
        .collect::<Result<_, _>>()?;
    // 2026 in Shanghai.
    let year = Period {
        from: UnixTime(1_767_196_800),
        to: UnixTime(1_767_196_800 + 365 * 86_400),
    };
    let receipts: Vec<(UsageReceipt, Option<u8>)> = (0..args.receipts)
        .map(|n| {
            let owner = &institutions[(n % 200) as usize];
            let home = &institutions[(n / 7 % 200) as usize];
            let start = year.from.0 + i64::from(n % 360) * 86_400;
            (
                UsageReceipt {
                    receipt_id: format!("r{n}"),
                    institution_id: owner.clone(),
                    local_id: format!("I{}", n / 200 % 50),
                    booking_id: String::new(),
                    user_id: format!("u{}", n % 5_003),
                    user_name: String::new(),
                    home_institution: home.clone(),
                    tier: if owner == home {
                        UserTier::OwnInstitution
                    } else {
                        UserTier::AllianceMember
                    },
                    start: UnixTime(start),
                    end: UnixTime(start + 7_200),
                    preparation_minutes: 10,
                    test_minutes: 90,
                    post_processing_minutes: 20,
                    samples: 2,
                    fees: FeeComponents {
                        materials_fen: 1_000,
                        operating_fen: 8_000,
                        labour_fen: 5_000,
                    },
                    issued_at: UnixTime(start + 7_200),
                    report_sha256: None,
                },
                (n % 3 != 0).then_some(4 + (n % 2) as u8),
            )
        })
        .collect();
    let config = EvaluationConfig::builtin();
    let facts = InstrumentFacts {
        rated_hours_year: 1_400.0,
        publications: 1,
        uptime: Some(0.93),
        response_hours_sum: 6.0,
        responses: 1,
        requests: 40,
        rejections: 3,
        offers: 4,
        offers_accepted: 1,
        reporting_required: true,
        reported_on_time: true,
    };

    let started = Instant::now();
    let mut by_instrument: HashMap<(&InstitutionId, &str), Vec<Use<'_>>> = HashMap::new();
    for (receipt, rating) in &receipts {
        by_instrument
            .entry((&receipt.institution_id, receipt.local_id.as_str()))
            .or_default()
            .push(Use {
                receipt,
                countersign: rating.map_or(Countersign::Missing, |rating| Countersign::Confirmed {
                    rating,
                }),
            });
    }
    let mut per_institution: HashMap<&InstitutionId, Metrics> = HashMap::new();
    let mut instrument_scores = 0usize;
    for ((institution, _), uses) in &by_instrument {
        let metrics = Metrics::of_instrument(&facts, uses.iter().copied(), &year);
        evaluate(&config, &metrics);
        instrument_scores += 1;
        per_institution
            .entry(institution)
            .or_default()
            .add(&metrics);
    }
    let mut grades = [0usize; 4];
    for metrics in per_institution.values() {
        grades[evaluate(&config, metrics).grade as usize] += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "evaluation: {} receipts, {instrument_scores} instruments and {} institutions scored in {elapsed:.3} s (grades poor/pass/good/excellent: {grades:?})",
        receipts.len(),
        per_institution.len()
    );
    Ok(())
}
