//! `alliance verify-results`: recomputes a period's published results from public data
//! and says where they differ.
//!
//! - [`check`]: the work, from bytes in hand — the statement's signature, its figures'
//!   digest, the evidence's digest and signatures, each log entry's signatures, the
//!   Merkle root of the entries, then every score and grade recomputed and compared.
//! - `fetch.rs`: reading those bytes from a node's public API, page by page.

mod fetch;

use alliance_protocol::{
    PublicKey,
    results::{FigureDifference, differences},
    statement::{EvidenceDigest, ResultsStatement, StatedFigures, figures_digest},
    transparency::MerkleLog,
};
use rayon::prelude::*;

pub use fetch::{Fetched, fetch};

use crate::{
    evaluation::{config::EvaluationConfig, metrics::Period},
    province::{
        evidence::{self, verify_entry},
        results::LoggedUse,
        statement::{compute_stated, judged_on, stated_figures},
    },
};

/// Why the published results could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the statement: {0}")]
    Statement(String),
    #[error("the figures are not those the statement names: {0}")]
    Figures(String),
    #[error("the evidence is not what the statement names: {0}")]
    EvidenceDigest(String),
    #[error(transparent)]
    Evidence(#[from] evidence::EvidenceError),
    #[error("the log has {found} entries, the statement counts {expected}")]
    LogSize { expected: u64, found: u64 },
    #[error("the log's entries hash to root {found}, the statement states {expected}")]
    LogRoot { expected: String, found: String },
    #[error("log entry {index}: {problem}")]
    Entry { index: u64, problem: String },
    #[error("fetching: {0}")]
    Fetch(String),
}

/// What was checked, and the figures that differ.
#[derive(Debug, Clone)]
pub struct Report {
    pub statement: ResultsStatement,
    pub entries: u64,
    pub evidence_items: u64,
    /// `first` as stated, `second` as recomputed.
    pub differences: Vec<FigureDifference>,
    /// Institutions whose sanctions differ: (institution, stated reasons, recomputed).
    pub sanctions: Vec<(String, Vec<String>, Vec<String>)>,
}

impl Report {
    pub fn agrees(&self) -> bool {
        self.differences.is_empty() && self.sanctions.is_empty()
    }
}

/// Checks a statement against its figures, evidence and the log's entries (all in
/// order, from the first), then recomputes the figures.
pub fn check(
    root: &PublicKey,
    signed_statement: &[u8],
    figures: &str,
    evidence_items: &[Vec<u8>],
    entries: &[Vec<u8>],
) -> Result<Report, VerifyError> {
    let statement = ResultsStatement::open(signed_statement, root)
        .map_err(|e| VerifyError::Statement(e.to_string()))?;
    if figures_digest(figures.as_bytes()) != statement.figures_digest {
        return Err(VerifyError::Figures("digest differs".into()));
    }
    let stated: StatedFigures =
        serde_json::from_str(figures).map_err(|e| VerifyError::Figures(e.to_string()))?;
    let mut digest = EvidenceDigest::new();
    for item in evidence_items {
        digest.push(item);
    }
    if digest.finish() != (statement.evidence_items, statement.evidence_digest) {
        return Err(VerifyError::EvidenceDigest(format!(
            "{} items do not hash to the stated digest",
            evidence_items.len()
        )));
    }
    let entries = entries
        .get(..usize::try_from(statement.log_size).unwrap_or(usize::MAX))
        .ok_or(VerifyError::LogSize {
            expected: statement.log_size,
            found: entries.len() as u64,
        })?;
    let mut log = MerkleLog::new();
    for entry in entries {
        log.push(entry);
    }
    if log.root() != statement.log_root {
        return Err(VerifyError::LogRoot {
            expected: hex::encode(statement.log_root),
            found: hex::encode(log.root()),
        });
    }
    let period = Period {
        from: statement.from,
        to: statement.to,
    };
    let inputs = evidence::open(evidence_items, root, &period)?;
    // Two signatures an entry: the bulk of the work, spread over the cores.
    let uses: Vec<LoggedUse> = entries
        .par_iter()
        .enumerate()
        .map(|(index, bytes)| {
            verify_entry(index as u64, bytes, &inputs).map_err(|problem| VerifyError::Entry {
                index: index as u64,
                problem,
            })
        })
        .collect::<Result<_, _>>()?;
    let config = EvaluationConfig::from_json(statement.evaluation.clone())
        .map_err(|e| VerifyError::Statement(e.to_string()))?;
    let judged = judged_on(&statement)
        .ok_or_else(|| VerifyError::Statement("judged_on is not a date".into()))?;
    let results = compute_stated(&config, period, judged, &uses, &inputs, statement.log_size);
    let recomputed = stated_figures(&results);
    let mut sanctions = Vec::new();
    let reasons_of = |figures: &StatedFigures, id: &str| -> Vec<String> {
        figures
            .sanctions
            .iter()
            .find(|s| s.institution == id)
            .map(|s| s.reasons.clone())
            .unwrap_or_default()
    };
    let mut named: Vec<&str> = stated
        .sanctions
        .iter()
        .chain(&recomputed.sanctions)
        .map(|s| s.institution.as_str())
        .collect();
    named.sort_unstable();
    named.dedup();
    for id in named {
        let (a, b) = (reasons_of(&stated, id), reasons_of(&recomputed, id));
        if a != b {
            sanctions.push((id.to_owned(), a, b));
        }
    }
    Ok(Report {
        differences: differences(&stated.rows, &recomputed.rows),
        entries: statement.log_size,
        evidence_items: statement.evidence_items,
        statement,
        sanctions,
    })
}

#[cfg(test)]
mod tests;
