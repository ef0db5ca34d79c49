//! [`Durable`]: the second half of a commit, for callers that queue a batch and wait for
//! its fsync later (see `Store::queue`).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::sync::oneshot;

use super::StoreError;

/// A queued batch: resolves once the batch is durable, or with the reason it is not.
#[derive(Debug)]
#[must_use = "a queued batch is durable only once this resolves to Ok"]
pub struct Durable(Option<oneshot::Receiver<Result<(), StoreError>>>);

impl Durable {
    /// `None` for a batch with nothing to write: durable at once.
    pub(super) fn new(reply: Option<oneshot::Receiver<Result<(), StoreError>>>) -> Self {
        Durable(reply)
    }
}

impl Future for Durable {
    type Output = Result<(), StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.as_mut() {
            None => Poll::Ready(Ok(())),
            Some(done) => Pin::new(done)
                .poll(cx)
                .map(|reply| reply.map_err(|_| StoreError::Closed)?),
        }
    }
}
