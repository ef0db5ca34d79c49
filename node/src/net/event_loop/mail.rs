//! Mail between nodes: out to a node of the recipient institution, in to this node's
//! mail service. Answering takes a durable write, so inbound messages are handed to the
//! service's task and their answers come back as [`Command::Respond`]; the swarm keeps
//! running meanwhile.

use alliance_protocol::{
    InstitutionId,
    rpc::{Request, Response},
};
use libp2p::{
    PeerId,
    request_response::{OutboundRequestId, ResponseChannel},
};
use tokio::sync::oneshot;

use super::{EventLoop, NetError};
use crate::net::{Command, InboundMail, Refusal};

/// A mail message of ours on the wire: to whom, and who waits for the answer.
pub(super) type PendingMail = (InstitutionId, oneshot::Sender<Result<Vec<u8>, NetError>>);

impl EventLoop {
    /// Sends a signed mail message to a connected node of `owner`.
    pub(super) fn send_mail(
        &mut self,
        owner: &InstitutionId,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, NetError>>,
    ) {
        let peer = self
            .membership
            .verified_peers()
            .find(|(_, cert)| &cert.institution_id == owner)
            .map(|(peer, _)| *peer);
        let Some(peer) = peer else {
            let _ = reply.send(Err(NetError::Unreachable(owner.clone())));
            return;
        };
        let id = self
            .swarm
            .behaviour_mut()
            .rpc
            .send_request(&peer, Request::Mail(bytes));
        self.mail_requests.insert(id, (owner.clone(), reply));
    }

    /// The recipient answered (or refused) a mail message of ours.
    pub(super) fn on_mail_response(&mut self, request_id: &OutboundRequestId, response: Response) {
        let Some((owner, reply)) = self.mail_requests.remove(request_id) else {
            return;
        };
        let result = match response {
            Response::Mail(bytes) => Ok(bytes),
            Response::Error(e) => Err(NetError::Refused(Refusal::from(e))),
            _ => Err(NetError::Refused(Refusal::BadRequest(format!(
                "{owner} answered mail with something else"
            )))),
        };
        let _ = reply.send(result);
    }

    /// A mail message of ours got no answer: whether it arrived is unknown (sending it
    /// again is safe: every kind of mail is idempotent).
    pub(super) fn mail_failed(&mut self, request_id: &OutboundRequestId) {
        if let Some((owner, reply)) = self.mail_requests.remove(request_id) {
            let _ = reply.send(Err(NetError::NoAnswer(owner)));
        }
    }

    /// Hands a verified member's mail to the mail service; its answer is sent when the
    /// service replies.
    pub(super) fn serve_mail(
        &mut self,
        peer: PeerId,
        bytes: Vec<u8>,
        channel: ResponseChannel<Response>,
    ) {
        let Some(from) = self.membership.verified(&peer).cloned() else {
            self.respond(
                channel,
                Response::error("not_a_member", "prove membership with a hello first"),
            );
            return;
        };
        let (reply, answer) = oneshot::channel();
        let inbound = InboundMail {
            from,
            message: bytes,
            reply,
        };
        if self.mail.try_send(inbound).is_err() {
            self.respond(
                channel,
                Response::error("busy", "the node is busy; try again"),
            );
            return;
        }
        let commands = self.own_commands.clone();
        tokio::spawn(async move {
            let response = match answer.await {
                Ok(Ok(bytes)) => Response::Mail(bytes),
                Ok(Err(refusal)) => refusal.to_response(),
                Err(_) => Response::error("internal", "the mail service stopped"),
            };
            let _ = commands.send(Command::Respond { channel, response }).await;
        });
    }

    pub(super) fn respond(&mut self, channel: ResponseChannel<Response>, response: Response) {
        if self
            .swarm
            .behaviour_mut()
            .rpc
            .send_response(channel, response)
            .is_err()
        {
            tracing::debug!("response not sent: connection gone");
        }
    }
}
