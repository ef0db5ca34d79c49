//! Registrations arriving at the organiser: only from the registrant's own home, only
//! for this institution's events.

use alliance_protocol::{Domain, MembershipCertificate, event::EventRegistration};
use futures::future::BoxFuture;

use super::{EventError, Events};
use crate::{mail, net::Refusal};

impl Events {
    async fn on_message(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let registration = EventRegistration::open(bytes, &from.node_public_key)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if registration.home != from.institution_id {
            return Err(Refusal::NotYours(
                "a registration comes from the registrant's home".into(),
            ));
        }
        match self.received(registration).await {
            Ok(()) => Ok(Vec::new()),
            Err(EventError::Store(e)) => {
                tracing::error!(error = %e, "cannot keep a registration");
                Err(Refusal::Internal(
                    "the registration could not be stored".into(),
                ))
            }
            Err(e) => Err(Refusal::BadRequest(e.to_string())),
        }
    }
}

const EVENT_MAIL: &[Domain] = &[Domain::EVENT_REGISTRATION];

impl mail::Handler for Events {
    fn kinds(&self) -> &'static [Domain] {
        EVENT_MAIL
    }

    fn receive<'a>(
        &'a self,
        from: &'a MembershipCertificate,
        _kind: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Refusal>> {
        Box::pin(self.on_message(from, message))
    }
}
