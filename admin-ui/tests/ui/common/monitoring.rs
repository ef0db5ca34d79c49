//! The monitoring half of [`MemoryBackend`]: one agent token per instrument (kept in the
//! clear, which the node never does), reports checked against it and stored with the time
//! they arrived, and a board that is whatever a test sets (`None`: a member's node). How
//! the province builds its board from heartbeats is tested in the node.

use std::collections::HashMap;

use alliance_web::backend::{
    Account, ActionFailure, AgentFailure, AgentStateView, AlertView, BoardRowView, BoardView,
    MonitoringBackend, ResultsFailure, StateCountsView,
};

use super::MemoryBackend;

/// The states an agent may report.
pub(crate) const STATES: [&str; 4] = ["idle", "running", "maintenance", "fault"];
/// How long an instrument may stay unheard before the sample board calls it silent.
pub(crate) const SILENT_AFTER: u64 = 600;

/// A stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    pub state: String,
    pub note: String,
    pub reported_at: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Monitoring {
    /// local id → token.
    tokens: HashMap<String, String>,
    /// local id → the latest report.
    reports: HashMap<String, Report>,
    board: Option<BoardView>,
    issued: u64,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn agent_invalid(field: &str, message: &str) -> AgentFailure {
    AgentFailure::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

impl MemoryBackend {
    /// The latest report of an instrument's agent.
    pub(crate) fn agent_report_of(&self, local_id: &str) -> Option<Report> {
        self.lock().monitoring.reports.get(local_id).cloned()
    }

    /// The instrument's current agent token.
    pub(crate) fn agent_token_of(&self, local_id: &str) -> Option<String> {
        self.lock().monitoring.tokens.get(local_id).cloned()
    }

    /// Sets an instrument's token directly.
    pub(crate) fn set_agent_token(&self, local_id: &str, token: &str) {
        self.lock()
            .monitoring
            .tokens
            .insert(local_id.to_owned(), token.to_owned());
    }

    /// Makes this the province's node, keeping `board`.
    pub(crate) fn set_board(&self, board: BoardView) {
        self.lock().monitoring.board = Some(board);
    }
}

/// A board at `now`: an LC-MS running, an XRD silent for an hour, an NMR faulty for ten
/// minutes, and an alert for a TEM open for booking that never reported.
pub(crate) fn sample_board(now: i64) -> BoardView {
    let row =
        |id: &str, name: &str, institution: &str, state: &str, note: &str, ago: i64| BoardRowView {
            instrument_id: id.to_owned(),
            instrument_name_zh: name.to_owned(),
            institution_name_zh: institution.to_owned(),
            state: state.to_owned(),
            note: note.to_owned(),
            reported_at: now - ago,
            last_seen: now - ago,
            since: now - ago - 1_800,
            silent: ago > SILENT_AFTER as i64,
        };
    let alert = |id: &str, name: &str, institution: &str, kind: &str, seen, since| AlertView {
        instrument_id: id.to_owned(),
        instrument_name_zh: name.to_owned(),
        institution_name_zh: institution.to_owned(),
        kind: kind.to_owned(),
        last_seen: seen,
        since,
    };
    BoardView {
        // The last day, every 15 minutes: 2 running by day (09:00–18:00 Beijing time),
        // 1 idle, the NMR faulty for its last 15 minutes, 2 silent.
        history: (1..=96)
            .map(|i| {
                let at = now - 86_400 + i * 900;
                let hour = (at + 8 * 3_600).rem_euclid(86_400) / 3_600;
                StateCountsView {
                    at,
                    running: if (9..18).contains(&hour) { 2 } else { 0 },
                    idle: 1,
                    maintenance: 0,
                    fault: u32::from(i == 96),
                    silent: 2,
                }
            })
            .collect(),
        rows: vec![
            row(
                "dlut/LCMS-1",
                "液相色谱-质谱联用仪",
                "大连理工大学",
                "running",
                "样品 3/5",
                30,
            ),
            row("neu/XRD-2", "X射线衍射仪", "东北大学", "idle", "", 3_600),
            row(
                "lnu/NMR-1",
                "核磁共振波谱仪",
                "辽宁大学",
                "fault",
                "真空泵报警",
                60,
            ),
        ],
        alerts: vec![
            alert(
                "dlut/TEM-01",
                "透射电子显微镜",
                "大连理工大学",
                "silent",
                None,
                None,
            ),
            alert(
                "neu/XRD-2",
                "X射线衍射仪",
                "东北大学",
                "silent",
                Some(now - 3_600),
                None,
            ),
            alert(
                "lnu/NMR-1",
                "核磁共振波谱仪",
                "辽宁大学",
                "fault",
                Some(now - 60),
                Some(now - 660),
            ),
        ],
        silent_after_seconds: SILENT_AFTER,
        now,
    }
}

fn may_manage(account: &Account) -> Result<(), ActionFailure> {
    if account.role.manages_instruments() {
        Ok(())
    } else {
        Err(ActionFailure::Forbidden)
    }
}

impl MonitoringBackend for MemoryBackend {
    async fn agent_report(
        &self,
        local_id: &str,
        token: &str,
        state: &str,
        note: &str,
    ) -> Result<(), AgentFailure> {
        let mut inner = self.lock();
        if inner.monitoring.tokens.get(local_id).map(String::as_str) != Some(token) {
            return Err(AgentFailure::Unauthorized);
        }
        if !STATES.contains(&state) {
            return Err(agent_invalid("state", "not a state"));
        }
        let note = note.trim();
        if note.chars().count() > 100 || note.chars().any(char::is_control) {
            return Err(agent_invalid("note", "too long or with control characters"));
        }
        inner.monitoring.reports.insert(
            local_id.to_owned(),
            Report {
                state: state.to_owned(),
                note: note.to_owned(),
                reported_at: now(),
            },
        );
        Ok(())
    }

    async fn agent_states(&self) -> Vec<AgentStateView> {
        let records = self.records();
        let inner = self.lock();
        records
            .iter()
            .map(|r| {
                let report = inner.monitoring.reports.get(&r.local_id);
                AgentStateView {
                    local_id: r.local_id.clone(),
                    instrument_name_zh: r.name_zh.clone(),
                    instrument_name_en: r.name_en.clone(),
                    state: report.map(|r| r.state.clone()),
                    note: report.map(|r| r.note.clone()).unwrap_or_default(),
                    reported_at: report.map(|r| r.reported_at),
                    has_token: inner.monitoring.tokens.contains_key(&r.local_id),
                }
            })
            .collect()
    }

    async fn issue_agent_token(
        &self,
        account: &Account,
        local_id: &str,
    ) -> Result<String, ActionFailure> {
        may_manage(account)?;
        let mut inner = self.lock();
        if !inner.records.contains_key(local_id) {
            return Err(ActionFailure::NotFound);
        }
        inner.monitoring.issued += 1;
        let token = format!("{:032x}{:032x}", inner.monitoring.issued, 0xa6e47_u64);
        inner
            .monitoring
            .tokens
            .insert(local_id.to_owned(), token.clone());
        Ok(token)
    }

    async fn revoke_agent_token(
        &self,
        account: &Account,
        local_id: &str,
    ) -> Result<(), ActionFailure> {
        may_manage(account)?;
        let mut inner = self.lock();
        if !inner.records.contains_key(local_id) {
            return Err(ActionFailure::NotFound);
        }
        inner.monitoring.tokens.remove(local_id);
        Ok(())
    }

    async fn monitoring_board(&self) -> Result<BoardView, ResultsFailure> {
        self.lock()
            .monitoring
            .board
            .clone()
            .ok_or(ResultsFailure::NotHere)
    }
}
