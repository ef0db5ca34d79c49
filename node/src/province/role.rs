//! [`ProvinceRole`]: everything only the province's node runs, in one place — the
//! certificate authority, the receipt log and the service that answers members about it
//! (and takes their heartbeats), and the published results. A member node has none of it.
//!
//! The root key is read once, by [`crate::node::Node::start`], and handed here.

use std::sync::Arc;

use alliance_protocol::SecretKey;
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use super::{
    ProvinceAuthority,
    log_service::LogService,
    publication::{Publication, members_evidence, province_facts, province_publications},
    receipt_log::{LogRules, ReceiptLog},
};
use crate::{
    catalogue::Catalogue,
    evaluation::config::EvaluationConfig,
    monitoring::Monitoring,
    net::{InboundLog, NetClient},
    receipts::Receipts,
    store::{Store, StoreError},
    supervisor::Supervisor,
};

/// The province's own parts. Cheap to clone.
#[derive(Clone)]
pub struct ProvinceRole {
    pub authority: Arc<ProvinceAuthority>,
    pub log: ReceiptLog,
    pub publication: Publication,
}

impl std::fmt::Debug for ProvinceRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvinceRole").finish_non_exhaustive()
    }
}

/// What the province's parts work with that the node starts for everyone.
#[derive(Debug)]
pub struct ProvinceInputs {
    pub net: NetClient,
    pub monitoring: Monitoring,
    pub receipts: Receipts,
    /// Members' log requests and heartbeats, from the network task.
    pub inbox: mpsc::Receiver<InboundLog>,
}

impl ProvinceRole {
    /// Opens the authority and the log in `store`, with the root key `root`.
    pub fn open(
        root: SecretKey,
        store: &Store,
        catalogue: &Catalogue,
        evaluation: EvaluationConfig,
        rules: LogRules,
    ) -> Result<ProvinceRole, StoreError> {
        let log = ReceiptLog::open(store.clone(), root.clone(), rules)?;
        let authority = Arc::new(ProvinceAuthority::new(root, store.clone()));
        Ok(ProvinceRole {
            publication: Publication::new(
                log.clone(),
                catalogue.clone(),
                evaluation,
                authority.clone(),
            ),
            authority,
            log,
        })
    }

    /// Starts the log service; the results count the live board's uptime and members'
    /// publications and service statistics.
    pub fn start(
        &self,
        supervisor: &Supervisor,
        catalogue: &Catalogue,
        inputs: ProvinceInputs,
        cancel: CancellationToken,
    ) -> Vec<JoinHandle<()>> {
        if let Some(board) = inputs.monitoring.board() {
            self.publication.set_other_facts(
                province_facts(board.clone(), inputs.receipts.statistics().clone()),
                province_publications(inputs.receipts.publications().clone()),
                members_evidence(inputs.receipts.clone()),
            );
        }
        let service = LogService {
            log: self.log.clone(),
            authority: self.authority.clone(),
            catalogue: catalogue.clone(),
            net: inputs.net,
            monitoring: inputs.monitoring,
            reads: Arc::default(),
        };
        vec![supervisor.spawn("log service", service.serve(inputs.inbox, cancel))]
    }
}
