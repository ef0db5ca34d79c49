//! Status heartbeats (R6): a member node's signed account of the latest state of each of
//! its monitored instruments, sent periodically to the province.
//!
//! The province keeps the newest heartbeat per institution and refuses any not sent after
//! it, so `sent_at` is what makes a replayed heartbeat recognisable. The limits are chosen
//! so that the largest heartbeat they allow still fits in one rpc request.

use std::{collections::HashSet, fmt, str::FromStr};

use prost::Message;
use serde::{Deserialize, Serialize};

use crate::{
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::{IdError, InstitutionId},
    keys::{PublicKey, SecretKey},
    proto,
    record::{RecordError, check_local_id, field, known},
    time::UnixTime,
};

impl Domain {
    /// A status heartbeat, signed by the member's node key.
    pub const STATUS_HEARTBEAT: Domain = Domain("alliance/status-heartbeat/v1");
}

/// Largest encoded heartbeat: under the 1 MiB rpc request frame, with room for framing.
pub const MAX_HEARTBEAT_BYTES: usize = 960 * 1024;
/// Most instruments one heartbeat may carry.
pub const MAX_HEARTBEAT_INSTRUMENTS: usize = 2_000;
/// Longest note, in characters. With [`MAX_HEARTBEAT_INSTRUMENTS`] this keeps the largest
/// heartbeat under [`MAX_HEARTBEAT_BYTES`].
pub const MAX_NOTE_CHARS: usize = 100;

/// Why a heartbeat was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeartbeatError {
    #[error("heartbeat is {0} bytes, more than the {MAX_HEARTBEAT_BYTES} allowed")]
    TooLarge(usize),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("heartbeat is not valid protobuf: {0}")]
    Malformed(String),
    #[error("heartbeat: {0}")]
    InstitutionId(#[from] IdError),
    #[error("heartbeat carries {0} instruments, more than the {MAX_HEARTBEAT_INSTRUMENTS} allowed")]
    TooManyInstruments(usize),
    #[error("heartbeat reports instrument {0:?} twice")]
    Duplicate(String),
    #[error("heartbeat: {0}")]
    Invalid(#[from] RecordError),
}

/// What an instrument is doing, as its agent reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentState {
    Idle,
    Running,
    /// Planned downtime: calibration, service, consumables.
    Maintenance,
    /// Unplanned downtime: the instrument cannot be used.
    Fault,
}

/// A state name that is not one of [`InstrumentState`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown instrument state {0:?}: use idle, running, maintenance or fault")]
pub struct UnknownState(pub String);

impl InstrumentState {
    /// Every state.
    pub const ALL: [InstrumentState; 4] = [
        InstrumentState::Idle,
        InstrumentState::Running,
        InstrumentState::Maintenance,
        InstrumentState::Fault,
    ];

    /// The snake_case name used in APIs and by agents.
    pub fn as_str(self) -> &'static str {
        match self {
            InstrumentState::Idle => "idle",
            InstrumentState::Running => "running",
            InstrumentState::Maintenance => "maintenance",
            InstrumentState::Fault => "fault",
        }
    }

    fn to_proto(self) -> proto::InstrumentState {
        match self {
            InstrumentState::Idle => proto::InstrumentState::Idle,
            InstrumentState::Running => proto::InstrumentState::Running,
            InstrumentState::Maintenance => proto::InstrumentState::Maintenance,
            InstrumentState::Fault => proto::InstrumentState::Fault,
        }
    }

    fn from_proto(raw: i32) -> Result<Self, RecordError> {
        match known(
            "state",
            proto::InstrumentState::try_from(raw),
            proto::InstrumentState::Unspecified,
        )? {
            proto::InstrumentState::Idle => Ok(InstrumentState::Idle),
            proto::InstrumentState::Running => Ok(InstrumentState::Running),
            proto::InstrumentState::Maintenance => Ok(InstrumentState::Maintenance),
            proto::InstrumentState::Fault => Ok(InstrumentState::Fault),
            proto::InstrumentState::Unspecified => Err(field("state", "missing")),
        }
    }
}

impl fmt::Display for InstrumentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InstrumentState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InstrumentState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// Whether `note` may travel in a report: at most [`MAX_NOTE_CHARS`] characters and no
/// control characters, which have no place on a dashboard line.
pub fn is_valid_note(note: &str) -> bool {
    note.chars().count() <= MAX_NOTE_CHARS && !note.chars().any(char::is_control)
}

