//! What actually happened in a use, as the instrument's manager records it: the facts a
//! usage receipt is issued from. The web layer reads them from forms (once); the owner's
//! node checks them again before it signs anything.

use crate::{
    ids::InstitutionId,
    record::{ServiceMode, UserTier},
    time::UnixTime,
};

/// The facts of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub start: UnixTime,
    pub end: UnixTime,
    /// 准备 / preparation.
    pub preparation_minutes: u32,
    /// 测试 / test.
    pub test_minutes: u32,
    /// 后处理 / post-processing.
    pub post_processing_minutes: u32,
    pub samples: u32,
    pub note: String,
}

/// A session without a booking (walk-in, or the institution's own use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkIn {
    /// One of the owner institution's instruments.
    pub local_id: String,
    pub user_id: String,
    pub user_name: String,
    /// The user's home institution (the owner's own for internal use).
    pub home: InstitutionId,
    pub tier: UserTier,
    pub mode: ServiceMode,
    /// The service item used (a fee item's Chinese name); empty where the instrument has
    /// one for the mode. The receipt charges that item only.
    pub service_item: String,
    pub facts: SessionFacts,
}
