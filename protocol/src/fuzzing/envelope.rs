//! The signed envelope every signed message travels in: decoding, opening under each
//! domain, and the signature's coverage.
//!
//! Input: the bytes of an envelope as a peer sends them. The same bytes are also sealed as
//! a payload, and the sealed envelope is tampered with by appending a second `payload`
//! (or `domain`) field, which protobuf lets override the first: that must never open.
//!
//! Properties:
//! - decoding never panics; what decodes re-encodes to bytes that decode to the same
//!   envelope;
//! - an envelope opens under at most its own domain, and `open` and `open_from` its signer
//!   agree;
//! - a sealed payload opens to itself; a replaced payload or domain does not open.

use std::sync::LazyLock;

use crate::{
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    keys::SecretKey,
    limits::MAX_ENVELOPE_BYTES,
};

const DOMAINS: [Domain; 17] = [
    Domain::ANNOUNCE,
    Domain::STATUS_HEARTBEAT,
    Domain::SERVICE_STATISTICS,
    Domain::BOOKING_CANCEL,
    Domain::BOOKING_UPDATE,
    Domain::BOOKING_STATUS,
    Domain::INSTRUMENT,
    Domain::PUBLICATION,
    Domain::RECEIPT,
    Domain::RECEIPT_CONFIRMATION,
    Domain::TREE_HEAD,
    Domain::BOOKING,
    Domain::AVAILABILITY,
    Domain::REVIEW,
    Domain::CERTIFICATE,
    Domain::ROSTER,
    Domain::TRAINING,
];

static KEY: LazyLock<SecretKey> =
    LazyLock::new(|| SecretKey::from_seed(&[0x5e; 32]).expect("a 32-byte seed is a key"));

/// A protobuf length-delimited field.
fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![number << 3 | 2];
    let mut len = bytes.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(bytes);
    out
}

/// One input, as the fuzz target gets it: panics where a property fails.
pub fn test_one_input(data: &[u8]) {
    // As received.
    if let Ok(envelope) = SignedEnvelope::decode(data) {
        let again = SignedEnvelope::decode(&envelope.encode());
        assert_eq!(
            again.as_ref(),
            Ok(&envelope),
            "re-encoding changed the envelope"
        );
        let mut opened = 0;
        for domain in DOMAINS {
            match envelope.open(domain) {
                Ok(payload) => {
                    opened += 1;
                    assert_eq!(envelope.domain(), domain.0);
                    let signer = envelope.signer().expect("an opened envelope has a signer");
                    assert_eq!(envelope.open_from(domain, &signer), Ok(payload));
                }
                Err(EnvelopeError::WrongDomain { .. }) => {
                    assert_ne!(envelope.domain(), domain.0)
                }
                Err(_) => {}
            }
        }
        assert!(opened <= 1, "an envelope opened under two domains");
    }

    // As a payload: sealed, it opens; tampered, it does not.
    if data.len() > MAX_ENVELOPE_BYTES / 2 {
        return;
    }
    let domain = DOMAINS[usize::from(data.first().copied().unwrap_or(0)) % DOMAINS.len()];
    let sealed = SignedEnvelope::seal(&KEY, domain, data.to_vec()).encode();
    let envelope = SignedEnvelope::decode(&sealed).expect("a sealed envelope decodes");
    assert_eq!(envelope.open(domain), Ok(data));
    assert_eq!(envelope.open_from(domain, &KEY.public()), Ok(data));

    let mut other_payload = sealed.clone();
    let mut changed = data.to_vec();
    changed.push(0);
    other_payload.extend(field(2, &changed));
    let tampered = SignedEnvelope::decode(&other_payload).expect("still an envelope");
    assert_eq!(tampered.payload_unverified(), changed.as_slice());
    assert!(matches!(
        tampered.open(domain),
        Err(EnvelopeError::Signature(_))
    ));

    let other = DOMAINS[(usize::from(data.first().copied().unwrap_or(0)) + 1) % DOMAINS.len()];
    let mut other_domain = sealed;
    other_domain.extend(field(1, other.0.as_bytes()));
    let tampered = SignedEnvelope::decode(&other_domain).expect("still an envelope");
    assert!(matches!(
        tampered.open(domain),
        Err(EnvelopeError::WrongDomain { .. })
    ));
    assert!(matches!(
        tampered.open(other),
        Err(EnvelopeError::Signature(_))
    ));
}
