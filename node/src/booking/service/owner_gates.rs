//! How many booking requests this home has in flight to one owner at once.
//!
//! An owner answers each home a few requests at a time (its fair share, `busy` past it)
//! and a connection carries a bounded number of streams: a burst of users past that would
//! be dropped on the wire and reported as "unreachable". Requests past the gate wait here
//! instead, where the user's page is waiting anyway.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use alliance_protocol::InstitutionId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Requests in flight to one owner; twice the share an owner gives a home by default.
pub(super) const IN_FLIGHT_PER_OWNER: usize = 8;

/// One gate per owner (owners are current members: the map is bounded by the roster).
#[derive(Debug, Default)]
pub(super) struct OwnerGates {
    gates: Mutex<HashMap<InstitutionId, Arc<Semaphore>>>,
}

impl OwnerGates {
    /// Waits for a place in `owner`'s gate; the request holds it until answered.
    pub(super) async fn enter(&self, owner: &InstitutionId) -> Option<OwnedSemaphorePermit> {
        let gate = self
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(owner.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(IN_FLIGHT_PER_OWNER)))
            .clone();
        // The gates are never closed, so this only fails if that changes: then ungated.
        gate.acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_gate_lets_a_few_through_per_owner_and_the_next_when_one_is_answered() {
        let gates = OwnerGates::default();
        let dlut: InstitutionId = "dlut".parse().unwrap();
        let mut held = Vec::new();
        for _ in 0..IN_FLIGHT_PER_OWNER {
            held.push(gates.enter(&dlut).await.unwrap());
        }
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), gates.enter(&dlut));
        assert!(waiting.await.is_err(), "one past the gate waits");
        // Another owner's gate is its own.
        assert!(gates.enter(&"neu".parse().unwrap()).await.is_some());
        held.pop();
        assert!(gates.enter(&dlut).await.is_some());
    }
}
