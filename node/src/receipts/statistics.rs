//! On the province: the latest booking service statistics of each member (R14), and an
//! instrument's sums over a period (the months that begin in it).

use alliance_protocol::{
    MembershipCertificate, UnixTime,
    stats::{ServiceStatistics, StatisticsError},
};

use crate::{
    evaluation::metrics::Period,
    store::{Batch, Space, Store, StoreError},
};

/// An instrument's booking figures over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookingFigures {
    pub requests: u32,
    pub rejections: u32,
    pub responses: u32,
    pub response_seconds: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StatisticsRefusal {
    #[error(transparent)]
    Invalid(#[from] StatisticsError),
    #[error("{0} sent statistics of another institution")]
    NotYours(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The province's copy. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ServiceStats {
    store: Store,
}

fn month_start(month: &str) -> Option<UnixTime> {
    let day = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(chrono_tz::Asia::Shanghai)
        .single()
        .map(|t| UnixTime(t.timestamp()))
}

impl ServiceStats {
    pub fn new(store: Store) -> Self {
        ServiceStats { store }
    }

    /// A member's report, signed by its node: kept if newer than the one held.
    pub async fn received(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<(), StatisticsRefusal> {
        let report = ServiceStatistics::open(bytes, &from.node_public_key)?;
        if report.institution_id != from.institution_id {
            return Err(StatisticsRefusal::NotYours(from.institution_id.to_string()));
        }
        let key = report.institution_id.as_str().as_bytes().to_vec();
        let held: Option<ServiceStatistics> =
            self.store.get_json(Space::ServiceStatistics, &key)?;
        if held.is_some_and(|h| h.computed_at >= report.computed_at) {
            return Ok(());
        }
        let mut batch = Batch::new();
        batch.put(Space::SignedStatistics, key.clone(), bytes.to_vec());
        batch.put_json(Space::ServiceStatistics, key, &report)?;
        self.store.commit(batch).await?;
        Ok(())
    }

    /// The figures of `instrument_id` (`institution/local_id`) over the months that begin
    /// in `period`.
    pub fn of_instrument(
        &self,
        instrument_id: &str,
        period: &Period,
    ) -> Result<BookingFigures, StoreError> {
        let Some((institution, local_id)) = instrument_id.split_once('/') else {
            return Ok(BookingFigures::default());
        };
        let Some(report) = self
            .store
            .get_json::<ServiceStatistics>(Space::ServiceStatistics, institution.as_bytes())?
        else {
            return Ok(BookingFigures::default());
        };
        Ok(figures_of(&report, local_id, period))
    }

    /// The signed bytes of every member's latest report, by institution (reports kept
    /// before signed bytes were are left out: they cannot be shown to be the member's
    /// word, and the member's next report replaces them).
    pub fn signed_reports(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self
            .store
            .scan_prefix(Space::SignedStatistics, b"")?
            .into_iter()
            .map(|(_, bytes)| bytes)
            .collect())
    }
}

/// One instrument's figures in a member's report, over the months that begin in `period`.
pub fn figures_of(report: &ServiceStatistics, local_id: &str, period: &Period) -> BookingFigures {
    let mut figures = BookingFigures::default();
    for month in &report.months {
        let Some(start) = month_start(&month.month) else {
            continue;
        };
        if start < period.from || start >= period.to {
            continue;
        }
        for i in month.instruments.iter().filter(|i| i.local_id == local_id) {
            // A member's numbers: added without overflowing, whatever it sent.
            figures.requests = figures.requests.saturating_add(i.requests);
            figures.rejections = figures.rejections.saturating_add(i.rejections);
            figures.responses = figures.responses.saturating_add(i.responses);
            figures.response_seconds = figures.response_seconds.saturating_add(i.response_seconds);
        }
    }
    figures
}
