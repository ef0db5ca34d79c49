//! Catalogue values in the visitor's language, and money as people read it.

use alliance_protocol::{
    FeeUnit, InstrumentStatus, ServiceMode, SharingScope, UserTier, money::format_yuan,
};

use crate::{backend::ReviewState, i18n::catalogue::CatalogueStrings};

pub(crate) fn mode(t: &CatalogueStrings, mode: ServiceMode) -> &'static str {
    match mode {
        ServiceMode::SelfOperated => t.mode_self_operated,
        ServiceMode::StaffRun => t.mode_staff_run,
        ServiceMode::Unspecified => "",
    }
}

pub(crate) fn modes(t: &CatalogueStrings, modes: &[ServiceMode]) -> String {
    modes
        .iter()
        .map(|m| mode(t, *m))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(crate) fn tier(t: &CatalogueStrings, tier: UserTier) -> &'static str {
    match tier {
        UserTier::OwnInstitution => t.tier_own_institution,
        UserTier::AllianceMember => t.tier_alliance_member,
        UserTier::OutsideAcademic => t.tier_outside_academic,
        UserTier::Enterprise => t.tier_enterprise,
    }
}

pub(crate) fn tier_short(t: &CatalogueStrings, tier: UserTier) -> &'static str {
    match tier {
        UserTier::OwnInstitution => t.tier_short_own,
        UserTier::AllianceMember => t.tier_short_member,
        UserTier::OutsideAcademic => t.tier_short_academic,
        UserTier::Enterprise => t.tier_short_enterprise,
    }
}

pub(crate) fn status(t: &CatalogueStrings, status: InstrumentStatus) -> &'static str {
    match status {
        InstrumentStatus::InService => t.status_in_service,
        InstrumentStatus::UnderMaintenance => t.status_under_maintenance,
        InstrumentStatus::Retired => t.status_retired,
        InstrumentStatus::Unspecified => "",
    }
}

pub(crate) fn scope(t: &CatalogueStrings, scope: SharingScope) -> &'static str {
    match scope {
        SharingScope::OpenToSociety => t.scope_open_to_society,
        SharingScope::AllianceOnly => t.scope_alliance_only,
        SharingScope::Internal => t.scope_internal,
        SharingScope::Unspecified => "",
    }
}

pub(crate) fn unit(t: &CatalogueStrings, unit: FeeUnit) -> &'static str {
    match unit {
        FeeUnit::Hour => t.unit_hour,
        FeeUnit::Sample => t.unit_sample,
        FeeUnit::Session => t.unit_session,
        FeeUnit::Unspecified => "",
    }
}

pub(crate) fn review(t: &CatalogueStrings, state: ReviewState) -> &'static str {
    match state {
        ReviewState::Unreviewed => t.review_unreviewed,
        ReviewState::AwaitingApproval => t.review_awaiting_approval,
        ReviewState::Approved => t.review_approved,
        ReviewState::NeedsCorrection => t.review_needs_correction,
    }
}

/// The CSS modifier of a review badge.
pub(crate) fn review_class(state: ReviewState) -> &'static str {
    match state {
        ReviewState::Unreviewed => "pending",
        ReviewState::AwaitingApproval => "pending",
        ReviewState::Approved => "active",
        ReviewState::NeedsCorrection => "disabled",
    }
}

/// Groups the integer part of a decimal number in threes: `1234567.50` → `1,234,567.50`.
fn group(number: &str) -> String {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{frac}")
    }
}

/// Fen as yuan with grouping: `1,234.50`.
pub(crate) fn yuan(fen: i64) -> String {
    group(&format_yuan(fen))
}

/// Fen as 万元 (10,000 RMB) with two decimals: `1,180.00`.
pub(crate) fn wan(fen: i64) -> String {
    // 1 万元 = 1,000,000 fen; round to the nearest 0.01 万元 (100 RMB).
    let hundredths = (fen + 5_000).div_euclid(10_000);
    group(&format_yuan(hundredths))
}

/// An owner's refusal in English, by its code, for English pages (owners word their
/// reasons in Chinese, with the precise times and limits; the code says which rule).
/// `None` for a code not known here: the owner's words are shown as they are.
pub(crate) fn refusal_in_english(code: &str) -> Option<&'static str> {
    Some(match code {
        "not_in_service" => "The instrument is not in service at present.",
        "not_shared" => "The instrument is not open to users of your category.",
        "mode_not_offered" => "The instrument does not offer the chosen service mode.",
        "training_required" => "Self-operated use needs the instrument's training first.",
        "too_long" => "Longer than the longest booking the instrument allows.",
        "not_aligned" => "The start and end must fall on the instrument's slot grid.",
        "too_soon" => "Too soon: the instrument must be booked further ahead.",
        "beyond_horizon" => "Too far ahead: beyond the instrument's booking horizon.",
        "outside_opening_hours" => "Outside the instrument's opening hours.",
        "public_holiday" => "The instrument is closed on public holidays.",
        "blackout" => "The instrument is closed then (maintenance or a holiday).",
        "user_quota" => "You already hold as many bookings of this instrument as one user may.",
        "home_quota" => "Your institution already holds as many bookings as it may.",
        "home_holds" => "Your institution has as many requests waiting for approval as it may.",
        "service_item_required" => "Choose which service you need.",
        "unknown_service_item" => "The instrument does not offer that service.",
        "cancelled" => "The booking was cancelled before it was answered.",
        "conflict" => "The slot is taken.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_like_money() {
        assert_eq!(yuan(123_456_789), "1,234,567.89");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(wan(1_180_000_000), "1,180.00");
        assert_eq!(wan(29_999_999), "30.00");
        assert_eq!(wan(0), "0.00");
    }
}
