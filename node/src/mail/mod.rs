//! [`Mail`]: node-to-node messages as a capability of their own. Booking, receipts,
//! publications and service statistics each own their kinds of message (a kind is the
//! signing domain of its envelope, see [`alliance_protocol::mail`]) and use mail without
//! knowing each other:
//!
//! - to send, a capability writes the message into the [`outbox`] in the same commit as
//!   the change it reports, then [`Mail::poke`]s; delivery (`delivery.rs`) sends it to a
//!   node of the recipient until it is taken, across restarts, and hands the recipient's
//!   answer back to the capability that owns the kind;
//! - a message the recipient refuses for good, or addressed to an institution no longer
//!   in the roster, becomes a [dead letter](dead_letters) with its reason;
//! - what arrives from other members is dispatched (`inbound.rs`) to the [`Handler`] that
//!   owns its kind; unknown kinds are refused.
//!
//! Handlers are given to the serving and delivering tasks, not kept here, so nothing
//! holds a capability alive beyond the tasks that run it.

pub(crate) mod dead_letters;
mod delivery;
mod inbound;
pub(crate) mod outbox;

use std::{sync::Arc, time::Duration};

use alliance_protocol::{Domain, InstitutionId, MembershipCertificate};
use futures::future::BoxFuture;

pub(crate) use crate::net::Refusal;
use crate::{
    catalogue::Catalogue,
    net::NetClient,
    store::{Store, StoreError},
};
pub(crate) use dead_letters::DeadLetter;

/// Whether the message queued under the outbox key `key` was taken by its recipient:
/// neither still waiting nor given up as a dead letter.
pub(crate) fn was_taken(store: &Store, key: &[u8]) -> Result<bool, StoreError> {
    Ok(!outbox::waiting(store, key)? && !dead_letters::is_dead(store, key)?)
}

/// A capability that owns some kinds of mail.
pub trait Handler: Send + Sync {
    /// The kinds (signing domains) it owns.
    fn kinds(&self) -> &'static [Domain];

    /// A message of one of its kinds from another member: the answer (empty for
    /// "received and kept"), or why it is refused.
    fn receive<'a>(
        &'a self,
        from: &'a MembershipCertificate,
        kind: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Refusal>>;

    /// The recipient's non-empty answer to a message of one of its kinds this node sent
    /// from the outbox. The message is taken out of the outbox only once this returns.
    fn answered<'a>(
        &'a self,
        to: &'a InstitutionId,
        kind: &'a str,
        answer: &'a [u8],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (to, kind, answer);
        Box::pin(async { Ok(()) })
    }

    /// The recipient refused a message of one of its kinds for good (`reason`, its
    /// words): the message becomes a dead letter once this returns, so a crash before
    /// then sends it again and this runs again (it must be idempotent).
    fn refused<'a>(
        &'a self,
        to: &'a InstitutionId,
        kind: &'a str,
        message: &'a [u8],
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (to, kind, message, reason);
        Box::pin(async { Ok(()) })
    }
}

/// The handlers of a node, by the kinds they own. Cheap to clone.
#[derive(Clone, Default)]
pub struct Handlers(Arc<Vec<Arc<dyn Handler>>>);

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<&str> = self
            .0
            .iter()
            .flat_map(|h| h.kinds().iter().map(|d| d.0))
            .collect();
        f.debug_tuple("Handlers").field(&kinds).finish()
    }
}

impl Handlers {
    /// The handlers; a kind owned twice is a programming error and panics at start.
    pub fn new(handlers: Vec<Arc<dyn Handler>>) -> Handlers {
        let mut seen = std::collections::HashSet::new();
        for handler in &handlers {
            for kind in handler.kinds() {
                assert!(seen.insert(kind.0), "mail kind {} owned twice", kind.0);
            }
        }
        Handlers(Arc::new(handlers))
    }

    /// The handler that owns `kind`.
    fn owner_of(&self, kind: &str) -> Option<&Arc<dyn Handler>> {
        self.0
            .iter()
            .find(|h| h.kinds().iter().any(|d| d.0 == kind))
    }
}

struct Inner {
    store: Store,
    net: NetClient,
    /// Who is a member now (the catalogue's key directory).
    catalogue: Catalogue,
    /// How often waiting mail is tried again when nothing else wakes delivery.
    retry_interval: Duration,
    /// Poked when something lands in the outbox.
    wake: tokio::sync::Notify,
    /// Bumped whenever a message leaves the outbox (taken or buried).
    delivered: tokio::sync::watch::Sender<u64>,
}

/// The node's mail. Cheap to clone.
#[derive(Clone)]
pub struct Mail {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail").finish_non_exhaustive()
    }
}

impl Mail {
    /// Mail over `store` (its outbox and dead letters) and `net`.
    pub fn new(
        store: Store,
        net: NetClient,
        catalogue: Catalogue,
        retry_interval: Duration,
    ) -> Mail {
        Mail {
            inner: Arc::new(Inner {
                store,
                net,
                catalogue,
                retry_interval,
                wake: tokio::sync::Notify::new(),
                delivered: tokio::sync::watch::channel(0).0,
            }),
        }
    }

    /// Starts mail: answering members' mail from `inbox` and delivering the outbox, both
    /// with `handlers`.
    pub fn start(
        &self,
        handlers: Handlers,
        inbox: tokio::sync::mpsc::Receiver<crate::net::InboundMail>,
        supervisor: &crate::supervisor::Supervisor,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            supervisor.spawn(
                "mail service",
                self.clone()
                    .serve(handlers.clone(), inbox, supervisor.short_tasks()),
            ),
            supervisor.spawn(
                "mail delivery",
                self.clone().deliver(handlers, cancel.clone()),
            ),
        ]
    }

    /// Queues `message` to `to`, in `thread` at `sequence` (see [`outbox::key`]), in a
    /// commit of its own, for a message that reports no other change; then pokes.
    pub async fn queue(
        &self,
        to: &InstitutionId,
        thread: &str,
        sequence: u64,
        message: Vec<u8>,
    ) -> Result<(), StoreError> {
        let mut batch = crate::store::Batch::new();
        outbox::enqueue(&mut batch, outbox::key(to, thread, sequence), message);
        self.inner.store.commit(batch).await?;
        self.poke();
        Ok(())
    }

    /// Says that the outbox has something new (after the commit that put it there).
    pub fn poke(&self) {
        self.inner.wake.notify_one();
    }

    /// A receiver that sees every message leaving the outbox (its value counts them).
    pub fn deliveries(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.delivered.subscribe()
    }

    /// How many messages wait in the outbox.
    pub fn depth(&self) -> Result<usize, StoreError> {
        outbox::depth(&self.inner.store)
    }

    /// How many dead letters are kept.
    pub fn dead_letter_count(&self) -> Result<usize, StoreError> {
        dead_letters::count(&self.inner.store)
    }

    /// Dead letters, newest first.
    pub fn dead_letters(&self, offset: usize, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        dead_letters::list(&self.inner.store, offset, limit)
    }
}
