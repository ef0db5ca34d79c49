//! An instrument's booking rules, set by its manager, and the check every request passes
//! at the owner before it may take a slot (R3, R20).
//!
//! Opening hours are not repeated here: they are the instrument's published 开放机时
//! (its catalogue record), read hour by hour in Asia/Shanghai. Everything else — lead
//! time, longest booking, slot granularity, blackouts, which tiers need a manager's
//! approval, the cancellation deadline, how long a hold lasts — is kept by the owner's
//! node and enforced there.

pub use alliance_protocol::booking::{Blackout, BlackoutKind, BookingRules};
use alliance_protocol::{
    InstrumentStatus, ServiceMode, SharingScope, UnixTime, UserTier, booking::Slot,
};
use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Asia::Shanghai;

use crate::catalogue::schedule::Week;

/// A refusal: a stable code for programs and a reason for people.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    pub code: &'static str,
    pub reason: String,
}

fn refuse(code: &'static str, reason: impl Into<String>) -> Refusal {
    Refusal {
        code,
        reason: reason.into(),
    }
}

/// What the owner knows about the instrument when a request arrives.
#[derive(Debug, Clone)]
pub struct InstrumentFacts<'a> {
    pub status: InstrumentStatus,
    pub scope: SharingScope,
    pub modes: &'a [ServiceMode],
    pub open: &'a Week,
}

/// A request as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Proposal {
    pub slot: Slot,
    pub tier: UserTier,
    pub mode: ServiceMode,
    /// Whether the user holds a valid training certification for this instrument.
    pub trained: bool,
    pub now: UnixTime,
}

fn shanghai(t: UnixTime) -> Option<DateTime<chrono_tz::Tz>> {
    DateTime::<Utc>::from_timestamp(t.0, 0).map(|t| t.with_timezone(&Shanghai))
}

/// The first public holiday (Shanghai dates) the slot touches, if any. The slot is at
/// most 31 days long by then; days beyond the official calendar's years count as
/// ordinary (the owner's holiday blackouts cover them).
fn public_holiday_within(slot: &Slot) -> Option<chrono::NaiveDate> {
    let first = shanghai(slot.start)?.date_naive();
    let last = shanghai(UnixTime(slot.end.0.saturating_sub(1)))?.date_naive();
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .find(|d| crate::official_calendar::is_public_holiday(*d).unwrap_or(false))
}

