//! [`Receipts`]: usage receipts as the node runs them.
//!
//! - As an owner: issue a receipt (queued to the user's home in the same commit), take
//!   the home's confirmation, lapse unconfirmed receipts after the grace period, and
//!   submit every receipt to the province until a verified proof of inclusion is held.
//! - As a home: keep receipts from owners for the user to confirm and rate; the signed
//!   confirmation goes back through the booking outbox.
//! - As a watcher of the province's log: every tree head seen (answers, gossip, a
//!   periodic fetch) must be consistent with the latest one verified.
//!
//! Messages between owner and home, and to the province, are mail (see
//! [`crate::mail`]): [`Receipts`] owns receipts, confirmations, publications and service
//! statistics, queues them in the mail outbox and answers them when they arrive.

use std::{sync::Arc, time::Duration};

use alliance_protocol::{
    Domain, InstitutionId, MembershipCertificate, PublicKey, SecretKey, UnixTime,
    rpc::{LogAnswer, Request, Response},
    transparency::TreeHead,
};
use futures::future::BoxFuture;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::{
    issued::{IssueError, Issued, ReceiptBook},
    outbox::{OutboxError, Pending, ReceiptOutbox},
    publications::{Publications, PublicationsError},
    received::{Received, ReceivedError, ReceivedReceipts},
    statistics::{ServiceStats, StatisticsRefusal},
    watch::{Alarm, LogWatch, Observed, WatchError},
};
use crate::{
    mail::{self, Mail},
    net::{NetClient, NetError, NetEvent, Refusal, Target},
    store::{Store, StoreError},
};

/// Most submissions sent to the province in one request.
const BATCH: usize = 256;
/// Most bytes of submissions in one request (under the rpc request limit).
const BATCH_BYTES: usize = 768 * 1024;
/// How often the outbox and grace periods are looked at when nothing wakes them.
const ROUND: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error(transparent)]
    Home(#[from] ReceivedError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the province: {0}")]
    Net(#[from] NetError),
    #[error("the province answered {0}")]
    Unexpected(String),
}

struct Inner {
    own: MembershipCertificate,
    key: SecretKey,
    book: ReceiptBook,
    outbox: ReceiptOutbox,
    received: ReceivedReceipts,
    publications: Publications,
    statistics: ServiceStats,
    watch: LogWatch,
    root: PublicKey,
    net: NetClient,
    log_check_interval: Duration,
    /// Held from reading the latest verified head to observing the next: a proof is
    /// between two sizes, so the latest must not move meanwhile.
    watching: tokio::sync::Mutex<()>,
    /// Bumped on every change others may wait for (a receipt issued, received,
    /// confirmed or logged; a head verified; an alarm).
    changes: watch::Sender<u64>,
}

/// The node's receipts. Cheap to clone.
#[derive(Clone)]
pub struct Receipts {
    inner: Arc<Inner>,
    /// Poked when the outbox has something new.
    submit: Arc<Notify>,
    /// Receipts, confirmations and publications go to other institutions by mail.
    mail: Mail,
}

impl std::fmt::Debug for Receipts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receipts")
            .field("own", &self.inner.own.institution_id)
            .finish_non_exhaustive()
    }
}

/// An issued receipt with where its submission stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedView {
    pub issued: Issued,
    /// Waiting in the outbox (with attempts and the last refusal), if it is.
    pub pending: Option<Pending>,
    /// The verified proof of inclusion, once held.
    pub logged_at: Option<u64>,
}

impl Receipts {
    /// The receipts of the node `own` (signing with `key`), checking tree heads against
    /// the province's `root` key.
    pub fn open(
        store: Store,
        own: MembershipCertificate,
        key: SecretKey,
        root: PublicKey,
        net: NetClient,
        mail: Mail,
        config: &crate::config::ReceiptsSection,
    ) -> Receipts {
        let (grace, log_check_interval) = (config.confirmation_grace, config.log_check_interval);
        let outbox = ReceiptOutbox::new(store.clone(), root);
        let received =
            ReceivedReceipts::new(store.clone(), key.clone(), own.institution_id.clone());
        let book = ReceiptBook::new(
            store.clone(),
            key.clone(),
            outbox.clone(),
            received.clone(),
            grace,
        );
        let publications =
            Publications::new(store.clone(), key.clone(), own.institution_id.clone(), root);
        Receipts {
            inner: Arc::new(Inner {
                publications,
                statistics: ServiceStats::new(store.clone()),
                own,
                key,
                book,
                outbox,
                received,
                watch: LogWatch::new(store, root),
                root,
                net,
                log_check_interval,
                changes: watch::channel(0).0,
                watching: tokio::sync::Mutex::new(()),
            }),
            submit: Arc::new(Notify::new()),
            mail,
        }
    }

