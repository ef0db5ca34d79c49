//! Field checks for registrations and new accounts, shared by the API and the forms.
//!
//! These are the only account rules: the node applies the same functions before it stores
//! anything (also for accounts made on the command line), and the web layer applies them
//! first so a form can show every problem at once, next to its field, in the visitor's
//! language. Usernames are 3–32 lowercase ASCII letters, digits, `_`, `-` or `.`;
//! passwords 10–256 characters.

use crate::backend::{AccountState, NewAccount, Registration};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The deepest result a paged list serves: `page × per_page` may not exceed it. Deeper
/// pages would make the index collect that many hits for one answer, so a caller that
/// wants more narrows the search instead.
pub const MAX_RESULT_WINDOW: usize = 10_000;

/// What is wrong with a field. The UI turns it into a sentence in the visitor's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Username,
    UsernameTaken,
    PasswordShort,
    PasswordLong,
    /// The current password given to change it is wrong.
    CurrentPassword,
    /// The new password and its repetition differ.
    PasswordMismatch,
    DisplayName,
    Organization,
    Email,
    Phone,
    Role,
    State,
    /// An instrument id: 1–64 letters, digits, `-`, `_`, `.`.
    LocalId,
    Required,
    TooLong,
    /// Not a date written `YYYY-MM-DD`.
    Date,
    /// Not an amount in yuan (the reason in English).
    Money(String),
    /// Not one of the offered choices.
    Choice,
    /// Not a category of the classification.
    Category,
    /// A fee row without a name.
    FeeName,
    /// Not a date and time written `YYYY-MM-DDTHH:MM`.
    DateTime,
    /// A booking length that is not a whole number of 30 minutes up to 8 hours.
    BookingLength,
    /// A page beyond the deepest one served ([`MAX_RESULT_WINDOW`] results).
    PageTooDeep,
    /// A problem the node reported, in its own words.
    Other(String),
}

/// A problem with one named field (`username`, `password`, `email`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
}

impl FieldError {
    /// The node's error for this problem, with an English message.
    pub fn into_account_error(self) -> crate::backend::AccountError {
        let message = match &self.problem {
            Problem::Username => "3 to 32 lowercase letters, digits, '_', '-' or '.'".to_owned(),
            Problem::UsernameTaken => "the username is taken".to_owned(),
            Problem::PasswordShort => format!("at least {MIN_PASSWORD_CHARS} characters"),
            Problem::PasswordLong => format!("at most {MAX_PASSWORD_CHARS} characters"),
            Problem::CurrentPassword => "the current password is wrong".to_owned(),
            Problem::PasswordMismatch => "the two new passwords differ".to_owned(),
            Problem::DisplayName => "1 to 64 characters".to_owned(),
            Problem::Organization => "at most 128 characters".to_owned(),
            Problem::Email => "not a valid e-mail address".to_owned(),
            Problem::Phone => "at most 32 digits, spaces or + - ( )".to_owned(),
            Problem::Role => "not a role that may be given here".to_owned(),
            Problem::State => "not an account state".to_owned(),
            Problem::LocalId => "1 to 64 letters, digits, '-', '_' or '.'".to_owned(),
            Problem::Required => "required".to_owned(),
            Problem::TooLong => "too long".to_owned(),
            Problem::Date => "a date written YYYY-MM-DD".to_owned(),
            Problem::Money(reason) => format!("an amount in yuan: {reason}"),
            Problem::Choice => "not one of the allowed values".to_owned(),
            Problem::Category => "not a category of the classification".to_owned(),
            Problem::FeeName => "a fee item needs a name".to_owned(),
            Problem::DateTime => "a date and time written YYYY-MM-DDTHH:MM".to_owned(),
            Problem::BookingLength => "whole minutes, 1 to 44,640 (31 days)".to_owned(),
            Problem::PageTooDeep => format!(
                "page × per_page may be at most {MAX_RESULT_WINDOW}; narrow the search instead"
            ),
            Problem::Other(text) => text.clone(),
        };
        crate::backend::AccountError::Invalid {
            field: self.field,
            message,
        }
    }

    pub fn new(field: &str, problem: Problem) -> Self {
        FieldError {
            field: field.to_owned(),
            problem,
        }
    }
}

/// Trims what a person typed; usernames are lowercase.
pub(crate) fn normalize_registration(mut r: Registration) -> Registration {
    r.username = r.username.trim().to_lowercase();
    r.display_name = r.display_name.trim().to_owned();
    r.organization = r.organization.trim().to_owned();
    r.email = r.email.trim().to_owned();
    r.phone = r.phone.trim().to_owned();
    r
}

