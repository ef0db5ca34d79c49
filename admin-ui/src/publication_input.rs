//! A publication as a user types it (R13) — a paper, patent or report that used alliance
//! instruments — with the checks the web layer makes before the node signs it, so a form
//! can show every problem next to its field in the user's language. The page and the JSON
//! API share them; the node checks again what it signs.
//!
//! A paper's identifier is its DOI (`10.<registrant>/<suffix>`), which may be pasted as a
//! `https://doi.org/…` link or with a `doi:` prefix; it is kept bare and in lowercase, as
//! DOIs are case-insensitive. Instruments are `institution/local_id`, one to ten of them,
//! each known to the catalogue.

use alliance_protocol::{
    InstitutionId,
    publication::{
        MAX_ACKNOWLEDGEMENT_CHARS, MAX_AUTHORS_CHARS, MAX_IDENTIFIER_CHARS,
        MAX_PUBLICATION_INSTRUMENTS, MAX_TITLE_CHARS, PublicationKind,
    },
    record::{is_valid_date, is_valid_local_id},
};
use chrono::NaiveDate;

use crate::{
    backend::{CatalogueBackend, PublicationForm},
    i18n::Strings,
    validate::{FieldError, Problem},
};

/// The kinds of publication, in the order forms offer them.
pub(crate) const KINDS: [PublicationKind; 3] = [
    PublicationKind::Paper,
    PublicationKind::Patent,
    PublicationKind::Report,
];

/// Longest number of a patent or a report, in characters.
pub(crate) const MAX_NUMBER_CHARS: usize = 64;

/// The fields a publication form shows an error beside, named as in
/// [`PublicationForm`] (and as the node names them when it refuses one).
pub(crate) const FIELDS: [&str; 7] = [
    "kind",
    "title",
    "authors",
    "identifier",
    "acknowledgement",
    "instruments",
    "published_on",
];

/// Prefixes a DOI may be pasted with, lowercase.
const DOI_PREFIXES: [&str; 7] = [
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi.org/",
    "dx.doi.org/",
    "doi:",
];

/// The form as posted (`csrf` and the other fields; `instruments` repeats, one per input),
/// normalised. Pairs, not a struct, because the instrument inputs share their name.
pub(crate) fn from_pairs(pairs: &[(String, String)]) -> PublicationForm {
    let mut form = PublicationForm::default();
    for (key, value) in pairs {
        let value = value.clone();
        match key.as_str() {
            "kind" => form.kind = value,
            "title" => form.title = value,
            "authors" => form.authors = value,
            "identifier" => form.identifier = value,
            "acknowledgement" => form.acknowledgement = value,
            "instruments" => form.instruments.push(value),
            "published_on" => form.published_on = value,
            _ => {}
        }
    }
    normalize(form)
}

/// Trims what a person typed, drops empty and repeated instruments (an institution id is
/// lowercase), and writes a paper's DOI bare and in lowercase.
pub(crate) fn normalize(form: PublicationForm) -> PublicationForm {
    let kind = form.kind.trim().to_owned();
    let identifier = if kind == PublicationKind::Paper.as_str() {
        normalize_doi(&form.identifier)
    } else {
        form.identifier.trim().to_owned()
    };
    let mut instruments: Vec<String> = Vec::new();
    for id in &form.instruments {
        let id = normalize_instrument(id);
        if !id.is_empty() && !instruments.contains(&id) {
            instruments.push(id);
        }
    }
    PublicationForm {
        kind,
        title: form.title.trim().to_owned(),
        authors: form.authors.trim().to_owned(),
        identifier,
        acknowledgement: form.acknowledgement.trim().to_owned(),
        instruments,
        published_on: form.published_on.trim().to_owned(),
    }
}

/// `DLUT/XPS-1 ` → `dlut/XPS-1`: the institution id is lowercase, the local id as typed.
fn normalize_instrument(id: &str) -> String {
    let id = id.trim();
    match id.split_once('/') {
        Some((institution, local_id)) => {
            format!(
                "{}/{}",
                institution.trim().to_ascii_lowercase(),
                local_id.trim()
            )
        }
        None => id.to_owned(),
    }
}

