//! The board's states over the day: every [`SAMPLE_EVERY`] the province counts its
//! monitored instruments by what they are doing — each once: silent when not heard of
//! lately (or never, if open for booking), else by its last reported state — and keeps
//! the counts for [`KEEP`]. The dashboard draws the last day of them.

use std::{collections::HashSet, time::Duration};

use alliance_protocol::{UnixTime, heartbeat::InstrumentState};
use serde::{Deserialize, Serialize};

use super::{MonitorBoard, secs};
use crate::{
    monitoring::MonitoringError,
    store::{Batch, Space},
};

/// How often the counts are taken.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15 * 60);
/// How long they are kept.
pub const KEEP: Duration = Duration::from_secs(8 * 86_400);

/// The board's counts at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSample {
    pub at: UnixTime,
    pub running: u32,
    pub idle: u32,
    pub maintenance: u32,
    pub fault: u32,
    pub silent: u32,
}

fn sample_key(at: i64) -> Vec<u8> {
    // Offset so that times before 1970 would still sort; keys are `h\0` + 8 bytes.
    let mut key = b"h\0".to_vec();
    key.extend_from_slice(&(at as u64 ^ (1 << 63)).to_be_bytes());
    key
}

impl MonitorBoard {
    /// Counts the board as of `now` (`open`: ids of instruments open for booking, which
    /// count as silent until first heard of) and keeps the counts; forgets those older
    /// than [`KEEP`]. Returns what was kept.
    pub async fn sample(
        &self,
        now: UnixTime,
        silent_after: Duration,
        open: &[String],
    ) -> Result<StateSample, MonitoringError> {
        let mut sample = StateSample {
            at: now,
            running: 0,
            idle: 0,
            maintenance: 0,
            fault: 0,
            silent: 0,
        };
        let rows = self.live(now, silent_after)?;
        let heard: HashSet<&str> = rows.iter().map(|r| r.instrument_id.as_str()).collect();
        for row in &rows {
            let count = match row.state {
                _ if row.silent => &mut sample.silent,
                InstrumentState::Running => &mut sample.running,
                InstrumentState::Idle => &mut sample.idle,
                InstrumentState::Maintenance => &mut sample.maintenance,
                InstrumentState::Fault => &mut sample.fault,
            };
            *count += 1;
        }
        let never: HashSet<&str> = open
            .iter()
            .map(String::as_str)
            .filter(|id| !heard.contains(id))
            .collect();
        sample.silent += u32::try_from(never.len()).unwrap_or(u32::MAX);
        let mut batch = Batch::new();
        batch.put_json(Space::MonitorBoard, sample_key(now.0), &sample)?;
        let forget_before = sample_key(now.0.saturating_sub(secs(KEEP)));
        for (key, _) in self.store.scan_range(
            Space::MonitorBoard,
            &sample_key(i64::MIN),
            &forget_before,
            10_000,
        )? {
            batch.delete(Space::MonitorBoard, key);
        }
        self.store.commit(batch).await?;
        Ok(sample)
    }

    /// The counts taken from `from` to `to`, oldest first.
    pub fn samples(
        &self,
        from: UnixTime,
        to: UnixTime,
    ) -> Result<Vec<StateSample>, MonitoringError> {
        // At most one a minute over the span kept, whatever the interval was.
        let most = usize::try_from(secs(KEEP) / 60).unwrap_or(usize::MAX);
        Ok(self
            .store
            .scan_range(
                Space::MonitorBoard,
                &sample_key(from.0),
                &sample_key(to.0.saturating_add(1)),
                most,
            )?
            .into_iter()
            .filter_map(|(_, value)| serde_json::from_slice(&value).ok())
            .collect())
    }
}
