//! What a report may be: at most [`MAX_REPORT_BYTES`], and a PDF, a ZIP-based file
//! (spreadsheets, archives of data files) or plain UTF-8 text (CSV, TXT, JSON) — the type
//! read from the bytes themselves (see [`crate::files`]).

use alliance_protocol::order::MAX_REPORT_BYTES;

use crate::files::{self, Kind};

/// The media type of an acceptable report, or why it is refused.
pub fn check(name: &str, bytes: &[u8]) -> Result<&'static str, String> {
    files::check(
        name,
        bytes,
        MAX_REPORT_BYTES,
        &[Kind::Pdf, Kind::Zip, Kind::Text],
        "a report",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_bytes_and_the_size_is_bounded() {
        assert_eq!(check("r.pdf", b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert_eq!(
            check("data.csv", "元素,含量\nCr,12\n".as_bytes()),
            Ok("text/csv; charset=utf-8")
        );
        assert!(
            check("r.xlsx", b"PK\x03\x04rest")
                .unwrap()
                .contains("spreadsheetml")
        );
        // An executable named like a PDF is refused.
        assert!(check("r.pdf", b"MZ\x90\x00\x03\x00\x00\x00\xff\xff").is_err());
        assert!(check("r.pdf", b"").is_err());
        assert!(check("../r.pdf", b"%PDF-1.7").is_err());
        let big = vec![b'a'; MAX_REPORT_BYTES + 1];
        assert!(check("big.txt", &big).unwrap_err().contains("at most"));
    }
}
