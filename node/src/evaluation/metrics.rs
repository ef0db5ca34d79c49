//! The measured figures of an instrument, or of an institution (the sum of its
//! instruments'), over a period: kept as sums and counts so that they add up across
//! instruments, with the ratios the indicators score computed from them.

use std::collections::BTreeSet;

use alliance_protocol::{InstitutionId, UnixTime, receipt::UsageReceipt};

use super::config::Metric;

/// A period of evaluation: a year, or a quarter; `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: UnixTime,
    pub to: UnixTime,
}

impl Period {
    /// Its share of a year, for rated hours.
    pub fn years(&self) -> f64 {
        (self.to.0 - self.from.0).max(0) as f64 / (365.0 * 86_400.0)
    }

    fn contains(&self, t: UnixTime) -> bool {
        self.from <= t && t < self.to
    }
}

/// What the user's home said of a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Countersign {
    /// Confirmed, with the user's rating (1–5).
    Confirmed { rating: u8 },
    /// Disputed: the home says the use was not as stated.
    Disputed,
    /// No answer from the home (the owner's word alone).
    Missing,
}

/// A logged use: the receipt, and its home's answer.
#[derive(Debug, Clone, Copy)]
pub struct Use<'a> {
    pub receipt: &'a UsageReceipt,
    pub countersign: Countersign,
}

/// What is known of an instrument over the period besides its receipts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstrumentFacts {
    /// Rated hours a year (额定机时).
    pub rated_hours_year: f64,
    /// Publications and patents acknowledging it, registered in the period.
    pub publications: u32,
    /// Share of the period its monitoring saw it up, if monitored.
    pub uptime: Option<f64>,
    /// Hours from booking requests to the owner's decisions and from needs to its
    /// offers, summed, and how many.
    pub response_hours_sum: f64,
    pub responses: u32,
    /// Booking requests answered, and those refused.
    pub requests: u32,
    pub rejections: u32,
    /// Offers made on other homes' needs, and those the user accepted.
    pub offers: u32,
    pub offers_accepted: u32,
    /// Whether reporting was required of it, and met (R7).
    pub reporting_required: bool,
    pub reported_on_time: bool,
}

/// Sums and counts, from which every metric follows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    pub instruments: u32,
    pub effective_minutes: u64,
    pub external_minutes: u64,
    pub rated_hours: f64,
    pub revenue_internal_fen: i64,
    pub revenue_external_fen: i64,
    /// Users served, as `home/user`.
    pub users: BTreeSet<String>,
    /// Other institutions whose users it served.
    pub institutions: BTreeSet<InstitutionId>,
    pub rating_sum: u64,
    pub ratings: u32,
    pub response_hours_sum: f64,
    pub responses: u32,
    pub requests: u32,
    pub rejections: u32,
    pub offers: u32,
    pub offers_accepted: u32,
    pub uptime_sum: f64,
    pub monitored: u32,
    pub publications: u32,
    pub reporting_required: u32,
    pub reported_on_time: u32,
    /// Confirmed receipts in the period: those the figures come from.
    pub receipts: u32,
    /// Receipts in the period that count for nothing: the owner's word alone, and those
    /// the user's home disputed. Shown beside the figures, never scored.
    pub unconfirmed: u32,
    pub disputed: u32,
}

