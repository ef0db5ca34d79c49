//! Node-to-node request-response messages (`/alliance/rpc/1`).
//!
//! Certificates and rosters inside stay as signed bytes here: the receiver verifies them
//! against its own root key and clock, which this pure crate does not know.

use prost::Message;

use crate::{
    ids::InstitutionId,
    limits::{
        MAX_RECEIPT_BATCH, MAX_ROSTER_MEMBERS, MAX_RPC_REQUEST_BYTES, MAX_RPC_RESPONSE_BYTES,
    },
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
    /// The newest province-signed tree head the sender verified or published (empty
    /// when none).
    pub head: Vec<u8>,
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
    /// Where the next page starts; `None` on the last page.
    pub next: Option<OriginRevision>,
    /// Encoded signed checkpoints ([`crate::checkpoint`]) of origins this page finished.
    pub checkpoints: Vec<Vec<u8>>,
}

/// A request from one node to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Hello(Hello),
    /// "Send me your roster."
    Roster,
    Sync(SyncRequest),
    /// A signed node-to-node message (see [`crate::mail`]): its kind is its signing
    /// domain, owned by the part of the node that handles it.
    Mail(Vec<u8>),
    /// Encoded receipt submissions for the province's log.
    Receipts(Vec<Vec<u8>>),
    /// "Your latest tree head, and the proof it extends your log of `since` entries."
    LogHead {
        since: u64,
    },
    /// "Prove that your log of `second` entries extends that of `first` entries."
    LogConsistency {
        first: u64,
        second: u64,
    },
    /// An encoded, node-signed status heartbeat (see [`crate::heartbeat`]).
    Heartbeat(Vec<u8>),
}

/// The province's answer to one receipt submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogAnswer {
    /// Logged at `index`; `proof` proves it against the signed tree head `head`.
    Logged {
        index: u64,
        head: Vec<u8>,
        proof: Vec<u8>,
        already: bool,
    },
    Refused(RpcError),
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
    /// The recipient's encoded signed answer to a mail message (empty: received and kept).
    Mail(Vec<u8>),
    /// One answer per submission, in order.
    Receipts(Vec<LogAnswer>),
    /// A signed tree head, and the consistency proof asked for.
    LogHead {
        head: Vec<u8>,
        consistency: Vec<u8>,
    },
    LogConsistency(Vec<u8>),
    /// Received and kept.
    Ack,
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
            Request::Mail(b) => Body::Mail(b.clone()),
            Request::Receipts(r) => Body::Receipts(proto::ReceiptBatch {
                submissions: r.clone(),
            }),
            Request::LogHead { since } => Body::LogHead(proto::LogHeadRequest { since: *since }),
            Request::LogConsistency { first, second } => {
                Body::LogConsistency(proto::LogConsistencyRequest {
                    first: *first,
                    second: *second,
                })
            }
            Request::Heartbeat(h) => Body::Heartbeat(h.clone()),
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
            Body::Mail(b) => Ok(Request::Mail(b)),
            Body::Receipts(r) => {
                if r.submissions.len() > MAX_RECEIPT_BATCH {
                    return Err(RpcDecodeError::Malformed(format!(
                        "{} receipts in one batch, more than {MAX_RECEIPT_BATCH}",
                        r.submissions.len()
                    )));
                }
                Ok(Request::Receipts(r.submissions))
            }
            Body::LogHead(h) => Ok(Request::LogHead { since: h.since }),
            Body::LogConsistency(c) => Ok(Request::LogConsistency {
                first: c.first,
                second: c.second,
            }),
            Body::Heartbeat(h) => Ok(Request::Heartbeat(h)),
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
                next: s.next.as_ref().map(origin_to_proto),
                checkpoints: s.checkpoints.clone(),
            }),
            Response::Mail(b) => Body::Mail(b.clone()),
            Response::Receipts(answers) => Body::Receipts(proto::ReceiptsLogged {
                answers: answers.iter().map(log_answer_to_proto).collect(),
            }),
            Response::LogHead { head, consistency } => Body::LogHead(proto::LogHeadResponse {
                head: head.clone(),
                consistency: consistency.clone(),
            }),
            Response::LogConsistency(proof) => {
                Body::LogConsistency(proto::LogConsistencyResponse {
                    proof: proof.clone(),
                })
            }
            Response::Ack => Body::Ack(proto::Ack {}),
            Response::Error(e) => Body::Error(error_to_proto(e)),
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
                next: s.next.map(origin_from_proto).transpose()?,
                checkpoints: s.checkpoints,
            })),
            Body::Mail(b) => Ok(Response::Mail(b)),
            Body::Receipts(r) => Ok(Response::Receipts(
                r.answers
                    .into_iter()
                    .map(log_answer_from_proto)
                    .collect::<Result<_, _>>()?,
            )),
            Body::LogHead(h) => Ok(Response::LogHead {
                head: h.head,
                consistency: h.consistency,
            }),
            Body::LogConsistency(c) => Ok(Response::LogConsistency(c.proof)),
            Body::Ack(_) => Ok(Response::Ack),
            Body::Error(e) => Ok(Response::Error(error_from_proto(e))),
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

