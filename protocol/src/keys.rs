//! ed25519 keys: node identities and the province root key.

use std::{fmt, str::FromStr};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// Errors for malformed keys and signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a public key is 32 bytes, got {0}")]
    PublicKeyLength(usize),
    #[error("not a valid ed25519 public key")]
    PublicKeyInvalid,
    #[error("a public key is 64 hexadecimal digits")]
    PublicKeyHex,
    #[error("a secret key is 32 bytes, got {0}")]
    SecretKeyLength(usize),
    #[error("a signature is 64 bytes, got {0}")]
    SignatureLength(usize),
    #[error("signature does not verify")]
    BadSignature,
}

/// An ed25519 public key. Displayed and parsed as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses the 32-byte compressed form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::PublicKeyLength(bytes.len()))?;
        VerifyingKey::from_bytes(&arr)
            .map(PublicKey)
            .map_err(|_| KeyError::PublicKeyInvalid)
    }

    /// The 32-byte compressed form.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Verifies `signature` over `message` (strict: rejects malleable and small-order forms).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        let sig = Signature::from_slice(signature)
            .map_err(|_| KeyError::SignatureLength(signature.len()))?;
        self.0
            .verify_strict(message, &sig)
            .map_err(|_| KeyError::BadSignature)
    }

    /// A short form for logs and UIs: the first 8 hex digits.
    pub fn short(&self) -> String {
        hex::encode(&self.to_bytes()[..4])
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(s.trim()).map_err(|_| KeyError::PublicKeyHex)?;
        PublicKey::from_bytes(&bytes)
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An ed25519 secret key. Its `Debug` never shows the key; it zeroizes on drop.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::fill(&mut seed);
        SecretKey(SigningKey::from_bytes(&seed))
    }

    /// A key from its 32-byte seed.
    pub fn from_seed(seed: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = seed
            .try_into()
            .map_err(|_| KeyError::SecretKeyLength(seed.len()))?;
        Ok(SecretKey(SigningKey::from_bytes(&arr)))
    }

    /// The 32-byte seed. Handle with care: whoever has it can sign as this key.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` (ed25519 is deterministic: same key and message, same signature).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretKey(public: {}, secret: <redacted>)",
            self.public()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_hex_round_trips() {
        let key = SecretKey::generate().public();
        let parsed: PublicKey = key.to_string().parse().unwrap();
        assert_eq!(parsed, key);
        assert_eq!(
            "zz".parse::<PublicKey>().unwrap_err(),
            KeyError::PublicKeyHex
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let key = SecretKey::from_seed(&[7u8; 32]).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains(&hex::encode([7u8; 32])));
    }

    #[test]
    fn signatures_verify_only_for_their_message() {
        let key = SecretKey::generate();
        let sig = key.sign(b"hello");
        assert!(key.public().verify(b"hello", &sig).is_ok());
        assert_eq!(
            key.public().verify(b"hellO", &sig),
            Err(KeyError::BadSignature)
        );
        assert_eq!(
            key.public().verify(b"hello", &sig[..10]),
            Err(KeyError::SignatureLength(10))
        );
    }
}
