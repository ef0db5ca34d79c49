//! The province's receipt log on the network: members' submissions, and their requests
//! for tree heads and consistency proofs, answered from the [`ReceiptLog`]; every head
//! that grew the log is gossiped, and the current one again every minute. Members'
//! monitoring heartbeats come the same way and go to the board.

use std::{sync::Arc, time::Duration};

use alliance_protocol::{
    MembershipCertificate, UnixTime,
    rpc::{LogAnswer, Request, Response, RpcError},
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    ProvinceAuthority,
    member_history::CatalogueOwners,
    read_limit::ReadLimit,
    receipt_log::{Included, ReceiptLog, Refusal},
};
use crate::{
    catalogue::Catalogue,
    monitoring::Monitoring,
    net::{InboundLog, NetClient},
};

/// How often the current head is gossiped even when the log did not grow.
const HEAD_INTERVAL: Duration = Duration::from_secs(60);

/// Serves the log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogService {
    pub log: ReceiptLog,
    pub authority: Arc<ProvinceAuthority>,
    pub catalogue: Catalogue,
    pub net: NetClient,
    /// Members' heartbeats arrive here too.
    pub monitoring: Monitoring,
    /// Heads and proofs each member may ask for.
    pub reads: Arc<ReadLimit>,
}

impl LogService {
    /// Answers members' log requests until the inbox closes or `cancel`; gossips heads.
    pub async fn serve(self, mut inbox: mpsc::Receiver<InboundLog>, cancel: CancellationToken) {
        let mut heads = tokio::time::interval(HEAD_INTERVAL);
        heads.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = heads.tick() => self.publish_head().await,
                inbound = inbox.recv() => {
                    let Some(inbound) = inbound else { return };
                    let this = self.clone();
                    tokio::spawn(async move {
                        let response = this.answer(&inbound.from, inbound.request).await;
                        let _ = inbound.reply.send(response);
                    });
                }
            }
        }
    }

    async fn publish_head(&self) {
        if let Err(e) = self.net.publish_tree_head(self.log.head().await).await {
            tracing::debug!(error = %e, "tree head not gossiped");
        }
    }

    async fn answer(&self, from: &MembershipCertificate, request: Request) -> Response {
        match request {
            Request::Heartbeat(bytes) => {
                let catalogue = &self.catalogue;
                self.monitoring
                    .on_heartbeat(from, &bytes, |id| catalogue.has_instrument(id))
                    .await
            }
            Request::Receipts(submissions) => self.submit(submissions).await,
            Request::LogHead { .. } | Request::LogConsistency { .. }
                if !self.reads.allow(&from.institution_id, UnixTime::now()) =>
            {
                Response::error(
                    "busy",
                    "too many log reads from this member this second: ask again later",
                )
            }
            Request::LogHead { since } => match self.log.consistency(since).await {
                Some((head, consistency)) => Response::LogHead { head, consistency },
                None => beyond_the_log(since, self.log.len().await),
            },
            Request::LogConsistency { first, second } => {
                match self.log.consistency_between(first, second).await {
                    Some(proof) => Response::LogConsistency(proof),
                    None => beyond_the_log(second, self.log.len().await),
                }
            }
            _ => Response::error("bad_request", "not a log request"),
        }
    }

    /// Checks and logs a batch. The signature checks run on rayon's threads from a
    /// blocking task, so the runtime's workers stay free.
    async fn submit(&self, submissions: Vec<Vec<u8>>) -> Response {
        let members = match self.authority.member_history() {
            Ok(members) => members,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the certificates issued");
                return Response::error("internal", "the province cannot check receipts now");
            }
        };
        let owners = CatalogueOwners(self.catalogue.clone());
        let log = self.log.clone();
        let runtime = tokio::runtime::Handle::current();
        let submitted = tokio::task::spawn_blocking(move || {
            runtime.block_on(log.submit(&submissions, &members, &owners, UnixTime::now()))
        })
        .await;
        let answers = match submitted {
            Ok(Ok(answers)) => answers,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot append to the receipt log");
                return Response::error("internal", "the receipts could not be stored");
            }
            Err(e) => {
                tracing::error!(error = %e, "receipt checks failed");
                return Response::error("internal", "the receipts could not be checked");
            }
        };
        let grew = answers
            .iter()
            .any(|a| matches!(a, Ok(Included { already: false, .. })));
        let logged = answers.iter().filter(|a| a.is_ok()).count();
        tracing::info!(
            logged,
            refused = answers.len() - logged,
            "receipts submitted"
        );
        if grew {
            self.publish_head().await;
        }
        Response::Receipts(answers.into_iter().map(to_answer).collect())
    }
}

fn to_answer(answer: Result<Included, Refusal>) -> LogAnswer {
    match answer {
        Ok(included) => LogAnswer::Logged {
            index: included.index,
            head: included.head,
            proof: included.proof,
            already: included.already,
        },
        Err(refusal) => LogAnswer::Refused(RpcError {
            code: refusal.code().to_owned(),
            message: refusal.to_string(),
        }),
    }
}

fn beyond_the_log(asked: u64, size: u64) -> Response {
    Response::error(
        "beyond_the_log",
        format!("the log holds {size} entries, not {asked}"),
    )
}
