//! [`Bookings`]: booking as the rest of the node uses it. As the owner, it answers
//! members' requests for this institution's instruments through the [`Ledger`]; as the
//! home of users, it sends their requests to the owner's node and checks the signed answer.
//!
//! Rules and training certifications are the owner's, kept in its store. The owner's
//! answers are in `owner.rs`, the home's requests and cancels in `home.rs`, asking again
//! and reconciling in `follow_up.rs`, the end of a use and its receipt in
//! `completion.rs`. Booking's messages between nodes are mail (see `crate::mail`):
//! [`Bookings`] owns the booking kinds and answers them.

mod answer_counts;
mod calendars;
mod completion;
mod fair_share;
mod follow_up;
mod home;
mod notice_budget;
mod owner;
mod owner_gates;
mod reminders;
mod statistics;
mod trainings;

use std::sync::Arc;

use alliance_protocol::{
    BookingWindow, Domain, HourState, InstitutionId, MembershipCertificate, SecretKey, UnixTime,
    UserTier,
    booking::{BookingCancel, BookingRequest, BookingUpdate},
};
use futures::future::BoxFuture;

pub use alliance_protocol::booking::{BookingAsk, Training};
pub use completion::{SessionFacts, WalkIn};

use super::{
    home::HomeLedger,
    ledger::{Ledger, LedgerError},
    rules::{BlackoutKind, BookingRules, RulesCheck},
};
use crate::{
    catalogue::{
        Catalogue,
        digest::{BusySource, BusySpan, OwnerCalendar},
    },
    mail::{self, Mail},
    net::{NetClient, Refusal},
    receipts::Receipts,
    store::{Batch, Space, Store, StoreError},
};

/// The home's bookings one round of follow-up reads at most of one state (asking owners
/// again, reminding users, catching up after a reconnect): far more than are ever open
/// at once; any beyond wait for the next round.
const READ_PER_ROUND: usize = 10_000;

/// What can go wrong when booking.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error("the owner's node ({0}) is unreachable; nothing was booked")]
    Unreachable(InstitutionId),
    #[error("the owner refused the request: {0}")]
    Refused(Refusal),
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
    /// The user's own category; a user of the owning institution is priced as its own.
    pub tier: UserTier,
}

/// An instrument's booking rules as this node applies them: as its manager set them,
/// and open on public holidays when the node's configuration says holidays do not close
/// instruments (`booking.close_on_public_holidays = false`). The digests and the owner's
/// check both read them here, so the two never disagree.
fn rules_in_force(
    store: &Store,
    local_id: &str,
    holidays_close: bool,
) -> Result<BookingRules, StoreError> {
    let mut rules: BookingRules = store
        .get_json(Space::BookingRules, local_id.as_bytes())?
        .unwrap_or_default();
    rules.open_on_holidays |= !holidays_close;
    Ok(rules)
}

/// The owner's busy spans for the catalogue's digests: slots taken and blackouts.
#[derive(Debug)]
struct BusyTimes {
    store: Store,
    ledger: Ledger,
    /// Whether public holidays close instruments (the node's configuration).
    holidays_close: bool,
}

