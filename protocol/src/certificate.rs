//! Membership certificates: the province root key vouches that a node key belongs to an
//! institution of the alliance, in a role, for a validity window.

use prost::Message;

use crate::{
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::{IdError, InstitutionId},
    keys::{KeyError, PublicKey, SecretKey},
    limits::{MAX_CERTIFICATE_BYTES, MAX_NAME_BYTES},
    proto,
    time::UnixTime,
};

/// What a node is in the alliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A member institution's node.
    Member,
    /// The province's aggregator node.
    Aggregator,
}

impl Role {
    /// The lowercase name used in configs and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Aggregator => "aggregator",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("certificate is {0} bytes, more than the {MAX_CERTIFICATE_BYTES} allowed")]
    TooLarge(usize),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("certificate is not valid protobuf: {0}")]
    Malformed(String),
    #[error("certificate: {0}")]
    InstitutionId(#[from] IdError),
    #[error("certificate node key: {0}")]
    NodeKey(KeyError),
    #[error("certificate has no role")]
    NoRole,
    #[error("certificate field {0} is longer than {MAX_NAME_BYTES} bytes")]
    FieldTooLong(&'static str),
    #[error("certificate validity window is empty")]
    EmptyWindow,
    #[error("certificate serial {serial} is not valid until {not_before}")]
    NotYetValid { serial: u64, not_before: UnixTime },
    #[error("certificate serial {serial} expired at {not_after}")]
    Expired { serial: u64, not_after: UnixTime },
    #[error("certificate serial {0} has been revoked")]
    Revoked(u64),
    #[error("certificate has role {found}, {expected} was required")]
    WrongRole { expected: Role, found: Role },
    #[error("certificate is for node key {certified}, but the peer's key is {actual}")]
    KeyMismatch { certified: String, actual: String },
}

/// The content of a membership certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipCertificate {
    pub institution_id: InstitutionId,
    pub name_zh: String,
    pub name_en: String,
    pub region: String,
    pub node_public_key: PublicKey,
    pub role: Role,
    pub serial: u64,
    pub not_before: UnixTime,
    pub not_after: UnixTime,
}

impl MembershipCertificate {
    /// Whether `now` falls inside the validity window.
    pub fn check_window(&self, now: UnixTime) -> Result<(), CertificateError> {
        if now < self.not_before {
            return Err(CertificateError::NotYetValid {
                serial: self.serial,
                not_before: self.not_before,
            });
        }
        if now >= self.not_after {
            return Err(CertificateError::Expired {
                serial: self.serial,
                not_after: self.not_after,
            });
        }
        Ok(())
    }

    /// Signs this certificate with the province root key.
    pub fn sign(self, root: &SecretKey) -> SignedCertificate {
        let payload = proto::MembershipCertificate::from(&self).encode_to_vec();
        let envelope = SignedEnvelope::seal(root, Domain::CERTIFICATE, payload);
        SignedCertificate {
            certificate: self,
            envelope,
        }
    }
}

/// A certificate together with the root-signed envelope it came in.
///
/// Holding one means the signature was checked against a root key at construction;
/// [`SignedCertificate::verify`] also checks the window and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCertificate {
    certificate: MembershipCertificate,
    envelope: SignedEnvelope,
}

impl SignedCertificate {
    /// Decodes `bytes` and checks that the province `root` signed them. Does not check time.
    pub fn decode(bytes: &[u8], root: &PublicKey) -> Result<Self, CertificateError> {
        if bytes.len() > MAX_CERTIFICATE_BYTES {
            return Err(CertificateError::TooLarge(bytes.len()));
        }
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = envelope.open_from(Domain::CERTIFICATE, root)?;
        let raw = proto::MembershipCertificate::decode(payload)
            .map_err(|e| CertificateError::Malformed(e.to_string()))?;
        let certificate = MembershipCertificate::try_from(raw)?;
        Ok(SignedCertificate {
            certificate,
            envelope,
        })
    }

    /// Decodes and fully verifies: root signature, validity at `now`, and (if given) role.
    pub fn verify(
        bytes: &[u8],
        root: &PublicKey,
        now: UnixTime,
        role: Option<Role>,
    ) -> Result<Self, CertificateError> {
        let cert = Self::decode(bytes, root)?;
        cert.certificate.check_window(now)?;
        if let Some(expected) = role
            && cert.certificate.role != expected
        {
            return Err(CertificateError::WrongRole {
                expected,
                found: cert.certificate.role,
            });
        }
        Ok(cert)
    }

