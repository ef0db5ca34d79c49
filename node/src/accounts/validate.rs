//! Field checks for accounts; each error names its field so forms can show it in place.

use alliance_admin_ui::backend::{Account, AccountError};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

fn invalid(field: &str, message: &str) -> AccountError {
    AccountError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// Checks a new password.
pub fn password(password: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(invalid("password", "at least 10 characters"));
    }
    if chars > 256 {
        return Err(invalid("password", "at most 256 characters"));
    }
    Ok(())
}

/// Checks an account's fields.
pub fn account(account: &Account) -> Result<(), AccountError> {
    let name = &account.username;
    let name_ok = (3..=32).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        });
    if !name_ok {
        return Err(invalid(
            "username",
            "3 to 32 lowercase letters, digits, '_', '-' or '.'",
        ));
    }
    if account.display_name.trim().is_empty() || account.display_name.chars().count() > 64 {
        return Err(invalid("display_name", "1 to 64 characters"));
    }
    if !account.email.is_empty() {
        let email_ok = account.email.len() <= 254
            && account
                .email
                .split_once('@')
                .is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                })
            && !account.email.contains(char::is_whitespace);
        if !email_ok {
            return Err(invalid("email", "not a valid e-mail address"));
        }
    }
    if account.organization.chars().count() > 128 {
        return Err(invalid("organization", "at most 128 characters"));
    }
    if account.phone.chars().count() > 32 {
        return Err(invalid("phone", "at most 32 characters"));
    }
    Ok(())
}