/// A DOI as typed or pasted (`https://doi.org/10.1016/J.X`, `doi:10.1016/j.x`) → the bare
/// DOI in lowercase (`10.1016/j.x`); a link's `%`-escapes are decoded. Anything else is
/// only trimmed and lowercased, for [`is_doi`] to judge.
pub(crate) fn normalize_doi(value: &str) -> String {
    let value = value.trim();
    // ASCII lowercasing keeps every byte where it was, so the prefix's length cuts `value`.
    let lower = value.to_ascii_lowercase();
    let bare = match DOI_PREFIXES.iter().find(|p| lower.starts_with(*p)) {
        Some(prefix) => {
            let rest = value[prefix.len()..].trim_start();
            if prefix.ends_with('/') {
                percent_decode(rest)
            } else {
                rest.to_owned()
            }
        }
        None => value.to_owned(),
    };
    bare.to_ascii_lowercase()
}

/// Decodes `%XX` escapes; the text as it was when they do not make UTF-8.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// Whether `doi` is a bare DOI: `10.`, the registrant's digits (dot-separated groups
/// allowed), `/`, a suffix without spaces or control characters.
pub(crate) fn is_doi(doi: &str) -> bool {
    let Some(rest) = doi.strip_prefix("10.") else {
        return false;
    };
    let Some((registrant, suffix)) = rest.split_once('/') else {
        return false;
    };
    let registrant_ok = registrant
        .split('.')
        .all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit()));
    registrant_ok
        && !suffix.is_empty()
        && !suffix.chars().any(|c| c.is_whitespace() || c.is_control())
        && doi.chars().count() <= MAX_IDENTIFIER_CHARS
}

/// Whether `id` has the form `institution/local_id`.
pub(crate) fn is_instrument_id(id: &str) -> bool {
    id.split_once('/').is_some_and(|(institution, local_id)| {
        institution.parse::<InstitutionId>().is_ok() && is_valid_local_id(local_id)
    })
}

/// The instruments of `form` the catalogue knows (well-formed ids only, at most ten
/// looked up).
pub(crate) async fn known_instruments<B: CatalogueBackend>(
    backend: &B,
    form: &PublicationForm,
) -> Vec<String> {
    let mut known = Vec::new();
    let ids = form.instruments.iter().filter(|id| is_instrument_id(id));
    for id in ids.take(MAX_PUBLICATION_INSTRUMENTS) {
        if backend.instrument(id).await.is_some() {
            known.push(id.clone());
        }
    }
    known
}

/// Every problem of a (normalised) publication however it came. `today` is the date in
/// Beijing; `known` tells whether the catalogue knows an instrument.
pub(crate) fn check(
    form: &PublicationForm,
    today: NaiveDate,
    known: impl Fn(&str) -> bool,
    t: &Strings,
) -> Vec<FieldError> {
    let p = t.publications;
    let other = |field: &str, message: String| FieldError::new(field, Problem::Other(message));
    let mut errors = Vec::new();
    let kind = form.kind.parse::<PublicationKind>().ok();
    if kind.is_none() {
        errors.push(FieldError::new("kind", Problem::Choice));
    }
    let texts = [
        ("title", &form.title, MAX_TITLE_CHARS, p.err_title),
        ("authors", &form.authors, MAX_AUTHORS_CHARS, p.err_authors),
        (
            "acknowledgement",
            &form.acknowledgement,
            MAX_ACKNOWLEDGEMENT_CHARS,
            p.err_acknowledgement,
        ),
    ];
    for (field, value, max, message) in texts {
        if value.is_empty() {
            errors.push(FieldError::new(field, Problem::Required));
        } else if value.chars().count() > max {
            errors.push(other(field, message.to_owned()));
        }
    }
    let identifier = &form.identifier;
    if identifier.is_empty() {
        errors.push(FieldError::new("identifier", Problem::Required));
    } else {
        match kind {
            Some(PublicationKind::Paper) if !is_doi(identifier) => {
                errors.push(other("identifier", p.err_doi.to_owned()));
            }
            Some(PublicationKind::Patent | PublicationKind::Report)
                if identifier.chars().count() > MAX_NUMBER_CHARS =>
            {
                errors.push(other("identifier", p.err_number.to_owned()));
            }
            None if identifier.chars().count() > MAX_IDENTIFIER_CHARS => {
                errors.push(FieldError::new("identifier", Problem::TooLong));
            }
            _ => {}
        }
    }
    if let Some(message) = instruments_problem(&form.instruments, &known, t) {
        errors.push(other("instruments", message));
    }
    if form.published_on.is_empty() {
        errors.push(FieldError::new("published_on", Problem::Required));
    } else {
        // The catalogue's rule for dates (`YYYY-MM-DD`, from 1900), then chrono's reading.
        let date = Some(&form.published_on)
            .filter(|d| is_valid_date(d))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        match date {
            None => errors.push(FieldError::new("published_on", Problem::Date)),
            Some(date) if date > today => {
                errors.push(other("published_on", p.err_future.to_owned()));
            }
            Some(_) => {}
        }
    }
    errors
}

