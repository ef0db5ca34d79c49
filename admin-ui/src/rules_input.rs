//! An instrument's booking rules as a manager types them on the rules page, and the checks
//! the page makes before the node does, so every problem shows next to its field in the
//! manager's language. The node checks them again when it stores them.

use alliance_protocol::{
    UnixTime, UserTier,
    booking::{Blackout, BlackoutKind, BookingRules},
    record::MAX_SHORT_TEXT,
};

use crate::{
    i18n::booking::BookingStrings,
    time,
    validate::{FieldError, Problem},
};

/// The largest time step the node accepts (one day).
const MAX_GRANULARITY_MINUTES: u32 = 24 * 60;

/// The fair-use fields: name and the range the node accepts.
pub(crate) const FAIRNESS: [(&str, std::ops::RangeInclusive<u32>); 7] = {
    use alliance_protocol::booking::rule_limits::{MAX_DAYS, MAX_HOURS, MAX_QUOTA, MAX_STRIKES};
    [
        ("horizon_days", 1..=MAX_DAYS),
        ("max_active_per_user", 1..=MAX_QUOTA),
        ("max_active_per_home", 1..=MAX_QUOTA),
        ("max_holds_per_home", 1..=MAX_QUOTA),
        ("late_cancel_hours", 0..=MAX_HOURS),
        ("strikes_before_approval", 0..=MAX_STRIKES),
        ("strike_period_days", 1..=MAX_DAYS),
    ]
};

fn fairness_of(rules: &BookingRules, field: &str) -> u32 {
    match field {
        "horizon_days" => rules.horizon_days,
        "max_active_per_user" => rules.max_active_per_user,
        "max_active_per_home" => rules.max_active_per_home,
        "max_holds_per_home" => rules.max_holds_per_home,
        "late_cancel_hours" => rules.late_cancel_hours,
        "strikes_before_approval" => rules.strikes_before_approval,
        _ => rules.strike_period_days,
    }
}

fn set_fairness(rules: &mut BookingRules, field: &str, value: u32) {
    match field {
        "horizon_days" => rules.horizon_days = value,
        "max_active_per_user" => rules.max_active_per_user = value,
        "max_active_per_home" => rules.max_active_per_home = value,
        "max_holds_per_home" => rules.max_holds_per_home = value,
        "late_cancel_hours" => rules.late_cancel_hours = value,
        "strikes_before_approval" => rules.strikes_before_approval = value,
        _ => rules.strike_period_days = value,
    }
}

/// The rules form, every field as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct RulesInput {
    pub min_lead_minutes: String,
    pub max_duration_minutes: String,
    pub granularity_minutes: String,
    pub cancel_deadline_hours: String,
    pub hold_hours: String,
    /// The fair-use numbers, by field name (see [`FAIRNESS`]).
    pub fairness: Vec<(&'static str, String)>,
    /// [`UserTier::as_str`] of the ticked tiers.
    pub approval_tiers: Vec<String>,
    /// The "open on public holidays" box: `None` when the form did not show it (the
    /// stored choice stays), else whether it was ticked.
    pub open_on_holidays: Option<bool>,
    /// [`blackout_key`]s of the existing blackouts ticked for removal.
    pub remove: Vec<String>,
    /// The "add a blackout" row: `datetime-local` values in Beijing time. A row left empty
    /// adds nothing.
    pub new_start: String,
    pub new_end: String,
    pub new_kind: String,
    pub new_reason: String,
}

/// Names a stored blackout in the form. Its span rather than its position, so a removal
/// still hits the right one if another manager changed the list meanwhile.
pub(crate) fn blackout_key(b: &Blackout) -> String {
    format!("{}_{}", b.start.0, b.end.0)
}

