//! How fast and how well each institution answers needs (R3): offers made, offers
//! accepted, and the hours from a need's first sighting here to the institution's offer's
//! first sighting here (at the province, the province's own clock: no member can
//! backdate an offer it signs). Offers on a need of the offering institution's own home
//! are left out: answering one's own users says nothing of service to others.

use std::collections::BTreeMap;

use alliance_protocol::{InstitutionId, NeedState};

use super::view::BoardView;
use crate::{catalogue::Catalogue, evaluation::answers::Answer};

/// One institution's answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseStats {
    pub offers: u32,
    pub accepted: u32,
    /// Median hours from a need to this institution's offer, when timed.
    pub median_hours: Option<f64>,
}

impl ResponseStats {
    /// Offers accepted per offer made.
    pub fn acceptance_rate(&self) -> Option<f64> {
        (self.offers > 0).then(|| f64::from(self.accepted) / f64::from(self.offers))
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// Every offering institution's answers.
pub type AllStats = BTreeMap<InstitutionId, ResponseStats>;

/// Every offer not withdrawn, with this node's first sightings of it and its need
/// (offers on the offering institution's own home included: [`Answer::counts_in`]
/// leaves them out).
pub fn answers(view: &BoardView, catalogue: &Catalogue) -> Vec<Answer> {
    let mut answers = Vec::new();
    for need in view.all_needs() {
        let Some(need_seen) =
            catalogue.first_seen_slot(&need.home, &format!("n/{}", need.local_id))
        else {
            continue;
        };
        for offer in view.offers_for(&need.id()) {
            if offer.withdrawn {
                continue;
            }
            let Some(offer_seen) = catalogue.first_seen_slot(
                &offer.institution_id,
                &format!("o/{}/{}", need.home, need.local_id),
            ) else {
                continue;
            };
            answers.push(Answer {
                need: need.id(),
                institution: offer.institution_id.clone(),
                instrument: offer.instrument_id(),
                need_seen: need_seen.0,
                offer_seen: offer_seen.0,
                accepted: matches!(&need.state, NeedState::Accepted { institution, .. } if *institution == offer.institution_id),
            });
        }
    }
    answers
}

/// Every offering institution's answers, as this node saw them.
pub fn response_stats(view: &BoardView, catalogue: &Catalogue) -> AllStats {
    let mut hours: BTreeMap<InstitutionId, Vec<f64>> = BTreeMap::new();
    let mut stats: BTreeMap<InstitutionId, ResponseStats> = BTreeMap::new();
    for answer in answers(view, catalogue) {
        if answer.to_own_home() {
            continue;
        }
        let entry = stats.entry(answer.institution.clone()).or_default();
        entry.offers += 1;
        entry.accepted += u32::from(answer.accepted);
        hours
            .entry(answer.institution)
            .or_default()
            .push((answer.offer_seen - answer.need_seen).max(0) as f64 / 3_600.0);
    }
    for (institution, values) in hours {
        if let Some(entry) = stats.get_mut(&institution) {
            entry.median_hours = median(values);
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        let none = ResponseStats::default();
        assert_eq!(none.acceptance_rate(), None);
        let half = ResponseStats {
            offers: 4,
            accepted: 2,
            median_hours: None,
        };
        assert_eq!(half.acceptance_rate(), Some(0.5));
    }
}