    /// Publications: this node's users', and on the province everyone's.
    pub fn publications(&self) -> &Publications {
        &self.inner.publications
    }

    /// On the province: members' booking service statistics.
    pub fn statistics(&self) -> &ServiceStats {
        &self.inner.statistics
    }

    /// Registers a publication of one of this node's users and sends it on.
    pub async fn register_publication(
        &self,
        publication: alliance_protocol::publication::Publication,
    ) -> Result<super::publications::Registered, PublicationsError> {
        let registered = self.inner.publications.register(publication).await?;
        self.mail.poke();
        self.changed();
        Ok(registered)
    }

    /// A receiver that sees every change (its value only counts them).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    fn changed(&self) {
        self.inner.changes.send_modify(|n| *n += 1);
    }

    /// Issues a receipt for a use of one of this institution's instruments; returns the
    /// signed receipt.
    pub async fn issue(
        &self,
        receipt: alliance_protocol::receipt::UsageReceipt,
    ) -> Result<Vec<u8>, ReceiptError> {
        let signed = self.inner.book.issue(receipt, UnixTime::now()).await?;
        self.mail.poke();
        // A grace period of zero lapses at once.
        self.submit.notify_one();
        self.changed();
        Ok(signed)
    }

    /// Receipts this node issued, with where each stands.
    pub fn issued(&self) -> Result<Vec<IssuedView>, ReceiptError> {
        let mut views = Vec::new();
        for issued in self.inner.book.all()? {
            let key = super::outbox::key(
                issued.receipt.institution_id.as_str(),
                &issued.receipt.receipt_id,
            );
            views.push(IssuedView {
                pending: self.inner.outbox.pending(&key)?,
                logged_at: self.inner.outbox.proof(&key)?.map(|p| p.index),
                issued,
            });
        }
        Ok(views)
    }

    /// One issued receipt.
    pub fn issued_receipt(&self, receipt_id: &str) -> Result<Option<Issued>, StoreError> {
        self.inner.book.get(receipt_id)
    }

    /// A user's receipts from owners, newest use first.
    pub fn of_user(&self, user_id: &str) -> Result<Vec<Received>, StoreError> {
        self.inner.received.of_user(user_id)
    }

    /// A user confirms a receipt and rates the service; the confirmation goes to the
    /// owner (straight to this node's own book when it is the owner).
    pub async fn confirm(
        &self,
        user_id: &str,
        owner: &InstitutionId,
        receipt_id: &str,
        rating: u8,
        comment: &str,
    ) -> Result<(), ReceiptError> {
        let now = UnixTime::now();
        let confirmation = self
            .inner
            .received
            .confirm(user_id, owner, receipt_id, rating, comment, now)
            .await?;
        if owner == &self.inner.own.institution_id {
            match self
                .inner
                .book
                .confirmed(&confirmation, &self.inner.key.public(), now)
                .await
            {
                // Too late: it went single-signed; the rating stays with the user.
                Ok(_) | Err(IssueError::NotAwaiting(_)) => {}
                Err(e) => return Err(e.into()),
            }
            self.submit.notify_one();
        } else {
            self.mail.poke();
        }
        self.changed();
        Ok(())
    }

    /// A receipt, confirmation, publication or statistics report from another member:
    /// an empty answer acknowledges.
    async fn on_message(
        &self,
        from: &MembershipCertificate,
        kind: &str,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let now = UnixTime::now();
        let bad = |e: &dyn std::fmt::Display| Refusal::BadRequest(e.to_string());
        match kind {
            k if k == Domain::RECEIPT.0 => {
                // Only the owner it names may send a receipt: checked before anything is
                // kept, so no member can plant a receipt of another's instrument.
                let claimed =
                    alliance_protocol::receipt::UsageReceipt::open(bytes, &from.node_public_key)
                        .map_err(|e| bad(&e))?;
                if claimed.institution_id != from.institution_id {
                    return Err(Refusal::NotYours("a receipt comes from its owner".into()));
                }
                let receipt = self
                    .inner
                    .received
                    .receive(bytes, &from.node_public_key, now)
                    .await
                    .map_err(|e| match e {
                        ReceivedError::Store(e) => {
                            tracing::error!(error = %e, "cannot keep a receipt");
                            Refusal::Internal("the receipt could not be stored".into())
                        }
                        other => bad(&other),
                    })?;
                tracing::info!(receipt = receipt.receipt_id, owner = %receipt.institution_id, "receipt received for a user");
                self.changed();
                Ok(Vec::new())
            }
            k if k == Domain::RECEIPT_CONFIRMATION.0 => {
                let confirmation = alliance_protocol::receipt::ReceiptConfirmation::open(
                    bytes,
                    &from.node_public_key,
                )
                .map_err(|e| bad(&e))?;
                let home_of_user = self
                    .inner
                    .book
                    .get(&confirmation.receipt_id)
                    .map_err(|e| {
                        tracing::error!(error = %e, "cannot read an issued receipt");
                        Refusal::Internal("the receipt could not be read".into())
                    })?
                    .map(|i| i.receipt.home_institution);
                if home_of_user.as_ref() != Some(&from.institution_id) {
                    return Err(Refusal::NotYours(
                        "only the user's home confirms a receipt".into(),
                    ));
                }
                match self
                    .inner
                    .book
                    .confirmed(bytes, &from.node_public_key, now)
                    .await
                {
                    Ok(_) => {
                        self.submit.notify_one();
                        self.changed();
                        Ok(Vec::new())
                    }
                    Err(IssueError::NotAwaiting(id)) => Err(Refusal::NotAwaiting(format!(
                        "receipt {id} is no longer awaiting confirmation"
                    ))),
                    Err(IssueError::BadConfirmation(e)) => Err(bad(&e)),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot take a confirmation");
                        Err(Refusal::Internal(
                            "the confirmation could not be stored".into(),
                        ))
                    }
                }
            }
            k if k == Domain::PUBLICATION.0 => {
                if self.inner.own.role != alliance_protocol::Role::Aggregator {
                    return Err(Refusal::NotTheProvince(
                        "only the province counts publications".into(),
                    ));
                }
                match self.inner.publications.received(from, bytes).await {
                    Ok(()) => {
                        self.changed();
                        Ok(Vec::new())
                    }
                    Err(PublicationsError::Store(e)) => {
                        tracing::error!(error = %e, "cannot keep a publication");
                        Err(Refusal::Internal(
                            "the publication could not be stored".into(),
                        ))
                    }
                    Err(e) => Err(bad(&e)),
                }
            }
            k if k == Domain::SERVICE_STATISTICS.0 => {
                if self.inner.own.role != alliance_protocol::Role::Aggregator {
                    return Err(Refusal::NotTheProvince(
                        "only the province evaluates".into(),
                    ));
                }
                match self.inner.statistics.received(from, bytes).await {
                    Ok(()) => {
                        self.changed();
                        Ok(Vec::new())
                    }
                    Err(StatisticsRefusal::Store(e)) => {
                        tracing::error!(error = %e, "cannot keep booking statistics");
                        Err(Refusal::Internal(
                            "the statistics could not be stored".into(),
                        ))
                    }
                    Err(e) => Err(bad(&e)),
                }
            }
            other => Err(Refusal::BadRequest(format!("{other} is not receipt mail"))),
        }
    }

    /// Submits the outbox and lapses grace periods until `cancel`.
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

    async fn submit_batch(&self, batch: &[super::outbox::Due]) -> Result<usize, ReceiptError> {
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
        batch: &[super::outbox::Due],
        reason: &str,
    ) -> Result<(), ReceiptError> {
        let now = UnixTime::now();
        for (key, _) in batch {
            self.inner.outbox.failed(key, reason, now).await?;
        }
        Ok(())
    }

    /// Checks the province's log until `cancel`: every gossiped head, and the latest
    /// head fetched every `log_check_interval`.
    pub async fn run_log_watch(self, cancel: CancellationToken) {
        let mut events = self.inner.net.events();
        let mut every = tokio::time::interval(self.inner.log_check_interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let checked = tokio::select! {
                () = cancel.cancelled() => return,
                _ = every.tick() => self.fetch_head().await,
                event = events.recv() => match event {
                    Ok(NetEvent::TreeHead { signed }) => self.check_head(&signed).await.map(drop),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    _ => continue,
                },
            };
            match checked {
                Ok(()) | Err(ReceiptError::Net(NetError::NotConnected(_))) => {}
                Err(e) => tracing::warn!(error = %e, "cannot check the province's log"),
            }
        }
    }

    /// Fetches the province's latest head with the proof that it extends the latest one
    /// this node verified.
    pub async fn fetch_head(&self) -> Result<(), ReceiptError> {
        let _watching = self.inner.watching.lock().await;
        let since = self.inner.watch.latest()?.map_or(0, |h| h.size);
        match self
            .inner
            .net
            .ask(Target::Province, Request::LogHead { since })
            .await?
        {
            Response::LogHead { head, consistency } => {
                let observed = self.inner.watch.observe(&head, &consistency).await?;
                if observed != Observed::Known {
                    self.changed();
                }
                Ok(())
            }
            other => Err(ReceiptError::Unexpected(short_debug(&other))),
        }
    }

    /// Checks a signed head the province showed against the latest this node verified,
    /// asking the province for the consistency proof between the two.
    pub async fn check_head(&self, signed: &[u8]) -> Result<Observed, ReceiptError> {
        let shown = TreeHead::open(signed, &self.inner.root).map_err(WatchError::BadHead)?;
        let _watching = self.inner.watching.lock().await;
        let proof = match self.inner.watch.latest()? {
            Some(seen) if seen.size != shown.size && seen.size != 0 && shown.size != 0 => {
                let (first, second) = (seen.size.min(shown.size), seen.size.max(shown.size));
                match self
                    .inner
                    .net
                    .ask(Target::Province, Request::LogConsistency { first, second })
                    .await?
                {
                    Response::LogConsistency(proof) => proof,
                    other => return Err(ReceiptError::Unexpected(short_debug(&other))),
                }
            }
            _ => Vec::new(),
        };
        let observed = self.inner.watch.observe(signed, &proof).await?;
        if observed != Observed::Known {
            self.changed();
        }
        Ok(observed)
    }

    /// The alarm, if the province ever showed two inconsistent histories.
    pub fn alarm(&self) -> Result<Option<Alarm>, StoreError> {
        self.inner.watch.alarm()
    }

    /// The latest tree head this node verified.
    pub fn latest_head(&self) -> Result<Option<TreeHead>, StoreError> {
        self.inner.watch.latest()
    }

    /// Receipts waiting for a proof of inclusion.
    pub fn waiting(&self) -> Result<usize, StoreError> {
        self.inner.outbox.waiting()
    }

    /// Receipts whose inclusion in the province's log this node has verified.
    pub fn proven(&self) -> Result<usize, StoreError> {
        self.inner.outbox.proven()
    }
}

/// A response's kind, for an error message (not its possibly large contents).
fn short_debug(response: &Response) -> String {
    match response {
        Response::Error(e) => format!("an error ({}): {}", e.code, e.message),
        Response::Receipts(a) => format!("{} answers", a.len()),
        _ => "something unexpected".into(),
    }
}

/// The kinds of mail [`Receipts`] owns.
const RECEIPT_MAIL: &[Domain] = &[
    Domain::RECEIPT,
    Domain::RECEIPT_CONFIRMATION,
    Domain::PUBLICATION,
    Domain::SERVICE_STATISTICS,
];

impl mail::Handler for Receipts {
    fn kinds(&self) -> &'static [Domain] {
        RECEIPT_MAIL
    }

    fn receive<'a>(
        &'a self,
        from: &'a MembershipCertificate,
        kind: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Refusal>> {
        Box::pin(self.on_message(from, kind, message))
    }
}