impl Metrics {
    /// One instrument's figures: its receipts of uses that began in the period, and the
    /// other facts. Only receipts the user's home confirmed count: the owner alone
    /// signs what it likes, so a receipt without its home's signature, or disputed by
    /// it, is counted apart and moves no figure.
    pub fn of_instrument<'a>(
        facts: &InstrumentFacts,
        uses: impl IntoIterator<Item = Use<'a>>,
        period: &Period,
    ) -> Metrics {
        let mut m = Metrics {
            instruments: 1,
            rated_hours: facts.rated_hours_year * period.years(),
            response_hours_sum: facts.response_hours_sum,
            responses: facts.responses,
            requests: facts.requests,
            rejections: facts.rejections,
            offers: facts.offers,
            offers_accepted: facts.offers_accepted,
            uptime_sum: facts.uptime.unwrap_or(0.0),
            monitored: u32::from(facts.uptime.is_some()),
            publications: facts.publications,
            reporting_required: u32::from(facts.reporting_required),
            reported_on_time: u32::from(facts.reporting_required && facts.reported_on_time),
            ..Metrics::default()
        };
        for Use {
            receipt: r,
            countersign,
        } in uses
        {
            if !period.contains(r.start) {
                continue;
            }
            let rating = match countersign {
                Countersign::Confirmed { rating } => rating,
                Countersign::Disputed => {
                    m.disputed += 1;
                    continue;
                }
                Countersign::Missing => {
                    m.unconfirmed += 1;
                    continue;
                }
            };
            let minutes = r.effective_minutes();
            m.effective_minutes += minutes;
            if r.is_external() {
                m.external_minutes += minutes;
                m.revenue_external_fen += r.fees.total_fen();
            } else {
                m.revenue_internal_fen += r.fees.total_fen();
            }
            m.users
                .insert(format!("{}/{}", r.home_institution, r.user_id));
            if r.home_institution != r.institution_id {
                m.institutions.insert(r.home_institution.clone());
            }
            m.receipts += 1;
            m.rating_sum += u64::from(rating);
            m.ratings += 1;
        }
        m
    }

    /// Adds another instrument's figures (an institution's are its instruments' sum).
    pub fn add(&mut self, other: &Metrics) {
        self.instruments += other.instruments;
        self.effective_minutes += other.effective_minutes;
        self.external_minutes += other.external_minutes;
        self.rated_hours += other.rated_hours;
        self.revenue_internal_fen += other.revenue_internal_fen;
        self.revenue_external_fen += other.revenue_external_fen;
        self.users.extend(other.users.iter().cloned());
        self.institutions.extend(other.institutions.iter().cloned());
        self.rating_sum += other.rating_sum;
        self.ratings += other.ratings;
        self.response_hours_sum += other.response_hours_sum;
        self.responses += other.responses;
        self.offers += other.offers;
        self.offers_accepted += other.offers_accepted;
        self.requests += other.requests;
        self.rejections += other.rejections;
        self.uptime_sum += other.uptime_sum;
        self.monitored += other.monitored;
        self.publications += other.publications;
        self.reporting_required += other.reporting_required;
        self.reported_on_time += other.reported_on_time;
        self.receipts += other.receipts;
        self.unconfirmed += other.unconfirmed;
        self.disputed += other.disputed;
    }

    pub fn effective_hours(&self) -> f64 {
        self.effective_minutes as f64 / 60.0
    }

    pub fn external_hours(&self) -> f64 {
        self.external_minutes as f64 / 60.0
    }

    /// A metric's value; `None` where there is nothing to measure it by.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        let ratio = |num: f64, den: f64| (den > 0.0).then(|| num / den);
        match metric {
            Metric::Utilisation => ratio(self.effective_hours(), self.rated_hours),
            Metric::SharingRate => ratio(self.external_hours(), self.effective_hours()),
            Metric::AverageRating => ratio(self.rating_sum as f64, f64::from(self.ratings)),
            Metric::ResponseHours => ratio(self.response_hours_sum, f64::from(self.responses)),
            Metric::RejectionRate => ratio(f64::from(self.rejections), f64::from(self.requests)),
            Metric::InstitutionsServed => Some(self.institutions.len() as f64),
            Metric::UsersServed => Some(self.users.len() as f64),
            Metric::Publications => {
                ratio(f64::from(self.publications), f64::from(self.instruments))
            }
            Metric::MonitoringUptime => ratio(self.uptime_sum, f64::from(self.monitored)),
            Metric::ReportingOnTime => ratio(
                f64::from(self.reported_on_time),
                f64::from(self.reporting_required),
            ),
        }
    }
}
