//! The home side: this node's users' requests and cancels to owners, the owners' updates
//! coming back, and reconciling with an owner after reconnecting.

use alliance_protocol::{
    InstitutionId, MembershipCertificate, UnixTime, UserTier,
    booking::{
        BookingAnswer, BookingCancel, BookingRequest, BookingStatusQuery, BookingUpdate,
        BookingUser, MAX_STATUS_QUERY, decode_updates,
    },
};

use super::{BookError, BookingAsk, Bookings, HomeUser, READ_PER_ROUND};
use crate::{
    booking::{home::HomeBooking, state::BookingState},
    mail::outbox,
    net::{NetError, Refusal},
    store::Batch,
};

/// Pauses before asking a busy owner again: about ten seconds in all.
const BUSY_PAUSES_MS: [u64; 6] = [100, 200, 400, 800, 1_600, 3_200];

/// Which time a request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// From the user, who waits for the answer: a request that cannot be delivered is
    /// forgotten, and the user told.
    First,
    /// Asked again for an answer that never came: nothing is forgotten for a refusal that
    /// may pass or an owner out of reach.
    Again,
}

impl Bookings {
    /// Books an instrument of any institution for a user of this node: the request goes
    /// to the owner's node (or the ledger here, for this institution's own instruments)
    /// and the owner's signed answer comes back checked.
    pub async fn book(
        &self,
        user: &HomeUser,
        ask: &BookingAsk,
        booking_id: String,
    ) -> Result<BookingAnswer, BookError> {
        let (owner, local_id) = ask
            .instrument_id
            .split_once('/')
            .ok_or_else(|| BookError::UnknownInstrument(ask.instrument_id.clone()))?;
        let owner: InstitutionId = owner
            .parse()
            .map_err(|_| BookError::UnknownInstrument(ask.instrument_id.clone()))?;
        let own = &self.inner.own.institution_id;
        let tier = if &owner == own {
            UserTier::OwnInstitution
        } else if user.tier == UserTier::OwnInstitution {
            UserTier::AllianceMember
        } else {
            user.tier
        };
        let request = BookingRequest {
            booking_id,
            institution_id: owner.clone(),
            local_id: local_id.to_owned(),
            start: ask.start,
            end: ask.end,
            user: BookingUser {
                user_id: user.user_id.clone(),
                display_name: user.display_name.clone(),
                home_institution: own.clone(),
                tier,
                // A user's address stays at their home: notices go from here.
                email: String::new(),
            },
            mode: ask.mode,
            samples: ask.samples,
            purpose: ask.purpose.clone(),
            service_item: ask.service_item.clone(),
            sent_at: UnixTime::now(),
        };
        // Refuse here what the owner would refuse anyway.
        request
            .validate()
            .map_err(|e| BookError::Invalid(e.to_string()))?;
        let sealed = request.seal(&self.inner.key);
        let existing = self.inner.home.get(&request.booking_id)?;
        if existing
            .as_ref()
            .is_some_and(|b| b.user_id != user.user_id || b.owner != owner)
        {
            // Clients choose booking ids (to retry safely); one of someone else's must
            // not fetch that booking's answer.
            return Err(BookError::Invalid(format!(
                "booking id {} is already in use",
                request.booking_id
            )));
        }
        if existing.is_none() {
            self.inner
                .home
                .requested(&HomeBooking {
                    booking_id: request.booking_id.clone(),
                    owner: owner.clone(),
                    local_id: request.local_id.clone(),
                    start: request.start,
                    end: request.end,
                    user_id: user.user_id.clone(),
                    mode: request.mode,
                    samples: request.samples,
                    purpose: request.purpose.clone(),
                    state: BookingState::Requested,
                    version: 0,
                    quote_fen: 0,
                    hold_until: None,
                    note: String::new(),
                    request: sealed.clone(),
                    updated_at: request.sent_at,
                })
                .await?;
            crate::crash_hook::crash_hook(crate::crash_hook::REQUEST_STORED);
        }
        let answer = self
            .send_request(&owner, &request, sealed, Attempt::First)
            .await?;
        if answer.booking_id != request.booking_id {
            return Err(BookError::BadAnswer(
                "the answer is about another booking".into(),
            ));
        }
        self.inner.home.answered(&answer).await?;
        Ok(answer)
    }

