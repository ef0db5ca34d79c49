//! Asking another node something and waiting for its answer (receipts to the province,
//! tree heads and proofs from it), and handing the province's inbound log requests to
//! its receipt log's task.

use alliance_protocol::{
    Role,
    rpc::{Request, Response},
};
use libp2p::{
    PeerId,
    request_response::{OutboundRequestId, ResponseChannel},
};
use tokio::sync::oneshot;

use super::{EventLoop, NetError};
use crate::net::{Command, InboundLog, Target};

/// A question of ours on the wire: to whom, and who waits for the answer.
pub(super) type PendingAsk = (String, oneshot::Sender<Result<Response, NetError>>);

impl EventLoop {
    /// A connected, verified node of `target`.
    fn peer_of(&self, target: &Target) -> Option<PeerId> {
        self.membership
            .verified_peers()
            .find(|(_, cert)| match target {
                Target::Institution(id) => &cert.institution_id == id,
                Target::Province => cert.role == Role::Aggregator,
            })
            .map(|(peer, _)| *peer)
    }

    pub(super) fn ask(
        &mut self,
        target: &Target,
        request: Request,
        reply: oneshot::Sender<Result<Response, NetError>>,
    ) {
        let Some(peer) = self.peer_of(target) else {
            let _ = reply.send(Err(NetError::NotConnected(target.to_string())));
            return;
        };
        let id = self.swarm.behaviour_mut().rpc.send_request(&peer, request);
        self.asks.insert(id, (target.to_string(), reply));
    }

    /// An answer to one of our questions; `false` if it was not one.
    pub(super) fn on_ask_response(
        &mut self,
        request_id: &OutboundRequestId,
        response: Response,
    ) -> Result<(), Response> {
        match self.asks.remove(request_id) {
            Some((_, reply)) => {
                let _ = reply.send(Ok(response));
                Ok(())
            }
            None => Err(response),
        }
    }

    /// A question of ours got no answer.
    pub(super) fn ask_failed(&mut self, request_id: &OutboundRequestId) {
        if let Some((to, reply)) = self.asks.remove(request_id) {
            let _ = reply.send(Err(NetError::NoAnswerFrom(to)));
        }
    }

    /// Hands a member's request about the receipt log to the province's log task (on a
    /// member node there is none: the request is refused).
    pub(super) fn serve_log(
        &mut self,
        peer: PeerId,
        request: Request,
        channel: ResponseChannel<Response>,
    ) {
        let Some(from) = self.membership.verified(&peer).cloned() else {
            self.respond(
                channel,
                Response::error("not_a_member", "prove membership with a hello first"),
            );
            return;
        };
        let Some(log) = &self.log_requests else {
            self.respond(
                channel,
                Response::error("not_the_province", "only the province keeps the log"),
            );
            return;
        };
        let (reply, answer) = oneshot::channel();
        if log
            .try_send(InboundLog {
                from,
                request,
                reply,
            })
            .is_err()
        {
            self.respond(
                channel,
                Response::error("busy", "the province is busy; try again"),
            );
            return;
        }
        let commands = self.own_commands.clone();
        tokio::spawn(async move {
            let response = answer
                .await
                .unwrap_or_else(|_| Response::error("internal", "the receipt log stopped"));
            let _ = commands.send(Command::Respond { channel, response }).await;
        });
    }
}
