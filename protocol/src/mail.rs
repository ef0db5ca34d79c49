//! Node-to-node mail: every message one member's node sends another (or the province)
//! outside catalogue sync and the receipt log travels as `/alliance/rpc/1` `mail`
//! ([`crate::rpc::Request::Mail`]): one encoded [`SignedEnvelope`], answered by
//! [`crate::rpc::Response::Mail`] (the recipient's signed answer, or empty for "received
//! and kept") or an error.
//!
//! The kind of a message is its envelope's signing domain. This crate does not list the
//! kinds: each is defined beside the message it carries (booking requests, cancels,
//! updates and status queries in [`crate::booking`]; receipts and confirmations in
//! [`crate::receipt`]; [`crate::publication`]; [`crate::stats`]), and a node hands a
//! message to whichever of its parts owns that domain.

use crate::envelope::{EnvelopeError, SignedEnvelope};

/// The kind (signing domain) of an encoded mail message; nothing is verified.
pub fn kind_of(bytes: &[u8]) -> Result<String, EnvelopeError> {
    Ok(SignedEnvelope::decode(bytes)?.domain().to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Domain, SecretKey};

    #[test]
    fn the_kind_is_the_signing_domain_and_garbage_is_an_error() {
        let key = SecretKey::generate();
        let sealed = SignedEnvelope::seal(&key, Domain::PUBLICATION, b"body".to_vec()).encode();
        assert_eq!(kind_of(&sealed).unwrap(), Domain::PUBLICATION.0);
        assert!(kind_of(b"\xff\xff not an envelope").is_err());
    }
}
