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
    /// How far ahead a slot may be booked, in days (1 to 730).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 730))]
    pub horizon_days: u32,
    /// Bookings one user may hold at once (held, confirmed or in use, not yet ended).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10_000))]
    pub max_active_per_user: u32,
    /// The same for all users of one home institution together.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10_000))]
    pub max_active_per_home: u32,
    /// Requests of one home institution waiting for approval at once.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10_000))]
    pub max_holds_per_home: u32,
    /// A user's cancel this close to the start is late: allowed, but counted.
    #[cfg_attr(feature = "openapi", schema(maximum = 8760))]
    pub late_cancel_hours: u32,
    /// After this many no-shows and late cancels within `strike_period_days`, the user's
    /// requests wait for a manager's approval (0: never).
    #[cfg_attr(feature = "openapi", schema(maximum = 1000))]
    pub strikes_before_approval: u32,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 730))]
    pub strike_period_days: u32,
    /// Whether the instrument takes bookings on official public holidays (法定节假日);
    /// closed on them unless opened here.
    pub open_on_holidays: bool,
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
    /// Two years, in days: the longest booking horizon and strike period.
    pub const MAX_DAYS: u32 = 730;
    /// The largest quota.
    pub const MAX_QUOTA: u32 = 10_000;
    /// The most strikes before approval that may be asked for.
    pub const MAX_STRIKES: u32 = 1_000;
}

impl Default for BookingRules {
    /// What most shared-instrument platforms start with: book an hour ahead and at most
    /// 90 days ahead, at most a working day, on the half hour; outside users wait for
    /// approval; cancel a day ahead (within two days counts as late). Fair shares: four
    /// bookings per user and forty per home institution at a time, ten waiting for
    /// approval per home; three no-shows or late cancels in 90 days and a user's requests
    /// wait for approval.
    fn default() -> Self {
        BookingRules {
            min_lead_minutes: 60,
            max_duration_minutes: 8 * 60,
            granularity_minutes: 30,
            approval_tiers: vec![UserTier::OutsideAcademic, UserTier::Enterprise],
            cancel_deadline_hours: 24,
            hold_hours: 48,
            blackouts: Vec::new(),
            horizon_days: 90,
            max_active_per_user: 4,
            max_active_per_home: 40,
            max_holds_per_home: 10,
            late_cancel_hours: 48,
            strikes_before_approval: 3,
            strike_period_days: 90,
            open_on_holidays: false,
        }
    }
}

impl BookingRules {
    /// The earliest start a booking asked for at `now` may have (the lead time).
    pub fn earliest_start(&self, now: UnixTime) -> UnixTime {
        UnixTime(now.0 + i64::from(self.min_lead_minutes) * 60)
    }

    /// The latest start a booking asked for at `now` may have (the horizon).
    pub fn latest_start(&self, now: UnixTime) -> UnixTime {
        UnixTime(now.0.saturating_add(i64::from(self.horizon_days) * 86_400))
    }

    /// Whether a user's cancel at `now` of a booking starting at `start` is late.
    pub fn is_late_cancel(&self, start: UnixTime, now: UnixTime) -> bool {
        now.0 + i64::from(self.late_cancel_hours) * 3600 > start.0
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
