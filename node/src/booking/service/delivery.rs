//! Delivery: the outbox to other institutions, requests that were never answered, and
//! reconciling with owners as they connect. Messages to institutions that are not
//! members are dropped, so the outbox cannot grow with them.

use alliance_protocol::{
    InstitutionId, UnixTime,
    booking::{BookingRequest, BookingUpdate},
};

use super::{BookError, Bookings};
use crate::{
    booking::{outbox, state::BookingState},
    net::NetError,
};

impl Bookings {
    /// Delivers the outbox and asks again for answers that never came, until `cancel`;
    /// reconciles with each owner as it (re)connects.
    pub async fn deliver(self, cancel: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(self.inner.retry_interval);
        let mut events = self.inner.net.events();
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = tick.tick() => {}
                () = self.wake.notified() => {}
                event = events.recv() => match event {
                    Ok(crate::net::NetEvent::MemberVerified { institution, .. }) => {
                        match self.reconcile(&institution).await {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(%institution, changed = n, "bookings reconciled"),
                            Err(e) => tracing::debug!(%institution, error = %e, "reconcile failed"),
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    // Other events (gossip, catalogue) change nothing to deliver.
                    _ => continue,
                },
            }
            if let Err(e) = self.deliver_once().await {
                tracing::warn!(error = %e, "booking delivery round failed");
            }
        }
    }

    /// One round: each pending message to a connected institution, in order per
    /// destination, stopping at the first failure there; then unanswered requests.
    pub async fn deliver_once(&self) -> Result<(), BookError> {
        let state = self.inner.net.state();
        let connected: Vec<InstitutionId> = state
            .members
            .iter()
            .map(|m| m.certificate.institution_id.clone())
            .collect();
        let directory = self.inner.catalogue.key_directory();
        let mut failed: Vec<InstitutionId> = Vec::new();
        for pending in outbox::pending(&self.inner.store)? {
            // Once a roster is held it lists every member: a message to an institution
            // it does not (or no longer) lists would wait forever, so it goes.
            if state.roster_version > 0 && !directory.is_current(&pending.to) {
                tracing::warn!(to = %pending.to, "booking message to a non-member dropped");
                outbox::acknowledged(&self.inner.store, &pending.key).await?;
                continue;
            }
            if !connected.contains(&pending.to) || failed.contains(&pending.to) {
                continue;
            }
            match self
                .inner
                .net
                .request_booking(&pending.to, pending.message.clone())
                .await
            {
                Ok(reply) => {
                    if !reply.is_empty()
                        && let Ok(key) = self.node_key_of(&pending.to)
                        && let Ok(update) = BookingUpdate::open(&reply, &key)
                    {
                        self.inner.home.updated(&update).await?;
                    }
                    outbox::acknowledged(&self.inner.store, &pending.key).await?;
                    self.inner.delivered.send_modify(|n| *n += 1);
                }
                Err(NetError::Refused { code, message })
                    if code == "internal" || code == "busy" =>
                {
                    // The other side could not take it now (its store, its load): kept and
                    // tried again, like no answer.
                    tracing::warn!(to = %pending.to, code, message, "booking message not taken; will retry");
                    failed.push(pending.to.clone());
                }
                Err(NetError::Refused { code, message }) => {
                    // A refusal is an answer too; keeping the message would retry forever.
                    tracing::warn!(to = %pending.to, code, message, "booking message refused");
                    outbox::acknowledged(&self.inner.store, &pending.key).await?;
                    self.inner.delivered.send_modify(|n| *n += 1);
                }
                Err(_) => failed.push(pending.to.clone()),
            }
        }
        // A request sent less than a retry interval ago is most likely still on its way.
        let recent = UnixTime::now().0 - self.inner.retry_interval.as_secs().cast_signed();
        for booking in self.inner.home.all()? {
            if booking.state != BookingState::Requested
                || booking.updated_at.0 > recent
                || !connected.contains(&booking.owner)
                || failed.contains(&booking.owner)
            {
                continue;
            }
            let request = match BookingRequest::open(&booking.request, &self.inner.key.public()) {
                Ok(request) => request,
                Err(e) => {
                    tracing::error!(booking = booking.booking_id, error = %e, "a stored request does not read");
                    continue;
                }
            };
            match self
                .send_request(&booking.owner, &request, booking.request.clone())
                .await
            {
                Ok(answer) => {
                    self.inner.home.answered(&answer).await?;
                }
                Err(e) => {
                    tracing::debug!(booking = booking.booking_id, error = %e, "still unanswered");
                }
            }
        }
        Ok(())
    }
}
