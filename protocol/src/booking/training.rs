//! A training certification (R20): who may operate an instrument themselves, until when.
//! Recorded by the instrument's manager at its owner's node, which checks it when a
//! self-operated booking arrives, and sends to the user's home so the home offers
//! self-operated use only to those trained.

use prost::Message;

use super::{BookingError, institution, malformed};
use crate::{
    envelope::{Domain, SignedEnvelope},
    ids::InstitutionId,
    keys::{PublicKey, SecretKey},
    proto,
    record::{field, short},
    time::UnixTime,
};

impl Domain {
    /// A training certification, signed by the instrument owner's node for the user's home.
    pub const TRAINING: Domain = Domain("alliance/training/v1");
}

/// One user's certification for one instrument.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Training {
    /// The instrument's id within its institution.
    pub local_id: String,
    /// The user's home institution.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub home: InstitutionId,
    pub user_id: String,
    pub trained_at: UnixTime,
    /// The last second the certification holds.
    pub valid_until: UnixTime,
    /// The manager who recorded it; set by the node from the signed-in account.
    #[serde(default)]
    pub recorded_by: String,
}

impl Training {
    /// Signed by the owner's node, for the user's home. Who recorded it stays with the
    /// owner.
    pub fn seal(&self, owner: &SecretKey) -> Vec<u8> {
        let raw = proto::TrainingNotice {
            local_id: self.local_id.clone(),
            home: self.home.to_string(),
            user_id: self.user_id.clone(),
            trained_at: self.trained_at.0,
            valid_until: self.valid_until.0,
        };
        SignedEnvelope::seal(owner, Domain::TRAINING, raw.encode_to_vec()).encode()
    }

    /// A notice signed by `owner`'s node key.
    pub fn open(bytes: &[u8], owner: &PublicKey) -> Result<Training, BookingError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = envelope.open_from(Domain::TRAINING, owner)?;
        let raw = proto::TrainingNotice::decode(payload).map_err(malformed)?;
        if !crate::record::is_valid_local_id(&raw.local_id) {
            return Err(field("local_id", "not an instrument id").into());
        }
        if raw.valid_until <= raw.trained_at {
            return Err(field("valid_until", "must be after the training").into());
        }
        Ok(Training {
            local_id: raw.local_id,
            home: institution("home", &raw.home)?,
            user_id: short("user_id", raw.user_id)?,
            trained_at: UnixTime(raw.trained_at),
            valid_until: UnixTime(raw.valid_until),
            recorded_by: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn training() -> Training {
        Training {
            local_id: "SEM-1".into(),
            home: "neu".parse().unwrap(),
            user_id: "wang".into(),
            trained_at: UnixTime(1_796_000_000),
            valid_until: UnixTime(1_827_536_000),
            recorded_by: "li-gong".into(),
        }
    }

    #[test]
    fn a_notice_carries_the_certification_but_not_who_recorded_it() {
        let owner = SecretKey::generate();
        let opened = Training::open(&training().seal(&owner), &owner.public()).unwrap();
        assert_eq!(
            opened,
            Training {
                recorded_by: String::new(),
                ..training()
            }
        );
    }

    #[test]
    fn another_signer_or_a_backwards_span_is_refused() {
        let owner = SecretKey::generate();
        let other = SecretKey::generate();
        assert!(Training::open(&training().seal(&other), &owner.public()).is_err());
        let backwards = Training {
            valid_until: UnixTime(1_700_000_000),
            ..training()
        };
        assert!(Training::open(&backwards.seal(&owner), &owner.public()).is_err());
    }
}
