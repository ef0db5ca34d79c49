//! The signed envelope: every signed thing in the alliance travels in one.
//!
//! The signature covers `u64_be(len(domain)) ‖ domain ‖ u64_be(len(payload)) ‖ payload`.
//! The domain names the payload's type and version, so a signature made for one kind of
//! message cannot be replayed as another. The bytes are signed as they are sent — never a
//! re-encoded struct — and verified before the payload is decoded.

use prost::Message;

use crate::{
    keys::{KeyError, PublicKey, SecretKey},
    limits::{MAX_DOMAIN_BYTES, MAX_ENVELOPE_BYTES},
    proto,
};

/// A payload type and version, e.g. `alliance/certificate/v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Domain(pub &'static str);

impl Domain {
    /// A membership certificate, signed by the province root key.
    pub const CERTIFICATE: Domain = Domain("alliance/certificate/v1");
    /// The membership roster, signed by the province root key.
    pub const ROSTER: Domain = Domain("alliance/roster/v1");
}

/// Why an envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("envelope is {0} bytes, more than the {MAX_ENVELOPE_BYTES} allowed")]
    TooLarge(usize),
    #[error("envelope is not valid protobuf: {0}")]
    Malformed(String),
    #[error("envelope domain {found:?} where {expected:?} was expected")]
    WrongDomain { expected: String, found: String },
    #[error("envelope domain is longer than {MAX_DOMAIN_BYTES} bytes")]
    DomainTooLong,
    #[error("envelope signed by {found}, not by the expected {expected}")]
    WrongSigner { expected: String, found: String },
    #[error("envelope signer: {0}")]
    Signer(KeyError),
    #[error("envelope signature: {0}")]
    Signature(KeyError),
}

/// A verified-or-not envelope as it travels. Construct with [`SignedEnvelope::seal`] or
/// [`SignedEnvelope::decode`]; read the payload only through [`SignedEnvelope::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEnvelope {
    domain: String,
    payload: Vec<u8>,
    /// Kept compressed: decompressing a key costs a tenth of a verification, and the
    /// usual check is against a key the verifier already holds ([`SignedEnvelope::open_from`]).
    signer: [u8; 32],
    signature: [u8; 64],
}

/// The exact bytes an envelope signature covers.
pub fn signing_input(domain: &str, payload: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(16 + domain.len() + payload.len());
    input.extend_from_slice(&(domain.len() as u64).to_be_bytes());
    input.extend_from_slice(domain.as_bytes());
    input.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    input.extend_from_slice(payload);
    input
}

impl SignedEnvelope {
    /// Signs `payload` under `domain` with `key`.
    pub fn seal(key: &SecretKey, domain: Domain, payload: Vec<u8>) -> Self {
        let signature = key.sign(&signing_input(domain.0, &payload));
        SignedEnvelope {
            domain: domain.0.to_owned(),
            payload,
            signer: key.public().to_bytes(),
            signature,
        }
    }

    /// Decodes an envelope from bytes, checking sizes and key form but not the signature.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(EnvelopeError::TooLarge(bytes.len()));
        }
        let raw = proto::SignedEnvelope::decode(bytes)
            .map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        raw.try_into()
    }

    /// The protobuf encoding.
    pub fn encode(&self) -> Vec<u8> {
        proto::SignedEnvelope::from(self.clone()).encode_to_vec()
    }

    /// Who claims to have signed it (verified only once [`SignedEnvelope::open`] succeeded).
    pub fn signer(&self) -> Result<PublicKey, EnvelopeError> {
        PublicKey::from_bytes(&self.signer).map_err(EnvelopeError::Signer)
    }

    /// The claimed signer's key bytes, unverified: for looking up a held key.
    pub fn signer_bytes(&self) -> [u8; 32] {
        self.signer
    }

    /// The payload without any check: only for bytes whose signature was verified before
    /// they were stored.
    pub fn payload_unverified(&self) -> &[u8] {
        &self.payload
    }

    /// The domain as sent.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Verifies domain and signature and returns the payload bytes.
    pub fn open(&self, expected: Domain) -> Result<&[u8], EnvelopeError> {
        self.check_domain(expected)?;
        let signer = self.signer()?;
        self.verify_with(&signer)
    }

    fn check_domain(&self, expected: Domain) -> Result<(), EnvelopeError> {
        if self.domain != expected.0 {
            return Err(EnvelopeError::WrongDomain {
                expected: expected.0.to_owned(),
                found: self.domain.clone(),
            });
        }
        Ok(())
    }

    fn verify_with(&self, signer: &PublicKey) -> Result<&[u8], EnvelopeError> {
        signer
            .verify(&signing_input(&self.domain, &self.payload), &self.signature)
            .map_err(EnvelopeError::Signature)?;
        Ok(&self.payload)
    }

    /// Like [`SignedEnvelope::open`], and also requires a particular signer.
    pub fn open_from(&self, expected: Domain, signer: &PublicKey) -> Result<&[u8], EnvelopeError> {
        if self.signer != signer.to_bytes() {
            return Err(EnvelopeError::WrongSigner {
                expected: signer.to_string(),
                found: hex::encode(self.signer),
            });
        }
        self.check_domain(expected)?;
        self.verify_with(signer)
    }

    /// The signature bytes.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
}

