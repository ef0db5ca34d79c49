//! Booking negotiation messages (R3, R11, R17) between a user's home node and the node
//! that owns the instrument. The owner is the only authority for its calendar; these are
//! what the two sides say to each other, each signed by its sender (domain
//! [`Domain::BOOKING`]) so either side can later show what the other said.
//!
//! Like every decoder here, the `TryFrom` conversions check sizes and invariants: a
//! request with its end before its start, an unknown tier or an oversized purpose never
//! becomes a [`BookingRequest`].

use prost::Message;

use crate::{
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::InstitutionId,
    keys::{PublicKey, SecretKey},
    proto,
    quote::{Quantity, Quote, QuoteLine},
    record::{
        FeeUnit, RecordError, ServiceMode, UserTier, fee_to_proto, field, known, long, short,
    },
    time::UnixTime,
};

impl Domain {
    /// A booking message, signed by the node that sends it.
    pub const BOOKING: Domain = Domain("alliance/booking/v1");
}

/// Longest booking a request may ask for (a month of machine time), which also bounds
/// every quote's minutes.
pub const MAX_BOOKING_SECONDS: i64 = 31 * 24 * 3600;
/// Most samples one request may bring.
pub const MAX_SAMPLES: u32 = 10_000;
/// Most alternative slots a conflict answer lists.
pub const MAX_ALTERNATIVES: usize = 16;

/// Why a booking message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Invalid(#[from] RecordError),
}

/// A user as the home node vouches for them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BookingUser {
    /// The home institution's own id for the user.
    pub user_id: String,
    pub display_name: String,
    pub home_institution: InstitutionId,
    pub tier: UserTier,
    /// Left empty by this version: a user's address stays at their home node, which
    /// sends them their notices (owners never learn it).
    pub email: String,
}

/// A request for a slot of an instrument.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BookingRequest {
    /// Chosen by the home node; the same id always gets the same answer.
    pub booking_id: String,
    pub institution_id: InstitutionId,
    pub local_id: String,
    pub start: UnixTime,
    pub end: UnixTime,
    pub user: BookingUser,
    pub mode: ServiceMode,
    pub samples: u32,
    pub purpose: String,
    /// The service item chosen (a fee item's Chinese name); the quote covers it only.
    pub service_item: String,
    pub sent_at: UnixTime,
}

/// A span of time, `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Slot {
    pub start: UnixTime,
    pub end: UnixTime,
}

/// What the owner decided at once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Pending the manager's approval; the slot is kept until then.
    Held {
        until: UnixTime,
    },
    Confirmed,
    Rejected {
        code: String,
        reason: String,
    },
    /// The slot is taken; the nearest free slots of the same length.
    Conflict {
        nearest_free: Vec<Slot>,
    },
}

/// The owner's answer to a [`BookingRequest`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BookingAnswer {
    pub booking_id: String,
    pub outcome: Outcome,
    pub quote: Quote,
    pub answered_at: UnixTime,
}

/// Whether `id` may name a booking: 1–64 characters of `A–Z a–z 0–9 - _`.
pub fn is_valid_booking_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) fn booking_id(value: String) -> Result<String, RecordError> {
    if !is_valid_booking_id(&value) {
        return Err(field("booking_id", "1 to 64 of A-Z a-z 0-9 - _"));
    }
    Ok(value)
}

pub(crate) fn institution(name: &'static str, value: &str) -> Result<InstitutionId, RecordError> {
    value
        .parse()
        .map_err(|e: crate::ids::IdError| field(name, e.to_string()))
}

pub(crate) fn tier_to_proto(tier: UserTier) -> proto::UserTier {
    match tier {
        UserTier::OwnInstitution => proto::UserTier::OwnInstitution,
        UserTier::AllianceMember => proto::UserTier::AllianceMember,
        UserTier::OutsideAcademic => proto::UserTier::OutsideAcademic,
        UserTier::Enterprise => proto::UserTier::Enterprise,
    }
}

