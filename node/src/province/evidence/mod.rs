//! The evidence of a results statement besides the log's receipts: what the results are
//! computed from, each item as signed by whoever said it.
//!
//! - Membership certificates, signed by the province's root key: which node key speaks
//!   for which institution (every other signature is checked against them).
//! - Instrument records, as their owners signed them in the catalogue.
//! - Members' booking service statistics and registered publications, as their nodes
//!   signed them.
//! - The province's own word, covered by the statement's signature: the first sighting of
//!   each record (its networked date), monitoring uptime over the period as the
//!   province's board measured it from members' heartbeats, institution names, and
//!   each offer on a need it first stored in the period with its first sightings of
//!   both (the response indicator counts them; an offering member can check them
//!   against its own).
//!
//! [`open`] checks every signature and reads the items into [`Inputs`]; the province
//! computes a statement's figures through it, and so does anyone verifying them.

mod entries;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use alliance_protocol::{
    InstitutionId, InstrumentRecord, PublicKey, SignedCertificate, UnixTime,
    entry::{EntryBody, UnverifiedEntry},
    envelope::SignedEnvelope,
    publication::Publication,
    stats::ServiceStatistics,
};

pub use entries::verify_entry;

use super::results::OtherFacts;
use crate::{
    evaluation::{
        answers::{Answer, answer_figures},
        metrics::Period,
    },
    receipts::{publications::published_in, statistics::figures_of},
};

/// One item of evidence. Its exact bytes are what the statement's digest covers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EvidenceItem {
    /// A membership certificate, signed by the province's root key (hex).
    Certificate { signed: String },
    /// An instrument record as its owner signed it: a catalogue entry (hex).
    Record { signed: String },
    /// When the province first stored the record: the instrument's networked date.
    FirstSeen { instrument: String, at: i64 },
    /// The instrument's monitoring uptime over the period (0–1), as the province's board
    /// measured it from the owner's heartbeats.
    Uptime { instrument: String, uptime: f64 },
    /// An institution's name (Chinese) on the results.
    Name {
        institution: InstitutionId,
        name_zh: String,
    },
    /// A member's latest booking service statistics, signed by its node (hex).
    Statistics { signed: String },
    /// A publication registered by a member, signed by the author's home node (hex).
    Publication { signed: String },
    /// An offer on a need as the province saw it (its own word, like first sightings):
    /// not the signed entries, whose prices and texts are not the public's.
    Answer(Answer),
}

impl EvidenceItem {
    /// The item's bytes as stored and served.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Strings and numbers only: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// What the results are computed from besides the log, read from checked evidence.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Certified node keys and the institutions they speak for.
    pub keys: HashMap<[u8; 32], BTreeSet<InstitutionId>>,
    /// With their networked dates the province's first sightings.
    pub records: Vec<InstrumentRecord>,
    pub names: BTreeMap<InstitutionId, String>,
    /// Those published in the period.
    pub publications: Vec<Publication>,
    /// By instrument id.
    pub facts: BTreeMap<String, OtherFacts>,
}

impl Inputs {
    /// Whether `key` is certified for `institution`.
    pub fn speaks_for(&self, key: &[u8; 32], institution: &InstitutionId) -> bool {
        self.keys
            .get(key)
            .is_some_and(|ids| ids.contains(institution))
    }

    fn certified(&self, key: &[u8; 32], institution: &InstitutionId) -> Result<PublicKey, String> {
        if !self.speaks_for(key, institution) {
            return Err(format!(
                "signed by {}, no certified key of {institution}",
                hex::encode(key)
            ));
        }
        PublicKey::from_bytes(key).map_err(|e| e.to_string())
    }
}

/// Why evidence was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("evidence item {index}: {problem}")]
pub struct EvidenceError {
    pub index: usize,
    pub problem: String,
}

