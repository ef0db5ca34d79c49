//! Mail from other members, dispatched to the capability that owns its kind. Messages
//! are answered side by side: answering takes a durable write, and one slow answer must
//! not hold the others.

use std::sync::Arc;

use alliance_protocol::mail::kind_of;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::task::TaskTracker;

use super::{Handlers, Mail, Refusal};
use crate::net::InboundMail;

/// Most messages answered at once. Each holds a durable write at most; more at once
/// would only queue on the store's committer.
pub(crate) const MAX_HANDLING: usize = 64;

impl Mail {
    /// Answers members' mail until the network stops, each message in a task of
    /// `tasks`, at most [`MAX_HANDLING`] at once: past that the inbox fills and the
    /// network answers `busy`, so a flooding member cannot pile up tasks here.
    pub async fn serve(
        self,
        handlers: Handlers,
        inbox: mpsc::Receiver<InboundMail>,
        tasks: TaskTracker,
    ) {
        answer_inbox(handlers, inbox, tasks, MAX_HANDLING).await;
    }
}

/// Answers each message of `inbox` in a task of `tasks`, at most `max` at once.
async fn answer_inbox(
    handlers: Handlers,
    mut inbox: mpsc::Receiver<InboundMail>,
    tasks: TaskTracker,
    max: usize,
) {
    let slots = Arc::new(Semaphore::new(max));
    while let Some(inbound) = inbox.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let handlers = handlers.clone();
        tasks.spawn(async move {
            let answer = dispatch(&handlers, &inbound).await;
            let _ = inbound.reply.send(answer);
            drop(slot);
        });
    }
}

async fn dispatch(handlers: &Handlers, inbound: &InboundMail) -> Result<Vec<u8>, Refusal> {
    let kind = kind_of(&inbound.message).map_err(|e| Refusal::BadRequest(e.to_string()))?;
    let Some(handler) = handlers.owner_of(&kind) else {
        return Err(Refusal::BadRequest(format!("{kind} is not a kind of mail")));
    };
    handler
        .receive(&inbound.from, &kind, &inbound.message)
        .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use alliance_protocol::{
        Domain, InstitutionId, MembershipCertificate, Role, SecretKey, SignedEnvelope, UnixTime,
    };
    use futures::future::BoxFuture;
    use tokio::sync::oneshot;

    use super::*;
    use crate::mail::Handler;

    /// Counts the messages it is handling and holds each until released.
    struct Held {
        handling: AtomicUsize,
        most: AtomicUsize,
        release: Semaphore,
    }

    impl Handler for Held {
        fn kinds(&self) -> &'static [Domain] {
            &[Domain::RECEIPT]
        }

        fn receive<'a>(
            &'a self,
            _from: &'a MembershipCertificate,
            _kind: &'a str,
            _message: &'a [u8],
        ) -> BoxFuture<'a, Result<Vec<u8>, Refusal>> {
            Box::pin(async move {
                let now = self.handling.fetch_add(1, Ordering::SeqCst) + 1;
                self.most.fetch_max(now, Ordering::SeqCst);
                self.release.acquire().await.unwrap().forget();
                self.handling.fetch_sub(1, Ordering::SeqCst);
                Ok(Vec::new())
            })
        }
    }

    #[tokio::test]
    async fn at_most_the_limit_of_messages_is_answered_at_once() {
        let held = Arc::new(Held {
            handling: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            release: Semaphore::new(0),
        });
        let handlers = Handlers::new(vec![held.clone() as Arc<dyn Handler>]);
        let (tx, rx) = mpsc::channel(100);
        let tasks = TaskTracker::new();
        tokio::spawn(answer_inbox(handlers, rx, tasks.clone(), 4));
        let key = SecretKey::generate();
        let from = MembershipCertificate {
            institution_id: "neu".parse::<InstitutionId>().unwrap(),
            name_zh: "东北大学".into(),
            name_en: "Northeastern University".into(),
            region: "辽宁".into(),
            node_public_key: key.public(),
            role: Role::Member,
            serial: 1,
            not_before: UnixTime(0),
            not_after: UnixTime(i64::MAX),
        };
        let mut answers = Vec::new();
        for _ in 0..10 {
            let (reply, answer) = oneshot::channel();
            let message = SignedEnvelope::seal(&key, Domain::RECEIPT, vec![1]).encode();
            tx.send(InboundMail {
                from: from.clone(),
                message,
                reply,
            })
            .await
            .unwrap();
            answers.push(answer);
        }
        // Four are taken up; the serve loop, given every chance, starts no fifth.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while held.handling.load(Ordering::SeqCst) < 4 {
            assert!(tokio::time::Instant::now() < deadline);
            tokio::task::yield_now().await;
        }
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(held.handling.load(Ordering::SeqCst), 4);
        // Released, every message is answered, never more than four at once.
        held.release.add_permits(10);
        let answered = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            futures::future::join_all(answers),
        )
        .await
        .unwrap();
        assert!(answered.iter().all(|a| matches!(a, Ok(Ok(_)))));
        assert_eq!(held.most.load(Ordering::SeqCst), 4);
    }
}
