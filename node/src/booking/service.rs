//! [`Bookings`]: booking as the rest of the node uses it. As the owner, it answers
//! members' requests for this institution's instruments through the [`Ledger`]; as the
//! home of users, it sends their requests to the owner's node and checks the signed answer.
//!
//! Rules and training certifications are the owner's, kept in its store.

use std::sync::Arc;

use alliance_protocol::{
    HourState, InstitutionId, MembershipCertificate, SecretKey, ServiceMode, UnixTime, UserTier,
    booking::{
        BookingAnswer, BookingCancel, BookingMessageKind, BookingRequest, BookingStatus,
        BookingUpdate, BookingUser, Outcome, message_kind,
    },
};
use tokio::sync::mpsc;

use super::{
    home::{HomeBooking, HomeLedger},
    ledger::{CancelOutcome, Decision, Ledger, LedgerError, RequestContext},
    outbox,
    rules::{BlackoutKind, BookingRules, InstrumentFacts},
    state::{Booking, BookingState},
};
use crate::{
    catalogue::{
        Catalogue,
        digest::{BusySource, BusySpan},
        schedule,
    },
    net::{InboundBooking, NetClient, NetError},
    store::{Batch, Space, Store, StoreError},
};

/// What can go wrong when booking.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error("the owner's node ({0}) is unreachable; nothing was booked")]
    Unreachable(InstitutionId),
    #[error("the owner refused the request ({code}): {message}")]
    Refused { code: String, message: String },
    #[error("no instrument {0}")]
    UnknownInstrument(String),
    #[error("no booking {0} of this user")]
    NoBooking(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the owner's answer does not verify: {0}")]
    BadAnswer(String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user of this node, as it vouches for them to owners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeUser {
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    /// The user's own category; a user of the owning institution is priced as its own.
    pub tier: UserTier,
}

/// What a user asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingAsk {
    /// `institution/local_id`.
    pub instrument_id: String,
    pub start: UnixTime,
    pub end: UnixTime,
    pub mode: ServiceMode,
    pub samples: u32,
    pub purpose: String,
}

/// A training certification (R20): who may operate an instrument themselves, until when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Training {
    pub local_id: String,
    pub home: InstitutionId,
    pub user_id: String,
    pub trained_at: UnixTime,
    pub valid_until: UnixTime,
    pub recorded_by: String,
}

fn training_key(local_id: &str, home: &InstitutionId, user_id: &str) -> Vec<u8> {
    format!("{local_id}\0{home}\0{user_id}").into_bytes()
}

/// The owner's busy spans for the catalogue's digests: slots taken and blackouts.
#[derive(Debug)]
struct BusyTimes {
    store: Store,
    ledger: Ledger,
}

impl BusySource for BusyTimes {
    fn busy(&self, local_id: &str) -> Vec<BusySpan> {
        let taken = self.ledger.taken_spans(local_id).unwrap_or_else(|e| {
            tracing::error!(local_id, error = %e, "cannot read the slots taken");
            Vec::new()
        });
        let rules: BookingRules = self
            .store
            .get_json(Space::BookingRules, local_id.as_bytes())
            .ok()
            .flatten()
            .unwrap_or_default();
        taken
            .into_iter()
            .map(|(start, end)| BusySpan {
                start,
                end,
                state: HourState::Booked,
            })
            .chain(rules.blackouts.iter().map(|b| BusySpan {
                start: b.start,
                end: b.end,
                state: match b.kind {
                    BlackoutKind::Maintenance => HourState::Maintenance,
                    BlackoutKind::Holiday => HourState::Closed,
                },
            }))
            .collect()
    }
}

struct Inner {
    home: HomeLedger,
    /// How often undelivered messages and unanswered requests are tried again.
    retry_interval: std::time::Duration,
    own: MembershipCertificate,
    key: SecretKey,
    store: Store,
    catalogue: Catalogue,
    ledger: Ledger,
    net: NetClient,
}