impl RulesInput {
    /// The form filled with stored rules; the "add" row empty.
    pub(crate) fn from_rules(rules: &BookingRules) -> Self {
        RulesInput {
            min_lead_minutes: rules.min_lead_minutes.to_string(),
            max_duration_minutes: rules.max_duration_minutes.to_string(),
            granularity_minutes: rules.granularity_minutes.to_string(),
            cancel_deadline_hours: rules.cancel_deadline_hours.to_string(),
            hold_hours: rules.hold_hours.to_string(),
            fairness: FAIRNESS
                .iter()
                .map(|(field, _)| (*field, fairness_of(rules, field).to_string()))
                .collect(),
            approval_tiers: rules
                .approval_tiers
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            open_on_holidays: Some(rules.open_on_holidays),
            remove: Vec::new(),
            new_kind: BlackoutKind::Maintenance.as_str().to_owned(),
            ..RulesInput::default()
        }
    }

    /// A fair-use field as typed (empty if the form had none).
    pub(crate) fn fair(&self, field: &str) -> &str {
        self.fairness
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The form as posted. Pairs, not a struct, because checkboxes repeat their name.
    pub(crate) fn from_form(pairs: &[(String, String)]) -> Self {
        let mut input = RulesInput::default();
        for (key, value) in pairs {
            let value = value.trim().to_owned();
            match key.as_str() {
                "min_lead_minutes" => input.min_lead_minutes = value,
                "max_duration_minutes" => input.max_duration_minutes = value,
                "granularity_minutes" => input.granularity_minutes = value,
                "cancel_deadline_hours" => input.cancel_deadline_hours = value,
                "hold_hours" => input.hold_hours = value,
                field if FAIRNESS.iter().any(|(f, _)| *f == field) => {
                    if let Some((name, _)) = FAIRNESS.iter().find(|(f, _)| *f == field) {
                        input.fairness.retain(|(f, _)| f != name);
                        input.fairness.push((name, value));
                    }
                }
                "approval_tier" => input.approval_tiers.push(value),
                // A box sends nothing when unticked: the form says it showed one.
                "holidays_shown" => {
                    input.open_on_holidays.get_or_insert(false);
                }
                "open_on_holidays" => input.open_on_holidays = Some(true),
                "remove_blackout" => input.remove.push(value),
                "blackout_start" => input.new_start = value,
                "blackout_end" => input.new_end = value,
                "blackout_kind" => input.new_kind = value,
                "blackout_reason" => input.new_reason = value,
                _ => {}
            }
        }
        input
    }

    /// The rules to store — `current` with the numbers and tiers replaced, the ticked
    /// blackouts removed and the new one added — or every problem at once.
    pub(crate) fn to_rules(
        &self,
        current: &BookingRules,
        t: &BookingStrings,
    ) -> Result<BookingRules, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |field: &str, value: &str| {
            value.parse::<u32>().unwrap_or_else(|_| {
                errors.push(other(field, t.err_whole_number));
                0
            })
        };
        let min_lead_minutes = number("min_lead_minutes", &self.min_lead_minutes);
        let max_duration_minutes = number("max_duration_minutes", &self.max_duration_minutes);
        let granularity_minutes = number("granularity_minutes", &self.granularity_minutes);
        let cancel_deadline_hours = number("cancel_deadline_hours", &self.cancel_deadline_hours);
        let hold_hours = number("hold_hours", &self.hold_hours);
        // A fair-use field left out of the form keeps its stored value.
        let mut fair = current.clone();
        let mut out_of_range = Vec::new();
        for (field, range) in FAIRNESS {
            let Some((_, typed)) = self.fairness.iter().find(|(f, _)| *f == field) else {
                continue;
            };
            let value = number(field, typed);
            set_fairness(&mut fair, field, value);
            if typed.parse::<u32>().is_ok() && !range.contains(&value) {
                out_of_range.push(other(field, t.err_fairness_range));
            }
        }
        errors.append(&mut out_of_range);
        // The node's own limits, checked here to say so in the manager's language.
        let granularity_ok = (1..=MAX_GRANULARITY_MINUTES).contains(&granularity_minutes);
        if !granularity_ok && !has(&errors, "granularity_minutes") {
            errors.push(other("granularity_minutes", t.err_granularity));
        }
        if granularity_ok
            && max_duration_minutes < granularity_minutes
            && !has(&errors, "max_duration_minutes")
        {
            errors.push(other("max_duration_minutes", t.err_max_duration));
        }
        if self
            .approval_tiers
            .iter()
            .any(|v| UserTier::parse(v).is_none())
        {
            errors.push(FieldError::new("approval_tiers", Problem::Choice));
        }
        let approval_tiers = UserTier::ALL
            .into_iter()
            .filter(|tier| self.approval_tiers.iter().any(|v| v == tier.as_str()))
            .collect();
        let mut blackouts: Vec<Blackout> = current
            .blackouts
            .iter()
            .filter(|b| !self.remove.contains(&blackout_key(b)))
            .cloned()
            .collect();
        match self.new_blackout(t) {
            // The same form sent twice adds the blackout once.
            Ok(Some(b)) if !blackouts.contains(&b) => blackouts.push(b),
            Ok(_) => {}
            Err(mut problems) => errors.append(&mut problems),
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(BookingRules {
            min_lead_minutes,
            max_duration_minutes,
            granularity_minutes,
            approval_tiers,
            cancel_deadline_hours,
            hold_hours,
            blackouts,
            open_on_holidays: self.open_on_holidays.unwrap_or(current.open_on_holidays),
            ..fair
        })
    }

    /// The blackout of the "add" row, `None` when the row was left empty.
    fn new_blackout(&self, t: &BookingStrings) -> Result<Option<Blackout>, Vec<FieldError>> {
        if self.new_start.is_empty() && self.new_end.is_empty() && self.new_reason.is_empty() {
            return Ok(None);
        }
        let mut errors = Vec::new();
        let start = time::parse_local_input(&self.new_start);
        if start.is_none() {
            errors.push(other("blackout_start", t.err_blackout_time));
        }
        let end = time::parse_local_input(&self.new_end);
        if end.is_none() {
            errors.push(other("blackout_end", t.err_blackout_time));
        }
        let kind = BlackoutKind::parse(&self.new_kind);
        if kind.is_none() {
            errors.push(FieldError::new("blackout_kind", Problem::Choice));
        }
        if self.new_reason.len() > MAX_SHORT_TEXT {
            errors.push(FieldError::new("blackout_reason", Problem::TooLong));
        }
        match (start, end, kind) {
            (Some(start), Some(end), Some(kind)) if errors.is_empty() => {
                if end <= start {
                    return Err(vec![other("blackout_end", t.err_blackout_order)]);
                }
                Ok(Some(Blackout {
                    start: UnixTime(start),
                    end: UnixTime(end),
                    kind,
                    reason: self.new_reason.clone(),
                }))
            }
            _ => Err(errors),
        }
    }
}

fn other(field: &str, message: &str) -> FieldError {
    FieldError::new(field, Problem::Other(message.to_owned()))
}

fn has(errors: &[FieldError], field: &str) -> bool {
    errors.iter().any(|e| e.field == field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::booking::ZH;

    fn current() -> BookingRules {
        BookingRules {
            min_lead_minutes: 60,
            max_duration_minutes: 480,
            granularity_minutes: 30,
            approval_tiers: vec![UserTier::Enterprise],
            cancel_deadline_hours: 24,
            hold_hours: 48,
            blackouts: vec![Blackout {
                start: UnixTime(1_922_400_000),
                end: UnixTime(1_922_428_800),
                kind: BlackoutKind::Holiday,
                reason: "元旦".into(),
            }],
            ..BookingRules::default()
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn stored_rules_come_back_unchanged() {
        let rules = current();
        let input = RulesInput::from_rules(&rules);
        assert_eq!(input.to_rules(&rules, &ZH), Ok(rules));
    }

    #[test]
    fn fair_use_numbers_are_read_checked_and_kept_when_left_out() {
        let input = RulesInput::from_form(&pairs(&[
            ("min_lead_minutes", "60"),
            ("max_duration_minutes", "480"),
            ("granularity_minutes", "30"),
            ("cancel_deadline_hours", "24"),
            ("hold_hours", "48"),
            ("horizon_days", "30"),
            ("max_active_per_user", " 2 "),
            ("strikes_before_approval", "0"),
        ]));
        let rules = input.to_rules(&current(), &ZH).unwrap();
        assert_eq!(
            (
                rules.horizon_days,
                rules.max_active_per_user,
                rules.strikes_before_approval
            ),
            (30, 2, 0)
        );
        // Not on the form: as stored.
        assert_eq!(rules.max_active_per_home, current().max_active_per_home);
        // Out of range, or not a number: named, with the ranges.
        let odd = RulesInput::from_form(&pairs(&[
            ("granularity_minutes", "30"),
            ("max_duration_minutes", "480"),
            ("horizon_days", "0"),
            ("max_holds_per_home", "many"),
            ("strike_period_days", "731"),
        ]));
        let errors = odd.to_rules(&current(), &ZH).unwrap_err();
        for field in ["horizon_days", "max_holds_per_home", "strike_period_days"] {
            assert!(has(&errors, field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn a_form_replaces_numbers_and_tiers_and_edits_blackouts() {
        let input = RulesInput::from_form(&pairs(&[
            ("min_lead_minutes", " 120 "),
            ("max_duration_minutes", "240"),
            ("granularity_minutes", "60"),
            ("cancel_deadline_hours", "12"),
            ("hold_hours", "24"),
            ("approval_tier", "outside_academic"),
            ("approval_tier", "alliance_member"),
            ("remove_blackout", "1922400000_1922428800"),
            ("blackout_start", "2030-12-02T08:00"),
            ("blackout_end", "2030-12-02T12:00"),
            ("blackout_kind", "maintenance"),
            ("blackout_reason", "更换离子源"),
        ]));
        let rules = input
            .to_rules(&current(), &ZH)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(rules.min_lead_minutes, 120);
        assert_eq!(rules.granularity_minutes, 60);
        assert_eq!(
            rules.approval_tiers,
            [UserTier::AllianceMember, UserTier::OutsideAcademic]
        );
        assert_eq!(rules.blackouts.len(), 1);
        assert_eq!(rules.blackouts[0].reason, "更换离子源");
        assert_eq!(
            rules.blackouts[0].end.0 - rules.blackouts[0].start.0,
            4 * 3600,
            "Beijing time, both ends"
        );
    }

    #[test]
    fn a_blackout_sent_twice_is_added_once() {
        let mut input = RulesInput::from_rules(&current());
        input.new_start = "2031-01-01T08:00".into();
        input.new_end = "2031-01-01T18:00".into();
        input.new_reason = "元旦".into();
        let once = input
            .to_rules(&current(), &ZH)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let twice = input
            .to_rules(&once, &ZH)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(twice.blackouts.len(), 2);
        assert_eq!(twice, once);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut input = RulesInput::from_rules(&current());
        input.min_lead_minutes = "-5".into();
        input.hold_hours = "two".into();
        input.granularity_minutes = "0".into();
        input.new_start = "2030-12-02T12:00".into();
        input.new_end = "tomorrow".into();
        let Err(errors) = input.to_rules(&current(), &ZH) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "min_lead_minutes",
                "hold_hours",
                "granularity_minutes",
                "blackout_end"
            ]
        );
    }

    #[test]
    fn limits_and_blackout_order_follow_the_node() {
        let mut input = RulesInput::from_rules(&current());
        input.max_duration_minutes = "20".into();
        input.new_start = "2030-12-02T12:00".into();
        input.new_end = "2030-12-02T12:00".into();
        let Err(errors) = input.to_rules(&current(), &ZH) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["max_duration_minutes", "blackout_end"]);
    }
}