pub(crate) fn tier_from_proto(value: i32) -> Result<UserTier, RecordError> {
    match known(
        "tier",
        proto::UserTier::try_from(value),
        proto::UserTier::Unspecified,
    )? {
        proto::UserTier::OwnInstitution => Ok(UserTier::OwnInstitution),
        proto::UserTier::AllianceMember => Ok(UserTier::AllianceMember),
        proto::UserTier::OutsideAcademic => Ok(UserTier::OutsideAcademic),
        proto::UserTier::Enterprise => Ok(UserTier::Enterprise),
        proto::UserTier::Unspecified => Err(field("tier", "required")),
    }
}

fn slot_from_proto(name: &'static str, start: i64, end: i64) -> Result<Slot, RecordError> {
    if start < 0 || end <= start {
        return Err(field(name, "must end after it starts"));
    }
    if end - start > MAX_BOOKING_SECONDS {
        return Err(field(name, "at most 31 days"));
    }
    Ok(Slot {
        start: UnixTime(start),
        end: UnixTime(end),
    })
}

fn seal(key: &SecretKey, payload: Vec<u8>) -> Vec<u8> {
    SignedEnvelope::seal(key, Domain::BOOKING, payload).encode()
}

/// Opens a booking envelope signed by `sender`.
fn open<'a>(envelope: &'a SignedEnvelope, sender: &PublicKey) -> Result<&'a [u8], BookingError> {
    Ok(envelope.open_from(Domain::BOOKING, sender)?)
}

fn malformed(e: prost::DecodeError) -> BookingError {
    BookingError::Invalid(RecordError::Malformed(e.to_string()))
}

impl BookingRequest {
    /// The instrument's alliance-wide id.
    pub fn instrument_id(&self) -> String {
        format!("{}/{}", self.institution_id, self.local_id)
    }

    /// The slot asked for.
    pub fn slot(&self) -> Slot {
        Slot {
            start: self.start,
            end: self.end,
        }
    }

    /// Signs with the home node's key; returns the encoded envelope.
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        seal(home, proto::BookingRequest::from(self).encode_to_vec())
    }

    /// Checks what the owner will check when it reads the request (its limits and
    /// fields), without a signature: the home refuses early what the owner would refuse.
    pub fn validate(&self) -> Result<(), BookingError> {
        BookingRequest::try_from(proto::BookingRequest::from(self))?;
        Ok(())
    }

    /// Reads a request sealed by `home` (checked before anything inside is decoded).
    pub fn open(bytes: &[u8], home: &PublicKey) -> Result<BookingRequest, BookingError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = open(&envelope, home)?;
        let raw = proto::BookingRequest::decode(payload).map_err(malformed)?;
        Ok(BookingRequest::try_from(raw)?)
    }
}

impl From<&BookingRequest> for proto::BookingRequest {
    fn from(r: &BookingRequest) -> Self {
        proto::BookingRequest {
            booking_id: r.booking_id.clone(),
            institution_id: r.institution_id.to_string(),
            local_id: r.local_id.clone(),
            start: r.start.0,
            end: r.end.0,
            user: Some(proto::BookingUser {
                user_id: r.user.user_id.clone(),
                display_name: r.user.display_name.clone(),
                home_institution: r.user.home_institution.to_string(),
                tier: tier_to_proto(r.user.tier) as i32,
                email: r.user.email.clone(),
            }),
            mode: r.mode as i32,
            samples: r.samples,
            purpose: r.purpose.clone(),
            sent_at: r.sent_at.0,
            service_item: r.service_item.clone(),
        }
    }
}

impl TryFrom<proto::BookingRequest> for BookingRequest {
    type Error = RecordError;