fn error_to_proto(e: &RpcError) -> proto::RpcError {
    proto::RpcError {
        code: e.code.clone(),
        message: e.message.clone(),
    }
}

fn error_from_proto(e: proto::RpcError) -> RpcError {
    RpcError {
        code: e.code,
        message: e.message,
    }
}

fn log_answer_to_proto(answer: &LogAnswer) -> proto::LogAnswer {
    use proto::log_answer::Outcome;
    let outcome = match answer {
        LogAnswer::Logged {
            index,
            head,
            proof,
            already,
        } => Outcome::Logged(proto::Logged {
            index: *index,
            head: head.clone(),
            proof: proof.clone(),
            already: *already,
        }),
        LogAnswer::Refused(e) => Outcome::Refused(error_to_proto(e)),
    };
    proto::LogAnswer {
        outcome: Some(outcome),
    }
}

fn log_answer_from_proto(answer: proto::LogAnswer) -> Result<LogAnswer, RpcDecodeError> {
    use proto::log_answer::Outcome;
    match answer.outcome.ok_or(RpcDecodeError::Empty)? {
        Outcome::Logged(l) => Ok(LogAnswer::Logged {
            index: l.index,
            head: l.head,
            proof: l.proof,
            already: l.already,
        }),
        Outcome::Refused(e) => Ok(LogAnswer::Refused(error_from_proto(e))),
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
        head: h.head.clone(),
    }
}

fn hello_from_proto(h: proto::Hello) -> Hello {
    Hello {
        certificate: h.certificate,
        roster_version: h.roster_version,
        head: h.head,
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
            head: vec![5, 6],
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
        for req in [
            Request::Hello(hello.clone()),
            Request::Roster,
            sync,
            Request::Receipts(vec![vec![1], vec![2, 3]]),
            Request::LogHead { since: 9 },
            Request::Heartbeat(vec![4, 2]),
            Request::LogConsistency {
                first: 3,
                second: 8,
            },
        ] {
            assert_eq!(Request::decode(&req.encode()).unwrap(), req);
        }
        for resp in [
            Response::Hello(hello),
            Response::Roster(None),
            Response::Roster(Some(vec![9])),
            Response::Sync(SyncResponse {
                entries: vec![vec![1], vec![2, 3]],
                next: Some(origin),
                checkpoints: vec![vec![7, 7]],
            }),
            Response::Sync(SyncResponse::default()),
            Response::error("not_a_member", "no certificate"),
            Response::Receipts(vec![
                LogAnswer::Logged {
                    index: 4,
                    head: vec![1],
                    proof: vec![2; 64],
                    already: true,
                },
                LogAnswer::Refused(RpcError {
                    code: "forged".into(),
                    message: "bad signature".into(),
                }),
            ]),
            Response::LogHead {
                head: vec![7],
                consistency: vec![8; 32],
            },
            Response::LogConsistency(vec![5; 32]),
            Response::Ack,
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
        let too_many = Request::Receipts(vec![vec![1]; MAX_RECEIPT_BATCH + 1]).encode();
        assert!(matches!(
            Request::decode(&too_many),
            Err(RpcDecodeError::Malformed(_))
        ));
    }
}