impl BusySource for BusyTimes {
    fn calendar(&self, local_id: &str) -> OwnerCalendar {
        let taken = self.ledger.taken_spans(local_id).unwrap_or_else(|e| {
            tracing::error!(local_id, error = %e, "cannot read the slots taken");
            Vec::new()
        });
        let rules =
            rules_in_force(&self.store, local_id, self.holidays_close).unwrap_or_else(|e| {
                tracing::error!(local_id, error = %e, "cannot read the booking rules");
                BookingRules::default()
            });
        let busy = taken
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
            .collect();
        OwnerCalendar {
            busy,
            window: Some(BookingWindow::from(&rules)),
            open_on_holidays: rules.open_on_holidays,
        }
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
    /// The end of a use issues its receipt.
    receipts: Receipts,
    /// Cancels wait in its outbox while the owner is away.
    mail: Mail,
    /// How requests were answered, for metrics.
    answers: answer_counts::AnswerCounts,
    /// Each home's share of this owner's attention.
    fair: fair_share::FairShare,
    /// Where managers hear of requests waiting for them.
    notices: crate::notify::Notices,
    /// How many of those notices each home's requests may cause.
    notice_budget: notice_budget::NoticeBudget,
    /// This home's requests in flight to each owner.
    gates: owner_gates::OwnerGates,
    /// Whether public holidays close this institution's instruments.
    holidays_close: bool,
}

/// The node's booking service. Cheap to clone.
#[derive(Clone)]
pub struct Bookings {
    inner: Arc<Inner>,
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
    #[allow(clippy::too_many_arguments)] // each part it works with, wired once in Node::start
    pub fn open(
        store: Store,
        own: MembershipCertificate,
        key: SecretKey,
        catalogue: Catalogue,
        net: NetClient,
        mail: Mail,
        receipts: Receipts,
        notices: crate::notify::Notices,
        config: &crate::config::BookingSection,
        tasks: tokio_util::task::TaskTracker,
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
            holidays_close: config.close_on_public_holidays,
        }));
        Ok(Bookings {
            inner: Arc::new(Inner {
                home: HomeLedger::open(store.clone())?.telling(notices.clone(), catalogue.clone()),
                notices,
                notice_budget: notice_budget::NoticeBudget::default(),
                retry_interval,
                own,
                key,
                store,
                calendars: calendars::CalendarRefresh::new(catalogue.clone(), tasks),
                catalogue,
                ledger,
                net,
                receipts,
                mail,
                answers: answer_counts::AnswerCounts::default(),
                fair: fair_share::FairShare::new(
                    usize::try_from(config.concurrent_requests_per_home).unwrap_or(usize::MAX),
                    config.requests_per_home_per_minute,
                ),
                gates: owner_gates::OwnerGates::default(),
                holidays_close: config.close_on_public_holidays,
            }),
        })
    }

    /// The owner's ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// Starts booking's background work: lapsing holds, following up unanswered
    /// requests, reporting statistics to the province.
    pub fn start(
        &self,
        supervisor: &crate::supervisor::Supervisor,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let bookings = self.clone();
        supervisor.short_tasks().spawn(async move {
            match bookings.tell_homes_of_past_trainings().await {
                Ok(0) => {}
                Ok(told) => tracing::info!(told, "homes told of trainings recorded before"),
                Err(e) => tracing::warn!(error = %e, "homes not told of past trainings"),
            }
        });
        vec![
            supervisor.spawn("hold expiry", self.clone().expire_holds(cancel.clone())),
            supervisor.spawn("booking follow-up", self.clone().follow_up(cancel.clone())),
            supervisor.spawn(
                "booking statistics",
                self.clone().report_statistics(cancel.clone()),
            ),
        ]
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
                    self.inner.mail.poke();
                    for booking in &expired {
                        self.show_in_calendars(&booking.local_id);
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "cannot lapse holds"),
            }
        }
    }

    /// The answer to a member's booking message of `kind`, or why it is refused.
    async fn answer(
        &self,
        from: &MembershipCertificate,
        kind: &str,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        match kind {
            k if k == Domain::BOOKING.0 => {}
            k if k == Domain::BOOKING_CANCEL.0 => {
                let cancel = BookingCancel::open(bytes, &from.node_public_key)
                    .map_err(|e| Refusal::BadRequest(e.to_string()))?;
                if cancel.institution_id != self.inner.own.institution_id {
                    return Err(Refusal::UnknownInstrument(
                        "not an instrument of ours".into(),
                    ));
                }
                return self.owner_cancel(&from.institution_id, &cancel).await;
            }
            k if k == Domain::BOOKING_UPDATE.0 => return self.home_update(from, bytes).await,
            k if k == Domain::BOOKING_STATUS.0 => return self.owner_status(from, bytes),
            k if k == Domain::TRAINING.0 => return self.home_training(from, bytes).await,
            other => return Err(Refusal::BadRequest(format!("{other} is not booking mail"))),
        }
        let request = BookingRequest::open(bytes, &from.node_public_key)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if request.user.home_institution != from.institution_id {
            return Err(Refusal::NotYourUser(format!(
                "{} vouched for a user of {}",
                from.institution_id, request.user.home_institution
            )));
        }
        let tier_allowed = match request.user.tier {
            UserTier::OwnInstitution => from.institution_id == self.inner.own.institution_id,
            _ => true,
        };
        if !tier_allowed {
            return Err(Refusal::WrongTier(
                "only the owner's own users pay the own-institution price".into(),
            ));
        }
        let _turn = self
            .inner
            .fair
            .enter(&from.institution_id, std::time::Instant::now())?;
        let answered = self.answer_request(&request).await;
        if answered.is_err() {
            self.inner.answers.refused();
        }
        match answered {
            Ok(answer) => Ok(answer),
            Err(BookError::UnknownInstrument(id)) => {
                Err(Refusal::UnknownInstrument(format!("no instrument {id}")))
            }
            Err(BookError::Ledger(LedgerError::IdReused(id))) => Err(Refusal::IdReused(format!(
                "booking id {id} was already used for another request"
            ))),
            Err(e) => {
                tracing::error!(error = %e, "cannot answer a booking request");
                Err(Refusal::Internal("the owner could not answer".into()))
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
            .ok_or_else(|| {
                BookError::Refused(Refusal::NotAMember(format!(
                    "{institution} is not a current member"
                )))
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

/// Booking's kinds of mail: requests, cancels and status queries to owners, updates to
/// homes.
const BOOKING_MAIL: &[Domain] = &[
    Domain::BOOKING,
    Domain::BOOKING_CANCEL,
    Domain::BOOKING_UPDATE,
    Domain::BOOKING_STATUS,
    Domain::TRAINING,
];

impl mail::Handler for Bookings {
    fn kinds(&self) -> &'static [Domain] {
        BOOKING_MAIL
    }

    fn receive<'a>(
        &'a self,
        from: &'a MembershipCertificate,
        kind: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Refusal>> {
        Box::pin(self.answer(from, kind, message))
    }

    /// A cancel from the outbox is answered with the owner's signed update.
    fn answered<'a>(
        &'a self,
        to: &'a InstitutionId,
        _kind: &'a str,
        answer: &'a [u8],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            match self
                .node_key_of(to)
                .ok()
                .and_then(|key| BookingUpdate::open(answer, &key).ok())
            {
                Some(update) => self.inner.home.updated(&update).await.map(drop),
                None => {
                    tracing::warn!(%to, "an owner's answer to a cancel does not verify");
                    Ok(())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_node_whose_holidays_do_not_close_opens_them_whatever_the_rules_say() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let closed = BookingRules {
            open_on_holidays: false,
            ..BookingRules::default()
        };
        let mut batch = crate::store::Batch::new();
        batch
            .put_json(Space::BookingRules, b"SEM-1".to_vec(), &closed)
            .unwrap();
        store.commit(batch).await.unwrap();
        assert!(
            !rules_in_force(&store, "SEM-1", true)
                .unwrap()
                .open_on_holidays
        );
        assert!(
            rules_in_force(&store, "SEM-1", false)
                .unwrap()
                .open_on_holidays
        );
        // An instrument without rules of its own follows the same configuration.
        assert!(
            rules_in_force(&store, "XRD-2", false)
                .unwrap()
                .open_on_holidays
        );
        assert!(
            !rules_in_force(&store, "XRD-2", true)
                .unwrap()
                .open_on_holidays
        );
    }
}