/// Trims what an administrator typed; usernames are lowercase.
pub(crate) fn normalize_new_account(mut a: NewAccount) -> NewAccount {
    a.username = a.username.trim().to_lowercase();
    a.display_name = a.display_name.trim().to_owned();
    a.organization = a.organization.trim().to_owned();
    a.email = a.email.trim().to_owned();
    a.phone = a.phone.trim().to_owned();
    a
}

/// Every problem of a self-registration (an e-mail address is required, so the
/// administrator can reach the applicant).
pub fn registration(r: &Registration) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_username(&r.username, &mut errors);
    check_password(&r.password, &mut errors);
    check_profile(&r.display_name, &r.organization, &r.phone, &mut errors);
    if !is_email(&r.email) {
        errors.push(FieldError::new("email", Problem::Email));
    }
    errors
}

/// Every problem of an account an administrator creates (e-mail optional).
pub fn new_account(a: &NewAccount) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_username(&a.username, &mut errors);
    check_password(&a.password, &mut errors);
    check_profile(&a.display_name, &a.organization, &a.phone, &mut errors);
    if !a.email.is_empty() && !is_email(&a.email) {
        errors.push(FieldError::new("email", Problem::Email));
    }
    errors
}

/// The problems of a new password (changed or reset), reported under `field`.
pub fn new_password(field: &str, password: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_password(password, &mut errors);
    for error in &mut errors {
        error.field = field.to_owned();
    }
    errors
}

/// An account state by its snake_case name (`active`, `pending`, `disabled`).
pub(crate) fn parse_state(name: &str) -> Option<AccountState> {
    match name {
        "active" => Some(AccountState::Active),
        "pending" => Some(AccountState::Pending),
        "disabled" => Some(AccountState::Disabled),
        _ => None,
    }
}

fn check_username(username: &str, errors: &mut Vec<FieldError>) {
    let ok = (3..=32).contains(&username.len())
        && username.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        });
    if !ok {
        errors.push(FieldError::new("username", Problem::Username));
    }
}

fn check_password(password: &str, errors: &mut Vec<FieldError>) {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        errors.push(FieldError::new("password", Problem::PasswordShort));
    } else if chars > MAX_PASSWORD_CHARS {
        errors.push(FieldError::new("password", Problem::PasswordLong));
    }
}

fn check_profile(
    display_name: &str,
    organization: &str,
    phone: &str,
    errors: &mut Vec<FieldError>,
) {
    if display_name.is_empty() || display_name.chars().count() > 64 {
        errors.push(FieldError::new("display_name", Problem::DisplayName));
    }
    if organization.chars().count() > 128 {
        errors.push(FieldError::new("organization", Problem::Organization));
    }
    let phone_ok = phone.chars().count() <= 32
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
    if !phone_ok {
        errors.push(FieldError::new("phone", Problem::Phone));
    }
}

/// Whether `email` looks like an e-mail address.
pub(crate) fn is_email(email: &str) -> bool {
    email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration_with(username: &str, password: &str, email: &str) -> Registration {
        Registration {
            username: username.to_owned(),
            password: password.to_owned(),
            display_name: "张三".to_owned(),
            organization: "个人".to_owned(),
            email: email.to_owned(),
            phone: "+86 411-8470 0000".to_owned(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_good_registration_passes() {
        let r = registration_with("zhang.san", "correct horse", "zs@example.cn");
        assert!(registration(&r).is_empty());
    }

    #[test]
    fn every_bad_field_is_reported() {
        let r = registration_with("", "short", "not-an-address");
        assert_eq!(fields(&registration(&r)), ["username", "password", "email"]);
        let r = registration_with("Zhang San", "0123456789", "a@b.cn");
        assert_eq!(fields(&registration(&r)), ["username"]);
        assert_eq!(
            fields(&registration(&registration_with("abc", "0123456789", ""))),
            ["email"]
        );
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        let r = registration_with("abc", "密码密码密码密码密码", "a@b.cn");
        assert!(registration(&r).is_empty());
        let r = registration_with("abc", "密码密码密码密码密", "a@b.cn");
        assert_eq!(registration(&r)[0].problem, Problem::PasswordShort);
    }

    #[test]
    fn normalizing_trims_and_lowercases_the_username() {
        let r = normalize_registration(registration_with("  ZhangSan ", "x", " a@b.cn "));
        assert_eq!(r.username, "zhangsan");
        assert_eq!(r.email, "a@b.cn");
    }
}
