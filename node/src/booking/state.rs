//! A booking as the owner keeps it: its state, and who changed what when.

pub use alliance_protocol::booking::BookingState;
use alliance_protocol::{InstitutionId, ServiceMode, UnixTime, UserTier, booking::BookingRequest};

/// One change of state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEvent {
    pub at: UnixTime,
    /// `user@institution`, a manager's account, or `system` (a hold lapsing).
    pub by: String,
    pub from: Option<BookingState>,
    pub to: BookingState,
    pub note: String,
}

/// A booking of one of this node's instruments.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Booking {
    pub booking_id: String,
    pub home: InstitutionId,
    pub local_id: String,
    pub start: UnixTime,
    pub end: UnixTime,
    pub user_id: String,
    pub user_name: String,
    pub tier: UserTier,
    pub mode: ServiceMode,
    pub samples: u32,
    pub purpose: String,
    /// The service item the user chose (a fee item's Chinese name; empty: the only one).
    #[serde(default)]
    pub service_item: String,
    pub state: BookingState,
    /// Bumped on every change (the home node keeps the highest it has seen).
    pub version: u64,
    pub hold_until: Option<UnixTime>,
    /// The signed answer given to the request, returned again for a retry.
    #[serde(with = "base64_bytes")]
    pub answer: Vec<u8>,
    pub history: Vec<AuditEvent>,
}

impl Booking {
    /// Whether the request was refused at once (a rule, a quota, a taken slot): an
    /// attempt, kept as history, never listed or fed as a booking.
    pub fn refused_at_once(&self) -> bool {
        self.history
            .first()
            .is_some_and(|e| e.to == BookingState::Rejected)
    }

    /// A booking for `request`, in `state`, as first answered.
    pub fn from_request(request: &BookingRequest, state: BookingState, now: UnixTime) -> Booking {
        Booking {
            booking_id: request.booking_id.clone(),
            home: request.user.home_institution.clone(),
            local_id: request.local_id.clone(),
            start: request.start,
            end: request.end,
            user_id: request.user.user_id.clone(),
            user_name: request.user.display_name.clone(),
            tier: request.user.tier,
            mode: request.mode,
            samples: request.samples,
            purpose: request.purpose.clone(),
            service_item: request.service_item.clone(),
            state,
            version: 1,
            hold_until: None,
            answer: Vec::new(),
            history: vec![AuditEvent {
                at: now,
                by: format!("{}@{}", request.user.user_id, request.user.home_institution),
                from: None,
                to: state,
                note: String::new(),
            }],
        }
    }

    /// Moves to `to`, recording who did it and why.
    pub fn transition(&mut self, to: BookingState, by: &str, note: &str, at: UnixTime) {
        self.history.push(AuditEvent {
            at,
            by: by.to_owned(),
            from: Some(self.state),
            to,
            note: note.to_owned(),
        });
        self.state = to;
        self.version += 1;
        if to != BookingState::Held {
            self.hold_until = None;
        }
    }
}

/// Binary fields as base64 in the stored JSON.
pub(crate) mod base64_bytes {
    use base64::{Engine, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
