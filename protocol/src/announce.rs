//! Node announcements: a node's signed "I am here", gossiped periodically.

use prost::Message;

use crate::{
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::{IdError, InstitutionId},
    keys::{PublicKey, SecretKey},
    limits::{MAX_GOSSIP_BYTES, MAX_NAME_BYTES},
    proto,
    time::UnixTime,
};

impl Domain {
    /// A node announcement, signed by the node key.
    pub const ANNOUNCE: Domain = Domain("alliance/announce/v1");
}

/// Most listen addresses an announcement may carry.
pub const MAX_ANNOUNCED_ADDRS: usize = 16;

/// Why an announcement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnounceError {
    #[error("announcement is {0} bytes, more than allowed")]
    TooLarge(usize),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("announcement is not valid protobuf: {0}")]
    Malformed(String),
    #[error("announcement: {0}")]
    InstitutionId(#[from] IdError),
    #[error("announcement carries too many or too long fields")]
    Oversized,
}

/// "I am here", as signed by a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAnnouncement {
    pub institution_id: InstitutionId,
    pub sent_at: UnixTime,
    pub roster_version: u64,
    pub listen_addrs: Vec<String>,
    pub agent: String,
}

impl NodeAnnouncement {
    /// Signs with the node key; returns the encoded envelope.
    pub fn seal(&self, node: &SecretKey) -> Vec<u8> {
        let raw = proto::NodeAnnouncement {
            institution_id: self.institution_id.to_string(),
            sent_at: self.sent_at.0,
            roster_version: self.roster_version,
            listen_addrs: self.listen_addrs.clone(),
            agent: self.agent.clone(),
        };
        SignedEnvelope::seal(node, Domain::ANNOUNCE, raw.encode_to_vec()).encode()
    }

    /// Verifies the envelope and decodes; returns the signer too, which the caller must
    /// match against the gossip author and its certificate.
    pub fn open(bytes: &[u8]) -> Result<(PublicKey, NodeAnnouncement), AnnounceError> {
        let envelope = decode_envelope(bytes)?;
        let announcement = decode_payload(envelope.open(Domain::ANNOUNCE)?)?;
        Ok((envelope.signer()?, announcement))
    }

    /// Verifies that `signer` (a key the caller already holds, e.g. from the author's
    /// certificate) signed the announcement, and decodes it.
    pub fn open_from(bytes: &[u8], signer: &PublicKey) -> Result<NodeAnnouncement, AnnounceError> {
        decode_payload(decode_envelope(bytes)?.open_from(Domain::ANNOUNCE, signer)?)
    }
}

fn decode_envelope(bytes: &[u8]) -> Result<SignedEnvelope, AnnounceError> {
    if bytes.len() > MAX_GOSSIP_BYTES {
        return Err(AnnounceError::TooLarge(bytes.len()));
    }
    Ok(SignedEnvelope::decode(bytes)?)
}

fn decode_payload(payload: &[u8]) -> Result<NodeAnnouncement, AnnounceError> {
    let raw = proto::NodeAnnouncement::decode(payload)
        .map_err(|e| AnnounceError::Malformed(e.to_string()))?;
    let too_long = |s: &String| s.len() > MAX_NAME_BYTES;
    if raw.listen_addrs.len() > MAX_ANNOUNCED_ADDRS
        || raw.listen_addrs.iter().any(too_long)
        || too_long(&raw.agent)
    {
        return Err(AnnounceError::Oversized);
    }
    Ok(NodeAnnouncement {
        institution_id: InstitutionId::try_from(raw.institution_id)?,
        sent_at: UnixTime(raw.sent_at),
        roster_version: raw.roster_version,
        listen_addrs: raw.listen_addrs,
        agent: raw.agent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcement_round_trips_and_names_its_signer() {
        let key = SecretKey::generate();
        let a = NodeAnnouncement {
            institution_id: "neu".parse().unwrap(),
            sent_at: UnixTime(5),
            roster_version: 2,
            listen_addrs: vec!["/ip4/127.0.0.1/tcp/1".into()],
            agent: "alliance/0.1.0".into(),
        };
        let (signer, back) = NodeAnnouncement::open(&a.seal(&key)).unwrap();
        assert_eq!((signer, back), (key.public(), a.clone()));
        assert_eq!(
            NodeAnnouncement::open_from(&a.seal(&key), &key.public()).unwrap(),
            a
        );
        let other = SecretKey::generate().public();
        assert!(matches!(
            NodeAnnouncement::open_from(&a.seal(&key), &other),
            Err(AnnounceError::Envelope(EnvelopeError::WrongSigner { .. }))
        ));
    }

    #[test]
    fn a_certificate_envelope_is_not_an_announcement() {
        let key = SecretKey::generate();
        let other = SignedEnvelope::seal(&key, Domain::CERTIFICATE, vec![]).encode();
        assert!(matches!(
            NodeAnnouncement::open(&other),
            Err(AnnounceError::Envelope(EnvelopeError::WrongDomain { .. }))
        ));
    }
}
