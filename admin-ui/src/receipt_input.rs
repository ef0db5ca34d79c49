//! What a manager types about a use — the facts of a session, a session without a
//! booking — and what a user answers to a receipt, with the checks the web layer makes
//! before the node signs anything, so a form can show every problem next to its field.
//! The pages and the JSON API share them; the node checks again what it signs.

use alliance_protocol::{
    InstitutionId, ServiceMode, UnixTime, UserTier,
    booking::MAX_SAMPLES,
    receipt::{SessionFacts, WalkIn},
    record::MAX_SHORT_TEXT,
};
use serde::{Deserialize, Serialize};

use crate::{
    backend::ManagedBooking,
    i18n::Strings,
    instrument_input::snake,
    time,
    validate::{FieldError, Problem},
};

/// Most minutes one part of a session (preparation, test, post-processing) may state:
/// 31 days, the longest use a receipt may describe.
pub(crate) const MAX_PART_MINUTES: u32 = 44_640;
/// Longest note of a session or comment of a confirmation, in bytes.
pub(crate) const MAX_NOTE_BYTES: usize = MAX_SHORT_TEXT;

/// The facts fields every form shows an error beside.
pub(crate) const FACTS_FIELDS: [&str; 7] = [
    "start",
    "end",
    "preparation_minutes",
    "test_minutes",
    "post_processing_minutes",
    "samples",
    "note",
];

/// What actually happened in a session, as typed by its manager. Times are
/// `YYYY-MM-DDTHH:MM` in Asia/Shanghai.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub(crate) struct SessionFactsForm {
    pub start: String,
    pub end: String,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct WalkInForm {
    /// One of this institution's instruments.
    pub local_id: String,
    pub user_id: String,
    pub user_name: String,
    /// The user's home institution id (this institution's own for internal use).
    pub home: String,
    pub tier: UserTier,
    pub mode: ServiceMode,
    /// The service item used (a fee item's Chinese name); needed where the instrument has
    /// several for the mode.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub service_item: String,
    pub facts: SessionFactsForm,
}

/// The facts of a session as a page form types them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct FactsInput {
    /// `YYYY-MM-DDTHH:MM`, Beijing time.
    pub start: String,
    pub end: String,
    pub preparation_minutes: String,
    pub test_minutes: String,
    pub post_processing_minutes: String,
    pub samples: String,
    pub note: String,
}

impl FactsInput {
    /// The facts a booking suggests: its booked times, its whole length as test time, no
    /// preparation or post-processing, its samples.
    pub(crate) fn from_booking(b: &ManagedBooking) -> Self {
        FactsInput {
            start: time::local_input(b.start),
            end: time::local_input(b.end),
            preparation_minutes: "0".to_owned(),
            test_minutes: ((b.end - b.start).max(0) / 60).to_string(),
            post_processing_minutes: "0".to_owned(),
            samples: b.samples.to_string(),
            note: String::new(),
        }
    }

    /// An empty form for a session without a booking.
    pub(crate) fn blank() -> Self {
        FactsInput {
            preparation_minutes: "0".to_owned(),
            post_processing_minutes: "0".to_owned(),
            samples: "0".to_owned(),
            ..FactsInput::default()
        }
    }

    /// The facts for the backend, or every problem at once.
    pub(crate) fn to_facts(&self, t: &Strings) -> Result<SessionFacts, Vec<FieldError>> {
        let (form, errors) = self.to_form(t);
        along(errors, parse_facts(&form, t))
    }

    /// The facts as the JSON API takes them, and the problems of fields that are not
    /// numbers.
    fn to_form(&self, t: &Strings) -> (SessionFactsForm, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut number = |name: &str, value: &str, message: &str| match value.trim() {
            "" => 0,
            text => text.parse::<u32>().unwrap_or_else(|_| {
                errors.push(FieldError::new(name, Problem::Other(message.to_owned())));
                0
            }),
        };
        let minutes = t.receipts.err_minutes;
        let form = SessionFactsForm {
            start: self.start.trim().to_owned(),
            end: self.end.trim().to_owned(),
            preparation_minutes: number("preparation_minutes", &self.preparation_minutes, minutes),
            test_minutes: number("test_minutes", &self.test_minutes, minutes),
            post_processing_minutes: number(
                "post_processing_minutes",
                &self.post_processing_minutes,
                minutes,
            ),
            samples: number("samples", &self.samples, t.receipts.err_samples),
            note: self.note.trim().to_owned(),
        };
        (form, errors)
    }
}

