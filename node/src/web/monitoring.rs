//! The monitoring side of the web backend: agents' reports (checked against the
//! instrument's token), managers' tokens and states, and the province's board.

use alliance_protocol::{UnixTime, heartbeat::InstrumentState};
use alliance_web::backend::{
    Account, ActionFailure, AgentFailure, AgentStateView, AlertView, BoardRowView, BoardView,
    MonitoringBackend, ResultsFailure, StateCountsView,
};

use super::{WebBackend, booking::invalid, may_manage};
use crate::monitoring::{AgentRefusal, MonitoringError, board::AlertKind};

fn agent_invalid(field: &str, e: &dyn std::fmt::Display) -> AgentFailure {
    AgentFailure::Invalid {
        field: field.to_owned(),
        message: e.to_string(),
    }
}

impl WebBackend {
    /// One of this institution's instruments, or not found.
    fn own_local_id(&self, local_id: &str) -> Result<(), ActionFailure> {
        let id = format!("{}/{local_id}", self.certificate.institution_id);
        self.catalogue
            .instrument_unfiltered(&id)
            .map(drop)
            .ok_or(ActionFailure::NotFound)
    }

    /// `(instrument name, institution name)` of an alliance-wide instrument id.
    fn names_of_id(&self, instrument_id: &str) -> (String, String) {
        let owner = instrument_id
            .split_once('/')
            .and_then(|(owner, _)| owner.parse().ok());
        match owner {
            Some(owner) => {
                let (name_zh, _, inst_zh, _) = self.names_of(instrument_id, &owner);
                (name_zh, inst_zh)
            }
            None => (instrument_id.to_owned(), String::new()),
        }
    }
}

impl MonitoringBackend for WebBackend {
    async fn agent_report(
        &self,
        local_id: &str,
        token: &str,
        state: &str,
        note: &str,
    ) -> Result<(), AgentFailure> {
        let state: InstrumentState = state.parse().map_err(|e| agent_invalid("state", &e))?;
        match self
            .monitoring
            .agent_report(local_id, token, state, note)
            .await
        {
            Ok(_) => Ok(()),
            Err(AgentRefusal::Unauthorized) => Err(AgentFailure::Unauthorized),
            Err(AgentRefusal::Invalid(MonitoringError::Note)) => {
                Err(agent_invalid("note", &MonitoringError::Note))
            }
            Err(AgentRefusal::Invalid(e @ MonitoringError::LocalId(_))) => {
                Err(agent_invalid("local_id", &e))
            }
            Err(AgentRefusal::Invalid(e)) => Err(AgentFailure::Internal(e.to_string())),
        }
    }

    async fn agent_states(&self) -> Vec<AgentStateView> {
        let own = &self.certificate.institution_id;
        let monitoring = &self.monitoring;
        self.catalogue
            .institution_views(own)
            .iter()
            .map(|view| {
                let local_id = view.record.local_id.clone();
                let report = monitoring.agents().get(&local_id).ok().flatten();
                AgentStateView {
                    instrument_name_zh: view.record.name_zh.clone(),
                    instrument_name_en: view.record.name_en.clone(),
                    state: report.as_ref().map(|r| r.state.as_str().to_owned()),
                    note: report.as_ref().map(|r| r.note.clone()).unwrap_or_default(),
                    reported_at: report.as_ref().map(|r| r.reported_at.0),
                    has_token: monitoring.tokens().has_token(&local_id).unwrap_or(false),
                    local_id,
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
        self.own_local_id(local_id)?;
        let token = self
            .monitoring
            .tokens()
            .issue(local_id)
            .await
            .map_err(|e| invalid("local_id", &e.to_string()))?;
        tracing::info!(local_id, by = %account.username, "agent token issued");
        Ok(token)
    }

    async fn revoke_agent_token(
        &self,
        account: &Account,
        local_id: &str,
    ) -> Result<(), ActionFailure> {
        may_manage(account)?;
        self.own_local_id(local_id)?;
        self.monitoring
            .tokens()
            .revoke(local_id)
            .await
            .map_err(|e| ActionFailure::Internal(e.to_string()))?;
        tracing::info!(local_id, by = %account.username, "agent token revoked");
        Ok(())
    }

    async fn monitoring_board(&self) -> Result<BoardView, ResultsFailure> {
        let board = self.monitoring.board().ok_or(ResultsFailure::NotHere)?;
        let now = UnixTime::now();
        let silent_after = self.monitoring.silent_after();
        let internal = |e: MonitoringError| ResultsFailure::Internal(e.to_string());
        let open = crate::monitoring::open_for_booking(&self.catalogue);
        let rows = board
            .live(now, silent_after)
            .map_err(internal)?
            .into_iter()
            .map(|row| {
                let (instrument_name_zh, institution_name_zh) =
                    self.names_of_id(&row.instrument_id);
                BoardRowView {
                    instrument_name_zh,
                    institution_name_zh,
                    state: row.state.as_str().to_owned(),
                    note: row.note,
                    reported_at: row.reported_at.0,
                    last_seen: row.last_seen.0,
                    since: row.since.0,
                    silent: row.silent,
                    instrument_id: row.instrument_id,
                }
            })
            .collect();
        let alerts = board
            .alerts(now, silent_after, &open)
            .map_err(internal)?
            .into_iter()
            .map(|alert| {
                let (instrument_name_zh, institution_name_zh) =
                    self.names_of_id(&alert.instrument_id);
                let (kind, last_seen, since) = match alert.kind {
                    AlertKind::Silent { last_seen } => ("silent", last_seen.map(|t| t.0), None),
                    AlertKind::Fault { since } => ("fault", None, Some(since.0)),
                };
                AlertView {
                    instrument_id: alert.instrument_id,
                    instrument_name_zh,
                    institution_name_zh,
                    kind: kind.to_owned(),
                    last_seen,
                    since,
                }
            })
            .collect();
        let history = board
            .samples(UnixTime(now.0 - 86_400), now)
            .map_err(internal)?
            .into_iter()
            .map(|s| StateCountsView {
                at: s.at.0,
                running: s.running,
                idle: s.idle,
                maintenance: s.maintenance,
                fault: s.fault,
                silent: s.silent,
            })
            .collect();
        Ok(BoardView {
            rows,
            alerts,
            history,
            silent_after_seconds: silent_after.as_secs(),
            now: now.0,
        })
    }
}