    /// Requires that the certificate names `actual` as its node key.
    pub fn check_node_key(&self, actual: &PublicKey) -> Result<(), CertificateError> {
        if &self.certificate.node_public_key != actual {
            return Err(CertificateError::KeyMismatch {
                certified: self.certificate.node_public_key.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(())
    }

    /// The certified content.
    pub fn certificate(&self) -> &MembershipCertificate {
        &self.certificate
    }

    /// The exact signed bytes, for sending on.
    pub fn encode(&self) -> Vec<u8> {
        self.envelope.encode()
    }
}

impl From<&MembershipCertificate> for proto::MembershipCertificate {
    fn from(c: &MembershipCertificate) -> Self {
        let role = match c.role {
            Role::Member => proto::Role::Member,
            Role::Aggregator => proto::Role::Aggregator,
        };
        proto::MembershipCertificate {
            institution_id: c.institution_id.to_string(),
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
            region: c.region.clone(),
            node_public_key: c.node_public_key.to_bytes().to_vec(),
            role: role as i32,
            serial: c.serial,
            not_before: c.not_before.0,
            not_after: c.not_after.0,
        }
    }
}

impl TryFrom<proto::MembershipCertificate> for MembershipCertificate {
    type Error = CertificateError;

    fn try_from(raw: proto::MembershipCertificate) -> Result<Self, Self::Error> {
        for (name, value) in [
            ("name_zh", &raw.name_zh),
            ("name_en", &raw.name_en),
            ("region", &raw.region),
        ] {
            if value.len() > MAX_NAME_BYTES {
                return Err(CertificateError::FieldTooLong(name));
            }
        }
        let role = match proto::Role::try_from(raw.role) {
            Ok(proto::Role::Member) => Role::Member,
            Ok(proto::Role::Aggregator) => Role::Aggregator,
            _ => return Err(CertificateError::NoRole),
        };
        if raw.not_after <= raw.not_before {
            return Err(CertificateError::EmptyWindow);
        }
        Ok(MembershipCertificate {
            institution_id: InstitutionId::try_from(raw.institution_id)?,
            name_zh: raw.name_zh,
            name_en: raw.name_en,
            region: raw.region,
            node_public_key: PublicKey::from_bytes(&raw.node_public_key)
                .map_err(CertificateError::NodeKey)?,
            role,
            serial: raw.serial,
            not_before: UnixTime(raw.not_before),
            not_after: UnixTime(raw.not_after),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(node: &SecretKey, role: Role) -> MembershipCertificate {
        MembershipCertificate {
            institution_id: "dlut".parse().unwrap(),
            name_zh: "大连理工大学".into(),
            name_en: "Dalian University of Technology".into(),
            region: "辽宁省大连市".into(),
            node_public_key: node.public(),
            role,
            serial: 7,
            not_before: UnixTime(1_000),
            not_after: UnixTime(2_000),
        }
    }

    #[test]
    fn valid_certificate_verifies() {
        let (root, node) = (SecretKey::generate(), SecretKey::generate());
        let bytes = sample(&node, Role::Member).sign(&root).encode();
        let cert =
            SignedCertificate::verify(&bytes, &root.public(), UnixTime(1_500), Some(Role::Member))
                .unwrap();
        assert_eq!(cert.certificate().institution_id.as_str(), "dlut");
        assert!(cert.check_node_key(&node.public()).is_ok());
    }

    #[test]
    fn each_flaw_is_rejected_with_its_reason() {
        let (root, node) = (SecretKey::generate(), SecretKey::generate());
        let bytes = sample(&node, Role::Member).sign(&root).encode();
        let other_root = SecretKey::generate().public();
        assert!(matches!(
            SignedCertificate::verify(&bytes, &other_root, UnixTime(1_500), None),
            Err(CertificateError::Envelope(
                EnvelopeError::WrongSigner { .. }
            ))
        ));
        assert!(matches!(
            SignedCertificate::verify(&bytes, &root.public(), UnixTime(999), None),
            Err(CertificateError::NotYetValid { serial: 7, .. })
        ));
        assert!(matches!(
            SignedCertificate::verify(&bytes, &root.public(), UnixTime(2_000), None),
            Err(CertificateError::Expired { serial: 7, .. })
        ));
        assert!(matches!(
            SignedCertificate::verify(
                &bytes,
                &root.public(),
                UnixTime(1_500),
                Some(Role::Aggregator)
            ),
            Err(CertificateError::WrongRole { .. })
        ));
        let cert = SignedCertificate::decode(&bytes, &root.public()).unwrap();
        assert!(matches!(
            cert.check_node_key(&SecretKey::generate().public()),
            Err(CertificateError::KeyMismatch { .. })
        ));
    }

    #[test]
    fn a_certificate_is_not_accepted_as_another_domain() {
        let root = SecretKey::generate();
        let payload =
            proto::MembershipCertificate::from(&sample(&root, Role::Member)).encode_to_vec();
        let forged = SignedEnvelope::seal(&root, Domain::ROSTER, payload).encode();
        assert!(matches!(
            SignedCertificate::decode(&forged, &root.public()),
            Err(CertificateError::Envelope(
                EnvelopeError::WrongDomain { .. }
            ))
        ));
    }

    #[test]
    fn oversized_certificate_is_refused_before_parsing() {
        let root = SecretKey::generate().public();
        let big = vec![0u8; MAX_CERTIFICATE_BYTES + 1];
        assert_eq!(
            SignedCertificate::decode(&big, &root),
            Err(CertificateError::TooLarge(big.len()))
        );
    }
}
