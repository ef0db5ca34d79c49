//! A training certification (R20): who may operate an instrument themselves, until when.
//! Recorded by the instrument's manager at its owner's node, which checks it when a
//! self-operated booking arrives.

use crate::{ids::InstitutionId, time::UnixTime};

/// One user's certification for one instrument.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Training {
    /// The instrument's id within its institution.
    pub local_id: String,
    /// The user's home institution.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub home: InstitutionId,
    pub user_id: String,
    pub trained_at: UnixTime,
    /// The last second the certification holds.
    pub valid_until: UnixTime,
    /// The manager who recorded it; set by the node from the signed-in account.
    #[serde(default)]
    pub recorded_by: String,
}
