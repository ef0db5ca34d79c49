//! Publications and intellectual property (R13): a paper, patent or report that used
//! alliance instruments, signed by its author's home node and counted by the province in
//! each named instrument's evaluation.

use prost::Message;

use crate::{
    booking::{booking_id, institution, is_valid_booking_id},
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::InstitutionId,
    keys::{PublicKey, SecretKey},
    proto,
    record::{RecordError, check_local_id, field},
    time::UnixTime,
};

impl Domain {
    /// A registered publication, signed by the author's home node.
    pub const PUBLICATION: Domain = Domain("alliance/publication/v1");
}

/// Most instruments one publication may name.
pub const MAX_PUBLICATION_INSTRUMENTS: usize = 10;
/// Longest title, authors, identifier and acknowledgement, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_AUTHORS_CHARS: usize = 500;
pub const MAX_IDENTIFIER_CHARS: usize = 128;
pub const MAX_ACKNOWLEDGEMENT_CHARS: usize = 1000;

/// What kind of output it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicationKind {
    Paper,
    Patent,
    Report,
}

impl PublicationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PublicationKind::Paper => "paper",
            PublicationKind::Patent => "patent",
            PublicationKind::Report => "report",
        }
    }
}

impl std::str::FromStr for PublicationKind {
    type Err = RecordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "paper" => Ok(PublicationKind::Paper),
            "patent" => Ok(PublicationKind::Patent),
            "report" => Ok(PublicationKind::Report),
            _ => Err(field("kind", "paper, patent or report")),
        }
    }
}

/// Why a publication was refused.
#[derive(Debug, thiserror::Error)]
pub enum PublicationError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Invalid(#[from] RecordError),
}

/// A registered publication.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Publication {
    pub publication_id: String,
    pub home_institution: InstitutionId,
    pub user_id: String,
    pub kind: PublicationKind,
    pub title: String,
    pub authors: String,
    pub identifier: String,
    pub acknowledgement: String,
    /// `institution/local_id`.
    pub instruments: Vec<String>,
    /// `YYYY-MM-DD`.
    pub published_on: String,
    pub registered_at: UnixTime,
}

impl Publication {
    /// What makes two registrations the same work: its kind and identifier (DOI, patent
    /// or report number), compared without case, spaces or a DOI's resolver prefix, so
    /// `https://doi.org/10.1/X` and `10.1/x` are one paper however many register it.
    pub fn work_key(&self) -> String {
        let id = self.identifier.trim().to_lowercase();
        let id = [
            "https://doi.org/",
            "http://doi.org/",
            "https://dx.doi.org/",
            "http://dx.doi.org/",
            "doi:",
        ]
        .iter()
        .find_map(|prefix| id.strip_prefix(prefix))
        .unwrap_or(&id);
        let id: String = id.chars().filter(|c| !c.is_whitespace()).collect();
        format!("{}:{id}", self.kind.as_str())
    }
}

fn kind_to_proto(kind: PublicationKind) -> proto::PublicationKind {
    match kind {
        PublicationKind::Paper => proto::PublicationKind::Paper,
        PublicationKind::Patent => proto::PublicationKind::Patent,
        PublicationKind::Report => proto::PublicationKind::Report,
    }
}

fn text(name: &'static str, value: String, max_chars: usize) -> Result<String, RecordError> {
    let count = value.chars().count();
    if value.trim().is_empty() || count > max_chars {
        return Err(field(name, format!("1 to {max_chars} characters")));
    }
    Ok(value)
}

fn instrument_id(value: String) -> Result<String, RecordError> {
    let (owner, local_id) = value
        .split_once('/')
        .ok_or_else(|| field("instruments", "institution/local_id"))?;
    institution("instruments", owner)?;
    check_local_id(local_id.to_owned())
        .map_err(|_| field("instruments", "institution/local_id"))?;
    Ok(value)
}

/// Whether `text` is a calendar date `YYYY-MM-DD` (Gregorian, years 1900–2999).
fn is_valid_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return false;
    }
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<u32>(),
        month.parse::<u32>(),
        day.parse::<u32>(),
    ) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..3000).contains(&year) && (1..=days).contains(&day)
}

impl Publication {
    fn to_proto(&self) -> proto::Publication {
        proto::Publication {
            publication_id: self.publication_id.clone(),
            home_institution: self.home_institution.to_string(),
            user_id: self.user_id.clone(),
            kind: kind_to_proto(self.kind) as i32,
            title: self.title.clone(),
            authors: self.authors.clone(),
            identifier: self.identifier.clone(),
            acknowledgement: self.acknowledgement.clone(),
            instruments: self.instruments.clone(),
            published_on: self.published_on.clone(),
            registered_at: self.registered_at.0,
        }
    }

    /// Signs with the home node's key; returns the encoded envelope.
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(home, Domain::PUBLICATION, self.to_proto().encode_to_vec()).encode()
    }

    /// Checks what [`Publication::open`] checks, without a signature.
    pub fn validate(&self) -> Result<(), PublicationError> {
        read(&self.to_proto().encode_to_vec()).map(drop)
    }

    /// Reads a publication signed by `home`.
    pub fn open(bytes: &[u8], home: &PublicKey) -> Result<Publication, PublicationError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        read(envelope.open_from(Domain::PUBLICATION, home)?)
    }
}

