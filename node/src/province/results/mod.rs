//! The province's published results (R14–R16): every instrument and institution
//! evaluated over a period from the receipts in the log, the catalogue and the facts the
//! province holds, then the sanctions list. Each instrument's figures name the log
//! entries they come from, so anyone holding the log can recompute them.
//!
//! - `results.rs`: [`compute`], pure.
//! - `results/logged.rs`: reading the log's entries back as uses.
//! - `results/export.rs`: CSV and JSON of the results.

mod export;
mod logged;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use alliance_protocol::{InstitutionId, InstrumentRecord, publication::Publication};
use chrono::NaiveDate;

pub use export::{ResultRow, rows, to_csv, to_json};
pub use logged::{LoggedUse, read_log};

use crate::{
    compliance::reporting::{Standing, standing},
    evaluation::{
        answers::AnswerFigures,
        awards::{Evaluated, SanctionReason, sanctions},
        config::EvaluationConfig,
        metrics::{Countersign, InstrumentFacts, Metrics, Period, Use},
        scoring::{Evaluation, evaluate},
    },
};

/// Facts about an instrument that do not come from receipts or the catalogue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtherFacts {
    pub uptime: Option<f64>,
    pub response_hours_sum: f64,
    pub responses: u32,
    pub requests: u32,
    pub rejections: u32,
    pub offers: u32,
    pub offers_accepted: u32,
}

impl OtherFacts {
    /// These facts with the instrument's answers to needs added to its responses.
    pub fn with_answers(mut self, answers: Option<&AnswerFigures>) -> OtherFacts {
        if let Some(a) = answers {
            self.response_hours_sum += a.response_hours_sum;
            self.responses += a.responses;
            self.offers += a.offers;
            self.offers_accepted += a.accepted;
        }
        self
    }
}

/// What the results are computed from.
pub struct ResultsInput<'a> {
    pub config: &'a EvaluationConfig,
    pub period: Period,
    /// The day compliance is judged on (Asia/Shanghai).
    pub today: NaiveDate,
    /// Every use in the log (those outside the period are skipped).
    pub uses: &'a [LoggedUse],
    /// The catalogue's records, all institutions.
    pub records: &'a [InstrumentRecord],
    /// Institution names (Chinese), for the page.
    pub names: &'a BTreeMap<InstitutionId, String>,
    /// Publications registered with a publication date in the period.
    pub publications: &'a [Publication],
    pub other: &'a dyn Fn(&str) -> OtherFacts,
}

impl std::fmt::Debug for ResultsInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultsInput")
            .field("period", &self.period)
            .field("uses", &self.uses.len())
            .finish_non_exhaustive()
    }
}

/// One instrument's results.
#[derive(Debug, Clone)]
pub struct InstrumentResult {
    pub id: String,
    pub name_zh: String,
    pub metrics: Metrics,
    pub evaluation: Evaluation,
    pub compliance: Standing,
    /// The log indices of the receipts counted.
    pub entries: Vec<u64>,
}

/// One institution's results: its instruments' figures added up, then scored.
#[derive(Debug, Clone)]
pub struct InstitutionResult {
    pub id: InstitutionId,
    pub name_zh: String,
    pub metrics: Metrics,
    pub evaluation: Evaluation,
    pub instruments: Vec<InstrumentResult>,
    /// Instruments reported late, missing, or beyond the known calendar.
    pub late_or_missing: usize,
}

/// A receipt of the period its user's home disputed, with the home's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    /// Its index in the log.
    pub index: u64,
    /// `institution/local_id`.
    pub instrument: String,
    pub receipt_id: String,
    pub home: InstitutionId,
    pub reason: String,
}

/// The results of a period.
#[derive(Debug, Clone)]
pub struct Results {
    pub period: Period,
    /// How many log entries were read.
    pub log_size: u64,
    pub institutions: Vec<InstitutionResult>,
    pub sanctions: Vec<(InstitutionId, Vec<SanctionReason>)>,
    /// Disputed receipts of the period, in log order.
    pub disputes: Vec<Dispute>,
}

impl Results {
    /// The institutions as the subsidy allocation and sanctions take them.
    pub fn evaluated(&self) -> Vec<Evaluated> {
        self.institutions
            .iter()
            .map(|i| Evaluated {
                institution: i.id.clone(),
                evaluation: i.evaluation.clone(),
                metrics: i.metrics.clone(),
                late_or_missing: i.late_or_missing,
            })
            .collect()
    }
}