/// A networked date as the results show it: the day of `at` in Asia/Shanghai.
pub fn networked_date(at: UnixTime) -> String {
    chrono::DateTime::from_timestamp(at.0, 0)
        .map(|t| {
            t.with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_default()
}

/// Checks every item's signature against the certificates among them (themselves
/// checked against `root`) and reads them for `period`.
pub fn open(items: &[Vec<u8>], root: &PublicKey, period: &Period) -> Result<Inputs, EvidenceError> {
    let parsed: Vec<EvidenceItem> = items
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            serde_json::from_slice(bytes).map_err(|e| EvidenceError {
                index,
                problem: e.to_string(),
            })
        })
        .collect::<Result<_, _>>()?;
    let mut inputs = Inputs::default();
    for (index, item) in parsed.iter().enumerate() {
        if let EvidenceItem::Certificate { signed } = item {
            let certificate = hex::decode(signed)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    SignedCertificate::decode(&bytes, root).map_err(|e| e.to_string())
                })
                .map_err(|problem| EvidenceError { index, problem })?;
            let certificate = certificate.certificate();
            inputs
                .keys
                .entry(certificate.node_public_key.to_bytes())
                .or_default()
                .insert(certificate.institution_id.clone());
        }
    }
    let mut first_seen = HashMap::new();
    let mut uptime = HashMap::new();
    let mut reports = Vec::new();
    let mut answers = Vec::new();
    for (index, item) in parsed.into_iter().enumerate() {
        let refused = |problem: String| EvidenceError { index, problem };
        match item {
            EvidenceItem::Certificate { .. } => {}
            EvidenceItem::Record { signed } => {
                let record = open_record(&inputs, &signed).map_err(refused)?;
                inputs.records.push(record);
            }
            EvidenceItem::FirstSeen { instrument, at } => {
                first_seen.insert(instrument, UnixTime(at));
            }
            EvidenceItem::Uptime {
                instrument,
                uptime: value,
            } => {
                if !(0.0..=1.0).contains(&value) {
                    return Err(refused(format!("uptime {value} is not within 0 to 1")));
                }
                uptime.insert(instrument, value);
            }
            EvidenceItem::Name {
                institution,
                name_zh,
            } => {
                inputs.names.insert(institution, name_zh);
            }
            EvidenceItem::Statistics { signed } => {
                let report = open_statistics(&inputs, &signed).map_err(refused)?;
                if reports
                    .iter()
                    .any(|r: &ServiceStatistics| r.institution_id == report.institution_id)
                {
                    return Err(refused(format!(
                        "a second report of {}",
                        report.institution_id
                    )));
                }
                reports.push(report);
            }
            EvidenceItem::Publication { signed } => {
                let publication = open_publication(&inputs, &signed).map_err(refused)?;
                if published_in(&publication.published_on, period) {
                    inputs.publications.push(publication);
                }
            }
            EvidenceItem::Answer(answer) => answers.push(answer),
        }
    }
    let answered = answer_figures(&answers, period);
    for record in &mut inputs.records {
        let id = record.id();
        record.networked_date = first_seen
            .get(&id)
            .map(|at| networked_date(*at))
            .unwrap_or_default();
        let report = reports
            .iter()
            .find(|r| r.institution_id == record.institution_id);
        let figures = report
            .map(|r| figures_of(r, &record.local_id, period))
            .unwrap_or_default();
        let facts = OtherFacts {
            uptime: uptime.get(&id).copied(),
            response_hours_sum: figures.response_seconds as f64 / 3_600.0,
            responses: figures.responses,
            requests: figures.requests,
            rejections: figures.rejections,
            ..OtherFacts::default()
        };
        inputs
            .facts
            .insert(id.clone(), facts.with_answers(answered.get(&id)));
    }
    Ok(inputs)
}

fn open_record(inputs: &Inputs, signed: &str) -> Result<InstrumentRecord, String> {
    let bytes = hex::decode(signed).map_err(|e| e.to_string())?;
    let unverified = UnverifiedEntry::decode(&bytes).map_err(|e| e.to_string())?;
    let signer = unverified.signer_bytes();
    // The origin is read only after the signature is checked: try the key as whichever
    // institution it is certified for, then require the entry to be that one's.
    let ids = inputs
        .keys
        .get(&signer)
        .ok_or_else(|| format!("record signed by {}, no certified key", hex::encode(signer)))?;
    let key = PublicKey::from_bytes(&signer).map_err(|e| e.to_string())?;
    let entry = unverified.verify(&key).map_err(|e| e.to_string())?;
    let EntryBody::Instrument(record) = entry.body else {
        return Err("not an instrument record".into());
    };
    if !ids.contains(&record.institution_id) {
        return Err(format!(
            "record of {} signed by a key of another institution",
            record.institution_id
        ));
    }
    Ok(*record)
}

fn open_statistics(inputs: &Inputs, signed: &str) -> Result<ServiceStatistics, String> {
    let bytes = hex::decode(signed).map_err(|e| e.to_string())?;
    let signer = SignedEnvelope::decode(&bytes)
        .map_err(|e| e.to_string())?
        .signer_bytes();
    let key = PublicKey::from_bytes(&signer).map_err(|e| e.to_string())?;
    let report = ServiceStatistics::open(&bytes, &key).map_err(|e| e.to_string())?;
    inputs.certified(&signer, &report.institution_id)?;
    Ok(report)
}

fn open_publication(inputs: &Inputs, signed: &str) -> Result<Publication, String> {
    let bytes = hex::decode(signed).map_err(|e| e.to_string())?;
    let signer = SignedEnvelope::decode(&bytes)
        .map_err(|e| e.to_string())?
        .signer_bytes();
    let key = PublicKey::from_bytes(&signer).map_err(|e| e.to_string())?;
    let publication = Publication::open(&bytes, &key).map_err(|e| e.to_string())?;
    inputs.certified(&signer, &publication.home_institution)?;
    Ok(publication)
}

#[cfg(test)]
mod tests;
