//! Mail from other members, dispatched to the capability that owns its kind. Messages
//! are answered side by side: answering takes a durable write, and one slow answer must
//! not hold the others.

use alliance_protocol::mail::kind_of;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use super::{Handlers, Mail, Refusal};
use crate::net::InboundMail;

impl Mail {
    /// Answers members' mail until the network stops, each message in a task of
    /// `tasks`.
    pub async fn serve(
        self,
        handlers: Handlers,
        mut inbox: mpsc::Receiver<InboundMail>,
        tasks: TaskTracker,
    ) {
        while let Some(inbound) = inbox.recv().await {
            let handlers = handlers.clone();
            tasks.spawn(async move {
                let answer = dispatch(&handlers, &inbound).await;
                let _ = inbound.reply.send(answer);
            });
        }
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
