//! How institutions answered needs (R3, R19), as the response indicator counts them:
//! for each offer the province first stored in the period, the hours from its own first
//! sighting of the need to its first sighting of the offer (its clock: no member can
//! backdate what it signs), and whether the user accepted it. Offers on a need of the
//! offering institution's own home are left out (answering one's own users says nothing
//! of service to others), and so are withdrawn ones. A pair of friends could post needs
//! only to answer them at once: at most [`MAX_PER_PAIR`] answers count per home and
//! offering institution in a period, the earliest first.

use std::collections::{BTreeMap, HashSet};

use alliance_protocol::{InstitutionId, UnixTime};

use super::metrics::Period;

/// Answers counted per (need home, offering institution) in a period.
pub const MAX_PER_PAIR: usize = 20;

/// One offer as the province saw it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The need, `home/local_id`.
    pub need: String,
    /// The offering institution.
    pub institution: InstitutionId,
    /// The offered instrument, `institution/local_id`.
    pub instrument: String,
    /// The province's first sightings of the need and of the offer.
    pub need_seen: i64,
    pub offer_seen: i64,
    /// Whether the need's home accepted this offer.
    pub accepted: bool,
}

impl Answer {
    fn home(&self) -> Option<&str> {
        self.need.split_once('/').map(|(home, _)| home)
    }

    /// Whether it answers a need of the offering institution's own home.
    pub fn to_own_home(&self) -> bool {
        self.home() == Some(self.institution.as_str())
    }

    /// Whether it is counted at all: a real answer, in the period, to another home.
    pub fn counts_in(&self, period: &Period) -> bool {
        let offer_seen = UnixTime(self.offer_seen);
        let own_instrument = self
            .instrument
            .split_once('/')
            .is_some_and(|(owner, _)| owner == self.institution.as_str());
        period.from <= offer_seen
            && offer_seen < period.to
            && own_instrument
            && self.home().is_some()
            && !self.to_own_home()
    }
}

/// One instrument's answers over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerFigures {
    pub response_hours_sum: f64,
    pub responses: u32,
    pub offers: u32,
    pub accepted: u32,
}

/// Each instrument's answers over `period`, by instrument id.
pub fn answer_figures<'a>(
    answers: impl IntoIterator<Item = &'a Answer>,
    period: &Period,
) -> BTreeMap<String, AnswerFigures> {
    let mut counted: Vec<&Answer> = answers
        .into_iter()
        .filter(|a| a.counts_in(period))
        .collect();
    counted.sort_by(|a, b| {
        (a.offer_seen, &a.need, &a.institution).cmp(&(b.offer_seen, &b.need, &b.institution))
    });
    let mut seen: HashSet<(&str, &InstitutionId)> = HashSet::new();
    let mut per_pair: BTreeMap<(&str, &InstitutionId), usize> = BTreeMap::new();
    let mut figures: BTreeMap<String, AnswerFigures> = BTreeMap::new();
    for answer in counted {
        // One answer per need and institution, whatever the evidence repeats.
        if !seen.insert((answer.need.as_str(), &answer.institution)) {
            continue;
        }
        let home = answer.home().unwrap_or_default();
        let pair = per_pair.entry((home, &answer.institution)).or_default();
        if *pair >= MAX_PER_PAIR {
            continue;
        }
        *pair += 1;
        let entry = figures.entry(answer.instrument.clone()).or_default();
        entry.response_hours_sum += (answer.offer_seen - answer.need_seen).max(0) as f64 / 3_600.0;
        entry.responses += 1;
        entry.offers += 1;
        entry.accepted += u32::from(answer.accepted);
    }
    figures
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600;

    fn period() -> Period {
        Period {
            from: UnixTime(1_000 * HOUR),
            to: UnixTime(2_000 * HOUR),
        }
    }

    fn answer(need: &str, by: &str, need_seen: i64, offer_seen: i64) -> Answer {
        Answer {
            need: need.into(),
            institution: by.parse().unwrap(),
            instrument: format!("{by}/sem-1"),
            need_seen,
            offer_seen,
            accepted: false,
        }
    }

    #[test]
    fn hours_run_from_the_need_to_the_offer_as_the_province_saw_them() {
        let mut accepted = answer("neu/n1", "dlut", 1_100 * HOUR, 1_104 * HOUR);
        accepted.accepted = true;
        let answers = [
            accepted,
            answer("lnu/n2", "dlut", 1_200 * HOUR, 1_202 * HOUR),
        ];
        let figures = answer_figures(&answers, &period());
        let dlut = &figures["dlut/sem-1"];
        assert_eq!(dlut.response_hours_sum, 6.0);
        assert_eq!((dlut.responses, dlut.offers, dlut.accepted), (2, 2, 1));
    }

    #[test]
    fn own_homes_withdrawn_outside_the_period_and_others_instruments_count_nothing() {
        let mut foreign = answer("neu/n3", "dlut", 1_100 * HOUR, 1_101 * HOUR);
        foreign.instrument = "neu/sem-1".into();
        let answers = [
            answer("dlut/n1", "dlut", 1_100 * HOUR, 1_101 * HOUR),
            answer("neu/n2", "dlut", 900 * HOUR, 999 * HOUR),
            answer("neu/n2", "dlut", 2_000 * HOUR, 2_001 * HOUR),
            foreign,
            answer("garbage", "dlut", 1_100 * HOUR, 1_101 * HOUR),
        ];
        assert!(answer_figures(&answers, &period()).is_empty());
    }

    #[test]
    fn a_need_counts_once_and_a_pair_of_friends_at_most_the_cap() {
        let mut answers: Vec<Answer> = (0..50)
            .map(|i| answer(&format!("neu/n{i}"), "dlut", 1_100 * HOUR, 1_100 * HOUR + i))
            .collect();
        answers.push(answers[0].clone());
        answers.push(answer("lnu/n1", "dlut", 1_100 * HOUR, 1_110 * HOUR));
        let figures = answer_figures(&answers, &period());
        assert_eq!(figures["dlut/sem-1"].responses as usize, MAX_PER_PAIR + 1);
    }

    #[test]
    fn an_offer_seen_before_its_need_counts_zero_hours() {
        let answers = [answer("neu/n1", "dlut", 1_100 * HOUR, 1_050 * HOUR)];
        let figures = answer_figures(&answers, &period());
        assert_eq!(figures["dlut/sem-1"].response_hours_sum, 0.0);
    }
}