/// The node's booking service. Cheap to clone.
#[derive(Clone)]
pub struct Bookings {
    inner: Arc<Inner>,
    /// Poked when something lands in the outbox.
    wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Bookings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bookings")
            .field("own", &self.inner.own.institution_id)
            .finish_non_exhaustive()
    }
}

impl Bookings {
    /// Opens the owner's ledger in `store`.
    pub fn open(
        store: Store,
        own: MembershipCertificate,
        key: SecretKey,
        catalogue: Catalogue,
        net: NetClient,
        retry_interval: std::time::Duration,
    ) -> Result<Bookings, StoreError> {
        let ledger = Ledger::open(store.clone(), key.clone(), own.institution_id.clone())?;
        catalogue.set_busy_source(Arc::new(BusyTimes {
            store: store.clone(),
            ledger: ledger.clone(),
        }));
        Ok(Bookings {
            wake: Arc::new(tokio::sync::Notify::new()),
            inner: Arc::new(Inner {
                home: HomeLedger::new(store.clone()),
                retry_interval,
                own,
                key,
                store,
                catalogue,
                ledger,
                net,
            }),
        })
    }

    /// The owner's ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// Answers members' requests until the network stops; requests for different
    /// instruments are answered side by side.
    pub async fn serve(self, mut inbox: mpsc::Receiver<InboundBooking>) {
        while let Some(inbound) = inbox.recv().await {
            let this = self.clone();
            tokio::spawn(async move {
                let answer = this.answer(&inbound.from, &inbound.request).await;
                let _ = inbound.reply.send(answer);
            });
        }
    }

    /// Lapses holds when they are due, until `cancel`.
    pub async fn expire_holds(self, cancel: tokio_util::sync::CancellationToken) {
        // Checked at least every minute, so holds made meanwhile are not missed.
        const LONGEST_NAP: i64 = 60;
        loop {
            let now = UnixTime::now();
            let wait = self
                .inner
                .ledger
                .next_hold_expiry()
                .map_or(LONGEST_NAP, |until| (until.0 - now.0).clamp(0, LONGEST_NAP));
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(std::time::Duration::from_secs(wait.unsigned_abs())) => {}
            }
            match self.inner.ledger.expire_holds(UnixTime::now()).await {
                Ok(expired) if !expired.is_empty() => {
                    tracing::info!(count = expired.len(), "holds lapsed");
                    for booking in &expired {
                        self.show_in_calendars(&booking.local_id);
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "cannot lapse holds"),
            }
        }
    }