    fn try_from(raw: proto::BookingRequest) -> Result<Self, Self::Error> {
        let slot = slot_from_proto("slot", raw.start, raw.end)?;
        let user = raw.user.ok_or_else(|| field("user", "required"))?;
        let mode = known(
            "mode",
            ServiceMode::try_from(raw.mode),
            ServiceMode::Unspecified,
        )?;
        if mode == ServiceMode::Unspecified {
            return Err(field("mode", "required"));
        }
        if raw.samples > MAX_SAMPLES {
            return Err(field("samples", format!("at most {MAX_SAMPLES}")));
        }
        if user.user_id.is_empty() {
            return Err(field("user_id", "required"));
        }
        if !crate::record::is_valid_local_id(&raw.local_id) {
            return Err(field("local_id", "not an instrument id"));
        }
        Ok(BookingRequest {
            booking_id: booking_id(raw.booking_id)?,
            institution_id: institution("institution_id", &raw.institution_id)?,
            local_id: raw.local_id,
            start: slot.start,
            end: slot.end,
            user: BookingUser {
                user_id: short("user_id", user.user_id)?,
                display_name: short("display_name", user.display_name)?,
                home_institution: institution("home_institution", &user.home_institution)?,
                tier: tier_from_proto(user.tier)?,
                email: short("email", user.email)?,
            },
            mode,
            samples: raw.samples,
            purpose: long("purpose", raw.purpose)?,
            service_item: short("service_item", raw.service_item)?,
            sent_at: UnixTime(raw.sent_at),
        })
    }
}

impl BookingAnswer {
    /// Signs with the owner node's key; returns the encoded envelope.
    pub fn seal(&self, owner: &SecretKey) -> Vec<u8> {
        seal(owner, proto::BookingAnswer::from(self).encode_to_vec())
    }

    /// Reads an answer sealed by `owner`.
    pub fn open(bytes: &[u8], owner: &PublicKey) -> Result<BookingAnswer, BookingError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = open(&envelope, owner)?;
        let raw = proto::BookingAnswer::decode(payload).map_err(malformed)?;
        Ok(BookingAnswer::try_from(raw)?)
    }

    /// The answer's encoding without an envelope or signature, for a store that keeps
    /// answers it need not prove (see [`BookingAnswer::decode_unsigned`]).
    pub fn encode_unsigned(&self) -> Vec<u8> {
        proto::BookingAnswer::from(self).encode_to_vec()
    }

    /// Reads what [`BookingAnswer::encode_unsigned`] wrote.
    pub fn decode_unsigned(bytes: &[u8]) -> Result<BookingAnswer, BookingError> {
        let raw = proto::BookingAnswer::decode(bytes).map_err(malformed)?;
        Ok(BookingAnswer::try_from(raw)?)
    }
}

fn quantity_to_proto(q: Quantity) -> (FeeUnit, u32) {
    match q {
        Quantity::Minutes(n) => (FeeUnit::Hour, n),
        Quantity::Samples(n) => (FeeUnit::Sample, n),
        Quantity::Sessions(n) => (FeeUnit::Session, n),
    }
}

fn amount_from_proto(
    c: Option<proto::FeeComponents>,
) -> Result<crate::record::FeeComponents, RecordError> {
    let c = c.unwrap_or_default();
    if [c.materials_fen, c.operating_fen, c.labour_fen]
        .iter()
        .any(|p| *p < 0)
    {
        return Err(field("quote", "amounts are never negative"));
    }
    Ok(crate::record::FeeComponents {
        materials_fen: c.materials_fen,
        operating_fen: c.operating_fen,
        labour_fen: c.labour_fen,
    })
}

impl From<&Quote> for proto::FeeQuote {
    fn from(q: &Quote) -> Self {
        proto::FeeQuote {
            tier: tier_to_proto(q.tier) as i32,
            lines: q
                .lines
                .iter()
                .map(|l| {
                    let (unit, quantity) = quantity_to_proto(l.quantity);
                    proto::QuoteLine {
                        item_zh: l.item_zh.clone(),
                        item_en: l.item_en.clone(),
                        unit: unit as i32,
                        quantity,
                        unit_price: fee_to_proto(&l.unit_price),
                        amount: fee_to_proto(&l.amount),
                    }
                })
                .collect(),
            total: fee_to_proto(&q.total),
        }
    }
}

impl TryFrom<proto::FeeQuote> for Quote {
    type Error = RecordError;

