//! An instrument's booking rules (R3, R20), as its managers set them, its owner's node
//! keeps and enforces them, and pages and the API show them. Opening hours are not here:
//! they are the instrument's published 开放机时 (its catalogue record).

use crate::{record::UserTier, time::UnixTime};

/// Why a blackout closes the instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BlackoutKind {
    Maintenance,
    Holiday,
}

impl BlackoutKind {
    /// Every kind, in the order forms list them.
    pub const ALL: [BlackoutKind; 2] = [BlackoutKind::Maintenance, BlackoutKind::Holiday];

    /// The kind as JSON and forms write it.
    pub fn as_str(self) -> &'static str {
        match self {
            BlackoutKind::Maintenance => "maintenance",
            BlackoutKind::Holiday => "holiday",
        }
    }

    /// The kind [`BlackoutKind::as_str`] wrote.
    pub fn parse(s: &str) -> Option<BlackoutKind> {
        BlackoutKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A span in which the instrument cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Blackout {
    pub start: UnixTime,
    pub end: UnixTime,
    pub kind: BlackoutKind,
    /// At most 256 bytes.
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub reason: String,
}

/// One instrument's rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BookingRules {
    /// A slot must start at least this long after the request (at most a year).
    #[cfg_attr(feature = "openapi", schema(maximum = 525_600))]
    pub min_lead_minutes: u32,
    /// At most 31 days, the longest booking a request may ask for.
    #[cfg_attr(feature = "openapi", schema(maximum = 44_640))]
    pub max_duration_minutes: u32,
    /// Slots start and end on multiples of this, counted from midnight in Shanghai
    /// (1 minute to a day).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1440))]
    pub granularity_minutes: u32,
    /// Tiers whose requests wait for the manager; the others are confirmed at once.
    #[cfg_attr(feature = "openapi", schema(max_items = 4))]
    pub approval_tiers: Vec<UserTier>,
    /// Users may cancel until this long before the start (at most a year).
    #[cfg_attr(feature = "openapi", schema(maximum = 8760))]
    pub cancel_deadline_hours: u32,
    /// How long a slot is held for a request that waits for approval (at most a year).
    #[cfg_attr(feature = "openapi", schema(maximum = 8760))]
    pub hold_hours: u32,
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub blackouts: Vec<Blackout>,
}

/// Bounds a manager's rules must keep (the API's schema states the same).
pub mod rule_limits {
    /// A year, in minutes.
    pub const MAX_LEAD_MINUTES: u32 = 525_600;
    /// 31 days, in minutes.
    pub const MAX_DURATION_MINUTES: u32 = 44_640;
    /// A day, in minutes.
    pub const MAX_GRANULARITY_MINUTES: u32 = 1440;
    /// A year, in hours.
    pub const MAX_HOURS: u32 = 8760;
    /// Every tier once.
    pub const MAX_APPROVAL_TIERS: usize = 4;
    /// Blackouts one instrument may have.
    pub const MAX_BLACKOUTS: usize = 500;
    /// Blackouts lie between 1970 and 2100 (Unix seconds).
    pub const BLACKOUT_TIMES: std::ops::RangeInclusive<i64> = 0..=4_102_444_800;
}

impl Default for BookingRules {
    /// What most shared-instrument platforms start with: book an hour ahead, at most a
    /// working day, on the half hour; outside users wait for approval; cancel a day ahead.
    fn default() -> Self {
        BookingRules {
            min_lead_minutes: 60,
            max_duration_minutes: 8 * 60,
            granularity_minutes: 30,
            approval_tiers: vec![UserTier::OutsideAcademic, UserTier::Enterprise],
            cancel_deadline_hours: 24,
            hold_hours: 48,
            blackouts: Vec::new(),
        }
    }
}

impl BookingRules {
    /// The earliest start a booking asked for at `now` may have (the lead time).
    pub fn earliest_start(&self, now: UnixTime) -> UnixTime {
        UnixTime(now.0 + i64::from(self.min_lead_minutes) * 60)
    }

    /// Whether a request of `tier` waits for the manager.
    pub fn needs_approval(&self, tier: UserTier) -> bool {
        self.approval_tiers.contains(&tier)
    }

    /// Whether a booking starting at `start` may still be cancelled by its user at `now`.
    pub fn may_cancel(&self, start: UnixTime, now: UnixTime) -> bool {
        now.0 + i64::from(self.cancel_deadline_hours) * 3600 <= start.0
    }

    /// When a hold made at `now` lapses.
    pub fn hold_until(&self, now: UnixTime) -> UnixTime {
        UnixTime(now.0 + i64::from(self.hold_hours.max(1)) * 3600)
    }
}
