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
    pub reason: String,
}

/// One instrument's rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BookingRules {
    /// A slot must start at least this long after the request.
    pub min_lead_minutes: u32,
    pub max_duration_minutes: u32,
    /// Slots start and end on multiples of this, counted from midnight in Shanghai.
    pub granularity_minutes: u32,
    /// Tiers whose requests wait for the manager; the others are confirmed at once.
    pub approval_tiers: Vec<UserTier>,
    /// Users may cancel until this long before the start.
    pub cancel_deadline_hours: u32,
    /// How long a slot is held for a request that waits for approval.
    pub hold_hours: u32,
    pub blackouts: Vec<Blackout>,
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
