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

impl Receipts {
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
}