/// The latest report of one instrument's agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentStatusReport {
    pub local_id: String,
    pub state: InstrumentState,
    /// When the owner's node received the report.
    pub reported_at: UnixTime,
    pub note: String,
}

/// The latest state of each of a member's monitored instruments, as signed by its node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusHeartbeat {
    pub institution_id: InstitutionId,
    pub sent_at: UnixTime,
    pub instruments: Vec<InstrumentStatusReport>,
}

impl StatusHeartbeat {
    /// Signs with the node key; returns the encoded envelope.
    pub fn seal(&self, node: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(
            node,
            Domain::STATUS_HEARTBEAT,
            self.to_proto().encode_to_vec(),
        )
        .encode()
    }

    /// Checks what [`StatusHeartbeat::open`] checks, without a signature, so a member does
    /// not send what the province would refuse.
    pub fn validate(&self) -> Result<(), HeartbeatError> {
        let payload = self.to_proto().encode_to_vec();
        if payload.len() > MAX_HEARTBEAT_BYTES {
            return Err(HeartbeatError::TooLarge(payload.len()));
        }
        read_heartbeat(&payload).map(drop)
    }

    /// Verifies the envelope and decodes; returns the signer too, which the caller must
    /// match against the institution's certificate.
    pub fn open(bytes: &[u8]) -> Result<(PublicKey, StatusHeartbeat), HeartbeatError> {
        let envelope = decode_envelope(bytes)?;
        let heartbeat = read_heartbeat(envelope.open(Domain::STATUS_HEARTBEAT)?)?;
        Ok((envelope.signer()?, heartbeat))
    }

    /// Verifies that `signer` (a key the caller already holds, e.g. from the institution's
    /// certificate) signed the heartbeat, and decodes it.
    pub fn open_from(bytes: &[u8], signer: &PublicKey) -> Result<StatusHeartbeat, HeartbeatError> {
        read_heartbeat(decode_envelope(bytes)?.open_from(Domain::STATUS_HEARTBEAT, signer)?)
    }

    fn to_proto(&self) -> proto::StatusHeartbeat {
        proto::StatusHeartbeat {
            institution_id: self.institution_id.to_string(),
            sent_at: self.sent_at.0,
            instruments: self
                .instruments
                .iter()
                .map(|r| proto::InstrumentStatusReport {
                    local_id: r.local_id.clone(),
                    state: r.state.to_proto() as i32,
                    reported_at: r.reported_at.0,
                    note: r.note.clone(),
                })
                .collect(),
        }
    }
}

fn decode_envelope(bytes: &[u8]) -> Result<SignedEnvelope, HeartbeatError> {
    if bytes.len() > MAX_HEARTBEAT_BYTES {
        return Err(HeartbeatError::TooLarge(bytes.len()));
    }
    Ok(SignedEnvelope::decode(bytes)?)
}

fn read_heartbeat(payload: &[u8]) -> Result<StatusHeartbeat, HeartbeatError> {
    let raw = proto::StatusHeartbeat::decode(payload)
        .map_err(|e| HeartbeatError::Malformed(e.to_string()))?;
    if raw.instruments.len() > MAX_HEARTBEAT_INSTRUMENTS {
        return Err(HeartbeatError::TooManyInstruments(raw.instruments.len()));
    }
    let institution_id = InstitutionId::try_from(raw.institution_id)?;
    let mut seen = HashSet::with_capacity(raw.instruments.len());
    let mut instruments = Vec::with_capacity(raw.instruments.len());
    for report in raw.instruments {
        let local_id = check_local_id(report.local_id)?;
        if !seen.insert(local_id.clone()) {
            return Err(HeartbeatError::Duplicate(local_id));
        }
        if !is_valid_note(&report.note) {
            return Err(field(
                "note",
                format!("at most {MAX_NOTE_CHARS} characters, no control characters"),
            )
            .into());
        }
        instruments.push(InstrumentStatusReport {
            local_id,
            state: InstrumentState::from_proto(report.state)?,
            reported_at: UnixTime(report.reported_at),
            note: report.note,
        });
    }
    Ok(StatusHeartbeat {
        institution_id,
        sent_at: UnixTime(raw.sent_at),
        instruments,
    })
}

#[cfg(test)]
mod tests;
