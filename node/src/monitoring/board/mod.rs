//! The province's monitoring board: from members' heartbeats, every instrument's live
//! state, the alerts for instruments open for booking, and uptime for evaluation.
//!
//! An instrument counts as *seen* when a heartbeat carries a report of it newer than the
//! one on the board. A member keeps sending an instrument's last report after its agent
//! went quiet, so a heartbeat alone proves only that the node is alive, not the
//! instrument. Times the board derives (`last_seen`, `since`) are the province's clock.
//!
//! Uptime holds the last state for the time until the next sighting: when an instrument
//! is seen, the time since it was last seen counts as online if it was then in a state
//! other than fault, but at most `max_gap` of it, so that a silence is not credited. The
//! seconds are kept per instrument and Asia/Shanghai calendar day.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::Duration,
};

use alliance_protocol::{
    UnixTime,
    heartbeat::{InstrumentState, StatusHeartbeat},
};
use chrono::{DateTime, NaiveDate};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

use super::MonitoringError;
use crate::store::{Batch, Space, Store};

mod samples;
pub use samples::{KEEP, SAMPLE_EVERY, StateSample};

/// How far ahead of the province's clock a heartbeat's `sent_at` may be. Further, and a
/// member's clock fault would make the board refuse its correct heartbeats as replays.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// What the board holds of one instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    state: InstrumentState,
    note: String,
    /// The member's time of the report.
    reported_at: UnixTime,
    /// When the province first received that report.
    last_seen: UnixTime,
    /// When the province first saw the instrument in its current state.
    since: UnixTime,
    /// When the province first saw the instrument at all (absent in older records).
    #[serde(default)]
    first_seen: Option<UnixTime>,
}

/// One instrument on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveRow {
    /// `institution/local_id`.
    pub instrument_id: String,
    pub state: InstrumentState,
    pub note: String,
    pub reported_at: UnixTime,
    pub last_seen: UnixTime,
    pub since: UnixTime,
    /// Not seen for longer than the caller's `silent_after`: the state shown may be stale.
    pub silent: bool,
}

/// What is wrong with an instrument open for booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertKind {
    /// Not seen lately, or (`last_seen: None`) never.
    Silent { last_seen: Option<UnixTime> },
    /// Reported faulty, since the province first saw it so.
    Fault { since: UnixTime },
}

/// An instrument open for booking that needs someone's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub instrument_id: String,
    #[serde(flatten)]
    pub kind: AlertKind,
}

/// The province's board. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MonitorBoard {
    store: Store,
    max_gap: i64,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn instrument_key(instrument_id: &str) -> Vec<u8> {
    format!("i\0{instrument_id}").into_bytes()
}

fn institution_key(institution: &str) -> Vec<u8> {
    format!("s\0{institution}").into_bytes()
}

fn uptime_key(instrument_id: &str, day: NaiveDate) -> Vec<u8> {
    format!("{instrument_id}\0{}", day.format("%Y-%m-%d")).into_bytes()
}

/// The Shanghai calendar day `t` falls in.
fn day_of(t: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp(t, 0).map(|t| t.with_timezone(&Shanghai).date_naive())
}

/// The Unix time of 00:00 of `day` in Shanghai.
fn day_start(day: NaiveDate) -> Option<i64> {
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(Shanghai)
        .single()
        .map(|t| t.timestamp())
}

/// Splits `[start, end)` into its parts per Shanghai day.
fn per_day(start: i64, end: i64) -> Vec<(NaiveDate, u64)> {
    let mut parts = Vec::new();
    let mut t = start;
    while t < end {
        let Some(day) = day_of(t) else { break };
        let Some(next) = day.succ_opt().and_then(day_start) else {
            break;
        };
        let until = next.min(end);
        parts.push((day, u64::try_from(until - t).unwrap_or(0)));
        t = until;
    }
    parts
}

fn u64_from(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes).map_or(0, u64::from_be_bytes)
}

impl MonitorBoard {
    /// The board kept in `store`, crediting at most `max_gap` between two sightings of an
    /// instrument (e.g. three heartbeat intervals).
    pub fn new(store: Store, max_gap: Duration) -> Self {
        MonitorBoard {
            store,
            max_gap: secs(max_gap),
        }
    }

