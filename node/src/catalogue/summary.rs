//! What the catalogue keeps in memory per record, and the review and visibility rules
//! that need no more than that. Full records stay in the replica and are read on demand:
//! a node holds the whole alliance's catalogue, and most of a record is long text that
//! only its own page shows.

use alliance_protocol::{InstitutionId, InstrumentRecord, ReviewAttestation, SharingScope};

/// Instruments below this original value (300,000 RMB) are not in scope by rule (R8): an
/// institution may enter them voluntarily, and they are shown to others only once the
/// province has approved them.
pub const VOLUNTARY_BELOW_FEN: i64 = 30_000_000;

/// Where a record stands with the province.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Not reviewed yet; in scope by rule, so shown.
    Unreviewed,
    /// Below the threshold and not approved yet: shown only to its institution.
    AwaitingApproval,
    Approved,
    /// The province asked for a correction of the current (or an earlier) version.
    NeedsCorrection,
}

/// The fields of a record that searching, counting and visibility use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// `institution/local_id`.
    pub id: String,
    pub institution_id: InstitutionId,
    pub revision: u64,
    pub original_value_fen: i64,
    pub sharing_scope: SharingScope,
    pub classification_code: String,
    pub city: String,
    /// The SHA-256 of its photos and their thumbnails (which copies to keep).
    pub photo_hashes: Vec<[u8; 32]>,
}

impl RecordSummary {
    pub fn of(record: &InstrumentRecord) -> RecordSummary {
        RecordSummary {
            id: record.id(),
            institution_id: record.institution_id.clone(),
            revision: record.revision,
            original_value_fen: record.original_value_fen,
            sharing_scope: record.sharing_scope,
            classification_code: record.classification_code.clone(),
            city: record.location.city.clone(),
            photo_hashes: record
                .photos
                .iter()
                .flat_map(|p| [p.sha256, p.thumb_sha256])
                .collect(),
        }
    }
}

/// The review state of a record worth `original_value_fen`, given the latest review of
/// the instrument.
pub fn review_status(original_value_fen: i64, review: Option<&ReviewAttestation>) -> ReviewStatus {
    use alliance_protocol::ReviewVerdict;
    match review.map(|r| r.verdict) {
        Some(ReviewVerdict::NeedsCorrection) => ReviewStatus::NeedsCorrection,
        Some(ReviewVerdict::Approved) => ReviewStatus::Approved,
        _ if original_value_fen < VOLUNTARY_BELOW_FEN => ReviewStatus::AwaitingApproval,
        _ => ReviewStatus::Unreviewed,
    }
}

/// Whether only the owner may see a record: internal ones, and voluntary ones the
/// province has not approved.
pub fn restricted(scope: SharingScope, original_value_fen: i64, status: ReviewStatus) -> bool {
    scope == SharingScope::Internal
        || (original_value_fen < VOLUNTARY_BELOW_FEN && status != ReviewStatus::Approved)
}
