//! [`Refusal`]: why a member's node did not take a message, as a code the sender acts on
//! and a reason for people. On the wire it is an `RpcError { code, message }`; inside the
//! node it is this enum, so no caller matches on strings.

use alliance_protocol::rpc::{Response, RpcError};

/// Why a message was not taken. The reason is for logs and people; decisions are taken
/// on the variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// It does not decode, verify or make sense.
    #[error("bad_request: {0}")]
    BadRequest(String),
    /// The sender is not (or no longer) a member, or has not proved it.
    #[error("not_a_member: {0}")]
    NotAMember(String),
    /// The sender may not say this about something that is another member's.
    #[error("not_yours: {0}")]
    NotYours(String),
    /// Only the province takes this.
    #[error("not_the_province: {0}")]
    NotTheProvince(String),
    /// No such instrument of the recipient's.
    #[error("unknown_instrument: {0}")]
    UnknownInstrument(String),
    /// A booking id already used for another request.
    #[error("id_reused: {0}")]
    IdReused(String),
    /// The home vouched for a user that is not its own.
    #[error("not_your_user: {0}")]
    NotYourUser(String),
    /// A price tier the sender may not claim.
    #[error("wrong_tier: {0}")]
    WrongTier(String),
    /// Too close to the start to cancel; the owner's manager must be asked.
    #[error("too_late: {0}")]
    TooLate(String),
    /// The receipt no longer waits for a confirmation.
    #[error("not_awaiting: {0}")]
    NotAwaiting(String),
    /// The recipient is too loaded now; try again later.
    #[error("busy: {0}")]
    Busy(String),
    /// The recipient failed (its store); try again later.
    #[error("internal: {0}")]
    Internal(String),
    /// A code this node does not know (a newer peer's).
    #[error("{code}: {message}")]
    Other { code: String, message: String },
}

impl Refusal {
    /// The code on the wire.
    pub fn code(&self) -> &str {
        match self {
            Refusal::BadRequest(_) => "bad_request",
            Refusal::NotAMember(_) => "not_a_member",
            Refusal::NotYours(_) => "not_yours",
            Refusal::NotTheProvince(_) => "not_the_province",
            Refusal::UnknownInstrument(_) => "unknown_instrument",
            Refusal::IdReused(_) => "id_reused",
            Refusal::NotYourUser(_) => "not_your_user",
            Refusal::WrongTier(_) => "wrong_tier",
            Refusal::TooLate(_) => "too_late",
            Refusal::NotAwaiting(_) => "not_awaiting",
            Refusal::Busy(_) => "busy",
            Refusal::Internal(_) => "internal",
            Refusal::Other { code, .. } => code,
        }
    }

    /// The reason, for people.
    pub fn reason(&self) -> &str {
        match self {
            Refusal::BadRequest(m)
            | Refusal::NotAMember(m)
            | Refusal::NotYours(m)
            | Refusal::NotTheProvince(m)
            | Refusal::UnknownInstrument(m)
            | Refusal::IdReused(m)
            | Refusal::NotYourUser(m)
            | Refusal::WrongTier(m)
            | Refusal::TooLate(m)
            | Refusal::NotAwaiting(m)
            | Refusal::Busy(m)
            | Refusal::Internal(m) => m,
            Refusal::Other { message, .. } => message,
        }
    }

    /// Whether the same message may be taken later (the recipient's load or store), so
    /// it is kept and sent again rather than given up.
    pub fn is_transient(&self) -> bool {
        matches!(self, Refusal::Busy(_) | Refusal::Internal(_))
    }

    /// A refusal as a wire answer.
    pub fn to_response(&self) -> Response {
        Response::error(self.code(), self.reason().to_owned())
    }
}

impl From<RpcError> for Refusal {
    fn from(e: RpcError) -> Self {
        let m = e.message;
        match e.code.as_str() {
            "bad_request" => Refusal::BadRequest(m),
            "not_a_member" => Refusal::NotAMember(m),
            "not_yours" => Refusal::NotYours(m),
            "not_the_province" => Refusal::NotTheProvince(m),
            "unknown_instrument" => Refusal::UnknownInstrument(m),
            "id_reused" => Refusal::IdReused(m),
            "not_your_user" => Refusal::NotYourUser(m),
            "wrong_tier" => Refusal::WrongTier(m),
            "too_late" => Refusal::TooLate(m),
            "not_awaiting" => Refusal::NotAwaiting(m),
            "busy" => Refusal::Busy(m),
            "internal" => Refusal::Internal(m),
            _ => Refusal::Other {
                code: e.code,
                message: m,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself_and_unknown_codes_are_kept() {
        let all = [
            Refusal::BadRequest("r".into()),
            Refusal::NotAMember("r".into()),
            Refusal::NotYours("r".into()),
            Refusal::NotTheProvince("r".into()),
            Refusal::UnknownInstrument("r".into()),
            Refusal::IdReused("r".into()),
            Refusal::NotYourUser("r".into()),
            Refusal::WrongTier("r".into()),
            Refusal::TooLate("r".into()),
            Refusal::NotAwaiting("r".into()),
            Refusal::Busy("r".into()),
            Refusal::Internal("r".into()),
            Refusal::Other {
                code: "from_the_future".into(),
                message: "r".into(),
            },
        ];
        for refusal in all {
            let wire = RpcError {
                code: refusal.code().to_owned(),
                message: refusal.reason().to_owned(),
            };
            assert_eq!(Refusal::from(wire), refusal);
        }
        assert!(Refusal::Busy(String::new()).is_transient());
        assert!(!Refusal::NotYours(String::new()).is_transient());
    }
}
