//! [`Monitoring`]: monitoring as the node runs it. Agents report to their own node with
//! the instrument's token; the node sends signed heartbeats of the latest states to the
//! province every `heartbeat_interval`, and at once after a report. On the province's
//! node, heartbeats from members are checked (signed by the member's node, about its own
//! institution, newer than the last) and recorded on the board, for instruments the
//! province's catalogue knows.

use std::{sync::Arc, time::Duration};

use alliance_protocol::{
    InstitutionId, MembershipCertificate, SecretKey, UnixTime,
    heartbeat::{InstrumentState, InstrumentStatusReport, StatusHeartbeat},
    rpc::{Request, Response},
};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::{MonitoringError, agent::AgentStates, board::MonitorBoard, tokens::AgentTokens};
use crate::{
    net::{NetClient, NetError, Target},
    store::Store,
};

/// Why an agent's report was refused.
#[derive(Debug, thiserror::Error)]
pub enum AgentRefusal {
    #[error("wrong or revoked token for this instrument")]
    Unauthorized,
    #[error(transparent)]
    Invalid(MonitoringError),
}

struct Inner {
    own: InstitutionId,
    key: SecretKey,
    tokens: AgentTokens,
    agents: AgentStates,
    /// On the province's node.
    board: Option<MonitorBoard>,
    net: NetClient,
    interval: Duration,
    silent_after: Duration,
    /// Poked after an agent's report.
    wake: Notify,
    /// Bumped when the board records a heartbeat (the province's dashboard, tests).
    board_changes: watch::Sender<u64>,
}

/// The node's monitoring. Cheap to clone.
#[derive(Clone)]
pub struct Monitoring {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Monitoring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitoring")
            .field("own", &self.inner.own)
            .finish_non_exhaustive()
    }
}

impl Monitoring {
    /// Monitoring of the node `own`; with a board when `province`.
    pub fn open(
        store: Store,
        own: InstitutionId,
        key: SecretKey,
        net: NetClient,
        config: &crate::config::MonitoringSection,
        province: bool,
    ) -> Monitoring {
        // Up to three missed heartbeats still count as up; longer silences do not.
        let board =
            province.then(|| MonitorBoard::new(store.clone(), config.heartbeat_interval * 3));
        Monitoring {
            inner: Arc::new(Inner {
                own,
                key,
                tokens: AgentTokens::new(store.clone()),
                agents: AgentStates::new(store),
                board,
                net,
                interval: config.heartbeat_interval,
                silent_after: config.silent_after,
                wake: Notify::new(),
                board_changes: watch::channel(0).0,
            }),
        }
    }

    /// The instruments' agent tokens.
    pub fn tokens(&self) -> &AgentTokens {
        &self.inner.tokens
    }

    /// The latest state each agent reported.
    pub fn agents(&self) -> &AgentStates {
        &self.inner.agents
    }

    /// The province's board (on its node).
    pub fn board(&self) -> Option<&MonitorBoard> {
        self.inner.board.as_ref()
    }

    /// A receiver that sees every heartbeat the board records.
    pub fn board_changes(&self) -> watch::Receiver<u64> {
        self.inner.board_changes.subscribe()
    }

    /// How long an instrument may stay unheard before it shows as silent.
    pub fn silent_after(&self) -> Duration {
        self.inner.silent_after
    }

    /// An agent reports its instrument's state with the instrument's token.
    pub async fn agent_report(
        &self,
        local_id: &str,
        token: &str,
        state: InstrumentState,
        note: &str,
    ) -> Result<InstrumentStatusReport, AgentRefusal> {
        if !self
            .inner
            .tokens
            .check(local_id, token)
            .map_err(AgentRefusal::Invalid)?
        {
            return Err(AgentRefusal::Unauthorized);
        }
        let report = self
            .inner
            .agents
            .report(local_id, state, note, UnixTime::now())
            .await
            .map_err(AgentRefusal::Invalid)?;
        self.inner.wake.notify_one();
        Ok(report)
    }

    /// Sends heartbeats to the province until `cancel`.
    pub async fn run_heartbeats(self, cancel: CancellationToken) {
        let mut last_sent = UnixTime(0);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(self.inner.interval) => {}
                () = self.inner.wake.notified() => {}
            }
            // The province takes only heartbeats newer than the last, to the second.
            let mut now = UnixTime::now();
            if now <= last_sent {
                tokio::time::sleep(Duration::from_millis(1_000)).await;
                now = UnixTime::now();
            }
            match self.send_heartbeat(now).await {
                Ok(true) => last_sent = now,
                Ok(false) | Err(MonitoringSendError::Net(NetError::NotConnected(_))) => {}
                Err(e) => tracing::warn!(error = %e, "heartbeat not delivered"),
            }
        }
    }

    /// Sends the current states, if there are any; `Ok(false)` if there were none.
    async fn send_heartbeat(&self, now: UnixTime) -> Result<bool, MonitoringSendError> {
        let heartbeat = self.inner.agents.heartbeat(&self.inner.own, now)?;
        if heartbeat.instruments.is_empty() {
            return Ok(false);
        }
        let signed = heartbeat.seal(&self.inner.key);
        match self
            .inner
            .net
            .ask(Target::Province, Request::Heartbeat(signed))
            .await?
        {
            Response::Ack => Ok(true),
            Response::Error(e) => Err(MonitoringSendError::Refused(format!(
                "{}: {}",
                e.code, e.message
            ))),
            _ => Err(MonitoringSendError::Refused("an unexpected answer".into())),
        }
    }

    /// The province's side: a member's heartbeat, checked and recorded. Reports of
    /// instruments for which `known` (given `institution/local_id`) is false — the
    /// province's catalogue has no record of them — are dropped unstored, so a member
    /// cannot grow the board with instruments that do not exist.
    pub async fn on_heartbeat(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
        known: impl Fn(&str) -> bool,
    ) -> Response {
        let Some(board) = &self.inner.board else {
            return Response::error("not_the_province", "only the province keeps the board");
        };
        let mut heartbeat = match StatusHeartbeat::open_from(bytes, &from.node_public_key) {
            Ok(heartbeat) => heartbeat,
            Err(e) => return Response::error("bad_request", e.to_string()),
        };
        if heartbeat.institution_id != from.institution_id {
            return Response::error(
                "not_yours",
                format!(
                    "{} sent a heartbeat of {}",
                    from.institution_id, heartbeat.institution_id
                ),
            );
        }
        let institution = heartbeat.institution_id.clone();
        let reported = heartbeat.instruments.len();
        heartbeat
            .instruments
            .retain(|report| known(&format!("{institution}/{}", report.local_id)));
        if heartbeat.instruments.len() < reported {
            tracing::debug!(
                %institution,
                dropped = reported - heartbeat.instruments.len(),
                "heartbeat reports of instruments not in the catalogue dropped"
            );
        }
        match board.record(&heartbeat, UnixTime::now()).await {
            Ok(()) => {
                self.inner.board_changes.send_modify(|n| *n += 1);
                Response::Ack
            }
            Err(e @ (MonitoringError::Replay { .. } | MonitoringError::FromTheFuture { .. })) => {
                Response::error("stale", e.to_string())
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot record a heartbeat");
                Response::error("internal", "the heartbeat could not be recorded")
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum MonitoringSendError {
    #[error(transparent)]
    Monitoring(#[from] MonitoringError),
    #[error("the province: {0}")]
    Net(#[from] NetError),
    #[error("the province refused it: {0}")]
    Refused(String),
}