    /// The owner's answer to a member's signed request, or a refusal code and message.
    async fn answer(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<Vec<u8>, (String, String)> {
        let refuse = |code: &str, message: String| (code.to_owned(), message);
        match message_kind(bytes).map_err(|e| refuse("bad_request", e.to_string()))? {
            BookingMessageKind::Request => {}
            BookingMessageKind::Cancel => {
                let cancel = BookingCancel::open(bytes, &from.node_public_key)
                    .map_err(|e| refuse("bad_request", e.to_string()))?;
                if cancel.institution_id != self.inner.own.institution_id {
                    return Err(refuse(
                        "unknown_instrument",
                        "not an instrument of ours".into(),
                    ));
                }
                return self.owner_cancel(&from.institution_id, &cancel).await;
            }
            BookingMessageKind::Update => return self.home_update(from, bytes).await,
        }
        let request = BookingRequest::open(bytes, &from.node_public_key)
            .map_err(|e| refuse("bad_request", e.to_string()))?;
        if request.user.home_institution != from.institution_id {
            return Err(refuse(
                "not_your_user",
                format!(
                    "{} vouched for a user of {}",
                    from.institution_id, request.user.home_institution
                ),
            ));
        }
        let tier_allowed = match request.user.tier {
            UserTier::OwnInstitution => from.institution_id == self.inner.own.institution_id,
            _ => true,
        };
        if !tier_allowed {
            return Err(refuse(
                "wrong_tier",
                "only the owner's own users pay the own-institution price".into(),
            ));
        }
        match self.answer_request(&request).await {
            Ok(answer) => Ok(answer),
            Err(BookError::UnknownInstrument(id)) => {
                Err(refuse("unknown_instrument", format!("no instrument {id}")))
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot answer a booking request");
                Err(refuse("internal", "the owner could not answer".into()))
            }
        }
    }

    /// Runs a request (already vouched for) through the ledger.
    async fn answer_request(&self, request: &BookingRequest) -> Result<Vec<u8>, BookError> {
        if request.institution_id != self.inner.own.institution_id {
            return Err(BookError::UnknownInstrument(request.instrument_id()));
        }
        let view = self
            .inner
            .catalogue
            .instrument_unfiltered(&request.instrument_id())
            .ok_or_else(|| BookError::UnknownInstrument(request.instrument_id()))?;
        let record = &view.record;
        let rules = self.rules(&request.local_id)?;
        let open = schedule::parse(&record.opening_hours);
        let trained = self.is_trained(
            &request.local_id,
            &request.user.home_institution,
            &request.user.user_id,
            request.end,
        )?;
        let context = RequestContext {
            rules: &rules,
            facts: InstrumentFacts {
                status: record.status,
                scope: record.sharing_scope,
                modes: &record.service_modes,
                open: &open,
            },
            fees: &record.fees,
            trained,
            now: UnixTime::now(),
        };
        let answered = self.inner.ledger.request(request, &context).await?;
        if matches!(
            answered.answer.outcome,
            Outcome::Held { .. } | Outcome::Confirmed
        ) {
            self.show_in_calendars(&request.local_id);
        }
        Ok(answered.signed)
    }

    /// Republishes an instrument's availability digest after its calendar changed, without
    /// holding up whoever changed it.
    fn show_in_calendars(&self, local_id: &str) {
        let catalogue = self.inner.catalogue.clone();
        let local_id = local_id.to_owned();
        tokio::spawn(async move {
            if let Err(e) = catalogue.republish_digest(&local_id).await {
                tracing::warn!(local_id, error = %e, "cannot republish an availability digest");
            }
        });
    }

    /// A manager's decision about a booking of one of this institution's instruments.
    pub async fn decide(
        &self,
        home: &InstitutionId,
        booking_id: &str,
        decision: Decision,
        by: &str,
        note: &str,
    ) -> Result<Booking, BookError> {
        let booking = self
            .inner
            .ledger
            .decide(home, booking_id, decision, by, note, UnixTime::now())
            .await?;
        self.show_in_calendars(&booking.local_id);
        Ok(booking)
    }

    /// The booking rules of one of this institution's instruments (the defaults until
    /// its manager sets them).
    pub fn rules(&self, local_id: &str) -> Result<BookingRules, StoreError> {
        Ok(self
            .inner
            .store
            .get_json(Space::BookingRules, local_id.as_bytes())?
            .unwrap_or_default())
    }

    /// Sets the booking rules of one of this institution's instruments.
    pub async fn set_rules(&self, local_id: &str, rules: &BookingRules) -> Result<(), BookError> {
        rules
            .validate()
            .map_err(|r| BookError::Invalid(format!("{}: {}", r.code, r.reason)))?;
        let mut batch = Batch::new();
        batch.put_json(Space::BookingRules, local_id.as_bytes().to_vec(), rules)?;
        self.inner.store.commit(batch).await?;
        // Blackouts show in every node's calendar.
        self.show_in_calendars(local_id);
        Ok(())
    }

    /// Records that a user was trained on one of this institution's instruments.
    pub async fn record_training(&self, training: &Training) -> Result<(), BookError> {
        if training.valid_until <= training.trained_at {
            return Err(BookError::Invalid(
                "valid_until: must be after the training".into(),
            ));
        }
        let mut batch = Batch::new();
        batch.put_json(
            Space::Trainings,
            training_key(&training.local_id, &training.home, &training.user_id),
            training,
        )?;
        self.inner.store.commit(batch).await?;
        Ok(())
    }

    /// Whether a user holds a training certification for the instrument valid at `at`.
    pub fn is_trained(
        &self,
        local_id: &str,
        home: &InstitutionId,
        user_id: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let training: Option<Training> = self
            .inner
            .store
            .get_json(Space::Trainings, &training_key(local_id, home, user_id))?;
        Ok(training.is_some_and(|t| t.trained_at <= at && at <= t.valid_until))
    }

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
                email: user.email.clone(),
            },
            mode: ask.mode,
            samples: ask.samples,
            purpose: ask.purpose.clone(),
            sent_at: UnixTime::now(),
        };
        let sealed = request.seal(&self.inner.key);
        // What the owner will read: refuse here what it would refuse anyway.
        BookingRequest::open(&sealed, &self.inner.key.public())
            .map_err(|e| BookError::Invalid(e.to_string()))?;
        if self.inner.home.get(&request.booking_id)?.is_none() {
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
        }
        let answer = self.send_request(&owner, sealed).await?;
        if answer.booking_id != request.booking_id {
            return Err(BookError::BadAnswer(
                "the answer is about another booking".into(),
            ));
        }
        self.inner.home.answered(&answer).await?;
        Ok(answer)
    }

    /// The owner's checked answer to a sealed request of ours.
    async fn send_request(
        &self,
        owner: &InstitutionId,
        sealed: Vec<u8>,
    ) -> Result<BookingAnswer, BookError> {
        let request = BookingRequest::open(&sealed, &self.inner.key.public())
            .map_err(|e| BookError::Invalid(e.to_string()))?;
        if owner == &self.inner.own.institution_id {
            let signed = self.answer_request(&request).await?;
            return BookingAnswer::open(&signed, &self.inner.key.public())
                .map_err(|e| BookError::BadAnswer(e.to_string()));
        }
        let owner_key = self.node_key_of(owner)?;
        let signed = match self.inner.net.request_booking(owner, sealed).await {
            Ok(signed) => signed,
            Err(NetError::Unreachable(_)) => {
                // Nothing left this node: nothing may stay half-booked.
                self.inner.home.forget(&request.booking_id).await?;
                return Err(BookError::Unreachable(owner.clone()));
            }
            Err(NetError::Refused { code, message }) => {
                self.inner.home.forget(&request.booking_id).await?;
                return Err(BookError::Refused { code, message });
            }
            // It may have arrived: the request stays and is asked again until answered.
            Err(_) => return Err(BookError::Unreachable(owner.clone())),
        };
        BookingAnswer::open(&signed, &owner_key).map_err(|e| BookError::BadAnswer(e.to_string()))
    }

    fn node_key_of(
        &self,
        institution: &InstitutionId,
    ) -> Result<alliance_protocol::PublicKey, BookError> {
        self.inner
            .catalogue
            .key_directory()
            .institutions()
            .get(institution)
            .map(|c| c.node_public_key)
            .ok_or_else(|| BookError::Refused {
                code: "not_a_member".into(),
                message: format!("{institution} is not a current member"),
            })
    }

    /// This node's copy of its users' bookings.
    pub fn home(&self) -> &HomeLedger {
        &self.inner.home
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
                .map_err(|(code, message)| BookError::Refused { code, message })?
        } else {
            match self
                .inner
                .net
                .request_booking(&booking.owner, sealed.clone())
                .await
            {
                Ok(reply) => reply,
                Err(NetError::Refused { code, message }) => {
                    return Err(BookError::Refused { code, message });
                }
                Err(_) => {
                    let mut batch = Batch::new();
                    outbox::enqueue(
                        &mut batch,
                        outbox::key(&booking.owner, booking_id, u64::MAX),
                        sealed,
                    );
                    self.inner.store.commit(batch).await?;
                    self.wake.notify_one();
                    return Ok(booking);
                }
            }
        };
        let owner_key = self.node_key_of(&booking.owner)?;
        let update = BookingUpdate::open(&reply, &owner_key)
            .map_err(|e| BookError::BadAnswer(e.to_string()))?;
        Ok(self.inner.home.updated(&update).await?.unwrap_or(booking))
    }

    /// The owner's side of a cancel from `home`: its signed update, or a refusal.
    async fn owner_cancel(
        &self,
        home: &InstitutionId,
        cancel: &BookingCancel,
    ) -> Result<Vec<u8>, (String, String)> {
        let internal = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "cannot cancel a booking");
            (
                "internal".to_owned(),
                "the owner could not cancel".to_owned(),
            )
        };
        let rules = self.rules(&cancel.local_id).map_err(|e| internal(&e))?;
        let by = format!("{}@{home}", cancel.user_id);
        let outcome = self
            .inner
            .ledger
            .cancel(
                home,
                &cancel.booking_id,
                &cancel.local_id,
                &rules,
                &by,
                UnixTime::now(),
            )
            .await;
        let update = match outcome {
            Ok(CancelOutcome::Cancelled(booking)) => {
                self.show_in_calendars(&booking.local_id);
                self.inner.ledger.update_of(&booking)
            }
            Ok(CancelOutcome::AlreadyFinal(booking)) => self.inner.ledger.update_of(&booking),
            Ok(CancelOutcome::Remembered) => BookingUpdate {
                booking_id: cancel.booking_id.clone(),
                home_institution: home.clone(),
                institution_id: self.inner.own.institution_id.clone(),
                local_id: cancel.local_id.clone(),
                status: BookingStatus::Cancelled,
                version: 0,
                by,
                note: cancel.reason.clone(),
                at: UnixTime::now(),
            },
            Err(LedgerError::TooLate) => {
                return Err((
                    "too_late".into(),
                    format!(
                        "开始前 {} 小时内不能取消，请联系仪器管理员",
                        rules.cancel_deadline_hours
                    ),
                ));
            }
            Err(e) => return Err(internal(&e)),
        };
        Ok(update.seal(&self.inner.key))
    }

    /// The home's side of an owner's update: applied if newer; acknowledged either way.
    async fn home_update(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<Vec<u8>, (String, String)> {
        let update = BookingUpdate::open(bytes, &from.node_public_key)
            .map_err(|e| ("bad_request".to_owned(), e.to_string()))?;
        if update.institution_id != from.institution_id
            || update.home_institution != self.inner.own.institution_id
        {
            return Err((
                "not_yours".into(),
                "an update must come from the owner, for its home".into(),
            ));
        }
        self.inner.home.updated(&update).await.map_err(|e| {
            tracing::error!(error = %e, "cannot apply a booking update");
            (
                "internal".to_owned(),
                "the update could not be stored".to_owned(),
            )
        })?;
        // An empty answer acknowledges.
        Ok(Vec::new())
    }

    /// Delivers the outbox and asks again for answers that never came, until `cancel`.
    pub async fn deliver(self, cancel: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(self.inner.retry_interval);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = tick.tick() => {}
                () = self.wake.notified() => {}
            }
            if let Err(e) = self.deliver_once().await {
                tracing::warn!(error = %e, "booking delivery round failed");
            }
        }
    }

    /// One round: each pending message to a connected institution, in order per
    /// destination, stopping at the first failure there; then unanswered requests.
    pub async fn deliver_once(&self) -> Result<(), BookError> {
        let connected: Vec<InstitutionId> = self
            .inner
            .net
            .state()
            .members
            .iter()
            .map(|m| m.certificate.institution_id.clone())
            .collect();
        let mut failed: Vec<InstitutionId> = Vec::new();
        for pending in outbox::pending(&self.inner.store)? {
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
                }
                Err(NetError::Refused { code, message }) => {
                    // A refusal is an answer too; keeping the message would retry forever.
                    tracing::warn!(to = %pending.to, code, message, "booking message refused");
                    outbox::acknowledged(&self.inner.store, &pending.key).await?;
                }
                Err(_) => failed.push(pending.to.clone()),
            }
        }
        for booking in self.inner.home.all()? {
            if booking.state != BookingState::Requested
                || !connected.contains(&booking.owner)
                || failed.contains(&booking.owner)
            {
                continue;
            }
            match self
                .send_request(&booking.owner, booking.request.clone())
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
