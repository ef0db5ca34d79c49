//! Delivery of the outbox: each waiting message to a connected node of its recipient, in
//! order per recipient, until taken. A refusal for good, or a recipient the roster no
//! longer lists, buries the message as a dead letter; a busy or failing recipient, or
//! no answer, keeps it for the next round.

use alliance_protocol::{InstitutionId, UnixTime, mail::kind_of};

use super::{Handlers, Mail, dead_letters, outbox};

/// Outbox messages read at a time in a delivery round.
const OUTBOX_PAGE: usize = 256;
use crate::{
    net::{NetError, NetEvent},
    store::{Batch, StoreError},
};

impl Mail {
    /// Delivers the outbox until `cancel`: every retry interval, whenever something is
    /// queued, and whenever a member (re)connects.
    pub async fn deliver(self, handlers: Handlers, cancel: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(self.inner.retry_interval);
        let mut events = self.inner.net.events();
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = tick.tick() => {}
                () = self.inner.wake.notified() => {}
                event = events.recv() => match event {
                    Ok(NetEvent::MemberVerified { .. }) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    // Other events change nothing to deliver.
                    _ => continue,
                },
            }
            if let Err(e) = self.deliver_once(&handlers).await {
                tracing::warn!(error = %e, "mail delivery round failed");
            }
        }
    }

    /// One round: each waiting message to a connected recipient, in order per recipient,
    /// stopping at the first failure there.
    pub async fn deliver_once(&self, handlers: &Handlers) -> Result<(), StoreError> {
        let state = self.inner.net.state();
        let connected: Vec<InstitutionId> = state
            .members
            .iter()
            .map(|m| m.certificate.institution_id.clone())
            .collect();
        let directory = self.inner.catalogue.key_directory();
        let mut failed: Vec<InstitutionId> = Vec::new();
        // The outbox is read a page at a time, and the messages to a recipient that is
        // not reachable this round are jumped over, not read.
        let mut start = Vec::new();
        'pages: loop {
            let page = outbox::pending_from(&self.inner.store, &start, OUTBOX_PAGE)?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            start = outbox::after(&last.key);
            for pending in page {
                // Once a roster is held it lists every member: a message to an institution
                // it does not (or no longer) list would wait forever.
                if state.roster_version > 0 && !directory.is_current(&pending.to) {
                    let reason = format!("{} is not a member of the alliance", pending.to);
                    self.bury(&pending, "not_a_member", &reason).await?;
                    continue;
                }
                if !connected.contains(&pending.to) || failed.contains(&pending.to) {
                    start = outbox::after_recipient(&pending.to);
                    continue 'pages;
                }
                self.send(handlers, &pending, &mut failed).await?;
            }
        }
    }

    /// Sends one message; a recipient that did not take it for now goes on `failed`.
    async fn send(
        &self,
        handlers: &Handlers,
        pending: &outbox::Pending,
        failed: &mut Vec<InstitutionId>,
    ) -> Result<(), StoreError> {
        let kind = kind_of(&pending.message).unwrap_or_default();
        match self
            .inner
            .net
            .send_mail(&pending.to, pending.message.clone())
            .await
        {
            Ok(answer) => {
                if !answer.is_empty()
                    && let Some(handler) = handlers.owner_of(&kind)
                {
                    handler.answered(&pending.to, &kind, &answer).await?;
                }
                let mut batch = Batch::new();
                batch.delete(crate::store::Space::Outbox, pending.key.clone());
                self.inner.store.commit(batch).await?;
                self.left_outbox();
            }
            Err(NetError::Refused(refusal)) if refusal.is_transient() => {
                // The recipient could not take it now (its store, its load): kept and
                // tried again, like no answer.
                tracing::warn!(to = %pending.to, kind, %refusal, "mail not taken; will retry");
                failed.push(pending.to.clone());
            }
            Err(NetError::Refused(refusal)) => {
                // A refusal for good is an answer too; keeping the message would send
                // it forever.
                if let Some(handler) = handlers.owner_of(&kind) {
                    handler
                        .refused(&pending.to, &kind, &pending.message, refusal.reason())
                        .await?;
                }
                self.bury(pending, refusal.code(), refusal.reason()).await?;
            }
            Err(_) => failed.push(pending.to.clone()),
        }
        Ok(())
    }

    async fn bury(
        &self,
        pending: &outbox::Pending,
        code: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let kind = kind_of(&pending.message).unwrap_or_default();
        tracing::warn!(to = %pending.to, kind, code, reason, "mail given up; kept as a dead letter");
        let letter = dead_letters::DeadLetter {
            to: pending.to.clone(),
            kind,
            code: code.to_owned(),
            reason: reason.to_owned(),
            at: UnixTime::now(),
            message: hex::encode(&pending.message),
        };
        let mut batch = Batch::new();
        dead_letters::bury(&self.inner.store, &mut batch, &pending.key, &letter)?;
        self.inner.store.commit(batch).await?;
        self.left_outbox();
        Ok(())
    }

    fn left_outbox(&self) {
        self.inner.delivered.send_modify(|n| *n += 1);
    }
}
