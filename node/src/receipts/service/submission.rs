//! Submission to the province: the receipt outbox in batches until each receipt's proof
//! of inclusion verifies, and lapsing grace periods of unconfirmed receipts.

use std::time::Duration;

use alliance_protocol::{
    UnixTime,
    rpc::{LogAnswer, Request, Response},
};
use tokio_util::sync::CancellationToken;

use super::{ReceiptError, Receipts, short_debug};
use crate::{
    net::{NetError, NetEvent, Target},
    receipts::outbox::PERMANENT_REFUSALS,
};

/// Most submissions sent to the province in one request.
const BATCH: usize = 256;
/// Most bytes of submissions in one request (under the rpc request limit).
const BATCH_BYTES: usize = 768 * 1024;
/// How often the outbox and grace periods are looked at when nothing wakes them.
const ROUND: Duration = Duration::from_secs(5);

impl Receipts {
    pub async fn run_submissions(self, cancel: CancellationToken) {
        let mut events = self.inner.net.events();
        loop {
            if let Err(e) = self.lapse_due().await {
                tracing::error!(error = %e, "cannot lapse receipts");
            }
            match self.submit_once().await {
                Ok(_) | Err(ReceiptError::Net(NetError::NotConnected(_))) => {}
                Err(e) => tracing::warn!(error = %e, "receipt submission round failed"),
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(ROUND) => {}
                () = self.submit.notified() => {}
                event = events.recv() => match event {
                    Ok(NetEvent::MemberVerified { .. }) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    _ => continue,
                },
            }
        }
    }

    async fn lapse_due(&self) -> Result<(), ReceiptError> {
        let now = UnixTime::now();
        if self
            .inner
            .book
            .next_lapse()?
            .is_some_and(|until| until <= now)
        {
            let lapsed = self.inner.book.lapse(now).await?;
            tracing::info!(lapsed, "unconfirmed receipts go on single-signed");
            self.changed();
        }
        Ok(())
    }

    /// Sends what is due to the province, in batches; returns how many were logged.
    pub async fn submit_once(&self) -> Result<usize, ReceiptError> {
        let due = self.inner.outbox.due(UnixTime::now())?;
        let mut logged = 0;
        let mut rest = due.as_slice();
        while !rest.is_empty() {
            let mut bytes = 0;
            let take = rest
                .iter()
                .take(BATCH)
                .take_while(|(_, s)| {
                    bytes += s.len();
                    bytes <= BATCH_BYTES
                })
                .count()
                .max(1);
            let (batch, after) = rest.split_at(take);
            rest = after;
            logged += self.submit_batch(batch).await?;
        }
        Ok(logged)
    }

    async fn submit_batch(
        &self,
        batch: &[crate::receipts::outbox::Due],
    ) -> Result<usize, ReceiptError> {
        let request = Request::Receipts(batch.iter().map(|(_, s)| s.clone()).collect());
        let answers = match self.inner.net.ask(Target::Province, request).await {
            Ok(Response::Receipts(answers)) if answers.len() == batch.len() => answers,
            Ok(other) => {
                let what = short_debug(&other);
                self.failed_all(batch, &format!("the province answered {what}"))
                    .await?;
                return Err(ReceiptError::Unexpected(what));
            }
            Err(NetError::NoAnswerFrom(to)) => {
                self.failed_all(batch, "no answer").await?;
                return Err(NetError::NoAnswerFrom(to).into());
            }
            Err(e) => return Err(e.into()),
        };
        let now = UnixTime::now();
        let mut logged = 0;
        let mut newest_head: Option<Vec<u8>> = None;
        for ((key, _), answer) in batch.iter().zip(answers) {
            match answer {
                LogAnswer::Logged {
                    index, head, proof, ..
                } => match self.inner.outbox.included(key, index, &head, &proof).await {
                    Ok(_) => {
                        logged += 1;
                        newest_head = Some(head);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the province's proof does not verify");
                        self.inner.outbox.failed(key, &e.to_string(), now).await?;
                    }
                },
                LogAnswer::Refused(e) if PERMANENT_REFUSALS.contains(&e.code.as_str()) => {
                    tracing::error!(
                        code = e.code,
                        message = e.message,
                        "the province refused a receipt for good: kept as a dead letter"
                    );
                    let province = self.province_id();
                    self.inner
                        .outbox
                        .dead(key, &province, &e.code, &e.message, now)
                        .await?;
                }
                LogAnswer::Refused(e) => {
                    tracing::warn!(
                        code = e.code,
                        message = e.message,
                        "the province refused a receipt"
                    );
                    self.inner
                        .outbox
                        .failed(key, &format!("{}: {}", e.code, e.message), now)
                        .await?;
                }
            }
        }
        self.changed();
        if let Some(head) = newest_head {
            self.check_head(&head).await?;
        }
        Ok(logged)
    }

    async fn failed_all(
        &self,
        batch: &[crate::receipts::outbox::Due],
        reason: &str,
    ) -> Result<(), ReceiptError> {
        let now = UnixTime::now();
        for (key, _) in batch {
            self.inner.outbox.failed(key, reason, now).await?;
        }
        Ok(())
    }

    /// The province's institution, as the mesh knows its node (it has just answered, so
    /// it is connected; this node's own id otherwise).
    fn province_id(&self) -> alliance_protocol::InstitutionId {
        self.inner
            .net
            .state()
            .members
            .iter()
            .find(|m| m.certificate.role == alliance_protocol::Role::Aggregator)
            .map_or_else(
                || self.inner.own.institution_id.clone(),
                |m| m.certificate.institution_id.clone(),
            )
    }
}
