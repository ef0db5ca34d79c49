//! What a report may be: at most [`MAX_REPORT_BYTES`], and a PDF, a ZIP-based file
//! (spreadsheets, archives of data files) or plain UTF-8 text (CSV, TXT, JSON) — the type
//! read from the bytes themselves, never from the name or the browser's word.

use alliance_protocol::order::MAX_REPORT_BYTES;

/// The media type of an acceptable report, or why it is refused.
pub fn check(name: &str, bytes: &[u8]) -> Result<&'static str, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(format!(
            "the file is {} bytes; a report may be at most {MAX_REPORT_BYTES}",
            bytes.len()
        ));
    }
    if name.trim().is_empty() || name.len() > 200 || name.contains(['/', '\\', '\0']) {
        return Err("a file name of 1 to 200 bytes, without slashes".into());
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok("application/pdf");
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let lower = name.to_lowercase();
        return Ok(if lower.ends_with(".xlsx") {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        } else {
            "application/zip"
        });
    }
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.contains('\0')
    {
        return Ok(if name.to_lowercase().ends_with(".csv") {
            "text/csv; charset=utf-8"
        } else {
            "text/plain; charset=utf-8"
        });
    }
    Err("a report is a PDF, a ZIP-based file (e.g. XLSX) or UTF-8 text (CSV, TXT)".into())
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
