//! What follows a booking's answer: the user's cancel (home → owner) and the owner's
//! updates (owner → home), each under its own signing domain so neither can pass for the
//! other or for a request.

use prost::Message;

use super::{BookingError, booking_id, institution, malformed};
use crate::{
    envelope::{Domain, SignedEnvelope},
    ids::InstitutionId,
    keys::{PublicKey, SecretKey},
    proto,
    record::{RecordError, field, known, long, short},
    time::UnixTime,
};

impl Domain {
    /// A user's cancel, signed by the home node.
    pub const BOOKING_CANCEL: Domain = Domain("alliance/booking-cancel/v1");
    /// The owner's word on a booking's state, signed by the owner's node.
    pub const BOOKING_UPDATE: Domain = Domain("alliance/booking-update/v1");
    /// A home's question about its users' bookings, signed by the home node.
    pub const BOOKING_STATUS: Domain = Domain("alliance/booking-status/v1");
}

/// Most bookings one status query may ask about.
pub const MAX_STATUS_QUERY: usize = 500;

/// A home node's question: where do these bookings stand?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingStatusQuery {
    pub home_institution: InstitutionId,
    pub booking_ids: Vec<String>,
    pub sent_at: UnixTime,
}

impl BookingStatusQuery {
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        let raw = proto::BookingStatusQuery {
            home_institution: self.home_institution.to_string(),
            booking_ids: self.booking_ids.clone(),
            sent_at: self.sent_at.0,
        };
        SignedEnvelope::seal(home, Domain::BOOKING_STATUS, raw.encode_to_vec()).encode()
    }

    pub fn open(bytes: &[u8], home: &PublicKey) -> Result<BookingStatusQuery, BookingError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = open_payload(&envelope, Domain::BOOKING_STATUS, home)?;
        let raw = proto::BookingStatusQuery::decode(payload).map_err(malformed)?;
        if raw.booking_ids.len() > MAX_STATUS_QUERY {
            return Err(BookingError::Invalid(field(
                "booking_ids",
                format!("at most {MAX_STATUS_QUERY}"),
            )));
        }
        Ok(BookingStatusQuery {
            home_institution: institution("home_institution", &raw.home_institution)?,
            booking_ids: raw
                .booking_ids
                .into_iter()
                .map(booking_id)
                .collect::<Result<_, _>>()?,
            sent_at: UnixTime(raw.sent_at),
        })
    }
}

/// Encodes the owner's signed updates answering a status query.
pub fn encode_updates(updates: Vec<Vec<u8>>) -> Vec<u8> {
    proto::BookingUpdates { updates }.encode_to_vec()
}

/// The signed updates in an answer to a status query (each still to be opened).
pub fn decode_updates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, BookingError> {
    if bytes.len() > crate::limits::MAX_RPC_RESPONSE_BYTES {
        return Err(BookingError::Invalid(field("updates", "too large")));
    }
    let raw = proto::BookingUpdates::decode(bytes).map_err(malformed)?;
    if raw.updates.len() > MAX_STATUS_QUERY {
        return Err(BookingError::Invalid(field("updates", "too many")));
    }
    Ok(raw.updates)
}

pub use proto::BookingStatus;

/// A user's cancel of a booking.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BookingCancel {
    pub booking_id: String,
    pub institution_id: InstitutionId,
    pub local_id: String,
    pub user_id: String,
    pub reason: String,
    pub sent_at: UnixTime,
}

/// The owner's word on where a booking stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BookingUpdate {
    pub booking_id: String,
    pub home_institution: InstitutionId,
    pub institution_id: InstitutionId,
    pub local_id: String,
    pub status: BookingStatus,
    /// 0 for a cancel remembered before its request arrived.
    pub version: u64,
    pub by: String,
    pub note: String,
    pub at: UnixTime,
}

fn open_payload<'a>(
    envelope: &'a SignedEnvelope,
    domain: Domain,
    signer: &PublicKey,
) -> Result<&'a [u8], BookingError> {
    Ok(envelope.open_from(domain, signer)?)
}

impl BookingCancel {
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        let raw = proto::BookingCancel {
            booking_id: self.booking_id.clone(),
            institution_id: self.institution_id.to_string(),
            local_id: self.local_id.clone(),
            user_id: self.user_id.clone(),
            reason: self.reason.clone(),
            sent_at: self.sent_at.0,
        };
        SignedEnvelope::seal(home, Domain::BOOKING_CANCEL, raw.encode_to_vec()).encode()
    }

    pub fn open(bytes: &[u8], home: &PublicKey) -> Result<BookingCancel, BookingError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = open_payload(&envelope, Domain::BOOKING_CANCEL, home)?;
        let raw = proto::BookingCancel::decode(payload).map_err(malformed)?;
        let parse = || -> Result<BookingCancel, RecordError> {
            if !crate::record::is_valid_local_id(&raw.local_id) {
                return Err(field("local_id", "not an instrument id"));
            }
            Ok(BookingCancel {
                booking_id: booking_id(raw.booking_id.clone())?,
                institution_id: institution("institution_id", &raw.institution_id)?,
                local_id: raw.local_id.clone(),
                user_id: short("user_id", raw.user_id.clone())?,
                reason: long("reason", raw.reason.clone())?,
                sent_at: UnixTime(raw.sent_at),
            })
        };
        Ok(parse()?)
    }
}

