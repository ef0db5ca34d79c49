//! What an uploaded file may be: a size bound, a sane name, and a type read from the
//! bytes themselves — never from the name or the browser's word. Reports and the
//! attachments of needs each allow their own kinds.

/// A kind of file, recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    /// ZIP-based: spreadsheets (XLSX), archives of data files.
    Zip,
    /// UTF-8 text without NUL bytes (CSV, TXT, JSON).
    Text,
    Jpeg,
    Png,
}

impl Kind {
    fn media_type(self, name: &str) -> &'static str {
        let lower = name.to_lowercase();
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Zip if lower.ends_with(".xlsx") => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            Kind::Zip => "application/zip",
            Kind::Text if lower.ends_with(".csv") => "text/csv; charset=utf-8",
            Kind::Text => "text/plain; charset=utf-8",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
        }
    }

    fn of(bytes: &[u8]) -> Option<Kind> {
        if bytes.starts_with(b"%PDF-") {
            Some(Kind::Pdf)
        } else if bytes.starts_with(b"PK\x03\x04") {
            Some(Kind::Zip)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Kind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Kind::Png)
        } else if std::str::from_utf8(bytes).is_ok_and(|t| !t.contains('\0')) {
            Some(Kind::Text)
        } else {
            None
        }
    }
}

/// The media type of `bytes` named `name` if it is one of `allowed` and at most `max`
/// bytes; otherwise why not (`what` names the file in the message, e.g. "a report").
pub fn check(
    name: &str,
    bytes: &[u8],
    max: usize,
    allowed: &[Kind],
    what: &str,
) -> Result<&'static str, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.len() > max {
        return Err(format!(
            "the file is {} bytes; {what} may be at most {max}",
            bytes.len()
        ));
    }
    if name.trim().is_empty() || name.len() > 200 || name.contains(['/', '\\', '\0']) {
        return Err("a file name of 1 to 200 bytes, without slashes".into());
    }
    match Kind::of(bytes) {
        Some(kind) if allowed.contains(&kind) => Ok(kind.media_type(name)),
        _ => Err(format!("{what} is one of: {}", describe(allowed))),
    }
}

fn describe(allowed: &[Kind]) -> String {
    allowed
        .iter()
        .map(|k| match k {
            Kind::Pdf => "PDF",
            Kind::Zip => "a ZIP-based file (e.g. XLSX)",
            Kind::Text => "UTF-8 text (CSV, TXT)",
            Kind::Jpeg => "a JPEG photo",
            Kind::Png => "a PNG image",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_known_by_their_bytes_and_only_allowed_kinds_pass() {
        let photo = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        assert_eq!(
            check("样品.jpg", &photo, 100, &[Kind::Jpeg], "a photo"),
            Ok("image/jpeg")
        );
        assert_eq!(
            check(
                "x.png",
                b"\x89PNG\r\n\x1a\nrest",
                100,
                &[Kind::Png],
                "an image"
            ),
            Ok("image/png")
        );
        // A PDF where only photos are allowed, a photo named like a PDF where only PDFs.
        assert!(check("m.pdf", b"%PDF-1.7", 100, &[Kind::Jpeg], "a photo").is_err());
        assert!(check("m.pdf", &photo, 100, &[Kind::Pdf], "a method").is_err());
    }
}
