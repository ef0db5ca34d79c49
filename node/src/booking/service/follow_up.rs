//! Following up as a home: requests that were never answered are asked again, and each
//! owner is asked where this node's open bookings stand as it (re)connects. (Cancels and
//! updates waiting for their recipient are the mail outbox's.)

use alliance_protocol::{InstitutionId, UnixTime, booking::BookingRequest};

use super::{BookError, Bookings, READ_PER_ROUND};
use crate::booking::state::BookingState;

impl Bookings {
    /// Asks again for answers that never came, and reconciles with each owner as it
    /// (re)connects, until `cancel`.
    pub async fn follow_up(self, cancel: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(self.inner.retry_interval);
        let mut events = self.inner.net.events();
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = tick.tick() => {}
                event = events.recv() => match event {
                    Ok(crate::net::NetEvent::MemberVerified { institution, .. }) => {
                        match self.reconcile(&institution).await {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(%institution, changed = n, "bookings reconciled"),
                            Err(e) => tracing::debug!(%institution, error = %e, "reconcile failed"),
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    // Other events (gossip, catalogue) change nothing to follow up.
                    _ => continue,
                },
            }
            if let Err(e) = self.ask_unanswered().await {
                tracing::warn!(error = %e, "asking again for unanswered requests failed");
            }
        }
    }

    /// Sends again each request to a connected owner that has had no answer for a retry
    /// interval.
    pub async fn ask_unanswered(&self) -> Result<(), BookError> {
        let connected: Vec<InstitutionId> = self
            .inner
            .net
            .state()
            .members
            .iter()
            .map(|m| m.certificate.institution_id.clone())
            .collect();
        // A request sent less than a retry interval ago is most likely still on its way.
        // Its time is in whole seconds, so one more second: with an interval under a
        // second (as in tests), a request just sent was otherwise sent again at once, and
        // an owner counting each home's requests a minute saw it twice.
        let wait = self.inner.retry_interval.as_secs().saturating_add(1);
        let recent = UnixTime::now().0 - wait.cast_signed();
        let unanswered =
            self.inner
                .home
                .in_state(BookingState::Requested, (None, None), READ_PER_ROUND)?;
        for booking in unanswered {
            if booking.state != BookingState::Requested
                || booking.updated_at.0 > recent
                || !connected.contains(&booking.owner)
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
                .send_request(
                    &booking.owner,
                    &request,
                    booking.request.clone(),
                    super::home::Attempt::Again,
                )
                .await
            {
                Ok(answer) => {
                    self.inner.home.answered_late(&answer).await?;
                }
                Err(e) => {
                    tracing::debug!(booking = booking.booking_id, error = %e, "still unanswered");
                }
            }
        }
        Ok(())
    }
}
