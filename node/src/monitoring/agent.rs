//! Agent states on a member node: the latest state each instrument's agent reported,
//! kept durably so a restarted node goes on sending what it knew, and the heartbeat made
//! of them. A report is stamped with the node's clock, not the agent's: instrument PCs
//! are often old and their clocks are not to be trusted.

use alliance_protocol::{
    InstitutionId, UnixTime,
    heartbeat::{
        InstrumentState, InstrumentStatusReport, MAX_HEARTBEAT_INSTRUMENTS, StatusHeartbeat,
        is_valid_note,
    },
    record::is_valid_local_id,
};

use super::MonitoringError;
use crate::store::{Batch, Space, Store};

/// The latest reported state of this node's monitored instruments. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AgentStates {
    store: Store,
}

fn key(local_id: &str) -> Result<&[u8], MonitoringError> {
    if !is_valid_local_id(local_id) {
        return Err(MonitoringError::LocalId(local_id.to_owned()));
    }
    Ok(local_id.as_bytes())
}

impl AgentStates {
    /// The states kept in `store`.
    pub fn new(store: Store) -> Self {
        AgentStates { store }
    }

    /// Records an agent's report, received at `now`, replacing the instrument's previous
    /// one. The caller has checked the agent's token. At most
    /// [`MAX_HEARTBEAT_INSTRUMENTS`] instruments are kept, so every heartbeat fits.
    pub async fn report(
        &self,
        local_id: &str,
        state: InstrumentState,
        note: &str,
        now: UnixTime,
    ) -> Result<InstrumentStatusReport, MonitoringError> {
        let key = key(local_id)?;
        let note = note.trim();
        if !is_valid_note(note) {
            return Err(MonitoringError::Note);
        }
        if self.store.get(Space::InstrumentStates, key)?.is_none()
            && self.store.scan_prefix(Space::InstrumentStates, b"")?.len()
                >= MAX_HEARTBEAT_INSTRUMENTS
        {
            return Err(MonitoringError::TooManyInstruments);
        }
        let report = InstrumentStatusReport {
            local_id: local_id.to_owned(),
            state,
            reported_at: now,
            note: note.to_owned(),
        };
        let mut batch = Batch::new();
        batch.put_json(Space::InstrumentStates, key, &report)?;
        self.store.commit(batch).await?;
        Ok(report)
    }

    /// The instrument's latest report, if its agent ever reported.
    pub fn get(&self, local_id: &str) -> Result<Option<InstrumentStatusReport>, MonitoringError> {
        Ok(self
            .store
            .get_json(Space::InstrumentStates, key(local_id)?)?)
    }

    /// Every instrument's latest report, by local id.
    pub fn all(&self) -> Result<Vec<InstrumentStatusReport>, MonitoringError> {
        Ok(self
            .store
            .scan_prefix_json(Space::InstrumentStates, b"")?
            .into_iter()
            .map(|(_, report)| report)
            .collect())
    }

    /// Drops the instrument's state, e.g. when it leaves the catalogue, so heartbeats stop
    /// naming it.
    pub async fn forget(&self, local_id: &str) -> Result<(), MonitoringError> {
        let mut batch = Batch::new();
        batch.delete(Space::InstrumentStates, key(local_id)?);
        self.store.commit(batch).await?;
        Ok(())
    }

    /// The heartbeat to sign and send at `now`: every instrument's latest report, stale
    /// ones too — the province tells a silent agent by its report not getting newer.
    pub fn heartbeat(
        &self,
        institution: &InstitutionId,
        now: UnixTime,
    ) -> Result<StatusHeartbeat, MonitoringError> {
        let mut instruments = self.all()?;
        instruments.truncate(MAX_HEARTBEAT_INSTRUMENTS);
        Ok(StatusHeartbeat {
            institution_id: institution.clone(),
            sent_at: now,
            instruments,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alliance_protocol::{SecretKey, heartbeat::MAX_NOTE_CHARS};

    use super::*;

    const T: i64 = 1_800_000_000;

    #[tokio::test]
    async fn the_latest_report_per_instrument_survives_a_reopen_and_makes_the_heartbeat() {
        let dir = tempfile::tempdir().unwrap();
        {
            let states = AgentStates::new(Store::open(dir.path()).unwrap());
            states
                .report("XPS-1", InstrumentState::Idle, "", UnixTime(T))
                .await
                .unwrap();
            states
                .report(
                    "XPS-1",
                    InstrumentState::Running,
                    " sample 3 ",
                    UnixTime(T + 60),
                )
                .await
                .unwrap();
            states
                .report("NMR-600", InstrumentState::Fault, "E42", UnixTime(T + 30))
                .await
                .unwrap();
        }
        let states = AgentStates::new(Store::open(dir.path()).unwrap());
        let xps = InstrumentStatusReport {
            local_id: "XPS-1".into(),
            state: InstrumentState::Running,
            reported_at: UnixTime(T + 60),
            note: "sample 3".into(),
        };
        assert_eq!(states.get("XPS-1").unwrap(), Some(xps.clone()));
        assert_eq!(states.all().unwrap().len(), 2);

        let dlut: InstitutionId = "dlut".parse().unwrap();
        let heartbeat = states.heartbeat(&dlut, UnixTime(T + 90)).unwrap();
        assert_eq!(heartbeat.sent_at, UnixTime(T + 90));
        assert_eq!(heartbeat.institution_id, dlut);
        assert_eq!(heartbeat.instruments[1], xps);
        assert_eq!(heartbeat.instruments[0].state, InstrumentState::Fault);
        // What the node sends, the province accepts.
        let key = SecretKey::generate();
        let opened = StatusHeartbeat::open_from(&heartbeat.seal(&key), &key.public()).unwrap();
        assert_eq!(opened, heartbeat);

        states.forget("NMR-600").await.unwrap();
        assert_eq!(
            states
                .heartbeat(&dlut, UnixTime(T + 120))
                .unwrap()
                .instruments,
            [xps]
        );
    }

    #[tokio::test]
    async fn bad_reports_are_refused_and_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let states = AgentStates::new(Store::open(dir.path()).unwrap());
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        assert!(matches!(
            states
                .report("XPS-1", InstrumentState::Idle, &long, UnixTime(T))
                .await,
            Err(MonitoringError::Note)
        ));
        assert!(matches!(
            states
                .report("XPS-1", InstrumentState::Idle, "a\u{7}b", UnixTime(T))
                .await,
            Err(MonitoringError::Note)
        ));
        assert!(matches!(
            states
                .report("XPS 1", InstrumentState::Idle, "", UnixTime(T))
                .await,
            Err(MonitoringError::LocalId(_))
        ));
        assert!(states.all().unwrap().is_empty());
        let fits = "页".repeat(MAX_NOTE_CHARS);
        states
            .report("XPS-1", InstrumentState::Idle, &fits, UnixTime(T))
            .await
            .unwrap();
    }
}
