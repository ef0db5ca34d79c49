//! Simulated instrument agents for the demo: three in four in-service instruments of
//! each member get an agent token and report a state every 20 seconds, as the sample
//! agent script would (mostly idle or running, now and then maintenance or a fault);
//! the rest never report, so the province's board shows silent instruments too.

use std::time::Duration;

use alliance_protocol::{InstrumentStatus, heartbeat::InstrumentState};
use rand::RngExt;
use tokio_util::sync::CancellationToken;

use crate::monitoring::Monitoring;

const EVERY: Duration = Duration::from_secs(20);

/// Issues the tokens and runs the agents until `cancel`.
pub(super) async fn run(
    monitoring: Monitoring,
    catalogue: crate::catalogue::Catalogue,
    cancel: CancellationToken,
) {
    let own = catalogue.own_institution().clone();
    let mut agents = Vec::new();
    for (n, view) in catalogue
        .institution_views(&own)
        .iter()
        .filter(|v| v.record.status == InstrumentStatus::InService)
        .enumerate()
    {
        if n % 4 == 3 {
            continue;
        }
        match monitoring.tokens().issue(&view.record.local_id).await {
            Ok(token) => agents.push((view.record.local_id.clone(), token)),
            Err(e) => tracing::warn!(error = %e, "demo agent token not issued"),
        }
    }
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        for (local_id, token) in &agents {
            let (state, note) = {
                let mut rng = rand::rng();
                match rng.random_range(0..100u32) {
                    0..55 => (InstrumentState::Idle, ""),
                    55..93 => (InstrumentState::Running, "测试进行中"),
                    93..98 => (InstrumentState::Maintenance, "例行维护"),
                    _ => (InstrumentState::Fault, "真空度异常，已报修"),
                }
            };
            if let Err(e) = monitoring.agent_report(local_id, token, state, note).await {
                tracing::debug!(local_id, error = %e, "demo agent report refused");
            }
        }
    }
}
