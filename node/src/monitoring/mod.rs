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

use crate::store::StoreError;

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
