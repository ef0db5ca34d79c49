//! A text form for binary artefacts (certificates) that survives e-mail and copy-paste:
//!
//! ```text
//! -----BEGIN ALLIANCE CERTIFICATE-----
//! <base64, 64 columns>
//! -----END ALLIANCE CERTIFICATE-----
//! ```

use base64::{Engine, engine::general_purpose::STANDARD};

/// Why armored text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArmorError {
    #[error("no '-----BEGIN {0}-----' line found")]
    MissingBegin(String),
    #[error("no '-----END {0}-----' line found")]
    MissingEnd(String),
    #[error("armored body is not valid base64")]
    Base64,
}

/// Armors `bytes` under `label` (e.g. `ALLIANCE CERTIFICATE`).
pub fn encode(label: &str, bytes: &[u8]) -> String {
    let body = STANDARD.encode(bytes);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Extracts the bytes armored under `label`; text around the block is ignored.
pub fn decode(label: &str, text: &str) -> Result<Vec<u8>, ArmorError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| ArmorError::MissingBegin(label.to_owned()))?
        + begin.len();
    let stop = text[start..]
        .find(&end)
        .ok_or_else(|| ArmorError::MissingEnd(label.to_owned()))?
        + start;
    let body: String = text[start..stop].split_whitespace().collect();
    STANDARD.decode(body).map_err(|_| ArmorError::Base64)
}

/// The label used for membership certificates.
pub const CERTIFICATE_LABEL: &str = "ALLIANCE CERTIFICATE";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armor_round_trips_with_surrounding_text() {
        let bytes: Vec<u8> = (0..=255).collect();
        let text = format!("note\n{}trailer", encode(CERTIFICATE_LABEL, &bytes));
        assert_eq!(decode(CERTIFICATE_LABEL, &text).unwrap(), bytes);
        assert!(matches!(
            decode("OTHER", &text),
            Err(ArmorError::MissingBegin(_))
        ));
    }
}
