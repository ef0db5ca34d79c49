//! Which instruments could do what a need asks (R3): those in a category the need names,
//! or found by one of its keywords, that offer a service mode it wants, are in service,
//! are shared with its user, and — ranked first — have a free hour before its deadline.
//! Each category and keyword is one query of the catalogue's search index.

use std::collections::BTreeMap;

use alliance_protocol::{InstitutionId, Need, record::InstrumentStatus};

use crate::catalogue::{Catalogue, InstrumentView, SearchRequest, search::IndexQuery};

/// Instruments each query of a need may bring.
const PER_QUERY: usize = 50;

/// Why an instrument was proposed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Category(String),
    Keyword(String),
}

/// An instrument proposed for a need.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub instrument: InstrumentView,
    pub reasons: Vec<Reason>,
    /// A free hour between today and the deadline, by the owner's digest.
    pub free_before_deadline: bool,
}

/// The instruments proposed for `need` (only `institution`'s, if given), best first:
/// free before the deadline, then by how many of its categories and keywords they meet.
pub fn propose(
    catalogue: &Catalogue,
    need: &Need,
    institution: Option<&InstitutionId>,
    today: &str,
    limit: usize,
) -> Vec<Proposal> {
    let probes = need
        .categories
        .iter()
        .map(|c| {
            (
                Reason::Category(c.clone()),
                IndexQuery {
                    category: Some(c.clone()),
                    ..IndexQuery::default()
                },
            )
        })
        .chain(need.keywords.iter().map(|k| {
            (
                Reason::Keyword(k.clone()),
                IndexQuery {
                    text: k.clone(),
                    ..IndexQuery::default()
                },
            )
        }));
    let mut found: BTreeMap<String, Proposal> = BTreeMap::new();
    for (reason, mut query) in probes {
        query.institution = institution.cloned();
        let request = SearchRequest {
            query,
            free_between: None,
            offset: 0,
            limit: PER_QUERY,
        };
        let results = match catalogue.search(&request) {
            Ok(results) => results,
            Err(e) => {
                tracing::warn!(need = need.id(), error = %e, "a matching query failed");
                continue;
            }
        };
        for view in results.items {
            let record = &view.record;
            let suits = record.status == InstrumentStatus::InService
                && record.service_modes.iter().any(|m| need.modes.contains(m))
                && record
                    .sharing_scope
                    .admits(need.tier_at(&record.institution_id));
            if !suits {
                continue;
            }
            let id = record.id();
            let free_before_deadline = catalogue.free_between(&id, today, &need.deadline);
            found
                .entry(id)
                .or_insert_with(|| Proposal {
                    instrument: view.clone(),
                    reasons: Vec::new(),
                    free_before_deadline,
                })
                .reasons
                .push(reason.clone());
        }
    }
    let mut proposals: Vec<Proposal> = found.into_values().collect();
    proposals.sort_by(|a, b| {
        b.free_before_deadline
            .cmp(&a.free_before_deadline)
            .then(b.reasons.len().cmp(&a.reasons.len()))
            .then(a.instrument.record.id().cmp(&b.instrument.record.id()))
    });
    proposals.truncate(limit);
    proposals
}
