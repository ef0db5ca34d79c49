//! The province's signed statement of a period's results (R14–R16).
//!
//! A statement binds the published figures to everything they were computed from: the
//! first `log_size` entries of the receipt log (by their Merkle root), the evidence the
//! province holds besides receipts (by a digest over its items, each the exact bytes
//! served), and the evaluation rules in force. Anyone holding the province's root key can
//! check the signature, fetch the log entries and the evidence, recompute the figures and
//! compare them with [`StatedFigures`], whose exact bytes the statement names by digest.
//!
//! A *published* statement is frozen: later evidence for the period shows as a list of
//! corrections beside it, never as a silent change. A provisional statement is signed on
//! demand for a period not yet published, so that the current figures can be checked too.

use sha2::{Digest, Sha256};

use crate::{
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    keys::{PublicKey, SecretKey},
    results::ResultRow,
    time::UnixTime,
    transparency::hex_root,
};

impl Domain {
    /// The province's statement of a period's results, signed by its root key.
    pub const RESULTS_STATEMENT: Domain = Domain("alliance/results-statement/v1");
}

/// Why a statement was refused.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("statement is not valid JSON: {0}")]
    Malformed(String),
}

/// What the province signs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResultsStatement {
    /// `2026` or `2026-Q3`.
    pub period: String,
    /// Unix seconds, `[from, to)`.
    pub from: UnixTime,
    pub to: UnixTime,
    /// The day reporting compliance was judged on, `YYYY-MM-DD` (Asia/Shanghai).
    pub judged_on: String,
    pub issued_at: UnixTime,
    /// Frozen by publication (`true`), or provisional.
    pub published: bool,
    /// The log entries counted: the first `log_size`, whose Merkle root is `log_root`.
    pub log_size: u64,
    #[serde(with = "hex_root")]
    pub log_root: [u8; 32],
    /// How many evidence items there are, and [`EvidenceDigest`] over them in order.
    pub evidence_items: u64,
    #[serde(with = "hex_root")]
    pub evidence_digest: [u8; 32],
    /// SHA-256 of the exact bytes of the [`StatedFigures`] document.
    #[serde(with = "hex_root")]
    pub figures_digest: [u8; 32],
    /// The evaluation rules in force (`configs/evaluation.toml`, as JSON).
    pub evaluation: serde_json::Value,
}

/// The figures a statement states: one row per institution and instrument, and the
/// sanctions list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatedFigures {
    pub rows: Vec<ResultRow>,
    pub sanctions: Vec<StatedSanction>,
}

/// An institution named for sanctions, with its reasons (Chinese).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatedSanction {
    pub institution: String,
    pub reasons: Vec<String>,
}

impl ResultsStatement {
    /// Signs with the province's root key; returns the encoded envelope.
    pub fn seal(&self, province: &SecretKey) -> Vec<u8> {
        // A struct of plain fields and a JSON value: serialising it cannot fail.
        let payload = serde_json::to_vec(self).unwrap_or_default();
        SignedEnvelope::seal(province, Domain::RESULTS_STATEMENT, payload).encode()
    }

    /// Reads a statement signed by `province`.
    pub fn open(bytes: &[u8], province: &PublicKey) -> Result<ResultsStatement, StatementError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = envelope.open_from(Domain::RESULTS_STATEMENT, province)?;
        serde_json::from_slice(payload).map_err(|e| StatementError::Malformed(e.to_string()))
    }
}

/// SHA-256 of a figures document's exact bytes.
pub fn figures_digest(document: &[u8]) -> [u8; 32] {
    Sha256::digest(document).into()
}

/// The digest of a list of evidence items, fed one at a time: SHA-256 over the SHA-256 of
/// each item's exact bytes, so a verifier can check a list it reads page by page without
/// holding it whole.
#[derive(Debug, Clone, Default)]
pub struct EvidenceDigest {
    hasher: Sha256,
    items: u64,
}

impl EvidenceDigest {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, item: &[u8]) {
        self.hasher.update(Sha256::digest(item));
        self.items += 1;
    }

    /// How many items were fed, and their digest.
    pub fn finish(self) -> (u64, [u8; 32]) {
        (self.items, self.hasher.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement() -> ResultsStatement {
        ResultsStatement {
            period: "2026-Q3".into(),
            from: UnixTime(1_782_835_200),
            to: UnixTime(1_790_784_000),
            judged_on: "2026-10-08".into(),
            issued_at: UnixTime(1_791_400_000),
            published: true,
            log_size: 12,
            log_root: [7; 32],
            evidence_items: 3,
            evidence_digest: [8; 32],
            figures_digest: [9; 32],
            evaluation: serde_json::json!({"grades": {"excellent": 85.0}}),
        }
    }

    #[test]
    fn a_statement_opens_with_the_province_key_only() {
        let province = SecretKey::generate();
        let sealed = statement().seal(&province);
        assert_eq!(
            ResultsStatement::open(&sealed, &province.public()).unwrap(),
            statement()
        );
        let other = SecretKey::generate();
        assert!(ResultsStatement::open(&sealed, &other.public()).is_err());
        let forged = statement().seal(&other);
        assert!(ResultsStatement::open(&forged, &province.public()).is_err());
    }

    #[test]
    fn the_evidence_digest_depends_on_every_item_and_their_order() {
        let digest = |items: &[&[u8]]| {
            let mut d = EvidenceDigest::new();
            for item in items {
                d.push(item);
            }
            d.finish()
        };
        let base = digest(&[b"a", b"b"]);
        assert_eq!(base.0, 2);
        assert_eq!(base, digest(&[b"a", b"b"]));
        assert_ne!(base, digest(&[b"b", b"a"]));
        assert_ne!(base, digest(&[b"a", b"c"]));
        // Item boundaries count: "ab" is not "a" then "b".
        assert_ne!(base.1, digest(&[b"ab"]).1);
    }
}