    /// Records a verified heartbeat received at `received_at`. Refuses one not sent after
    /// the newest recorded of its institution, which a replay never is.
    pub async fn record(
        &self,
        heartbeat: &StatusHeartbeat,
        received_at: UnixTime,
    ) -> Result<(), MonitoringError> {
        let institution = &heartbeat.institution_id;
        if heartbeat.sent_at.0 > received_at.0.saturating_add(secs(MAX_CLOCK_SKEW)) {
            return Err(MonitoringError::FromTheFuture {
                institution: institution.clone(),
                sent_at: heartbeat.sent_at,
                received_at,
            });
        }
        let sent_key = institution_key(institution.as_str());
        if let Some(recorded) = self
            .store
            .get_json::<UnixTime>(Space::MonitorBoard, &sent_key)?
            && heartbeat.sent_at <= recorded
        {
            return Err(MonitoringError::Replay {
                institution: institution.clone(),
                sent_at: heartbeat.sent_at,
                recorded,
            });
        }
        let mut batch = Batch::new();
        batch.put_json(Space::MonitorBoard, sent_key, &heartbeat.sent_at)?;
        let mut seen: HashMap<String, Seen> = HashMap::new();
        let mut uptime: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for report in &heartbeat.instruments {
            // A report cannot be from after the heartbeat that carries it (itself bounded
            // by the clock skew): a member clock that jumped ahead once must not freeze
            // the instrument until that date.
            let mut report = report.clone();
            report.reported_at = report.reported_at.min(heartbeat.sent_at);
            let report = &report;
            let id = format!("{institution}/{}", report.local_id);
            let previous = match seen.get(&id) {
                Some(entry) => Some(entry.clone()),
                None => self.entry(&id)?,
            };
            // Only a newer report is a sighting (a member repeats an agent's last report
            // until it reports again); one of the same second that says something else is
            // news too.
            let stale = previous.as_ref().is_some_and(|p| {
                report.reported_at < p.reported_at
                    || (report.reported_at == p.reported_at
                        && report.state == p.state
                        && report.note == p.note)
            });
            if stale {
                continue;
            }
            let since = match &previous {
                Some(p) if p.state == report.state => p.since,
                _ => received_at,
            };
            if let Some(p) = &previous
                && p.state != InstrumentState::Fault
            {
                let gap = (received_at.0 - p.last_seen.0).clamp(0, self.max_gap);
                for (day, add) in per_day(p.last_seen.0, p.last_seen.0 + gap) {
                    let key = uptime_key(&id, day);
                    let total = match uptime.get(&key) {
                        Some(total) => *total,
                        None => self
                            .store
                            .get(Space::MonitorUptime, &key)?
                            .map_or(0, |v| u64_from(&v)),
                    };
                    uptime.insert(key, (total + add).min(86_400));
                }
            }
            let entry = Seen {
                state: report.state,
                note: report.note.clone(),
                reported_at: report.reported_at,
                last_seen: received_at,
                since,
                first_seen: previous
                    .as_ref()
                    .map_or(Some(received_at), |p| p.first_seen.or(Some(p.since))),
            };
            batch.put_json(Space::MonitorBoard, instrument_key(&id), &entry)?;
            seen.insert(id, entry);
        }
        for (key, total) in uptime {
            batch.put(Space::MonitorUptime, key, total.to_be_bytes().to_vec());
        }
        self.store.commit(batch).await?;
        Ok(())
    }

    fn entry(&self, instrument_id: &str) -> Result<Option<Seen>, MonitoringError> {
        Ok(self
            .store
            .get_json(Space::MonitorBoard, &instrument_key(instrument_id))?)
    }

    /// When the instrument was first seen, if ever.
    pub fn first_seen(&self, instrument_id: &str) -> Result<Option<UnixTime>, MonitoringError> {
        Ok(self
            .entry(instrument_id)?
            .map(|seen| seen.first_seen.unwrap_or(seen.since)))
    }

    /// Seconds the instrument was up (monitored and not faulty) in the Shanghai days
    /// `from..=to`, as the uptime record counts them day by day.
    pub fn online_seconds(
        &self,
        instrument_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u64, MonitoringError> {
        let Some(after) = to.succ_opt() else {
            return Ok(0);
        };
        let days = usize::try_from((after - from).num_days().max(0)).unwrap_or(usize::MAX);
        Ok(self
            .store
            .scan_range(
                Space::MonitorUptime,
                &uptime_key(instrument_id, from),
                &uptime_key(instrument_id, after),
                days,
            )?
            .iter()
            .map(|(_, v)| u64_from(v))
            .sum())
    }

    /// Every instrument ever seen, by id, as of `now`.
    pub fn live(
        &self,
        now: UnixTime,
        silent_after: Duration,
    ) -> Result<Vec<LiveRow>, MonitoringError> {
        let prefix = instrument_key("");
        Ok(self
            .store
            .scan_prefix_json::<Seen>(Space::MonitorBoard, &prefix)?
            .into_iter()
            .map(|(key, seen)| LiveRow {
                instrument_id: String::from_utf8_lossy(&key[prefix.len()..]).into_owned(),
                silent: now.0 - seen.last_seen.0 > secs(silent_after),
                state: seen.state,
                note: seen.note,
                reported_at: seen.reported_at,
                last_seen: seen.last_seen,
                since: seen.since,
            })
            .collect())
    }

    /// Alerts for the instruments in `open` (ids of instruments open for booking), in
    /// that order: silent ones, including those never seen, and faulty ones. A silent
    /// instrument's last known state is stale, so it is reported silent, not faulty.
    pub fn alerts(
        &self,
        now: UnixTime,
        silent_after: Duration,
        open: &[String],
    ) -> Result<Vec<Alert>, MonitoringError> {
        let mut alerts = Vec::new();
        let mut done = HashSet::new();
        for id in open {
            if !done.insert(id.as_str()) {
                continue;
            }
            let kind = match self.entry(id)? {
                None => Some(AlertKind::Silent { last_seen: None }),
                Some(seen) if now.0 - seen.last_seen.0 > secs(silent_after) => {
                    Some(AlertKind::Silent {
                        last_seen: Some(seen.last_seen),
                    })
                }
                Some(seen) if seen.state == InstrumentState::Fault => {
                    Some(AlertKind::Fault { since: seen.since })
                }
                Some(_) => None,
            };
            if let Some(kind) = kind {
                alerts.push(Alert {
                    instrument_id: id.clone(),
                    kind,
                });
            }
        }
        Ok(alerts)
    }

    /// The fraction (0 to 1) of the Shanghai days `from..=to` during which the instrument
    /// was monitored and not faulty.
    pub fn uptime(
        &self,
        instrument_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<f64, MonitoringError> {
        let (Some(start), Some(after)) = (day_start(from), to.succ_opt()) else {
            return Ok(0.0);
        };
        let Some(end) = day_start(after) else {
            return Ok(0.0);
        };
        if end <= start {
            return Ok(0.0);
        }
        let online = self.online_seconds(instrument_id, from, to)?;
        Ok((online as f64 / (end - start) as f64).min(1.0))
    }
}

#[cfg(test)]
mod tests;
