//! UI strings of booking — the form on an instrument page, the answer, "my bookings", the
//! managers' pages (approvals, booking rules, training certifications) and the calendar
//! feed — one struct per language (`zh.rs`, `en.rs`).

use alliance_protocol::booking::BookingState;
use alliance_protocol::booking::ManagerDecision;
mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Strings of the booking pages.
#[derive(Debug)]
pub(crate) struct BookingStrings {
    pub nav_my: &'static str,
    pub nav_manage: &'static str,
    pub nav_guide: &'static str,

    // The form on an instrument page.
    pub form_title: &'static str,
    pub form_intro: &'static str,
    pub sign_in_to_book: &'static str,
    pub sign_in_hint: &'static str,
    pub no_modes: &'static str,
    pub f_person: &'static str,
    pub person_choose: &'static str,
    pub person_not_listed: &'static str,
    pub training_first: &'static str,
    pub untrained_hint: &'static str,
    pub retired: &'static str,
    pub f_start: &'static str,
    pub start_hint: &'static str,
    pub f_minutes: &'static str,
    pub f_mode: &'static str,
    pub f_samples: &'static str,
    pub f_purpose: &'static str,
    pub f_service_item: &'static str,
    pub purpose_hint: &'static str,
    pub submit: &'static str,
    pub submitting: &'static str,
    pub pick_hour: &'static str,
    pub cal_slot: &'static str,
    pub cal_longest: &'static str,
    pub cal_lead: &'static str,
    pub cal_no_lead: &'static str,
    pub cal_horizon: &'static str,
    pub pick_span: &'static str,
    pub picked_span: &'static str,
    pub span_too_long: &'static str,
    /// Units of a length: `1 小时 30 分钟`, `1 h 30 min`.
    pub unit_days: &'static str,
    pub unit_hours: &'static str,
    pub unit_minutes: &'static str,

    // The answer.
    pub result_title: &'static str,
    pub confirmed: &'static str,
    pub held: &'static str,
    pub held_until: &'static str,
    pub requested: &'static str,
    pub rejected: &'static str,
    pub reason: &'static str,
    pub conflict: &'static str,
    pub conflict_none: &'static str,
    pub alternatives_title: &'static str,
    pub book_this: &'static str,
    pub unreachable: &'static str,
    pub refused: &'static str,
    pub quote_title: &'static str,
    pub quote_tier: &'static str,
    pub quote_note: &'static str,
    pub col_item: &'static str,
    pub col_quantity: &'static str,
    pub col_total: &'static str,
    pub total: &'static str,
    pub to_my_bookings: &'static str,
    pub back_to_instrument: &'static str,
    pub booking_id: &'static str,

    // My bookings.
    pub my_title: &'static str,
    pub my_intro: &'static str,
    pub my_empty: &'static str,
    pub col_instrument: &'static str,
    pub col_time: &'static str,
    pub col_status: &'static str,
    pub col_quote: &'static str,
    pub col_note: &'static str,
    pub quote_pending: &'static str,
    pub cancel: &'static str,
    pub cancel_reason: &'static str,
    pub cancel_confirm: &'static str,
    pub cancelled: &'static str,
    pub feed_title: &'static str,
    pub feed_hint: &'static str,
    pub inbox_title: &'static str,
    pub inbox_empty: &'static str,
    pub status_requested: &'static str,
    pub status_held: &'static str,
    pub status_confirmed: &'static str,
    pub status_rejected: &'static str,
    pub status_cancelled: &'static str,
    pub status_no_show: &'static str,
    pub status_in_use: &'static str,
    pub status_completed: &'static str,

    // The managers' page.
    pub manage_title: &'static str,
    pub manage_intro: &'static str,
    pub manage_held: &'static str,
    pub manage_active: &'static str,
    pub manage_closed: &'static str,
    /// The day filter of a list of bookings: their use starts from … to … (inclusive).
    pub starts_from: &'static str,
    pub starts_to: &'static str,
    pub filter_show: &'static str,
    /// A link that clears the day filter.
    pub filter_clear: &'static str,
    pub manage_empty: &'static str,
    pub f_user: &'static str,
    pub f_home: &'static str,
    pub f_tier: &'static str,
    pub history: &'static str,
    pub note_label: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
    pub start: &'static str,
    pub no_show: &'static str,
    pub complete: &'static str,
    pub cancel_by_owner: &'static str,
    pub decided: &'static str,