    fn try_from(raw: proto::FeeQuote) -> Result<Self, Self::Error> {
        if raw.lines.len() > crate::record::MAX_FEE_ITEMS {
            return Err(field("quote", "too many lines"));
        }
        let lines = raw
            .lines
            .into_iter()
            .map(|l| {
                let unit = known("unit", FeeUnit::try_from(l.unit), FeeUnit::Unspecified)?;
                let quantity = match unit {
                    FeeUnit::Hour => Quantity::Minutes(l.quantity),
                    FeeUnit::Sample => Quantity::Samples(l.quantity),
                    FeeUnit::Session => Quantity::Sessions(l.quantity),
                    FeeUnit::Unspecified => return Err(field("unit", "required")),
                };
                Ok(QuoteLine {
                    item_zh: short("item_zh", l.item_zh)?,
                    item_en: short("item_en", l.item_en)?,
                    quantity,
                    unit_price: amount_from_proto(l.unit_price)?,
                    amount: amount_from_proto(l.amount)?,
                })
            })
            .collect::<Result<Vec<_>, RecordError>>()?;
        Ok(Quote {
            tier: tier_from_proto(raw.tier)?,
            lines,
            total: amount_from_proto(raw.total)?,
        })
    }
}

impl From<&BookingAnswer> for proto::BookingAnswer {
    fn from(a: &BookingAnswer) -> Self {
        use proto::booking_answer::Outcome as Raw;
        let outcome = match &a.outcome {
            Outcome::Held { until } => Raw::HeldUntil(until.0),
            Outcome::Confirmed => Raw::Confirmed(true),
            Outcome::Rejected { code, reason } => Raw::Rejected(proto::Refusal {
                code: code.clone(),
                reason: reason.clone(),
            }),
            Outcome::Conflict { nearest_free } => Raw::Conflict(proto::Conflict {
                nearest_free: nearest_free
                    .iter()
                    .map(|s| proto::Slot {
                        start: s.start.0,
                        end: s.end.0,
                    })
                    .collect(),
            }),
        };
        proto::BookingAnswer {
            booking_id: a.booking_id.clone(),
            outcome: Some(outcome),
            quote: Some((&a.quote).into()),
            answered_at: a.answered_at.0,
        }
    }
}

impl TryFrom<proto::BookingAnswer> for BookingAnswer {
    type Error = RecordError;

    fn try_from(raw: proto::BookingAnswer) -> Result<Self, Self::Error> {
        use proto::booking_answer::Outcome as Raw;
        let outcome = match raw.outcome.ok_or_else(|| field("outcome", "required"))? {
            Raw::HeldUntil(until) => Outcome::Held {
                until: UnixTime(until),
            },
            Raw::Confirmed(true) => Outcome::Confirmed,
            Raw::Confirmed(false) => return Err(field("outcome", "confirmed must be true")),
            Raw::Rejected(r) => Outcome::Rejected {
                code: short("code", r.code)?,
                reason: long("reason", r.reason)?,
            },
            Raw::Conflict(c) => {
                if c.nearest_free.len() > MAX_ALTERNATIVES {
                    return Err(field("nearest_free", "too many slots"));
                }
                Outcome::Conflict {
                    nearest_free: c
                        .nearest_free
                        .iter()
                        .map(|s| slot_from_proto("nearest_free", s.start, s.end))
                        .collect::<Result<_, _>>()?,
                }
            }
        };
        Ok(BookingAnswer {
            booking_id: booking_id(raw.booking_id)?,
            outcome,
            quote: raw
                .quote
                .ok_or_else(|| field("quote", "required"))?
                .try_into()?,
            answered_at: UnixTime(raw.answered_at),
        })
    }
}

mod ask;
pub use ask::BookingAsk;
mod rules;
pub use rules::{Blackout, BlackoutKind, BookingRules, rule_limits};
mod state;
pub use state::{BookingState, ManagerDecision};
mod training;
pub use training::Training;
mod updates;
pub use updates::{
    BookingCancel, BookingStatus, BookingStatusQuery, BookingUpdate, MAX_STATUS_QUERY,
    decode_updates, encode_updates,
};

#[cfg(test)]
mod tests;
