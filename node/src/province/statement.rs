//! A period's results as a signed statement ([`ResultsStatement`]): computed from the
//! log's first entries and checked evidence alone, the same way the province computes
//! them when it states them and anyone computes them to verify them.

use std::sync::Arc;

use alliance_protocol::{
    SecretKey, UnixTime,
    statement::{EvidenceDigest, ResultsStatement, StatedFigures, StatedSanction, figures_digest},
    transparency::TreeHead,
};
use chrono::NaiveDate;

use super::{
    evidence::{self, EvidenceError, Inputs},
    results::{LoggedUse, Results, ResultsInput, compute, rows},
};
use crate::evaluation::{config::EvaluationConfig, metrics::Period};

/// A signed statement with what it names: its figures' exact text and its evidence.
#[derive(Debug, Clone)]
pub struct Stated {
    /// The statement as signed (an encoded envelope).
    pub signed: Vec<u8>,
    pub statement: ResultsStatement,
    /// The figures document (JSON) whose digest the statement gives.
    pub figures: String,
    /// The evidence items, each its exact bytes.
    pub evidence: Arc<Vec<Vec<u8>>>,
}

impl Stated {
    /// The stated figures, read back from their text.
    pub fn figures(&self) -> StatedFigures {
        serde_json::from_str(&self.figures).unwrap_or(StatedFigures {
            rows: Vec::new(),
            sanctions: Vec::new(),
        })
    }
}

/// How a statement's figures are kept with it in the store.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct StoredStatement {
    /// Hex of the signed statement.
    pub signed: String,
    pub figures: String,
}

/// The results of `period` from `uses` (the log's entries below `log_size`) and checked
/// evidence, compliance judged on `judged_on`.
pub fn compute_stated(
    config: &EvaluationConfig,
    period: Period,
    judged_on: NaiveDate,
    uses: &[LoggedUse],
    inputs: &Inputs,
    log_size: u64,
) -> Results {
    let uses = &uses[..uses.partition_point(|u| u.index < log_size)];
    let facts = |id: &str| inputs.facts.get(id).cloned().unwrap_or_default();
    let mut results = compute(&ResultsInput {
        config,
        period,
        today: judged_on,
        uses,
        records: &inputs.records,
        names: &inputs.names,
        publications: &inputs.publications,
        other: &facts,
    });
    results.log_size = log_size;
    results
}

/// The figures a statement states of `results`.
pub fn stated_figures(results: &Results) -> StatedFigures {
    StatedFigures {
        rows: rows(results),
        sanctions: results
            .sanctions
            .iter()
            .map(|(id, reasons)| StatedSanction {
                institution: id.to_string(),
                reasons: reasons.iter().map(|r| r.zh()).collect(),
            })
            .collect(),
    }
}

/// What a statement is made of.
#[derive(Debug)]
pub struct Statement<'a> {
    pub label: String,
    pub period: Period,
    pub judged_on: NaiveDate,
    pub published: bool,
    pub head: TreeHead,
    pub uses: &'a [LoggedUse],
    pub evidence: Vec<Vec<u8>>,
    pub config: &'a EvaluationConfig,
    pub issued_at: UnixTime,
}

/// Computes the figures from the statement's parts and signs them with the province's
/// root key `key`. Fails only if the evidence does not check.
pub fn state(key: &SecretKey, parts: Statement<'_>) -> Result<(Stated, Results), EvidenceError> {
    let inputs = evidence::open(&parts.evidence, &key.public(), &parts.period)?;
    let results = compute_stated(
        parts.config,
        parts.period,
        parts.judged_on,
        parts.uses,
        &inputs,
        parts.head.size,
    );
    // Strings and numbers only: serialising cannot fail.
    let figures = serde_json::to_string(&stated_figures(&results)).unwrap_or_default();
    let mut digest = EvidenceDigest::new();
    for item in &parts.evidence {
        digest.push(item);
    }
    let (evidence_items, evidence_digest) = digest.finish();
    let statement = ResultsStatement {
        period: parts.label,
        from: parts.period.from,
        to: parts.period.to,
        judged_on: parts.judged_on.format("%Y-%m-%d").to_string(),
        issued_at: parts.issued_at,
        published: parts.published,
        log_size: parts.head.size,
        log_root: parts.head.root,
        evidence_items,
        evidence_digest,
        figures_digest: figures_digest(figures.as_bytes()),
        evaluation: parts.config.to_json(),
    };
    let stated = Stated {
        signed: statement.seal(key),
        statement,
        figures,
        evidence: Arc::new(parts.evidence),
    };
    Ok((stated, results))
}

/// The day a statement judged compliance on.
pub fn judged_on(statement: &ResultsStatement) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&statement.judged_on, "%Y-%m-%d").ok()
}
