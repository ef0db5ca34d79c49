//! Booking requests between nodes: out to the owner's node, in to this node's booking
//! service. Answering takes a durable write, so inbound requests are handed to the
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
use crate::net::{Command, InboundBooking};

/// A booking request of ours on the wire: whose instrument, and who waits for the answer.
pub(super) type PendingBooking = (InstitutionId, oneshot::Sender<Result<Vec<u8>, NetError>>);

impl EventLoop {
    /// Sends a signed booking message to a connected node of `owner`.
    pub(super) fn request_booking(
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
            .send_request(&peer, Request::Booking(bytes));
        self.booking_requests.insert(id, (owner.clone(), reply));
    }

    /// The owner answered (or refused) a booking request of ours.
    pub(super) fn on_booking_response(
        &mut self,
        request_id: &OutboundRequestId,
        response: Response,
    ) {
        let Some((owner, reply)) = self.booking_requests.remove(request_id) else {
            return;
        };
        let result = match response {
            Response::Booking(bytes) => Ok(bytes),
            Response::Error(e) => Err(NetError::Refused {
                code: e.code,
                message: e.message,
            }),
            _ => Err(NetError::Refused {
                code: "unexpected".into(),
                message: format!("{owner} answered a booking with something else"),
            }),
        };
        let _ = reply.send(result);
    }

    /// A booking message of ours got no answer: whether it arrived is unknown (sending
    /// it again is safe: every booking message is idempotent).
    pub(super) fn booking_failed(&mut self, request_id: &OutboundRequestId) {
        if let Some((owner, reply)) = self.booking_requests.remove(request_id) {
            let _ = reply.send(Err(NetError::NoAnswer(owner)));
        }
    }

    /// Hands a verified member's booking request to the booking service; its answer is
    /// sent when the service replies.
    pub(super) fn serve_booking(
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
        let inbound = InboundBooking {
            from,
            request: bytes,
            reply,
        };
        if self.bookings.try_send(inbound).is_err() {
            self.respond(
                channel,
                Response::error("busy", "the owner's node is busy; try again"),
            );
            return;
        }
        let commands = self.own_commands.clone();
        tokio::spawn(async move {
            let response = match answer.await {
                Ok(Ok(bytes)) => Response::Booking(bytes),
                Ok(Err((code, message))) => Response::error(&code, message),
                Err(_) => Response::error("internal", "the booking service stopped"),
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