/// `parsed` if nothing went wrong before it; else every problem, one per field (the
/// earlier ones win).
fn along<T>(
    mut errors: Vec<FieldError>,
    parsed: Result<T, Vec<FieldError>>,
) -> Result<T, Vec<FieldError>> {
    match parsed {
        Ok(value) if errors.is_empty() => return Ok(value),
        Ok(_) => {}
        Err(problems) => {
            for problem in problems {
                if !errors.iter().any(|e| e.field == problem.field) {
                    errors.push(problem);
                }
            }
        }
    }
    Err(errors)
}

/// The facts of a session however they came (spaces around what was typed are dropped),
/// read once: every problem, or the typed facts.
pub(crate) fn parse_facts(
    form: &SessionFactsForm,
    t: &Strings,
) -> Result<SessionFacts, Vec<FieldError>> {
    let start = time::parse_local_input(form.start.trim());
    let end = time::parse_local_input(form.end.trim());
    let note = form.note.trim();
    let errors = check_facts(form, (start, end), note, t);
    match (start, end) {
        (Some(start), Some(end)) if errors.is_empty() => Ok(SessionFacts {
            start: UnixTime(start),
            end: UnixTime(end),
            preparation_minutes: form.preparation_minutes,
            test_minutes: form.test_minutes,
            post_processing_minutes: form.post_processing_minutes,
            samples: form.samples,
            note: note.to_owned(),
        }),
        _ => Err(errors),
    }
}

/// Every problem of the facts of a session, given its times as read and its note trimmed.
fn check_facts(
    facts: &SessionFactsForm,
    (start, end): (Option<i64>, Option<i64>),
    note: &str,
    t: &Strings,
) -> Vec<FieldError> {
    let other = |name: &str, message: &str| FieldError::new(name, Problem::Other(message.into()));
    let mut errors = Vec::new();
    if start.is_none() {
        errors.push(FieldError::new("start", Problem::DateTime));
    }
    match (start, end) {
        (_, None) => errors.push(other("end", t.receipts.err_end)),
        (Some(start), Some(end)) if end <= start => {
            errors.push(other("end", t.receipts.err_end_order));
        }
        _ => {}
    }
    let parts = [
        ("preparation_minutes", facts.preparation_minutes),
        ("test_minutes", facts.test_minutes),
        ("post_processing_minutes", facts.post_processing_minutes),
    ];
    let mut too_long = false;
    for (name, minutes) in parts {
        if minutes > MAX_PART_MINUTES {
            errors.push(other(name, t.receipts.err_minutes));
            too_long = true;
        }
    }
    if !too_long && parts.iter().all(|(_, minutes)| *minutes == 0) {
        errors.push(other("test_minutes", t.receipts.err_minutes_zero));
    }
    if facts.samples > MAX_SAMPLES {
        errors.push(other("samples", t.receipts.err_samples));
    }
    if note.len() > MAX_NOTE_BYTES {
        errors.push(other("note", t.receipts.err_note));
    }
    errors
}

/// Every problem of a user's answer to a receipt: a rating of 1 to 5 stars, an optional
/// comment of at most 256 bytes.
pub(crate) fn check_confirmation(rating: u32, comment: &str, t: &Strings) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !(1..=5).contains(&rating) {
        let message = t.receipts.err_rating.to_owned();
        errors.push(FieldError::new("rating", Problem::Other(message)));
    }
    if comment.len() > MAX_NOTE_BYTES {
        let message = t.receipts.err_comment.to_owned();
        errors.push(FieldError::new("comment", Problem::Other(message)));
    }
    errors
}

/// Longest reason of a dispute, in characters (at most 256 bytes, the signed limit).
pub(crate) const MAX_REASON_CHARS: usize = 64;

/// Every problem of a user's dispute of a receipt: a reason, of at most 64 characters.
pub(crate) fn check_dispute(reason: &str, t: &Strings) -> Vec<FieldError> {
    if reason.is_empty() {
        vec![FieldError::new("reason", Problem::Required)]
    } else if reason.chars().count() > MAX_REASON_CHARS {
        let message = t.receipts.err_reason.to_owned();
        vec![FieldError::new("reason", Problem::Other(message))]
    } else {
        Vec::new()
    }
}

/// A session without a booking as the page form types it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WalkInInput {
    pub csrf: String,
    pub local_id: String,
    pub user_id: String,
    pub user_name: String,
    pub home: String,
    /// `own_institution`, `alliance_member`, `outside_academic` or `enterprise`.
    pub tier: String,
    /// `self_operated` or `staff_run`.
    pub mode: String,
    /// A fee item's Chinese name.
    pub service_item: String,
    #[serde(flatten)]
    pub facts: FactsInput,
}

