//! Remote instrument monitoring (R6). An agent on the instrument's PC posts its state to
//! the owner's node with a per-instrument token; the node passes the latest states to the
//! province in signed [`StatusHeartbeat`]s; the province shows them live, raises alerts
//! for instruments open for booking that are silent or faulty, and measures each
//! instrument's monitoring uptime for evaluation.
//!
//! - [`tokens`]: the agent tokens an instrument manager issues, kept only as hashes.
//! - [`agent`]: the latest state each agent reported, and the heartbeat made of them.
//! - [`board`]: the province's board: live states, alerts and uptime per Shanghai day.
//! - `service.rs`: [`Monitoring`], the above as the node runs them: agents' reports,
//!   heartbeats to the province, and the province recording them.
//!
//! [`StatusHeartbeat`]: alliance_protocol::heartbeat::StatusHeartbeat

pub mod agent;
pub mod board;
mod service;
pub mod tokens;

pub use service::{AgentRefusal, Monitoring};

use alliance_protocol::{
    InstitutionId, UnixTime,
    heartbeat::{HeartbeatError, MAX_HEARTBEAT_INSTRUMENTS, MAX_NOTE_CHARS},
};

use crate::{catalogue::Catalogue, store::StoreError};

/// The instruments open for booking (`institution/local_id`): in service and shared
/// beyond their own institution, of current members. The board raises alerts for these.
pub fn open_for_booking(catalogue: &Catalogue) -> Vec<String> {
    use alliance_protocol::{InstrumentStatus, SharingScope};
    let directory = catalogue.key_directory();
    directory
        .institutions()
        .keys()
        .flat_map(|id| catalogue.institution_views(id))
        .filter(|v| {
            v.record.status == InstrumentStatus::InService
                && v.record.sharing_scope != SharingScope::Internal
        })
        .map(|v| v.record.id())
        .collect()
}

/// On the province: counts the board every [`board::SAMPLE_EVERY`] (at once at start),
/// for its states over the day.
pub async fn run_samples(
    monitoring: Monitoring,
    catalogue: Catalogue,
    cancel: tokio_util::sync::CancellationToken,
) {
    let Some(board) = monitoring.board().cloned() else {
        return;
    };
    loop {
        let open = open_for_booking(&catalogue);
        if let Err(e) = board
            .sample(UnixTime::now(), monitoring.silent_after(), &open)
            .await
        {
            tracing::warn!(error = %e, "the monitoring board could not be counted");
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(board::SAMPLE_EVERY) => {}
        }
    }
}

/// Why a monitoring operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum MonitoringError {
    #[error("invalid instrument id {0:?}: 1 to 64 letters, digits, '-', '_' or '.'")]
    LocalId(String),
    #[error("note: at most {MAX_NOTE_CHARS} characters, no control characters")]
    Note,
    #[error("at most {MAX_HEARTBEAT_INSTRUMENTS} instruments can be monitored")]
    TooManyInstruments,
    #[error(
        "heartbeat of {institution} sent {sent_at} is not newer than the one recorded, sent {recorded}: a replay or a reordering"
    )]
    Replay {
        institution: InstitutionId,
        sent_at: UnixTime,
        recorded: UnixTime,
    },
    #[error(
        "heartbeat of {institution} sent {sent_at} is from the future (received {received_at})"
    )]
    FromTheFuture {
        institution: InstitutionId,
        sent_at: UnixTime,
        received_at: UnixTime,
    },
    #[error(transparent)]
    Heartbeat(#[from] HeartbeatError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
