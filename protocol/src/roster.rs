//! The roster: the province's signed list of current certificates and revoked serials.
//!
//! Membership of a peer is decided by its own certificate (root-signed, in its window)
//! *and* the newest roster this node holds (not revoked). Rosters only move forward:
//! a roster with a version at or below the held one is ignored.

use std::collections::BTreeSet;

use prost::Message;

use crate::{
    certificate::{CertificateError, Role, SignedCertificate},
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    keys::{PublicKey, SecretKey},
    limits::{MAX_ENVELOPE_BYTES, MAX_ROSTER_MEMBERS, MAX_ROSTER_REVOKED},
    proto,
    time::UnixTime,
};

/// Why a roster was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterError {
    #[error("roster is {0} bytes, more than the {MAX_ENVELOPE_BYTES} allowed")]
    TooLarge(usize),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("roster is not valid protobuf: {0}")]
    Malformed(String),
    #[error("roster lists {0} members or revocations, more than allowed")]
    TooMany(usize),
    #[error("roster member certificate: {0}")]
    Certificate(#[from] CertificateError),
}

/// The roster's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    pub version: u64,
    pub issued_at: UnixTime,
    pub certificates: Vec<SignedCertificate>,
    pub revoked_serials: BTreeSet<u64>,
}

impl Roster {
    /// Whether `serial` is revoked.
    pub fn is_revoked(&self, serial: u64) -> bool {
        self.revoked_serials.contains(&serial)
    }

    /// Full membership check of a presented certificate at `now`: root signature (already
    /// implied by [`SignedCertificate`]), window, revocation, and optionally role.
    pub fn check(
        roster: Option<&Roster>,
        cert: &SignedCertificate,
        now: UnixTime,
        role: Option<Role>,
    ) -> Result<(), CertificateError> {
        let c = cert.certificate();
        c.check_window(now)?;
        if roster.is_some_and(|r| r.is_revoked(c.serial)) {
            return Err(CertificateError::Revoked(c.serial));
        }
        if let Some(expected) = role
            && c.role != expected
        {
            return Err(CertificateError::WrongRole {
                expected,
                found: c.role,
            });
        }
        Ok(())
    }

    /// Signs the roster with the province root key.
    pub fn sign(self, root: &SecretKey) -> SignedRoster {
        let raw = proto::Roster {
            version: self.version,
            issued_at: self.issued_at.0,
            certificates: self.certificates.iter().map(|c| c.encode()).collect(),
            revoked_serials: self.revoked_serials.iter().copied().collect(),
        };
        let envelope = SignedEnvelope::seal(root, Domain::ROSTER, raw.encode_to_vec());
        SignedRoster {
            roster: self,
            envelope,
        }
    }
}

/// A roster with the root-signed envelope it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRoster {
    roster: Roster,
    envelope: SignedEnvelope,
}

