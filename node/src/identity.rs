//! The one place that maps alliance keys to libp2p identities: a node's ed25519 key *is*
//! its libp2p identity, so a PeerId names exactly one certified node key.

use alliance_protocol::{PublicKey, SecretKey};
use libp2p::{PeerId, identity};

/// The libp2p keypair for a node's secret key.
pub fn keypair(key: &SecretKey) -> identity::Keypair {
    // A 32-byte seed is always a valid ed25519 secret, so this cannot fail; fall back to a
    // fresh key only to avoid a panic path, which would then fail the handshake loudly.
    identity::Keypair::ed25519_from_bytes(key.seed())
        .unwrap_or_else(|_| identity::Keypair::generate_ed25519())
}

/// The PeerId of a node public key.
pub fn peer_id(key: &PublicKey) -> Option<PeerId> {
    let pk = identity::ed25519::PublicKey::try_from_bytes(&key.to_bytes()).ok()?;
    Some(identity::PublicKey::from(pk).to_peer_id())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn peer_id_of_public_key_matches_keypair() {
        let key = SecretKey::generate();
        assert_eq!(
            peer_id(&key.public()).unwrap(),
            keypair(&key).public().to_peer_id()
        );
    }
}
