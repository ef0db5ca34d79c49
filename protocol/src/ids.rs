//! Validated identifiers.

use std::{fmt, str::FromStr};

/// Error for an identifier that does not have the required form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid institution id {0:?}: use 2 to 32 lowercase ASCII letters, digits or '-', starting with a letter"
)]
pub struct IdError(pub String);

/// An institution's short stable id, e.g. `dlut` or `imr-cas`.
///
/// Lowercase ASCII letters, digits and '-', 2 to 32 bytes, starting with a letter:
/// it appears in URLs, file names and logs, so it must be plain.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct InstitutionId(String);

impl InstitutionId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InstitutionId {
    type Error = IdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let ok_len = (2..=32).contains(&value.len());
        let ok_first = value.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
        let ok_chars = value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok_len && ok_first && ok_chars {
            Ok(InstitutionId(value))
        } else {
            Err(IdError(value))
        }
    }
}

impl FromStr for InstitutionId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InstitutionId::try_from(s.to_owned())
    }
}

impl From<InstitutionId> for String {
    fn from(id: InstitutionId) -> Self {
        id.0
    }
}

impl fmt::Display for InstitutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids_and_rejects_others() {
        for good in ["dlut", "imr-cas", "n1"] {
            assert!(good.parse::<InstitutionId>().is_ok(), "{good}");
        }
        for bad in ["", "a", "DLUT", "1abc", "大连理工", "a b", &"x".repeat(33)] {
            assert!(bad.parse::<InstitutionId>().is_err(), "{bad}");
        }
    }
}
