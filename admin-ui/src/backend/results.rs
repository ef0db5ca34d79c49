//! The province's publication side of [`Backend`](super::Backend): evaluation results of
//! a period (public, with CSV and JSON downloads), the subsidy allocation for a budget,
//! the sanctions list and reporting compliance. Only the province's node has them; a
//! member node answers [`ResultsFailure::NotHere`].

use std::future::Future;

use alliance_protocol::results::{FigureDifference, ResultRow};
use serde::Serialize;

/// An institution on the sanctions list, with every reason (Chinese).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SanctionView {
    pub institution: String,
    pub institution_name: String,
    pub reasons: Vec<String>,
}

/// One group of the indicator tree as configured, for the page to state the rule.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IndicatorGroupView {
    pub name_zh: String,
    pub name_en: String,
    pub weight: f64,
    /// (metric name, weight).
    pub indicators: Vec<(String, f64)>,
}

/// A page of the province's receipt log, with the signed tree head it is part of: anyone
/// can check each entry's signatures, rebuild the tree from all entries and compare its
/// root with the head the province signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LogPage {
    /// Entries in the log now.
    pub size: u64,
    /// The current tree head, signed by the province (hex of the signed envelope).
    pub signed_head: String,
    /// The entries from `from`, in order.
    pub entries: Vec<LogEntryView>,
    /// Where the next page starts, if there is one.
    pub next: Option<u64>,
}

/// One entry of the log: a member's submission exactly as logged (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LogEntryView {
    pub index: u64,
    /// The owner's signed receipt and the home's signed answer, as one protobuf
    /// `ReceiptSubmission` (hex).
    pub submission: String,
}

/// The results of a period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResultsView {
    /// `2026` or `2026-Q3`.
    pub period: String,
    /// Unix seconds, `[from, to)`.
    pub from: i64,
    pub to: i64,
    pub generated_at: i64,
    /// The log the figures come from: its size and root (hex), as in its signed head.
    pub log_size: u64,
    pub log_root: String,
    pub rows: Vec<ResultRow>,
    pub sanctions: Vec<SanctionView>,
    pub groups: Vec<IndicatorGroupView>,
    /// Grade thresholds (优秀, 良好, 合格).
    pub grade_thresholds: (f64, f64, f64),
    /// The subsidy rule, in Chinese.
    pub subsidy_rule: String,
    /// The lowest score the subsidy rule shares the budget from (its grade's threshold).
    pub subsidy_min_score: f64,
    /// When the province published the period (unix seconds): the figures above are then
    /// frozen as its signed statement states them.
    pub published_at: Option<i64>,
    /// Figures of a published period that later evidence changed: `first` as published,
    /// `second` as the evidence held now gives them.
    pub corrections: Vec<FigureDifference>,
}

/// The province's signed statement of a period's results, with what it names: anyone
/// holding the root key checks it, then the log's entries and the evidence against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatementView {
    pub period: String,
    /// Frozen by publication, or provisional (signed on demand from the figures now).
    pub published: bool,
    /// The province's root public key (hex): compare it with the one you hold.
    pub root_public_key: String,
    /// The signed statement (hex of the envelope; its payload is JSON).
    pub signed_statement: String,
    /// The figures document, exactly the text whose SHA-256 the statement gives.
    pub figures: String,
    pub evidence_items: u64,
    /// Hex; name it when reading the evidence.
    pub evidence_digest: String,
}

/// A receipt its user's home disputed, with the home's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DisputeView {
    /// Its index in the province's log.
    pub index: u64,
    /// `institution/local_id`.
    pub instrument: String,
    pub receipt_id: String,
    pub home: String,
    pub home_name: String,
    pub reason: String,
}

/// A page of the disputed receipts of a period, in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DisputePage {
    pub total: u64,
    pub disputes: Vec<DisputeView>,
    /// Where the next page starts, if there is one.
    pub next: Option<u64>,
}

/// A page of a statement's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EvidencePage {
    pub total: u64,
    /// Each item exactly as the statement's digest covers it (JSON text).
    pub items: Vec<String>,
    /// Where the next page starts, if there is one.
    pub next: Option<u64>,
}

/// One institution's share of a subsidy budget.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AllocationView {
    pub institution: String,
    pub institution_name: String,
    pub score: f64,
    pub grade: String,
    pub amount_fen: i64,
}

/// An instrument that needs the province's attention under the reporting rule (R7).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ComplianceRow {
    pub institution: String,
    pub institution_name: String,
    pub instrument: String,
    pub instrument_name: String,
    pub acceptance_date: String,
    pub networked_date: String,
    /// `YYYY-MM-DD`, when known.
    pub deadline: Option<String>,
    /// `late`, `missing`, `beyond_calendar` or `no_acceptance_date`.
    pub standing: String,
    pub working_days_late: Option<u32>,
}

/// Why a results request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultsFailure {
    #[error("only the province's node publishes results")]
    NotHere,
    #[error("period: {0}")]
    BadPeriod(String),
    #[error("the period is already published")]
    AlreadyPublished,
    #[error("the period has not ended yet")]
    NotEnded,
    /// No statement with that evidence is held (a provisional one was superseded).
    #[error("no statement of the period has that evidence; ask for the statement again")]
    NoSuchStatement,
    #[error("internal error")]
    Internal(String),
}

/// Publication operations (roles are checked by the caller: results are public, the
/// subsidy and compliance pages are for the province's administrators).
pub trait ResultsBackend: Clone + Send + Sync + 'static {
    /// The results of `period` (`2026`, `2026-Q3`; empty: the current year).
    fn results(
        &self,
        period: &str,
    ) -> impl Future<Output = Result<ResultsView, ResultsFailure>> + Send;
    /// The same as CSV (UTF-8 with a byte order mark, Chinese headers).
    fn results_csv(
        &self,
        period: &str,
    ) -> impl Future<Output = Result<Vec<u8>, ResultsFailure>> + Send;
    /// The allocation of `budget_fen` by the configured rule.
    fn subsidy(
        &self,
        period: &str,
        budget_fen: i64,
    ) -> impl Future<Output = Result<Vec<AllocationView>, ResultsFailure>> + Send;
    /// Instruments reported late, missing, or beyond the known official calendar.
    fn compliance(&self)
    -> impl Future<Output = Result<Vec<ComplianceRow>, ResultsFailure>> + Send;
    /// Publishes `period` (province admins): its results frozen as a signed statement.
    /// Returns the period's name.
    fn publish(&self, period: &str) -> impl Future<Output = Result<String, ResultsFailure>> + Send;
    /// The statement of `period`: the published one, or a provisional one (public).
    fn statement(
        &self,
        period: &str,
    ) -> impl Future<Output = Result<StatementView, ResultsFailure>> + Send;
    /// Up to `limit` evidence items from `from` of the statement of `period` whose
    /// evidence digest is `digest` (public).
    fn evidence(
        &self,
        period: &str,
        digest: [u8; 32],
        from: u64,
        limit: usize,
    ) -> impl Future<Output = Result<EvidencePage, ResultsFailure>> + Send;
    /// Up to `limit` of the period's disputed receipts from the `from`th (public).
    fn disputes(
        &self,
        period: &str,
        from: u64,
        limit: usize,
    ) -> impl Future<Output = Result<DisputePage, ResultsFailure>> + Send;
    /// Up to `limit` entries of the province's receipt log from `from` (public).
    fn log_entries(
        &self,
        from: u64,
        limit: usize,
    ) -> impl Future<Output = Result<LogPage, ResultsFailure>> + Send;
}
