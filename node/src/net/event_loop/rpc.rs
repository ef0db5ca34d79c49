//! `/alliance/rpc/1` on the swarm task: every inbound request and every answer is routed
//! to the room that handles it — the handshake (hello, roster), catalogue sync, mail, the
//! province's log, or the caller waiting for an answer.

use alliance_protocol::rpc::{Request, Response};
use libp2p::{PeerId, request_response};
use tokio::time::Instant;

use super::EventLoop;
use crate::net::NetEvent;

impl EventLoop {
    pub(super) async fn on_rpc(&mut self, event: request_response::Event<Request, Response>) {
        use request_response::{Event, Message};
        match event {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let request = match request {
                    Request::Mail(bytes) => {
                        self.serve_mail(peer, bytes, channel);
                        return;
                    }
                    Request::Sync(request) if self.membership.verified(&peer).is_some() => {
                        self.serve_sync(peer, request, channel);
                        return;
                    }
                    log @ (Request::Receipts(_)
                    | Request::LogHead { .. }
                    | Request::LogConsistency { .. }
                    | Request::Heartbeat(_)) => {
                        self.serve_log(peer, log, channel);
                        return;
                    }
                    other => other,
                };
                let response = self.answer(peer, request);
                let refused = match &response {
                    Response::Error(e) if self.membership.verified(&peer).is_none() => {
                        Some(e.message.clone())
                    }
                    _ => None,
                };
                if self
                    .swarm
                    .behaviour_mut()
                    .rpc
                    .send_response(channel, response)
                    .is_err()
                {
                    tracing::debug!(%peer, "response not sent: connection gone");
                }
                if let Some(reason) = refused {
                    // Let the refusal reach the peer, then cut it off at the next tick
                    // (the reason was logged as it was decided).
                    self.pending.insert(peer, Instant::now());
                    self.refusing.insert(peer, reason);
                }
            }
            Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                self.hello_requests.remove(&request_id);
                let Err(response) = self.on_ask_response(&request_id, response) else {
                    return;
                };
                match response {
                    Response::Hello(hello) => {
                        if let Err(reason) = self.admit(peer, &hello) {
                            self.refuse(peer, reason);
                        }
                    }
                    Response::Roster(roster) if self.admit_after_roster.contains_key(&peer) => {
                        if let Some(bytes) = roster
                            && let Err(e) = self.offer_roster(bytes, Some(peer)).await
                        {
                            tracing::warn!(%peer, error = %e, "peer sent a bad roster");
                        }
                        self.admit_after_roster(peer);
                    }
                    Response::Roster(roster) => {
                        if let Some(bytes) = roster
                            && let Err(e) = self.offer_roster(bytes, Some(peer)).await
                        {
                            tracing::warn!(%peer, error = %e, "peer sent a bad roster");
                        }
                        if self.sync_after_roster.remove(&peer) {
                            self.start_sync(peer);
                        }
                    }
                    Response::Sync(page) => self.on_sync_page(peer, request_id, page),
                    response @ Response::Mail(_) => {
                        self.on_mail_response(&request_id, response);
                    }
                    Response::Error(e) if self.mail_requests.contains_key(&request_id) => {
                        self.on_mail_response(&request_id, Response::Error(e));
                    }
                    Response::Receipts(_)
                    | Response::LogHead { .. }
                    | Response::LogConsistency(_)
                    | Response::Ack => {
                        tracing::debug!(%peer, "an answer nobody waits for any more");
                    }
                    Response::Error(e) => {
                        self.sync_failed(&request_id);
                        tracing::warn!(%peer, code = %e.code, message = %e.message, "peer refused our request");
                    }
                }
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if self.hello_requests.remove(&request_id) {
                    tracing::debug!(%peer, %error, "hello not answered");
                }
                self.sync_failed(&request_id);
                self.mail_failed(&request_id);
                self.ask_failed(&request_id);
            }
            Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound request failed");
            }
            Event::ResponseSent { .. } => {}
        }
    }

    pub(super) fn answer(&mut self, peer: PeerId, request: Request) -> Response {
        match request {
            Request::Hello(hello) => match self.admit(peer, &hello) {
                Ok(_) => Response::Hello(self.hello()),
                Err(reason) => {
                    tracing::warn!(%peer, %reason, "hello refused");
                    self.emit(NetEvent::PeerRefused {
                        peer,
                        reason: reason.clone(),
                    });
                    Response::error("not_a_member", reason)
                }
            },
            _ if self.membership.verified(&peer).is_none() => {
                let reason = "sent a request before proving membership";
                tracing::warn!(%peer, reason, "peer refused");
                Response::error("not_a_member", reason)
            }
            Request::Roster => Response::Roster(self.membership.roster_bytes()),
            // Answered asynchronously (see `serve_mail`, `serve_log`, `serve_sync`);
            // never reach here.
            Request::Sync(_)
            | Request::Mail(_)
            | Request::Receipts(_)
            | Request::LogHead { .. }
            | Request::LogConsistency { .. }
            | Request::Heartbeat(_) => Response::error("bad_request", "answered out of band"),
        }
    }
}
