//! [`Receipts`]: usage receipts as the node runs them.
//!
//! - As an owner: issue a receipt (queued to the user's home in the same commit), take
//!   the home's confirmation, lapse unconfirmed receipts after the grace period, and
//!   submit every receipt to the province until a verified proof of inclusion is held.
//! - As a home: keep receipts from owners for the user to confirm and rate; the signed
//!   confirmation goes back as mail.
//! - As a watcher of the province's log: every tree head seen (answers, gossip, a
//!   periodic fetch) must be consistent with the latest one verified.
//!
//! Messages between owner and home, and to the province, are mail (see
//! [`crate::mail`]): [`Receipts`] owns receipts, confirmations, publications and service
//! statistics, queues them in the mail outbox and answers them when they arrive
//! (`inbound.rs`). Submission to the province is in `submission.rs`, the check of its log
//! in `log_check.rs`.

mod inbound;
mod log_check;
mod submission;

use std::{sync::Arc, time::Duration};

use alliance_protocol::{
    InstitutionId, MembershipCertificate, PublicKey, SecretKey, UnixTime, receipt::Verdict,
    rpc::Response, transparency::TreeHead,
};
use tokio::sync::{Notify, watch};

use super::{
    issued::{IssueError, Issued, ReceiptBook},
    outbox::{OutboxError, Pending, ReceiptOutbox},
    publications::{Publications, PublicationsError},
    received::{Received, ReceivedError, ReceivedReceipts},
    statistics::ServiceStats,
    watch::{Alarm, LogWatch, WatchError},
};
use crate::{
    mail::Mail,
    net::{NetClient, NetError},
    store::{Store, StoreError},
};

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
    book: ReceiptBook,
    outbox: ReceiptOutbox,
    received: ReceivedReceipts,
    publications: Publications,
    statistics: ServiceStats,
    watch: LogWatch,
    root: PublicKey,
    net: NetClient,
    log_check_interval: Duration,
    /// See `receipts.max_head_age`.
    max_head_age: Duration,
    /// Held from reading the latest verified head to observing the next: a proof is
    /// between two sizes, so the latest must not move meanwhile.
    watching: tokio::sync::Mutex<()>,
    /// Whether the province's latest head was fetched since this node started: until it
    /// was, every newly verified peer (the province among them) triggers a fetch.
    head_fetched: std::sync::atomic::AtomicBool,
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
    #[allow(clippy::too_many_arguments)] // each part it works with, wired once in Node::start
    pub fn open(
        store: Store,
        own: MembershipCertificate,
        key: SecretKey,
        root: PublicKey,
        net: NetClient,
        mail: Mail,
        notices: crate::notify::Notices,
        config: &crate::config::ReceiptsSection,
    ) -> Result<Receipts, StoreError> {
        let (grace, log_check_interval) = (config.confirmation_grace, config.log_check_interval);
        let outbox = ReceiptOutbox::new(store.clone(), root);
        let received =
            ReceivedReceipts::open(store.clone(), key.clone(), own.institution_id.clone())?
                .with_notices(notices, grace);
        let book = ReceiptBook::new(
            store.clone(),
            key.clone(),
            outbox.clone(),
            received.clone(),
            grace,
            config.effective_allowance_minutes(),
        );
        let publications =
            Publications::new(store.clone(), key.clone(), own.institution_id.clone(), root);
        Ok(Receipts {
            inner: Arc::new(Inner {
                publications,
                statistics: ServiceStats::new(store.clone()),
                own,
                book,
                outbox,
                received,
                watch: LogWatch::new(store, root),
                root,
                net,
                log_check_interval,
                max_head_age: config.max_head_age,
                changes: watch::channel(0).0,
                watching: tokio::sync::Mutex::new(()),
                head_fetched: std::sync::atomic::AtomicBool::new(false),
            }),
            submit: Arc::new(Notify::new()),
            mail,
        })
    }

    /// Starts receipts' background work: submission to the province and the log check.
    pub fn start(
        &self,
        supervisor: &crate::supervisor::Supervisor,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            supervisor.spawn(
                "receipt submission",
                self.clone().run_submissions(cancel.clone()),
            ),
            supervisor.spawn("log watch", self.clone().run_log_watch(cancel.clone())),
        ]
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
        self.issue_with(receipt, crate::store::Batch::new()).await
    }

    /// [`Self::issue`], committing `with` in the same batch.
    pub async fn issue_with(
        &self,
        receipt: alliance_protocol::receipt::UsageReceipt,
        with: crate::store::Batch,
    ) -> Result<Vec<u8>, ReceiptError> {
        let signed = self
            .inner
            .book
            .issue_with(receipt, UnixTime::now(), with)
            .await?;
        self.mail.poke();
        // A grace period of zero lapses at once.
        self.submit.notify_one();
        self.changed();
        Ok(signed)
    }

    /// Receipts this node issued, with where each stands.
    pub fn issued(&self) -> Result<Vec<IssuedView>, ReceiptError> {
        self.inner
            .book
            .all()?
            .into_iter()
            .map(|issued| self.view_of(issued))
            .collect()
    }

    fn view_of(&self, issued: Issued) -> Result<IssuedView, ReceiptError> {
        let key = super::outbox::key(
            issued.receipt.institution_id.as_str(),
            &issued.receipt.receipt_id,
        );
        Ok(IssuedView {
            pending: self.inner.outbox.pending(&key)?,
            logged_at: self.inner.outbox.proof(&key)?.map(|p| p.index),
            issued,
        })
    }

    /// A page of the receipts issued here, from the index: `limit` of `standing` (its
    /// place in awaiting, confirmed, single-signed, disputed; all if `None`) issued from
    /// `from` to `to`, newest first, after skipping `offset`; with how many there are of
    /// the standing asked for and of each standing in the span.
    pub async fn issued_page(
        &self,
        standing: Option<usize>,
        span: (Option<UnixTime>, Option<UnixTime>),
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<IssuedView>, [usize; 4]), ReceiptError> {
        let page = self.inner.book.page(standing, span, offset, limit).await?;
        let views = page
            .items
            .into_iter()
            .map(|issued| self.view_of(issued))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((page.total, views, page.counts))
    }

    /// What the receipts issued here add up to per month and instrument, for the months
    /// `from` to `to` (`YYYY-MM`, inclusive).
    pub async fn monthly(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String, super::issued::MonthFigures)>, StoreError> {
        self.inner.book.monthly(from, to).await
    }

    /// One issued receipt.
    pub fn issued_receipt(&self, receipt_id: &str) -> Result<Option<Issued>, StoreError> {
        self.inner.book.get(receipt_id)
    }

    /// How many receipts `user_id`'s `list` holds of uses starting within a span, and
    /// `limit` of them, latest use first, after skipping `offset`.
    pub fn page_of_user(
        &self,
        user_id: &str,
        list: (
            crate::receipts::received::ReceivedList,
            crate::store::time_index::Span,
        ),
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<Received>), StoreError> {
        self.inner.received.page_of(user_id, list, offset, limit)
    }

    /// A user's receipts from owners, newest use first.
    pub fn of_user(&self, user_id: &str) -> Result<Vec<Received>, StoreError> {
        self.inner.received.of_user(user_id)
    }

    /// A user confirms a receipt and rates the service, or disputes it; the answer goes
    /// to the owner (straight to this node's own book when it is the owner).
    pub async fn confirm(
        &self,
        user_id: &str,
        owner: &InstitutionId,
        receipt_id: &str,
        verdict: Verdict,
    ) -> Result<(), ReceiptError> {
        let now = UnixTime::now();
        if owner == &self.inner.own.institution_id {
            // The answer and the receipt's new standing in one commit.
            self.inner
                .book
                .confirm_own(user_id, receipt_id, verdict, now)
                .await
                .map_err(|e| match e {
                    // The user's own mistakes read the same whoever the owner is.
                    IssueError::Home(e) => ReceiptError::Home(e),
                    e => e.into(),
                })?;
            self.submit.notify_one();
        } else {
            self.inner
                .received
                .confirm(user_id, owner, receipt_id, verdict, now)
                .await?;
            self.mail.poke();
        }
        self.changed();
        Ok(())
    }

    pub fn alarm(&self) -> Result<Option<Alarm>, StoreError> {
        self.inner.watch.alarm()
    }

    /// How long ago (seconds) the newest head verified was signed, if that is longer
    /// than `receipts.max_head_age`: the province's log is stale to this node. `None`
    /// while fresh, and before any head was ever verified.
    pub fn log_staleness(&self, now: UnixTime) -> Result<Option<u64>, StoreError> {
        // The province's node keeps the log: it is never stale to itself (the heads it
        // hears are the ones members relay, which only come when the log grows).
        if self.inner.own.role == alliance_protocol::Role::Aggregator {
            return Ok(None);
        }
        let Some(freshest) = self.inner.watch.freshest()? else {
            return Ok(None);
        };
        let age = u64::try_from(now.0.saturating_sub(freshest.0)).unwrap_or(0);
        Ok((age > self.inner.max_head_age.as_secs()).then_some(age))
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