fn read(payload: &[u8]) -> Result<Publication, PublicationError> {
    let raw =
        proto::Publication::decode(payload).map_err(|e| RecordError::Malformed(e.to_string()))?;
    if !is_valid_booking_id(&raw.publication_id) {
        return Err(field("publication_id", "1 to 64 of A-Z a-z 0-9 - _").into());
    }
    let kind = match proto::PublicationKind::try_from(raw.kind) {
        Ok(proto::PublicationKind::Paper) => PublicationKind::Paper,
        Ok(proto::PublicationKind::Patent) => PublicationKind::Patent,
        Ok(proto::PublicationKind::Report) => PublicationKind::Report,
        _ => return Err(field("kind", "paper, patent or report").into()),
    };
    if raw.instruments.is_empty() || raw.instruments.len() > MAX_PUBLICATION_INSTRUMENTS {
        return Err(field("instruments", "one to ten instruments").into());
    }
    if !is_valid_date(&raw.published_on) {
        return Err(field("published_on", "YYYY-MM-DD").into());
    }
    if raw.user_id.is_empty() || raw.user_id.len() > crate::record::MAX_SHORT_TEXT {
        return Err(field("user_id", "required, at most 256 bytes").into());
    }
    Ok(Publication {
        publication_id: booking_id(raw.publication_id)?,
        home_institution: institution("home_institution", &raw.home_institution)?,
        user_id: raw.user_id,
        kind,
        title: text("title", raw.title, MAX_TITLE_CHARS)?,
        authors: text("authors", raw.authors, MAX_AUTHORS_CHARS)?,
        identifier: text("identifier", raw.identifier, MAX_IDENTIFIER_CHARS)?,
        acknowledgement: text(
            "acknowledgement",
            raw.acknowledgement,
            MAX_ACKNOWLEDGEMENT_CHARS,
        )?,
        instruments: raw
            .instruments
            .into_iter()
            .map(instrument_id)
            .collect::<Result<_, _>>()?,
        published_on: raw.published_on,
        registered_at: UnixTime(raw.registered_at),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn paper() -> Publication {
        Publication {
            publication_id: "p-1".into(),
            home_institution: "neu".parse().unwrap(),
            user_id: "wang".into(),
            kind: PublicationKind::Paper,
            title: "Surface oxidation of Ti-6Al-4V studied by XPS".into(),
            authors: "王小明, 李华".into(),
            identifier: "10.1016/j.apsusc.2026.160001".into(),
            acknowledgement: "感谢大连理工大学分析测试中心 XPS 测试支持".into(),
            instruments: vec!["dlut/XPS-1".into()],
            published_on: "2026-09-01".into(),
            registered_at: UnixTime(1_796_000_000),
        }
    }

    #[test]
    fn a_publication_round_trips_under_its_homes_signature_only() {
        let home = SecretKey::generate();
        let sealed = paper().seal(&home);
        assert_eq!(Publication::open(&sealed, &home.public()).unwrap(), paper());
        assert!(Publication::open(&sealed, &SecretKey::generate().public()).is_err());
        let kind = crate::mail::kind_of(&sealed).unwrap();
        assert_eq!(kind, Domain::PUBLICATION.0);
    }

    #[test]
    fn one_work_has_one_key_however_its_identifier_is_written() {
        let key = paper().work_key();
        for written in [
            "https://doi.org/10.1016/J.APSUSC.2026.160001",
            " doi:10.1016/j.apsusc.2026.160001 ",
            "10.1016/j.apsusc. 2026.160001",
        ] {
            let p = Publication {
                identifier: written.into(),
                ..paper()
            };
            assert_eq!(p.work_key(), key, "{written}");
        }
        let other = Publication {
            identifier: "10.1016/j.apsusc.2026.160002".into(),
            ..paper()
        };
        assert_ne!(other.work_key(), key);
        let patent = Publication {
            kind: PublicationKind::Patent,
            ..paper()
        };
        assert_ne!(patent.work_key(), key);
    }

    #[test]
    fn bad_publications_name_the_field() {
        let field_of = |p: Publication| match p.validate() {
            Err(PublicationError::Invalid(RecordError::Field { field, .. })) => field,
            other => panic!("not refused by field: {other:?}"),
        };
        assert_eq!(
            field_of(Publication {
                instruments: vec![],
                ..paper()
            }),
            "instruments"
        );
        assert_eq!(
            field_of(Publication {
                instruments: vec!["XPS-1".into()],
                ..paper()
            }),
            "instruments"
        );
        assert_eq!(
            field_of(Publication {
                title: " ".into(),
                ..paper()
            }),
            "title"
        );
        assert_eq!(
            field_of(Publication {
                published_on: "2026-13-01".into(),
                ..paper()
            }),
            "published_on"
        );
        assert_eq!(
            field_of(Publication {
                acknowledgement: "谢".repeat(1001),
                ..paper()
            }),
            "acknowledgement"
        );
        assert_eq!(
            field_of(Publication {
                published_on: "2025-02-29".into(),
                ..paper()
            }),
            "published_on"
        );
        assert!(
            Publication {
                published_on: "2024-02-29".into(),
                ..paper()
            }
            .validate()
            .is_ok()
        );
    }
}