    /// The owner's checked answer to `request` of ours, `sealed`.
    pub(super) async fn send_request(
        &self,
        owner: &InstitutionId,
        request: &BookingRequest,
        sealed: Vec<u8>,
        attempt: Attempt,
    ) -> Result<BookingAnswer, BookError> {
        if owner == &self.inner.own.institution_id {
            let signed = self.answer_request(request).await?;
            return BookingAnswer::open(&signed, &self.inner.key.public())
                .map_err(|e| BookError::BadAnswer(e.to_string()));
        }
        let owner_key = self.node_key_of(owner)?;
        let _gate = self.inner.gates.enter(owner).await;
        let mut sent = self.inner.net.send_mail(owner, sealed.clone()).await;
        // An owner answers each member's requests a few at a time (its fair share): a
        // `busy` answer means wait a moment and ask again, which a user waiting on the
        // page is better served by than an error.
        for pause_ms in BUSY_PAUSES_MS {
            match &sent {
                Err(NetError::Refused(refusal)) if refusal.is_transient() => {
                    let jitter = rand::random_range(0..=pause_ms / 2);
                    tokio::time::sleep(std::time::Duration::from_millis(pause_ms + jitter)).await;
                    sent = self.inner.net.send_mail(owner, sealed.clone()).await;
                }
                _ => break,
            }
        }
        let signed = match sent {
            Ok(signed) => signed,
            // Asked again, the owner may have answered an earlier attempt whose answer was
            // lost: a booking it confirmed must not vanish here. It stays, and is asked
            // again until the owner's (remembered) answer arrives.
            Err(NetError::Unreachable(_)) if attempt == Attempt::Again => {
                return Err(BookError::Unreachable(owner.clone()));
            }
            Err(NetError::Refused(refusal))
                if refusal.is_transient() && attempt == Attempt::Again =>
            {
                return Err(BookError::Refused(refusal));
            }
            Err(NetError::Unreachable(_)) => {
                // Nothing left this node: nothing may stay half-booked.
                self.inner
                    .home
                    .forget_unanswered(&request.booking_id)
                    .await?;
                return Err(BookError::Unreachable(owner.clone()));
            }
            Err(NetError::Refused(refusal)) => {
                self.inner
                    .home
                    .forget_unanswered(&request.booking_id)
                    .await?;
                return Err(BookError::Refused(refusal));
            }
            // It may have arrived: the request stays and is asked again until answered.
            Err(_) => return Err(BookError::Unreachable(owner.clone())),
        };
        BookingAnswer::open(&signed, &owner_key).map_err(|e| BookError::BadAnswer(e.to_string()))
    }

    /// A user's cancel of one of their bookings. The owner decides; if it cannot be
    /// reached, the cancel waits in the outbox and the booking shows the owner's word once
    /// it arrives.
    pub async fn cancel(
        &self,
        user_id: &str,
        booking_id: &str,
        reason: &str,
    ) -> Result<HomeBooking, BookError> {
        let booking = self
            .inner
            .home
            .get(booking_id)?
            .filter(|b| b.user_id == user_id)
            .ok_or_else(|| BookError::NoBooking(booking_id.to_owned()))?;
        let cancel = BookingCancel {
            booking_id: booking_id.to_owned(),
            institution_id: booking.owner.clone(),
            local_id: booking.local_id.clone(),
            user_id: user_id.to_owned(),
            reason: reason.to_owned(),
            sent_at: UnixTime::now(),
        };
        let sealed = cancel.seal(&self.inner.key);
        let reply = if booking.owner == self.inner.own.institution_id {
            self.owner_cancel(&self.inner.own.institution_id, &cancel)
                .await
                .map_err(BookError::Refused)?
        } else {
            match self
                .inner
                .net
                .send_mail(&booking.owner, sealed.clone())
                .await
            {
                Ok(reply) => reply,
                Err(NetError::Refused(refusal)) => return Err(BookError::Refused(refusal)),
                Err(_) => {
                    let mut batch = Batch::new();
                    outbox::enqueue(
                        &mut batch,
                        outbox::key(&booking.owner, booking_id, u64::MAX),
                        sealed,
                    );
                    self.inner.store.commit(batch).await?;
                    self.inner.mail.poke();
                    return Ok(booking);
                }
            }
        };
        let owner_key = self.node_key_of(&booking.owner)?;
        let update = BookingUpdate::open(&reply, &owner_key)
            .map_err(|e| BookError::BadAnswer(e.to_string()))?;
        Ok(self.inner.home.updated(&update).await?.unwrap_or(booking))
    }

    /// The home's side of an owner's update: applied if newer; acknowledged either way.
    pub(super) async fn home_update(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let update = BookingUpdate::open(bytes, &from.node_public_key)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if update.institution_id != from.institution_id
            || update.home_institution != self.inner.own.institution_id
        {
            return Err(Refusal::NotYours(
                "an update must come from the owner, for its home".into(),
            ));
        }
        self.inner.home.updated(&update).await.map_err(|e| {
            tracing::error!(error = %e, "cannot apply a booking update");
            Refusal::Internal("the update could not be stored".to_owned())
        })?;
        // An empty answer acknowledges.
        Ok(Vec::new())
    }

    /// After reconnecting to `owner`, asks it where this node's open bookings there stand
    /// and takes its word (a home restored from a backup catches up this way).
    pub async fn reconcile(&self, owner: &InstitutionId) -> Result<usize, BookError> {
        if owner == &self.inner.own.institution_id {
            return Ok(0);
        }
        let open: Vec<String> = self
            .inner
            .home
            .not_over(READ_PER_ROUND)?
            .into_iter()
            .filter(|b| &b.owner == owner && !b.state.is_final())
            .map(|b| b.booking_id)
            .collect();
        let mut changed = 0;
        for chunk in open.chunks(MAX_STATUS_QUERY) {
            let query = BookingStatusQuery {
                home_institution: self.inner.own.institution_id.clone(),
                booking_ids: chunk.to_vec(),
                sent_at: UnixTime::now(),
            };
            let reply = self
                .inner
                .net
                .send_mail(owner, query.seal(&self.inner.key))
                .await
                .map_err(|_| BookError::Unreachable(owner.clone()))?;
            let owner_key = self.node_key_of(owner)?;
            for sealed in decode_updates(&reply).map_err(|e| BookError::BadAnswer(e.to_string()))? {
                let update = BookingUpdate::open(&sealed, &owner_key)
                    .map_err(|e| BookError::BadAnswer(e.to_string()))?;
                if self.inner.home.updated(&update).await?.is_some() {
                    changed += 1;
                }
            }
        }
        Ok(changed)
    }
}