/// The modes a session may be recorded with.
pub(crate) const MODES: [ServiceMode; 2] = [ServiceMode::SelfOperated, ServiceMode::StaffRun];

impl WalkInInput {
    /// The session for the backend, or every problem at once. `own` are the local ids of
    /// this institution's instruments.
    pub(crate) fn to_walk_in(&self, own: &[&str], t: &Strings) -> Result<WalkIn, Vec<FieldError>> {
        let mut errors = Vec::new();
        let tier = UserTier::parse(self.tier.trim()).unwrap_or_else(|| {
            errors.push(FieldError::new("tier", Problem::Choice));
            UserTier::OwnInstitution
        });
        let mode = MODES
            .into_iter()
            .find(|m| snake(*m) == self.mode.trim())
            .unwrap_or(ServiceMode::Unspecified);
        let (facts, number_errors) = self.facts.to_form(t);
        errors.extend(number_errors);
        let session = WalkInForm {
            local_id: self.local_id.trim().to_owned(),
            user_id: self.user_id.trim().to_owned(),
            user_name: self.user_name.trim().to_owned(),
            home: self.home.trim().to_owned(),
            tier,
            mode,
            service_item: self.service_item.trim().to_owned(),
            facts,
        };
        along(errors, parse_walk_in(&session, own, t))
    }
}

/// A session without a booking however it came (spaces around what was typed are
/// dropped), read once: every problem, or the typed session. `own` are the local ids of
/// this institution's instruments.
pub(crate) fn parse_walk_in(
    session: &WalkInForm,
    own: &[&str],
    t: &Strings,
) -> Result<WalkIn, Vec<FieldError>> {
    let who = Who {
        local_id: session.local_id.trim(),
        user_id: session.user_id.trim(),
        user_name: session.user_name.trim(),
        home: session.home.trim(),
        mode: session.mode,
    };
    let (mut errors, home) = check_who(&who, own, t);
    if session.service_item.trim().chars().count() > 64 {
        errors.push(FieldError::new("service_item", Problem::TooLong));
    }
    match (along(errors, parse_facts(&session.facts, t)), home) {
        (Ok(facts), Some(home)) => Ok(WalkIn {
            local_id: who.local_id.to_owned(),
            user_id: who.user_id.to_owned(),
            user_name: who.user_name.to_owned(),
            home,
            tier: session.tier,
            mode: session.mode,
            service_item: session.service_item.trim().to_owned(),
            facts,
        }),
        (Err(errors), _) => Err(errors),
        // Without a home, check_who has said why.
        (Ok(_), None) => Err(vec![FieldError::new("home", Problem::Required)]),
    }
}

/// The instrument and the user of a session, as typed and trimmed.
struct Who<'a> {
    local_id: &'a str,
    user_id: &'a str,
    user_name: &'a str,
    home: &'a str,
    mode: ServiceMode,
}

