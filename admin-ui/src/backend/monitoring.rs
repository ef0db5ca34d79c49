//! The monitoring side of [`Backend`](super::Backend) (R6): an instrument's agent posts
//! its state with the instrument's token; managers issue and revoke tokens and see their
//! instruments' states; the province watches every instrument live, with alerts for
//! instruments open for booking that are silent or faulty.

use std::future::Future;

use serde::Serialize;

use super::{Account, ActionFailure, ResultsFailure};

/// One of this institution's instruments as its managers see its monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgentStateView {
    pub local_id: String,
    pub instrument_name_zh: String,
    pub instrument_name_en: String,
    /// `idle`, `running`, `maintenance` or `fault`; `None` until its agent reports.
    pub state: Option<String>,
    pub note: String,
    /// Unix seconds, UTC.
    pub reported_at: Option<i64>,
    /// Whether an agent token is issued (it is shown only once, when issued).
    pub has_token: bool,
}

/// The board's counts at one moment: each monitored instrument once, silent when not
/// heard of lately (or never, if open for booking), else by its last reported state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StateCountsView {
    /// Unix seconds.
    pub at: i64,
    pub running: u32,
    pub idle: u32,
    pub maintenance: u32,
    pub fault: u32,
    pub silent: u32,
}

/// An instrument on the province's board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BoardRowView {
    /// `institution/local_id`.
    pub instrument_id: String,
    pub instrument_name_zh: String,
    pub institution_name_zh: String,
    pub state: String,
    pub note: String,
    pub reported_at: i64,
    /// When the province last heard a new report of it.
    pub last_seen: i64,
    /// Since when it is in this state.
    pub since: i64,
    /// Not heard of for longer than the configured silence.
    pub silent: bool,
}

/// An alert: an instrument open for booking that is silent (never heard of, or not for
/// too long) or faulty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub instrument_id: String,
    pub instrument_name_zh: String,
    pub institution_name_zh: String,
    /// `silent` or `fault`.
    pub kind: String,
    pub last_seen: Option<i64>,
    pub since: Option<i64>,
}

/// The province's monitoring board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BoardView {
    pub rows: Vec<BoardRowView>,
    pub alerts: Vec<AlertView>,
    /// The board's counts over the last day, oldest first (taken every 15 minutes).
    pub history: Vec<StateCountsView>,
    pub silent_after_seconds: u64,
    /// Unix seconds, when the board was read.
    pub now: i64,
}

/// Why an agent's report was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentFailure {
    #[error("wrong or revoked token for this instrument")]
    Unauthorized,
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("internal error")]
    Internal(String),
}

/// Monitoring operations (roles are checked by the caller; an agent has no account, its
/// token is its credential).
pub trait MonitoringBackend: Clone + Send + Sync + 'static {
    /// An agent's report: `state` is `idle`, `running`, `maintenance` or `fault`; `note`
    /// at most 100 characters.
    fn agent_report(
        &self,
        local_id: &str,
        token: &str,
        state: &str,
        note: &str,
    ) -> impl Future<Output = Result<(), AgentFailure>> + Send;
    /// This institution's instruments with their latest reported state.
    fn agent_states(&self) -> impl Future<Output = Vec<AgentStateView>> + Send;
    /// Issues a new token for an instrument's agent (the old one stops working); returned
    /// once, never stored in the clear.
    fn issue_agent_token(
        &self,
        account: &Account,
        local_id: &str,
    ) -> impl Future<Output = Result<String, ActionFailure>> + Send;
    /// Revokes an instrument's agent token.
    fn revoke_agent_token(
        &self,
        account: &Account,
        local_id: &str,
    ) -> impl Future<Output = Result<(), ActionFailure>> + Send;
    /// The province's board (`NotHere` on a member node).
    fn monitoring_board(&self) -> impl Future<Output = Result<BoardView, ResultsFailure>> + Send;
}