/// Shown to people: `2026-12-01 08:30` in Shanghai time.
fn local(t: UnixTime) -> String {
    shanghai(t).map_or_else(
        || t.0.to_string(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// Whether every hour the slot touches is open, in Shanghai time.
fn within_opening_hours(slot: &Slot, open: &Week) -> bool {
    let mut hour_start = slot.start.0 - slot.start.0.rem_euclid(3600);
    while hour_start < slot.end.0 {
        let Some(t) = shanghai(UnixTime(hour_start)) else {
            return false;
        };
        let day = t.weekday().num_days_from_monday() as usize;
        if !open[day][t.hour() as usize] {
            return false;
        }
        hour_start += 3600;
    }
    true
}

fn aligned(t: UnixTime, granularity_minutes: u32) -> bool {
    let step = i64::from(granularity_minutes.max(1)) * 60;
    // Shanghai has no daylight saving: local midnight is always 16:00 UTC.
    (t.0 + 8 * 3600).rem_euclid(step) == 0
}

/// The owner's enforcement of [`BookingRules`]: the data is the alliance's vocabulary
/// (`alliance_protocol::booking`), the checks need the node's calendar and clock.
pub trait RulesCheck {
    /// Checks a request against the rules and the instrument; the first rule it breaks
    /// is the answer.
    fn check(&self, facts: &InstrumentFacts<'_>, p: &Proposal) -> Result<(), Refusal>;
    /// Checks what a manager entered.
    fn validate(&self) -> Result<(), Refusal>;
}

impl RulesCheck for BookingRules {
    fn check(&self, facts: &InstrumentFacts<'_>, p: &Proposal) -> Result<(), Refusal> {
        if facts.status != InstrumentStatus::InService {
            return Err(refuse("not_in_service", "仪器当前不在服役状态，暂停预约"));
        }
        if !facts.scope.admits(p.tier) {
            return Err(refuse("not_shared", "该仪器不向此类用户开放"));
        }
        if !facts.modes.contains(&p.mode) {
            return Err(refuse("mode_not_offered", "该仪器不提供所选服务方式"));
        }
        if p.mode == ServiceMode::SelfOperated && !p.trained {
            return Err(refuse(
                "training_required",
                "自主上机须先参加该仪器的培训并取得上机资格",
            ));
        }
        let minutes = (p.slot.end.0 - p.slot.start.0) / 60;
        if minutes > i64::from(self.max_duration_minutes) {
            return Err(refuse(
                "too_long",
                format!("单次预约最长 {} 分钟", self.max_duration_minutes),
            ));
        }
        if !aligned(p.slot.start, self.granularity_minutes)
            || !aligned(p.slot.end, self.granularity_minutes)
        {
            return Err(refuse(
                "not_aligned",
                format!("预约须以 {} 分钟为单位", self.granularity_minutes),
            ));
        }
        let earliest = self.earliest_start(p.now).0;
        if p.slot.start.0 < earliest {
            return Err(refuse(
                "too_soon",
                format!(
                    "须至少提前 {} 分钟预约（最早 {}）",
                    self.min_lead_minutes,
                    local(UnixTime(earliest))
                ),
            ));
        }
        let latest = self.latest_start(p.now);
        if p.slot.start.0 > latest.0 {
            return Err(refuse(
                "beyond_horizon",
                format!(
                    "最多提前 {} 天预约（最晚 {} 开始）",
                    self.horizon_days,
                    local(latest)
                ),
            ));
        }
        if !within_opening_hours(&p.slot, facts.open) {
            return Err(refuse("outside_opening_hours", "所选时段不在开放机时内"));
        }
        if !self.open_on_holidays
            && let Some(day) = public_holiday_within(&p.slot)
        {
            return Err(refuse(
                "public_holiday",
                format!("{day} 为法定节假日，该仪器节假日不开放预约"),
            ));
        }
        if let Some(b) = self
            .blackouts
            .iter()
            .find(|b| b.start.0 < p.slot.end.0 && p.slot.start.0 < b.end.0)
        {
            let what = match b.kind {
                BlackoutKind::Maintenance => "维护",
                BlackoutKind::Holiday => "节假日",
            };
            return Err(refuse(
                "blackout",
                format!(
                    "{} {} 至 {} 停止预约：{}",
                    what,
                    local(b.start),
                    local(b.end),
                    b.reason
                ),
            ));
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), Refusal> {
        use alliance_protocol::{booking::rule_limits::*, record::MAX_SHORT_TEXT};
        if !(1..=MAX_GRANULARITY_MINUTES).contains(&self.granularity_minutes) {
            return Err(refuse("granularity_minutes", "1 to 1440 minutes"));
        }
        if self.max_duration_minutes < self.granularity_minutes {
            return Err(refuse(
                "max_duration_minutes",
                "at least one slot of the granularity",
            ));
        }
        if self.max_duration_minutes > MAX_DURATION_MINUTES {
            return Err(refuse("max_duration_minutes", "at most 31 days"));
        }
        if self.min_lead_minutes > MAX_LEAD_MINUTES {
            return Err(refuse("min_lead_minutes", "at most a year"));
        }
        for (field, hours) in [
            ("cancel_deadline_hours", self.cancel_deadline_hours),
            ("hold_hours", self.hold_hours),
        ] {
            if hours > MAX_HOURS {
                return Err(refuse(field, "at most a year (8760 hours)"));
            }
        }
        for (field, value, range) in [
            ("horizon_days", self.horizon_days, 1..=MAX_DAYS),
            (
                "max_active_per_user",
                self.max_active_per_user,
                1..=MAX_QUOTA,
            ),
            (
                "max_active_per_home",
                self.max_active_per_home,
                1..=MAX_QUOTA,
            ),
            ("max_holds_per_home", self.max_holds_per_home, 1..=MAX_QUOTA),
            ("late_cancel_hours", self.late_cancel_hours, 0..=MAX_HOURS),
            (
                "strikes_before_approval",
                self.strikes_before_approval,
                0..=MAX_STRIKES,
            ),
            ("strike_period_days", self.strike_period_days, 1..=MAX_DAYS),
        ] {
            if !range.contains(&value) {
                return Err(refuse(
                    field,
                    format!("{} to {}", range.start(), range.end()),
                ));
            }
        }
        if self.approval_tiers.len() > MAX_APPROVAL_TIERS {
            return Err(refuse("approval_tiers", "each tier at most once"));
        }
        if self.blackouts.len() > MAX_BLACKOUTS {
            return Err(refuse("blackouts", "at most 500"));
        }
        if let Some(b) = self
            .blackouts
            .iter()
            .find(|b| b.reason.len() > MAX_SHORT_TEXT)
        {
            return Err(refuse(
                "blackouts",
                format!(
                    "{}…: a reason of at most 256 bytes",
                    b.reason.chars().take(20).collect::<String>()
                ),
            ));
        }
        if let Some(b) = self
            .blackouts
            .iter()
            .find(|b| !BLACKOUT_TIMES.contains(&b.start.0) || !BLACKOUT_TIMES.contains(&b.end.0))
        {
            return Err(refuse(
                "blackouts",
                format!("{}: between 1970 and 2100", b.reason),
            ));
        }
        if let Some(b) = self.blackouts.iter().find(|b| b.end.0 <= b.start.0) {
            return Err(refuse(
                "blackouts",
                format!("{}: must end after it starts", b.reason),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