/// Whether the reporting rule applied to the instrument in the period: its deadline fell
/// in it (or, still missing, before its end). An instrument put on the network late in
/// an earlier year does not count against a later one; one still missing counts every
/// year until it is reported; one beyond the known calendar is left to a person and
/// counts.
fn reporting_due_in(compliance: &Standing, period: &Period) -> bool {
    let midnight = |day: NaiveDate| {
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(chrono_tz::Asia::Shanghai).single())
            .map(|t| alliance_protocol::UnixTime(t.timestamp()))
    };
    let within = |day: NaiveDate| midnight(day).is_some_and(|t| period.from <= t && t < period.to);
    match compliance {
        Standing::OnTime { deadline } | Standing::Late { deadline, .. } => within(*deadline),
        Standing::Missing { deadline, .. } => midnight(*deadline).is_some_and(|t| t < period.to),
        // Undecidable: left to a person, and counted until decided. An instrument of
        // 300,000 yuan or more without an acceptance date is flagged every period, not
        // exempt (leaving the date out would otherwise escape the rule).
        Standing::BeyondCalendar { .. } | Standing::NoAcceptanceDate => true,
        Standing::NotRequired | Standing::Pending { .. } => false,
    }
}

/// Publications that count, per instrument: each work (DOI, patent or report number)
/// once, however many register it, and only from a user who used the instrument by a
/// receipt their home confirmed — a registration is the user's home's word, and a member
/// cannot raise an instrument's figure by naming it in papers of people who never used it.
fn publications_per_instrument(
    publications: &[Publication],
    uses: &[LoggedUse],
) -> BTreeMap<String, usize> {
    let used: HashSet<(String, &InstitutionId, &str)> = uses
        .iter()
        .filter(|u| matches!(u.countersign, Countersign::Confirmed { .. }))
        .map(|u| {
            let r = &u.receipt;
            (r.instrument_id(), &r.home_institution, r.user_id.as_str())
        })
        .collect();
    let mut works: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in publications {
        let key = p.work_key();
        for instrument in &p.instruments {
            if used.contains(&(instrument.clone(), &p.home_institution, p.user_id.as_str())) {
                works
                    .entry(instrument.clone())
                    .or_default()
                    .insert(key.clone());
            }
        }
    }
    works
        .into_iter()
        .map(|(id, keys)| (id, keys.len()))
        .collect()
}

/// Evaluates every instrument in the catalogue, and every institution owning one.
pub fn compute(input: &ResultsInput<'_>) -> Results {
    let publications = publications_per_instrument(input.publications, input.uses);
    let mut by_instrument: BTreeMap<String, Vec<&LoggedUse>> = BTreeMap::new();
    let mut disputes = Vec::new();
    for logged in input.uses {
        if input.period.from <= logged.receipt.start && logged.receipt.start < input.period.to {
            if let Some(reason) = &logged.dispute {
                disputes.push(Dispute {
                    index: logged.index,
                    instrument: logged.receipt.instrument_id(),
                    receipt_id: logged.receipt.receipt_id.clone(),
                    home: logged.receipt.home_institution.clone(),
                    reason: reason.clone(),
                });
            }
            by_instrument
                .entry(logged.receipt.instrument_id())
                .or_default()
                .push(logged);
        }
    }
    let mut institutions: BTreeMap<InstitutionId, Vec<InstrumentResult>> = BTreeMap::new();
    for record in input.records {
        let id = format!("{}/{}", record.institution_id, record.local_id);
        let other = (input.other)(&id);
        let compliance = standing(record, input.today);
        let due_in_period = reporting_due_in(&compliance, &input.period);
        let facts = InstrumentFacts {
            rated_hours_year: input.config.rated_hours.of(&record.classification_code),
            publications: publications
                .get(&id)
                .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
            uptime: other.uptime,
            response_hours_sum: other.response_hours_sum,
            responses: other.responses,
            requests: other.requests,
            rejections: other.rejections,
            offers: other.offers,
            offers_accepted: other.offers_accepted,
            reporting_required: due_in_period,
            reported_on_time: due_in_period && matches!(compliance, Standing::OnTime { .. }),
        };
        let uses = by_instrument.remove(&id).unwrap_or_default();
        let metrics = Metrics::of_instrument(
            &facts,
            uses.iter().map(|u| Use {
                receipt: &u.receipt,
                countersign: u.countersign,
            }),
            &input.period,
        );
        institutions
            .entry(record.institution_id.clone())
            .or_default()
            .push(InstrumentResult {
                evaluation: evaluate(input.config, &metrics),
                name_zh: record.name_zh.clone(),
                entries: uses.iter().map(|u| u.index).collect(),
                id,
                metrics,
                compliance,
            });
    }
    let institutions: Vec<InstitutionResult> = institutions
        .into_iter()
        .map(|(id, instruments)| {
            let mut metrics = Metrics::default();
            for instrument in &instruments {
                metrics.add(&instrument.metrics);
            }
            InstitutionResult {
                name_zh: input
                    .names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string()),
                evaluation: evaluate(input.config, &metrics),
                late_or_missing: instruments
                    .iter()
                    .filter(|i| {
                        i.compliance.needs_attention()
                            && reporting_due_in(&i.compliance, &input.period)
                    })
                    .count(),
                id,
                metrics,
                instruments,
            }
        })
        .collect();
    let mut results = Results {
        period: input.period,
        log_size: input.uses.len() as u64,
        institutions,
        sanctions: Vec::new(),
        disputes,
    };
    results.sanctions = sanctions(&input.config.sanctions, &results.evaluated());
    results
}
