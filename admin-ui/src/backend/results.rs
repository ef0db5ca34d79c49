//! The province's publication side of [`Backend`](super::Backend): evaluation results of
//! a period (public, with CSV and JSON downloads), the subsidy allocation for a budget,
//! the sanctions list and reporting compliance. Only the province's node has them; a
//! member node answers [`ResultsFailure::NotHere`].

use std::future::Future;

use alliance_protocol::results::ResultRow;
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
    /// Up to `limit` entries of the province's receipt log from `from` (public).
    fn log_entries(
        &self,
        from: u64,
        limit: usize,
    ) -> impl Future<Output = Result<LogPage, ResultsFailure>> + Send;
}
