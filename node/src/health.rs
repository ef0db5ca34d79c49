//! What `/healthz` reports: whether this node can still do its work — its store accepts
//! writes and none of its background tasks has stopped. Each problem is a short phrase
//! for the operator's monitoring; the details are in the node's log.

use crate::{store::Store, supervisor::Supervisor};

/// The node's health, read on demand.
#[derive(Debug, Clone)]
pub(crate) struct Health {
    store: Store,
    supervisor: Supervisor,
}

impl Health {
    /// Health of the node with this store and these tasks.
    pub(crate) fn new(store: Store, supervisor: Supervisor) -> Self {
        Health { store, supervisor }
    }

    /// What is wrong, or nothing.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.store.accepts_writes() {
            problems.push("store: refusing writes after a failed write".to_owned());
        }
        for task in self.supervisor.stopped() {
            problems.push(format!("task {}: stopped", task.name));
        }
        problems
    }
}
