//! Watching the province's log: every tree head it shows (gossiped, or fetched
//! periodically) must be consistent with the latest one this node verified.

use alliance_protocol::{
    rpc::{Request, Response},
    transparency::TreeHead,
};
use tokio_util::sync::CancellationToken;

use super::{ReceiptError, Receipts, short_debug};
use crate::{
    net::{NetError, NetEvent, Target},
    receipts::watch::{Observed, WatchError},
};

/// The province's refusal of a size beyond its log.
const BEYOND_THE_LOG: &str = "beyond_the_log";
/// The province's answer to a member asking more than its share of log reads.
const BUSY: &str = "busy";
/// Tries of a log read the province answers busy, a second apart.
const BUSY_TRIES: u32 = 5;

impl Receipts {
    /// Checks the province's log until `cancel`: every gossiped head, and the latest
    /// head fetched every `log_check_interval` — and at once when a peer is verified
    /// until one fetch succeeded, so a node that starts before the province is
    /// connected catches up as soon as it is, not an interval later.
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
                    Ok(NetEvent::MemberVerified { .. })
                        if !self.inner.head_fetched.load(std::sync::atomic::Ordering::Relaxed) =>
                    {
                        self.fetch_head().await
                    }
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
        let mut answer = self.ask_log(Request::LogHead { since }).await?;
        if let Response::Error(e) = &answer
            && e.code == BEYOND_THE_LOG
        {
            // The province holds fewer entries than a head it signed before: take its
            // current head as it signs it, which the watch then judges.
            answer = self.ask_log(Request::LogHead { since: 0 }).await?;
        }
        match answer {
            Response::LogHead { head, consistency } => {
                let observed = self.inner.watch.observe(&head, &consistency).await?;
                self.after(&observed, &head).await?;
                self.inner
                    .head_fetched
                    .store(true, std::sync::atomic::Ordering::Relaxed);
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
                    .ask_log(Request::LogConsistency { first, second })
                    .await?
                {
                    Response::LogConsistency(proof) => proof,
                    // It no longer holds the larger log: the watch judges the head
                    // without a proof (a smaller head signed later is a reset).
                    Response::Error(e) if e.code == BEYOND_THE_LOG => Vec::new(),
                    other => return Err(ReceiptError::Unexpected(short_debug(&other))),
                }
            }
            _ => Vec::new(),
        };
        let observed = self.inner.watch.observe(signed, &proof).await?;
        self.after(&observed, signed).await?;
        Ok(observed)
    }

    /// After a head was checked: a log that contradicts the one verified (a province
    /// restored from a backup, or showing another history) may lack receipts it had
    /// proven, so this node submits again those proven under heads signed until the
    /// contradicting one — once per alarm; the alarm stays, counting them. Whether the
    /// new log is smaller or has already grown past the old size (other members
    /// resubmitting first), where it diverged is unknown; the province gives those it
    /// still holds their place back.
    async fn after(&self, observed: &Observed, signed: &[u8]) -> Result<(), ReceiptError> {
        if let Observed::Advanced(_) = observed
            && let Err(e) = self.inner.net.publish_tree_head(signed.to_vec()).await
        {
            // Witnessing is best effort: the next head verified is published too.
            tracing::debug!(error = %e, "verified head not published");
        }
        if let Observed::Alarm(alarm) = observed
            && let Ok(evidence) = hex::decode(&alarm.seen_signed)
            && let Err(e) = self.inner.net.publish_tree_head(evidence).await
        {
            // The head this node verified, which the province's log now contradicts, is
            // the others' evidence too: members connected all along (through a partition
            // shorter than a connection's timeout) hear it without a new handshake. The
            // same bytes again within a minute are dropped as a duplicate.
            tracing::debug!(error = %e, "the contradicted head not published");
        }
        if let Observed::Alarm(alarm) = observed
            && alarm.resubmitted_until.is_none()
        {
            // A stale head of the old log (gossiped late, say) may be what raised the
            // alarm: everything proven until the later of the two heads goes.
            let until = alarm.shown.timestamp.max(alarm.seen.timestamp);
            let again = self
                .inner
                .outbox
                .resubmit_proven_until(until, alliance_protocol::UnixTime::now())
                .await?;
            if again > 0 {
                tracing::warn!(
                    count = again,
                    size = alarm.shown.size,
                    "the province showed a log that contradicts the one it had proven receipts in: submitting them again"
                );
            }
            self.inner.watch.resubmitted(until, again as u64).await?;
            // A log rolled back (smaller, signed later: a restore) is the province's log
            // from now on: follow it, so that a later rollback is caught and its receipts
            // resubmitted too. (A log of another history, not smaller, is not followed:
            // a province showing two histories would have members flip between them.)
            if alarm.shown.size < alarm.seen.size && alarm.shown.timestamp > alarm.seen.timestamp {
                self.inner.watch.follow(signed).await?;
            }
        }
        if *observed != Observed::Known {
            self.changed();
        }
        Ok(())
    }

    /// Asks the province's log, trying again a second later while it says busy (many
    /// heads met at once, after a partition say, can pass its share of reads).
    async fn ask_log(&self, request: Request) -> Result<Response, ReceiptError> {
        let mut tries = 0;
        loop {
            let answer = self
                .inner
                .net
                .ask(Target::Province, request.clone())
                .await?;
            tries += 1;
            match answer {
                Response::Error(e) if e.code == BUSY && tries < BUSY_TRIES => {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                answer => return Ok(answer),
            }
        }
    }
}