    // An instrument's booking rules.
    pub rules_title: &'static str,
    pub rules_intro: &'static str,
    /// The link to the rules page beside an instrument.
    pub rules_link: &'static str,
    pub rules_limits: &'static str,
    pub f_min_lead: &'static str,
    pub f_max_duration: &'static str,
    pub f_granularity: &'static str,
    pub granularity_hint: &'static str,
    pub f_cancel_deadline: &'static str,
    pub f_hold_hours: &'static str,
    /// The fair-use fieldset of the rules form.
    pub rules_fairness: &'static str,
    pub fairness_hint: &'static str,
    pub f_horizon_days: &'static str,
    pub f_max_active_per_user: &'static str,
    pub f_max_active_per_home: &'static str,
    pub f_max_holds_per_home: &'static str,
    pub f_late_cancel_hours: &'static str,
    pub f_strikes_before_approval: &'static str,
    pub f_strike_period_days: &'static str,
    pub rules_approval: &'static str,
    pub approval_hint: &'static str,
    pub rules_blackouts: &'static str,
    pub rules_holidays: &'static str,
    pub f_open_on_holidays: &'static str,
    pub holidays_hint: &'static str,
    pub blackouts_empty: &'static str,
    pub f_kind: &'static str,
    pub kind_maintenance: &'static str,
    pub kind_holiday: &'static str,
    pub remove: &'static str,
    pub blackout_add: &'static str,
    pub blackout_add_hint: &'static str,
    pub f_end: &'static str,
    pub rules_save: &'static str,
    pub rules_saved: &'static str,

    // Training certifications.
    pub trainings_title: &'static str,
    pub trainings_intro: &'static str,
    pub trainings_empty: &'static str,
    pub f_user_home: &'static str,
    pub home_hint: &'static str,
    pub f_user_id: &'static str,
    pub user_id_hint: &'static str,
    pub f_trained_on: &'static str,
    pub f_valid_until: &'static str,
    pub valid_until_hint: &'static str,
    pub f_recorded_by: &'static str,
    pub training_add: &'static str,
    pub training_submit: &'static str,
    pub training_recorded: &'static str,

    // Problems.
    pub err_start: &'static str,
    pub err_minutes: &'static str,
    pub err_note_required: &'static str,
    pub err_too_late: &'static str,
    pub err_whole_number: &'static str,
    pub err_granularity: &'static str,
    /// A fair-use number out of its range.
    pub err_fairness_range: &'static str,
    pub err_max_duration: &'static str,
    pub err_blackout_time: &'static str,
    pub err_blackout_order: &'static str,
    pub err_home: &'static str,
    pub err_valid_until: &'static str,
}

impl BookingStrings {
    /// The name of a booking's status.
    pub(crate) fn status(&self, status: BookingState) -> &'static str {
        match status {
            BookingState::Requested => self.status_requested,
            BookingState::Held => self.status_held,
            BookingState::Confirmed => self.status_confirmed,
            BookingState::Rejected => self.status_rejected,
            BookingState::Cancelled => self.status_cancelled,
            BookingState::NoShow => self.status_no_show,
            BookingState::InUse => self.status_in_use,
            BookingState::Completed => self.status_completed,
        }
    }

    /// The button of a manager's decision.
    pub(crate) fn decision(&self, decision: ManagerDecision) -> &'static str {
        match decision {
            ManagerDecision::Approve => self.approve,
            ManagerDecision::Reject => self.reject,
            ManagerDecision::CancelByOwner => self.cancel_by_owner,
            ManagerDecision::Start => self.start,
            ManagerDecision::NoShow => self.no_show,
            ManagerDecision::Complete => self.complete,
        }
    }

    /// The name of a blackout's kind (`maintenance`, `holiday`); an unknown kind as is.
    pub(crate) fn blackout_kind<'a>(&self, kind: &'a str) -> &'a str {
        match kind {
            "maintenance" => self.kind_maintenance,
            "holiday" => self.kind_holiday,
            other => other,
        }
    }

    /// A length of time: `1 小时 30 分钟`, `2 h`, `30 min`.
    pub(crate) fn length(&self, minutes: u32) -> String {
        const DAY: u32 = 24 * 60;
        if minutes >= DAY && minutes.is_multiple_of(DAY) {
            return format!("{} {}", minutes / DAY, self.unit_days);
        }
        let (h, m) = (minutes / 60, minutes % 60);
        match (h, m) {
            (0, m) => format!("{m} {}", self.unit_minutes),
            (h, 0) => format!("{h} {}", self.unit_hours),
            (h, m) => format!("{h} {} {m} {}", self.unit_hours, self.unit_minutes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_naturally() {
        assert_eq!(ZH.length(90), "1 小时 30 分钟");
        assert_eq!(EN.length(120), "2 h");
        assert_eq!(EN.length(30), "30 min");
        assert_eq!(ZH.length(3 * 24 * 60), "3 天");
        assert_eq!(EN.length(25 * 60), "25 h");
    }
}
