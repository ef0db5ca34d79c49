//! Province review attestations (R2): "this version of that record is approved", or
//! "needs correction, because …". Signed by the province node; replicated like records,
//! with the province as their origin.

use prost::Message;

use crate::{
    envelope::{Domain, SignedEnvelope},
    ids::InstitutionId,
    keys::SecretKey,
    proto,
    record::{RecordError, field, known, long, short},
    time::UnixTime,
};

impl Domain {
    /// A review attestation, signed by the province node's key.
    pub const REVIEW: Domain = Domain("alliance/review/v1");
}

pub use proto::ReviewVerdict;

/// The province's verdict on one version of a record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReviewAttestation {
    /// The province's institution id (the entry's origin).
    pub province_id: InstitutionId,
    /// The province's revision counter when the review was made.
    pub revision: u64,
    pub institution_id: InstitutionId,
    pub local_id: String,
    /// The revision of the record that was reviewed.
    pub record_revision: u64,
    pub verdict: ReviewVerdict,
    pub comment: String,
    pub reviewer: String,
    pub reviewed_at: UnixTime,
}

impl ReviewAttestation {
    /// The reviewed instrument's alliance-wide id.
    pub fn instrument_id(&self) -> String {
        format!("{}/{}", self.institution_id, self.local_id)
    }

    /// Signs with the province node's key; returns the encoded envelope.
    pub fn seal(&self, province: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(
            province,
            Domain::REVIEW,
            proto::ReviewAttestation::from(self).encode_to_vec(),
        )
        .encode()
    }
}

impl From<&ReviewAttestation> for proto::ReviewAttestation {
    fn from(r: &ReviewAttestation) -> Self {
        proto::ReviewAttestation {
            revision: r.revision,
            institution_id: r.institution_id.to_string(),
            local_id: r.local_id.clone(),
            record_revision: r.record_revision,
            verdict: r.verdict as i32,
            comment: r.comment.clone(),
            reviewer: r.reviewer.clone(),
            reviewed_at: r.reviewed_at.0,
            province_id: r.province_id.to_string(),
        }
    }
}

impl TryFrom<proto::ReviewAttestation> for ReviewAttestation {
    type Error = RecordError;

    fn try_from(raw: proto::ReviewAttestation) -> Result<Self, Self::Error> {
        if raw.record_revision == 0 {
            return Err(field("record_revision", "must name a record version"));
        }
        Ok(ReviewAttestation {
            province_id: InstitutionId::try_from(raw.province_id)?,
            revision: raw.revision,
            institution_id: InstitutionId::try_from(raw.institution_id)?,
            local_id: crate::record::check_local_id(raw.local_id)?,
            record_revision: raw.record_revision,
            verdict: known(
                "verdict",
                ReviewVerdict::try_from(raw.verdict),
                ReviewVerdict::Unspecified,
            )?,
            comment: long("comment", raw.comment)?,
            reviewer: short("reviewer", raw.reviewer)?,
            reviewed_at: UnixTime(raw.reviewed_at),
        })
    }
}
