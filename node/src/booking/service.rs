//! [`Bookings`]: booking as the rest of the node uses it. As the owner, it answers
//! members' requests for this institution's instruments through the [`Ledger`]; as the
//! home of users, it sends their requests to the owner's node and checks the signed answer.
//!
//! Rules and training certifications are the owner's, kept in its store. The owner's
//! answers are in `owner.rs`, the home's requests and cancels in `home.rs`, and the
//! outbox and retries in `delivery.rs`, the end of a use and its receipt in
//! `completion.rs`.

mod answer_counts;
mod calendars;
mod completion;
mod delivery;
mod home;
mod owner;
mod statistics;

use std::sync::Arc;

use alliance_protocol::{
    HourState, InstitutionId, MembershipCertificate, SecretKey, ServiceMode, UnixTime, UserTier,
    booking::{BookingCancel, BookingMessageKind, BookingRequest, message_kind},
};
use tokio::sync::mpsc;

pub use completion::{SessionFacts, WalkIn};

use super::{
    home::HomeLedger,
    ledger::{Ledger, LedgerError},
    rules::{BlackoutKind, BookingRules},
};
use crate::{
    catalogue::{
        Catalogue,
        digest::{BusySource, BusySpan},
    },
    net::{InboundBooking, NetClient},
    receipts::Receipts,
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
    calendars: calendars::CalendarRefresh,
    ledger: Ledger,
    net: NetClient,
    /// Receipts and confirmations arrive as booking messages.
    receipts: Receipts,
    /// Bumped whenever another institution acknowledges a message of the outbox.
    delivered: tokio::sync::watch::Sender<u64>,
    /// How requests were answered, for metrics.
    answers: answer_counts::AnswerCounts,
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
        receipts: Receipts,
        config: &crate::config::BookingSection,
    ) -> Result<Bookings, StoreError> {
        let retry_interval = config.retry_interval;
        let ledger = Ledger::open_with_cancel_cap(
            store.clone(),
            key.clone(),
            own.institution_id.clone(),
            usize::try_from(config.remembered_cancels_per_home).unwrap_or(usize::MAX),
        )?;
        catalogue.set_busy_source(Arc::new(BusyTimes {
            store: store.clone(),
            ledger: ledger.clone(),
        }));
        Ok(Bookings {
            // Receipts queue messages in the same outbox.
            wake: receipts.delivery_wake(),
            inner: Arc::new(Inner {
                home: HomeLedger::new(store.clone()),
                retry_interval,
                own,
                key,
                store,
                calendars: calendars::CalendarRefresh::new(catalogue.clone()),
                catalogue,
                ledger,
                net,
                receipts,
                delivered: tokio::sync::watch::channel(0).0,
                answers: answer_counts::AnswerCounts::default(),
            }),
        })
    }

    /// A receiver that sees every acknowledged outbox message (its value counts them).
    pub fn deliveries(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.delivered.subscribe()
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
            BookingMessageKind::Status => return self.owner_status(from, bytes),
            kind @ (BookingMessageKind::Receipt
            | BookingMessageKind::ReceiptConfirmation
            | BookingMessageKind::Publication
            | BookingMessageKind::ServiceStatistics) => {
                return self.inner.receipts.on_message(from, kind, bytes).await;
            }
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
        let answered = self.answer_request(&request).await;
        if answered.is_err() {
            self.inner.answers.refused();
        }
        match answered {
            Ok(answer) => Ok(answer),
            Err(BookError::UnknownInstrument(id)) => {
                Err(refuse("unknown_instrument", format!("no instrument {id}")))
            }
            Err(BookError::Ledger(LedgerError::IdReused(id))) => Err(refuse(
                "id_reused",
                format!("booking id {id} was already used for another request"),
            )),
            Err(e) => {
                tracing::error!(error = %e, "cannot answer a booking request");
                Err(refuse("internal", "the owner could not answer".into()))
            }
        }
    }

    /// Shows a change of an instrument's calendar in every node's calendar.
    fn show_in_calendars(&self, local_id: &str) {
        self.inner.calendars.changed(local_id);
    }

    /// How this owner answered booking requests since start, by outcome (for metrics).
    pub fn answer_counts(&self) -> [(&'static str, u64); 5] {
        self.inner.answers.snapshot()
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

    /// Every training certification recorded here, by instrument and user.
    pub fn trainings(&self) -> Result<Vec<Training>, StoreError> {
        Ok(self
            .inner
            .store
            .scan_prefix_json::<Training>(Space::Trainings, b"")?
            .into_iter()
            .map(|(_, t)| t)
            .collect())
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

    /// This node's public key (the owner's, on receipts and answers).
    pub fn public_key(&self) -> alliance_protocol::PublicKey {
        self.inner.key.public()
    }

    /// The node's store (for the web layer's feed tokens).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// This node's copy of its users' bookings.
    pub fn home(&self) -> &HomeLedger {
        &self.inner.home
    }
}
