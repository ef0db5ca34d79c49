//! Example values for tests and benchmarks (the `fixtures` feature): one valid value of
//! each kind that tests otherwise retype, to be adjusted with struct update syntax, e.g.
//! `UsageReceipt { test_minutes: 30, ..fixtures::receipt() }`.

// Testing support: a constant that does not parse is a bug in this file.
#![allow(clippy::unwrap_used)]

use crate::{FeeComponents, UnixTime, UserTier, receipt::UsageReceipt};

/// A valid receipt: dlut's XPS-1, used by a researcher of neu for two hours (10 + 100 +
/// 10 minutes, two samples), issued right after.
pub fn receipt() -> UsageReceipt {
    UsageReceipt {
        receipt_id: "r-1".into(),
        institution_id: "dlut".parse().unwrap(),
        local_id: "XPS-1".into(),
        booking_id: "b-1".into(),
        user_id: "neu-researcher".into(),
        user_name: "王小明".into(),
        home_institution: "neu".parse().unwrap(),
        tier: UserTier::AllianceMember,
        start: UnixTime(1_796_094_000),
        end: UnixTime(1_796_101_200),
        preparation_minutes: 10,
        test_minutes: 100,
        post_processing_minutes: 10,
        samples: 2,
        fees: FeeComponents {
            materials_fen: 1_000,
            operating_fen: 6_000,
            labour_fen: 4_000,
        },
        issued_at: UnixTime(1_796_102_000),
    }
}