impl TryFrom<proto::SignedEnvelope> for SignedEnvelope {
    type Error = EnvelopeError;

    fn try_from(raw: proto::SignedEnvelope) -> Result<Self, Self::Error> {
        if raw.domain.len() > MAX_DOMAIN_BYTES {
            return Err(EnvelopeError::DomainTooLong);
        }
        let signer: [u8; 32] = raw
            .signer
            .as_slice()
            .try_into()
            .map_err(|_| EnvelopeError::Signer(KeyError::PublicKeyLength(raw.signer.len())))?;
        let signature: [u8; 64] = raw.signature.as_slice().try_into().map_err(|_| {
            EnvelopeError::Signature(KeyError::SignatureLength(raw.signature.len()))
        })?;
        Ok(SignedEnvelope {
            domain: raw.domain,
            payload: raw.payload,
            signer,
            signature,
        })
    }
}

impl From<SignedEnvelope> for proto::SignedEnvelope {
    fn from(env: SignedEnvelope) -> Self {
        proto::SignedEnvelope {
            domain: env.domain,
            payload: env.payload,
            signer: env.signer.to_vec(),
            signature: env.signature.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: Domain = Domain("alliance/test/v1");

    fn key() -> SecretKey {
        SecretKey::from_seed(&[1u8; 32]).unwrap()
    }

    #[test]
    fn seal_then_open_round_trips_through_bytes() {
        let env = SignedEnvelope::seal(&key(), TEST, b"payload".to_vec());
        let decoded = SignedEnvelope::decode(&env.encode()).unwrap();
        assert_eq!(decoded.open(TEST).unwrap(), b"payload");
        assert_eq!(decoded.signer().unwrap(), key().public());
    }

    #[test]
    fn tampered_payload_is_rejected() {
        let mut raw =
            proto::SignedEnvelope::from(SignedEnvelope::seal(&key(), TEST, b"a".to_vec()));
        raw.payload = b"b".to_vec();
        let env = SignedEnvelope::try_from(raw).unwrap();
        assert_eq!(
            env.open(TEST),
            Err(EnvelopeError::Signature(KeyError::BadSignature))
        );
    }

    #[test]
    fn tampered_signature_is_rejected() {
        let mut raw =
            proto::SignedEnvelope::from(SignedEnvelope::seal(&key(), TEST, b"a".to_vec()));
        raw.signature[0] ^= 1;
        let env = SignedEnvelope::try_from(raw).unwrap();
        assert!(matches!(env.open(TEST), Err(EnvelopeError::Signature(_))));
    }

    #[test]
    fn changed_domain_is_rejected_even_when_expected() {
        let mut raw =
            proto::SignedEnvelope::from(SignedEnvelope::seal(&key(), TEST, b"a".to_vec()));
        raw.domain = "alliance/roster/v1".into();
        let env = SignedEnvelope::try_from(raw).unwrap();
        assert!(matches!(
            env.open(TEST),
            Err(EnvelopeError::WrongDomain { .. })
        ));
        assert!(matches!(
            env.open(Domain::ROSTER),
            Err(EnvelopeError::Signature(_))
        ));
    }

    #[test]
    fn swapped_signer_is_rejected() {
        let other = SecretKey::from_seed(&[2u8; 32]).unwrap();
        let mut raw =
            proto::SignedEnvelope::from(SignedEnvelope::seal(&key(), TEST, b"a".to_vec()));
        raw.signer = other.public().to_bytes().to_vec();
        let env = SignedEnvelope::try_from(raw).unwrap();
        assert!(matches!(env.open(TEST), Err(EnvelopeError::Signature(_))));
        let genuine = SignedEnvelope::seal(&key(), TEST, b"a".to_vec());
        assert!(matches!(
            genuine.open_from(TEST, &other.public()),
            Err(EnvelopeError::WrongSigner { .. })
        ));
    }

    #[test]
    fn oversized_and_garbage_input_is_refused_without_panic() {
        let big = vec![0u8; MAX_ENVELOPE_BYTES + 1];
        assert_eq!(
            SignedEnvelope::decode(&big),
            Err(EnvelopeError::TooLarge(big.len()))
        );
        assert!(matches!(
            SignedEnvelope::decode(&[0xff, 0xff, 0xff]),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(matches!(
            SignedEnvelope::decode(&[]),
            Err(EnvelopeError::Signer(_))
        ));
    }
}
