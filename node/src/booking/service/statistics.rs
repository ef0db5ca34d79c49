//! Reporting this institution's booking service statistics to the province (R14): a
//! minute after start, then every hour, the last 13 months from the owner's ledger, signed
//! and queued as mail (a newer report replaces one not yet delivered).

use std::time::Duration;

use alliance_protocol::{Role, UnixTime};

use super::{BookError, Bookings};
use crate::booking::stats::monthly;

/// Months a report covers: this one and the twelve before.
const MONTHS: u32 = 13;

impl Bookings {
    /// Reports the statistics until `cancel`.
    pub async fn report_statistics(self, cancel: tokio_util::sync::CancellationToken) {
        let first = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut every = tokio::time::interval_at(first, Duration::from_secs(3_600));
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(e) = self.queue_statistics(UnixTime::now()).await {
                tracing::warn!(error = %e, "booking statistics not queued");
            }
        }
    }

    /// Queues the current report for the province; `false` if there is no province to
    /// report to (none known yet, or this is its node).
    pub async fn queue_statistics(&self, now: UnixTime) -> Result<bool, BookError> {
        let own = &self.inner.own.institution_id;
        let province = self
            .inner
            .catalogue
            .key_directory()
            .institutions()
            .values()
            .find(|c| c.role == Role::Aggregator)
            .map(|c| c.institution_id.clone());
        let Some(province) = province.filter(|p| p != own) else {
            return Ok(false);
        };
        let report = monthly(&self.inner.ledger.all()?, own, now, MONTHS);
        self.inner
            .mail
            .queue(
                &province,
                "service-statistics",
                0,
                report.seal(&self.inner.key),
            )
            .await?;
        Ok(true)
    }
}
