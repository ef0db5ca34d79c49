//! Node-to-node request-response messages (`/alliance/rpc/1`).
//!
//! Certificates and rosters inside stay as signed bytes here: the receiver verifies them
//! against its own root key and clock, which this pure crate does not know.

use prost::Message;

use crate::{
    ids::InstitutionId,
    limits::{MAX_ROSTER_MEMBERS, MAX_RPC_REQUEST_BYTES, MAX_RPC_RESPONSE_BYTES},
    proto,
};

/// The protocol name of the alliance's request-response protocol.
pub const RPC_PROTOCOL: &str = "/alliance/rpc/1";

/// Why an rpc frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcDecodeError {
    #[error("rpc frame is {size} bytes, more than the {limit} allowed")]
    TooLarge { size: usize, limit: usize },
    #[error("rpc frame is not valid protobuf: {0}")]
    Malformed(String),
    #[error("rpc frame has no body")]
    Empty,
}

/// "This is who I am": the first message on a connection, both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Encoded, root-signed certificate envelope.
    pub certificate: Vec<u8>,
    /// Highest roster version the sender holds (0 when none).
    pub roster_version: u64,
}

/// A revision of one origin institution's catalogue entries.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OriginRevision {
    pub origin: InstitutionId,
    pub revision: u64,
}

/// Catalogue anti-entropy: "send me the entries you hold above these revisions".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// The requester's complete-up-to revision per origin; absent origins from 0.
    pub have: Vec<OriginRevision>,
    /// Resume after this (origin, revision) of the previous page.
    pub after: Option<OriginRevision>,
    /// Most entries wanted.
    pub limit: u32,
}

/// One page of a sync answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncResponse {
    /// Encoded signed entries, ordered by (origin, revision).
    pub entries: Vec<Vec<u8>>,
    /// Origins this page finished, with the responder's complete-up-to revision.
    pub complete: Vec<OriginRevision>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<OriginRevision>,
}

/// A request from one node to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Hello(Hello),
    /// "Send me your roster."
    Roster,
    Sync(SyncRequest),
    /// An encoded, home-signed booking request (see [`crate::booking`]).
    Booking(Vec<u8>),
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub code: String,
    pub message: String,
}

/// An answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Hello(Hello),
    /// An encoded signed roster, or `None` if the peer holds none.
    Roster(Option<Vec<u8>>),
    Sync(SyncResponse),
    /// An encoded, owner-signed booking answer.
    Booking(Vec<u8>),
    Error(RpcError),
}

impl Request {
    /// Protobuf encoding.
    pub fn encode(&self) -> Vec<u8> {
        use proto::rpc_request::Body;
        let body = match self {
            Request::Hello(h) => Body::Hello(hello_to_proto(h)),
            Request::Roster => Body::Roster(proto::RosterRequest {}),
            Request::Sync(s) => Body::Sync(proto::SyncRequest {
                have: s.have.iter().map(origin_to_proto).collect(),
                after: s.after.as_ref().map(origin_to_proto),
                limit: s.limit,
            }),
            Request::Booking(b) => Body::Booking(b.clone()),
        };
        proto::RpcRequest { body: Some(body) }.encode_to_vec()
    }

    /// Decodes with the request size limit.
    pub fn decode(bytes: &[u8]) -> Result<Self, RpcDecodeError> {
        check_size(bytes, MAX_RPC_REQUEST_BYTES)?;
        use proto::rpc_request::Body;
        let raw = proto::RpcRequest::decode(bytes).map_err(malformed)?;
        match raw.body.ok_or(RpcDecodeError::Empty)? {
            Body::Hello(h) => Ok(Request::Hello(hello_from_proto(h))),
            Body::Roster(_) => Ok(Request::Roster),
            Body::Sync(s) => {
                if s.have.len() > MAX_ROSTER_MEMBERS {
                    return Err(RpcDecodeError::Malformed(format!(
                        "sync request names {} origins",
                        s.have.len()
                    )));
                }
                Ok(Request::Sync(SyncRequest {
                    have: s
                        .have
                        .into_iter()
                        .map(origin_from_proto)
                        .collect::<Result<_, _>>()?,
                    after: s.after.map(origin_from_proto).transpose()?,
                    limit: s.limit,
                }))
            }
            Body::Booking(b) => Ok(Request::Booking(b)),
        }
    }
}

