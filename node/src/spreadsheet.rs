//! Text that people will open in a spreadsheet program. A cell that starts with `=`, `+`,
//! `-`, `@`, a tab or a carriage return is run as a formula when a CSV file is opened,
//! so text that came from others (members sign their own instrument names) is written
//! with a leading `'`, which spreadsheets show as plain text and our importer removes.

use std::borrow::Cow;

/// Whether a spreadsheet opening this text from a CSV file would run it as a formula.
pub(crate) fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The text as a CSV cell that no spreadsheet runs.
pub(crate) fn guard(text: &str) -> Cow<'_, str> {
    if looks_like_formula(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Removes the `'` that [`guard`] put before formula-like text.
pub(crate) fn unguard(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => field,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_text_is_guarded_and_unguarded_back() {
        for text in ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            let guarded = guard(text);
            assert!(guarded.starts_with('\''), "{text}");
            assert_eq!(unguard(&guarded), text);
        }
        for text in ["场发射扫描电镜", "1+1", "'quoted", ""] {
            assert_eq!(guard(text), text);
            assert_eq!(unguard(text), text);
        }
    }
}