impl BookingUpdate {
    pub fn seal(&self, owner: &SecretKey) -> Vec<u8> {
        let raw = proto::BookingUpdate {
            booking_id: self.booking_id.clone(),
            home_institution: self.home_institution.to_string(),
            institution_id: self.institution_id.to_string(),
            local_id: self.local_id.clone(),
            status: self.status as i32,
            version: self.version,
            by: self.by.clone(),
            note: self.note.clone(),
            at: self.at.0,
        };
        SignedEnvelope::seal(owner, Domain::BOOKING_UPDATE, raw.encode_to_vec()).encode()
    }

    pub fn open(bytes: &[u8], owner: &PublicKey) -> Result<BookingUpdate, BookingError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = open_payload(&envelope, Domain::BOOKING_UPDATE, owner)?;
        let raw = proto::BookingUpdate::decode(payload).map_err(malformed)?;
        let parse = || -> Result<BookingUpdate, RecordError> {
            let status = known(
                "status",
                BookingStatus::try_from(raw.status),
                BookingStatus::Unspecified,
            )?;
            if status == BookingStatus::Unspecified {
                return Err(field("status", "required"));
            }
            if !crate::record::is_valid_local_id(&raw.local_id) {
                return Err(field("local_id", "not an instrument id"));
            }
            Ok(BookingUpdate {
                booking_id: booking_id(raw.booking_id.clone())?,
                home_institution: institution("home_institution", &raw.home_institution)?,
                institution_id: institution("institution_id", &raw.institution_id)?,
                local_id: raw.local_id.clone(),
                status,
                version: raw.version,
                by: short("by", raw.by.clone())?,
                note: long("note", raw.note.clone())?,
                at: UnixTime(raw.at),
            })
        };
        Ok(parse()?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn update() -> BookingUpdate {
        BookingUpdate {
            booking_id: "b-1".into(),
            home_institution: "neu".parse().unwrap(),
            institution_id: "dlut".parse().unwrap(),
            local_id: "XPS-1".into(),
            status: BookingStatus::Confirmed,
            version: 2,
            by: "manager@dlut".into(),
            note: "已批准".into(),
            at: UnixTime(1_790_000_000),
        }
    }

    #[test]
    fn updates_and_cancels_round_trip_and_say_what_they_are() {
        let owner = SecretKey::generate();
        let sealed = update().seal(&owner);
        assert_eq!(
            crate::mail::kind_of(&sealed).unwrap(),
            Domain::BOOKING_UPDATE.0
        );
        assert_eq!(
            BookingUpdate::open(&sealed, &owner.public()).unwrap(),
            update()
        );
        let home = SecretKey::generate();
        let cancel = BookingCancel {
            booking_id: "b-1".into(),
            institution_id: "dlut".parse().unwrap(),
            local_id: "XPS-1".into(),
            user_id: "u1".into(),
            reason: "样品未制备好".into(),
            sent_at: UnixTime(1_790_000_000),
        };
        let sealed = cancel.seal(&home);
        assert_eq!(
            crate::mail::kind_of(&sealed).unwrap(),
            Domain::BOOKING_CANCEL.0
        );
        assert_eq!(
            BookingCancel::open(&sealed, &home.public()).unwrap(),
            cancel
        );
        // A cancel is not an update, even with the right key.
        assert!(BookingUpdate::open(&sealed, &home.public()).is_err());
    }

    #[test]
    fn a_status_query_round_trips_and_is_bounded() {
        let home = SecretKey::generate();
        let query = BookingStatusQuery {
            home_institution: "neu".parse().unwrap(),
            booking_ids: vec!["b-1".into(), "b-2".into()],
            sent_at: UnixTime(1_790_000_000),
        };
        let sealed = query.seal(&home);
        assert_eq!(
            crate::mail::kind_of(&sealed).unwrap(),
            Domain::BOOKING_STATUS.0
        );
        assert_eq!(
            BookingStatusQuery::open(&sealed, &home.public()).unwrap(),
            query
        );
        let too_many = BookingStatusQuery {
            booking_ids: (0..=MAX_STATUS_QUERY).map(|n| format!("b{n}")).collect(),
            ..query
        };
        assert!(BookingStatusQuery::open(&too_many.seal(&home), &home.public()).is_err());
        let owner = SecretKey::generate();
        let updates = vec![update().seal(&owner), update().seal(&owner)];
        assert_eq!(
            decode_updates(&encode_updates(updates.clone())).unwrap(),
            updates
        );
    }

    #[test]
    fn an_update_from_another_key_or_without_a_status_is_refused() {
        let owner = SecretKey::generate();
        let other = SecretKey::generate();
        assert!(BookingUpdate::open(&update().seal(&other), &owner.public()).is_err());
        let mut raw = update();
        raw.status = BookingStatus::Unspecified;
        assert!(BookingUpdate::open(&raw.seal(&owner), &owner.public()).is_err());
    }
}