/// What is wrong with the instruments, if anything: none, more than ten, one not written
/// `institution/local_id`, one the catalogue does not know.
fn instruments_problem(
    instruments: &[String],
    known: &impl Fn(&str) -> bool,
    t: &Strings,
) -> Option<String> {
    let p = t.publications;
    if instruments.is_empty() {
        return Some(p.err_instruments_none.to_owned());
    }
    if instruments.len() > MAX_PUBLICATION_INSTRUMENTS {
        return Some(p.err_instruments_many.to_owned());
    }
    if let Some(id) = instruments.iter().find(|id| !is_instrument_id(id)) {
        return Some(format!("{id}: {}", p.err_instrument_form));
    }
    let unknown = instruments.iter().find(|id| !known(id))?;
    Some(format!("{unknown}: {}", p.err_instrument_unknown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn t() -> &'static Strings {
        Lang::Zh.strings()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default()
    }

    fn paper() -> PublicationForm {
        PublicationForm {
            kind: "paper".into(),
            title: "Surface oxidation of Ti-6Al-4V studied by XPS".into(),
            authors: "王小明, 李华".into(),
            identifier: "10.1016/j.apsusc.2026.160001".into(),
            acknowledgement: "感谢大连理工大学分析测试中心 XPS 测试支持".into(),
            instruments: vec!["dlut/XPS-1".into()],
            published_on: "2026-09-01".into(),
        }
    }

    fn fields(form: &PublicationForm) -> Vec<String> {
        check(form, today(), |_| true, t())
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn dois_are_kept_bare_and_lowercase() {
        for pasted in [
            "10.1016/J.APSUSC.2026.160001",
            " https://doi.org/10.1016/j.apsusc.2026.160001 ",
            "HTTPS://DOI.ORG/10.1016/J.Apsusc.2026.160001",
            "http://dx.doi.org/10.1016/j.apsusc.2026.160001",
            "doi:10.1016/j.apsusc.2026.160001",
            "DOI: 10.1016/j.apsusc.2026.160001",
        ] {
            assert_eq!(
                normalize_doi(pasted),
                "10.1016/j.apsusc.2026.160001",
                "{pasted}"
            );
        }
        assert_eq!(
            normalize_doi("https://doi.org/10.1002/%28SICI%291097-4636"),
            "10.1002/(sici)1097-4636"
        );
        assert_eq!(normalize_doi("https://doi.org/10.1/%E4%"), "10.1/%e4%");
    }

    #[test]
    fn a_doi_is_ten_a_registrant_and_a_suffix() {
        for good in ["10.1016/j.x", "10.1000.10/abc", "10.5555/12345678"] {
            assert!(is_doi(good), "{good}");
        }
        let long = format!("10.1016/{}", "x".repeat(MAX_IDENTIFIER_CHARS));
        for bad in [
            "",
            "10.1016",
            "10.1016/",
            "11.1016/j.x",
            "10.abc/j.x",
            "10./j.x",
            "10.1016./j.x",
            "10.1016/j x",
            "https://doi.org/10.1016/j.x",
            long.as_str(),
        ] {
            assert!(!is_doi(bad), "{bad}");
        }
    }

    #[test]
    fn a_good_paper_passes_and_is_normalised() {
        assert!(fields(&paper()).is_empty());
        let typed = PublicationForm {
            kind: " paper ".into(),
            identifier: "https://doi.org/10.1016/J.APSUSC.2026.160001".into(),
            instruments: vec![
                " DLUT/XPS-1 ".into(),
                "".into(),
                "dlut/XPS-1".into(),
                "neu/SEM-2".into(),
            ],
            ..paper()
        };
        let form = normalize(typed);
        assert_eq!(form.kind, "paper");
        assert_eq!(form.identifier, "10.1016/j.apsusc.2026.160001");
        assert_eq!(form.instruments, ["dlut/XPS-1", "neu/SEM-2"]);
        assert!(fields(&form).is_empty());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = PublicationForm {
            kind: "book".into(),
            title: "".into(),
            authors: "作".repeat(MAX_AUTHORS_CHARS + 1),
            identifier: "".into(),
            acknowledgement: "谢".repeat(MAX_ACKNOWLEDGEMENT_CHARS + 1),
            instruments: vec![],
            published_on: "2026-02-30".into(),
        };
        assert_eq!(
            fields(&bad),
            [
                "kind",
                "title",
                "authors",
                "acknowledgement",
                "identifier",
                "instruments",
                "published_on"
            ]
        );
        let longest = PublicationForm {
            title: "题".repeat(MAX_TITLE_CHARS),
            acknowledgement: "谢".repeat(MAX_ACKNOWLEDGEMENT_CHARS),
            ..paper()
        };
        assert!(fields(&longest).is_empty());
    }

    #[test]
    fn identifiers_follow_the_kind() {
        let patent = PublicationForm {
            kind: "patent".into(),
            identifier: "ZL202610012345.6".into(),
            ..paper()
        };
        assert!(fields(&patent).is_empty());
        let long = PublicationForm {
            identifier: "号".repeat(MAX_NUMBER_CHARS + 1),
            ..patent.clone()
        };
        assert_eq!(fields(&long), ["identifier"]);
        let not_a_doi = PublicationForm {
            identifier: "ZL202610012345.6".into(),
            ..paper()
        };
        assert_eq!(fields(&not_a_doi), ["identifier"]);
    }

    #[test]
    fn instruments_are_one_to_ten_known_ids() {
        let none = PublicationForm {
            instruments: vec![],
            ..paper()
        };
        assert_eq!(fields(&none), ["instruments"]);
        let eleven = PublicationForm {
            instruments: (0..11).map(|i| format!("dlut/XPS-{i}")).collect(),
            ..paper()
        };
        assert_eq!(fields(&eleven), ["instruments"]);
        let ten = PublicationForm {
            instruments: (0..10).map(|i| format!("dlut/XPS-{i}")).collect(),
            ..paper()
        };
        assert!(fields(&ten).is_empty());
        for bad in ["XPS-1", "DLUT/XPS 1", "dlut/"] {
            let form = PublicationForm {
                instruments: vec![bad.into()],
                ..paper()
            };
            assert_eq!(fields(&form), ["instruments"], "{bad}");
        }
        let unknown = check(&paper(), today(), |id| id != "dlut/XPS-1", t());
        assert_eq!(unknown.len(), 1);
        assert_eq!(
            t().problem(&unknown[0].problem),
            format!("dlut/XPS-1: {}", t().publications.err_instrument_unknown)
        );
    }

    #[test]
    fn the_date_is_real_and_not_after_today_in_beijing() {
        for (date, ok) in [
            ("2026-11-27", true),
            ("2026-11-28", false),
            ("2031-01-01", false),
            ("1899-12-31", false),
            ("2026-11-2", false),
            ("2026/11/27", false),
        ] {
            let form = PublicationForm {
                published_on: date.into(),
                ..paper()
            };
            assert_eq!(fields(&form).is_empty(), ok, "{date}");
        }
    }
}