impl Response {
    /// Protobuf encoding.
    pub fn encode(&self) -> Vec<u8> {
        use proto::rpc_response::Body;
        let body = match self {
            Response::Hello(h) => Body::Hello(hello_to_proto(h)),
            Response::Roster(r) => Body::Roster(proto::RosterResponse {
                roster: r.clone().unwrap_or_default(),
            }),
            Response::Sync(s) => Body::Sync(proto::SyncResponse {
                entries: s.entries.clone(),
                complete: s.complete.iter().map(origin_to_proto).collect(),
                next: s.next.as_ref().map(origin_to_proto),
            }),
            Response::Booking(b) => Body::Booking(b.clone()),
            Response::Error(e) => Body::Error(proto::RpcError {
                code: e.code.clone(),
                message: e.message.clone(),
            }),
        };
        proto::RpcResponse { body: Some(body) }.encode_to_vec()
    }

    /// Decodes with the response size limit.
    pub fn decode(bytes: &[u8]) -> Result<Self, RpcDecodeError> {
        check_size(bytes, MAX_RPC_RESPONSE_BYTES)?;
        use proto::rpc_response::Body;
        let raw = proto::RpcResponse::decode(bytes).map_err(malformed)?;
        match raw.body.ok_or(RpcDecodeError::Empty)? {
            Body::Hello(h) => Ok(Response::Hello(hello_from_proto(h))),
            Body::Roster(r) => Ok(Response::Roster((!r.roster.is_empty()).then_some(r.roster))),
            Body::Sync(s) => Ok(Response::Sync(SyncResponse {
                entries: s.entries,
                complete: s
                    .complete
                    .into_iter()
                    .map(origin_from_proto)
                    .collect::<Result<_, _>>()?,
                next: s.next.map(origin_from_proto).transpose()?,
            })),
            Body::Booking(b) => Ok(Response::Booking(b)),
            Body::Error(e) => Ok(Response::Error(RpcError {
                code: e.code,
                message: e.message,
            })),
        }
    }

    /// An error answer with a stable code.
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Response::Error(RpcError {
            code: code.to_owned(),
            message: message.into(),
        })
    }
}

fn check_size(bytes: &[u8], limit: usize) -> Result<(), RpcDecodeError> {
    if bytes.len() > limit {
        return Err(RpcDecodeError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    Ok(())
}

fn malformed(e: prost::DecodeError) -> RpcDecodeError {
    RpcDecodeError::Malformed(e.to_string())
}

fn origin_to_proto(o: &OriginRevision) -> proto::OriginRevision {
    proto::OriginRevision {
        origin: o.origin.to_string(),
        revision: o.revision,
    }
}

fn origin_from_proto(o: proto::OriginRevision) -> Result<OriginRevision, RpcDecodeError> {
    Ok(OriginRevision {
        origin: InstitutionId::try_from(o.origin)
            .map_err(|e| RpcDecodeError::Malformed(e.to_string()))?,
        revision: o.revision,
    })
}

fn hello_to_proto(h: &Hello) -> proto::Hello {
    proto::Hello {
        certificate: h.certificate.clone(),
        roster_version: h.roster_version,
    }
}

fn hello_from_proto(h: proto::Hello) -> Hello {
    Hello {
        certificate: h.certificate,
        roster_version: h.roster_version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_round_trip() {
        let hello = Hello {
            certificate: vec![1, 2, 3],
            roster_version: 4,
        };
        let origin = OriginRevision {
            origin: "dlut".parse().unwrap(),
            revision: 7,
        };
        let sync = Request::Sync(SyncRequest {
            have: vec![origin.clone()],
            after: Some(origin.clone()),
            limit: 500,
        });
        for req in [Request::Hello(hello.clone()), Request::Roster, sync] {
            assert_eq!(Request::decode(&req.encode()).unwrap(), req);
        }
        for resp in [
            Response::Hello(hello),
            Response::Roster(None),
            Response::Roster(Some(vec![9])),
            Response::Sync(SyncResponse {
                entries: vec![vec![1], vec![2, 3]],
                complete: vec![origin.clone()],
                next: Some(origin),
            }),
            Response::Sync(SyncResponse::default()),
            Response::error("not_a_member", "no certificate"),
        ] {
            assert_eq!(Response::decode(&resp.encode()).unwrap(), resp);
        }
    }

    #[test]
    fn empty_and_oversized_frames_are_refused() {
        assert_eq!(Request::decode(&[]), Err(RpcDecodeError::Empty));
        let big = vec![0u8; MAX_RPC_REQUEST_BYTES + 1];
        assert!(matches!(
            Request::decode(&big),
            Err(RpcDecodeError::TooLarge { .. })
        ));
    }
}