/// The problems of the instrument and the user of a session, and the user's home when
/// it reads.
fn check_who(who: &Who<'_>, own: &[&str], t: &Strings) -> (Vec<FieldError>, Option<InstitutionId>) {
    let mut errors = Vec::new();
    if !own.contains(&who.local_id) {
        errors.push(FieldError::new("local_id", Problem::Choice));
    }
    for (name, value) in [("user_id", who.user_id), ("user_name", who.user_name)] {
        if value.is_empty() {
            errors.push(FieldError::new(name, Problem::Required));
        } else if value.len() > MAX_SHORT_TEXT {
            errors.push(FieldError::new(name, Problem::TooLong));
        }
    }
    let home = who.home.parse::<InstitutionId>().ok();
    if who.home.is_empty() {
        errors.push(FieldError::new("home", Problem::Required));
    } else if home.is_none() {
        let message = t.book.err_home.to_owned();
        errors.push(FieldError::new("home", Problem::Other(message)));
    }
    if !MODES.contains(&who.mode) {
        errors.push(FieldError::new("mode", Problem::Choice));
    }
    (errors, home)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn t() -> &'static Strings {
        Lang::Zh.strings()
    }

    fn input() -> FactsInput {
        FactsInput {
            start: "2030-12-02T09:00".into(),
            end: "2030-12-02T11:00".into(),
            preparation_minutes: "10".into(),
            test_minutes: "100".into(),
            post_processing_minutes: "".into(),
            samples: "3".into(),
            note: " 正常 ".into(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn good_facts_are_read_and_trimmed() {
        let facts = input().to_facts(t()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (
                facts.preparation_minutes,
                facts.test_minutes,
                facts.post_processing_minutes
            ),
            (10, 100, 0)
        );
        assert_eq!((facts.samples, facts.note.as_str()), (3, "正常"));
    }

    #[test]
    fn every_problem_of_the_facts_is_reported_at_once() {
        let bad = FactsInput {
            start: "tomorrow".into(),
            end: "".into(),
            preparation_minutes: "44641".into(),
            test_minutes: "abc".into(),
            samples: "10001".into(),
            note: "长".repeat(86),
            ..input()
        };
        let Err(errors) = bad.to_facts(t()) else {
            panic!("accepted");
        };
        assert_eq!(
            fields(&errors),
            [
                "test_minutes",
                "start",
                "end",
                "preparation_minutes",
                "samples",
                "note"
            ]
        );
    }

    #[test]
    fn a_session_ends_after_it_starts_and_takes_some_time() {
        let backwards = FactsInput {
            end: "2030-12-02T08:00".into(),
            ..input()
        };
        let Err(errors) = backwards.to_facts(t()) else {
            panic!("accepted");
        };
        assert_eq!(fields(&errors), ["end"]);
        let idle = FactsInput {
            preparation_minutes: "0".into(),
            test_minutes: "".into(),
            ..input()
        };
        let Err(errors) = idle.to_facts(t()) else {
            panic!("accepted");
        };
        assert_eq!(fields(&errors), ["test_minutes"]);
        let longest = FactsInput {
            test_minutes: "44640".into(),
            ..input()
        };
        assert!(longest.to_facts(t()).is_ok());
    }

    #[test]
    fn ratings_are_one_to_five_and_comments_short() {
        assert!(check_confirmation(5, "很好", t()).is_empty());
        assert_eq!(fields(&check_confirmation(0, "", t())), ["rating"]);
        assert_eq!(fields(&check_confirmation(6, "", t())), ["rating"]);
        let long = "a".repeat(MAX_NOTE_BYTES + 1);
        assert_eq!(fields(&check_confirmation(3, &long, t())), ["comment"]);
    }

    #[test]
    fn the_api_form_is_read_with_the_spaces_around_it_dropped() {
        let form = WalkInForm {
            local_id: " LCMS-1 ".into(),
            user_id: " wang ".into(),
            user_name: "王同学 ".into(),
            home: " neu".into(),
            tier: UserTier::AllianceMember,
            mode: ServiceMode::StaffRun,
            service_item: String::new(),
            facts: SessionFactsForm {
                start: " 2030-12-02T09:00".into(),
                end: "2030-12-02T11:00 ".into(),
                test_minutes: 100,
                note: " 正常 ".into(),
                ..SessionFactsForm::default()
            },
        };
        let walk_in = parse_walk_in(&form, &["LCMS-1"], t()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (walk_in.local_id.as_str(), walk_in.user_id.as_str()),
            ("LCMS-1", "wang")
        );
        assert_eq!(walk_in.user_name, "王同学");
        assert_eq!(walk_in.home.as_str(), "neu");
        assert_eq!(walk_in.facts.end.0 - walk_in.facts.start.0, 2 * 3600);
        assert_eq!(walk_in.facts.note, "正常");
        // Only spaces is nothing.
        let blank = WalkInForm {
            user_id: "  ".into(),
            ..form
        };
        let Err(errors) = parse_walk_in(&blank, &["LCMS-1"], t()) else {
            panic!("accepted");
        };
        assert_eq!(fields(&errors), ["user_id"]);
    }

    #[test]
    fn a_walk_in_names_an_own_instrument_and_a_user() {
        let good = WalkInInput {
            local_id: "LCMS-1".into(),
            user_id: "wang".into(),
            user_name: "王同学".into(),
            home: "dlut".into(),
            tier: "own_institution".into(),
            mode: "staff_run".into(),
            service_item: String::new(),
            facts: input(),
            ..WalkInInput::default()
        };
        let session = good
            .to_walk_in(&["LCMS-1"], t())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(session.mode, ServiceMode::StaffRun);
        assert_eq!(session.facts.test_minutes, 100);
        let bad = WalkInInput {
            local_id: "NOPE".into(),
            user_id: " ".into(),
            home: "DLUT".into(),
            tier: "vip".into(),
            mode: "".into(),
            ..good
        };
        let Err(errors) = bad.to_walk_in(&["LCMS-1"], t()) else {
            panic!("accepted");
        };
        assert_eq!(
            fields(&errors),
            ["tier", "local_id", "user_id", "home", "mode"]
        );
    }
}
