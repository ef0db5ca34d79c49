//! argon2id password hashing on the blocking pool.

use alliance_admin_ui::backend::AccountError;
use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

/// Hashes a password (PHC string format, argon2id, default parameters).
pub async fn hash(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AccountError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| AccountError::Internal(e.to_string()))?
}

/// Whether `password` matches `hash`. A malformed hash never matches.
pub async fn verify(password: String, hash: String) -> Result<bool, AccountError> {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|e| AccountError::Internal(e.to_string()))
}

/// A valid hash of a random password, to spend the same time on unknown usernames.
pub fn dummy_hash() -> String {
    // Parameters match the real hashes so the verification cost is the same.
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2mr0D0AHkSPPZGjPuT5x0wvVN/SLXsR1DsAyJaJJrrA".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // If it did not parse, unknown usernames would be answered without the argon2 work
        // and timing would tell which usernames exist.
        let dummy = dummy_hash();
        let parsed = PasswordHash::new(&dummy).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(parsed.hash.is_some());
    }
}