impl SignedRoster {
    /// Decodes `bytes`, checks the root signature and every listed certificate's signature.
    pub fn decode(bytes: &[u8], root: &PublicKey) -> Result<Self, RosterError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(RosterError::TooLarge(bytes.len()));
        }
        let envelope = SignedEnvelope::decode(bytes)?;
        Self::verify(envelope, root)
    }

    /// [`SignedRoster::decode`], but only if the roster claims a version above `held`:
    /// `Ok(None)` otherwise, found before any signature is checked. A replayed or older
    /// roster thus costs a decode, not up to [`MAX_ROSTER_MEMBERS`] + 1 verifications;
    /// a forged one claiming an old version is dropped the same way, which is harmless
    /// since it would not be installed either.
    pub fn decode_if_newer(
        bytes: &[u8],
        root: &PublicKey,
        held: u64,
    ) -> Result<Option<Self>, RosterError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(RosterError::TooLarge(bytes.len()));
        }
        let envelope = SignedEnvelope::decode(bytes)?;
        if envelope.domain() != Domain::ROSTER.0 {
            return Err(EnvelopeError::WrongDomain {
                expected: Domain::ROSTER.0.to_owned(),
                found: envelope.domain().to_owned(),
            }
            .into());
        }
        let claimed = proto::Roster::decode(envelope.payload_unverified())
            .map_err(|e| RosterError::Malformed(e.to_string()))?
            .version;
        if claimed <= held {
            return Ok(None);
        }
        Self::verify(envelope, root).map(Some)
    }

    /// Checks the root signature of a decoded envelope, then every certificate in it.
    fn verify(envelope: SignedEnvelope, root: &PublicKey) -> Result<Self, RosterError> {
        let payload = envelope.open_from(Domain::ROSTER, root)?;
        let raw =
            proto::Roster::decode(payload).map_err(|e| RosterError::Malformed(e.to_string()))?;
        if raw.certificates.len() > MAX_ROSTER_MEMBERS {
            return Err(RosterError::TooMany(raw.certificates.len()));
        }
        if raw.revoked_serials.len() > MAX_ROSTER_REVOKED {
            return Err(RosterError::TooMany(raw.revoked_serials.len()));
        }
        let certificates = raw
            .certificates
            .iter()
            .map(|bytes| SignedCertificate::decode(bytes, root))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SignedRoster {
            roster: Roster {
                version: raw.version,
                issued_at: UnixTime(raw.issued_at),
                certificates,
                revoked_serials: raw.revoked_serials.into_iter().collect(),
            },
            envelope,
        })
    }

    /// The roster content.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The exact signed bytes, for sending on.
    pub fn encode(&self) -> Vec<u8> {
        self.envelope.encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::MembershipCertificate;

    fn cert(root: &SecretKey, serial: u64) -> SignedCertificate {
        MembershipCertificate {
            institution_id: "neu".parse().unwrap(),
            name_zh: "东北大学".into(),
            name_en: "Northeastern University".into(),
            region: "辽宁省沈阳市".into(),
            node_public_key: SecretKey::generate().public(),
            role: Role::Member,
            serial,
            not_before: UnixTime(0),
            not_after: UnixTime(10_000),
        }
        .sign(root)
    }

    #[test]
    fn roster_round_trips_and_revokes() {
        let root = SecretKey::generate();
        let (a, b) = (cert(&root, 1), cert(&root, 2));
        let signed = Roster {
            version: 3,
            issued_at: UnixTime(50),
            certificates: vec![a.clone(), b.clone()],
            revoked_serials: [2].into(),
        }
        .sign(&root);
        let decoded = SignedRoster::decode(&signed.encode(), &root.public()).unwrap();
        assert_eq!(decoded.roster().version, 3);
        let roster = decoded.roster();
        assert!(Roster::check(Some(roster), &a, UnixTime(100), Some(Role::Member)).is_ok());
        assert_eq!(
            Roster::check(Some(roster), &b, UnixTime(100), None),
            Err(CertificateError::Revoked(2))
        );
        assert!(Roster::check(None, &b, UnixTime(100), None).is_ok());
    }

    #[test]
    fn roster_from_another_root_is_rejected() {
        let root = SecretKey::generate();
        let signed = Roster {
            version: 1,
            issued_at: UnixTime(0),
            certificates: vec![],
            revoked_serials: BTreeSet::new(),
        }
        .sign(&root);
        let other = SecretKey::generate().public();
        assert!(matches!(
            SignedRoster::decode(&signed.encode(), &other),
            Err(RosterError::Envelope(EnvelopeError::WrongSigner { .. }))
        ));
    }

    #[test]
    fn a_roster_not_newer_than_the_held_one_is_dropped_before_any_signature_check() {
        let root = SecretKey::generate();
        // A certificate of another root: verifying it would fail, so `Ok(None)` proves the
        // certificates were never verified; and the envelope is not the root's either.
        let forged = Roster {
            version: 5,
            issued_at: UnixTime(0),
            certificates: vec![cert(&SecretKey::generate(), 9)],
            revoked_serials: BTreeSet::new(),
        }
        .sign(&SecretKey::generate())
        .encode();
        assert_eq!(
            SignedRoster::decode_if_newer(&forged, &root.public(), 5),
            Ok(None)
        );
        assert_eq!(
            SignedRoster::decode_if_newer(&forged, &root.public(), 7),
            Ok(None)
        );
        assert!(matches!(
            SignedRoster::decode_if_newer(&forged, &root.public(), 4),
            Err(RosterError::Envelope(EnvelopeError::WrongSigner { .. }))
        ));
        // A newer genuine roster is verified in full: its foreign certificate is refused.
        let genuine_envelope = Roster {
            version: 6,
            issued_at: UnixTime(0),
            certificates: vec![cert(&SecretKey::generate(), 9)],
            revoked_serials: BTreeSet::new(),
        }
        .sign(&root)
        .encode();
        assert!(matches!(
            SignedRoster::decode_if_newer(&genuine_envelope, &root.public(), 5),
            Err(RosterError::Certificate(_))
        ));
        let good = Roster {
            version: 6,
            issued_at: UnixTime(0),
            certificates: vec![cert(&root, 1)],
            revoked_serials: BTreeSet::new(),
        }
        .sign(&root);
        let decoded = SignedRoster::decode_if_newer(&good.encode(), &root.public(), 5)
            .unwrap()
            .unwrap();
        assert_eq!(decoded, good);
    }

    #[test]
    fn roster_with_a_foreign_certificate_is_rejected() {
        let root = SecretKey::generate();
        let foreign = cert(&SecretKey::generate(), 9);
        let signed = Roster {
            version: 1,
            issued_at: UnixTime(0),
            certificates: vec![foreign],
            revoked_serials: BTreeSet::new(),
        }
        .sign(&root);
        assert!(matches!(
            SignedRoster::decode(&signed.encode(), &root.public()),
            Err(RosterError::Certificate(_))
        ));
    }
}
