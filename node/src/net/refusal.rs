//! [`Refusal`]: why a member's node did not take a message, as a code the sender acts on
//! and a reason for people. On the wire it is an `RpcError { code, message }`; inside the
//! node it is this enum, so no caller matches on strings.

use alliance_protocol::rpc::{Response, RpcError};

/// Declares [`Refusal`] from one table: each line is a variant, its wire code and what it
/// means, so the code is written once.
macro_rules! refusals {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)+) => {
        /// Why a message was not taken. The reason is for logs and people; decisions are
        /// taken on the variant.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Refusal {
            $($(#[$doc])* $variant(String),)+
            /// A code this node does not know (a newer peer's).
            Other { code: String, message: String },
        }

        impl Refusal {
            /// The code on the wire.
            pub fn code(&self) -> &str {
                match self {
                    $(Refusal::$variant(_) => $code,)+
                    Refusal::Other { code, .. } => code,
                }
            }

            /// The reason, for people.
            pub fn reason(&self) -> &str {
                match self {
                    $(Refusal::$variant(m))|+ => m,
                    Refusal::Other { message, .. } => message,
                }
            }
        }

        impl From<RpcError> for Refusal {
            fn from(e: RpcError) -> Self {
                match e.code.as_str() {
                    $($code => Refusal::$variant(e.message),)+
                    _ => Refusal::Other {
                        code: e.code,
                        message: e.message,
                    },
                }
            }
        }
    };
}

refusals! {
    /// It does not decode, verify or make sense.
    BadRequest => "bad_request",
    /// The sender is not (or no longer) a member, or has not proved it.
    NotAMember => "not_a_member",
    /// The sender may not say this about something that is another member's.
    NotYours => "not_yours",
    /// Only the province takes this.
    NotTheProvince => "not_the_province",
    /// No such instrument of the recipient's.
    UnknownInstrument => "unknown_instrument",
    /// A booking id already used for another request.
    IdReused => "id_reused",
    /// The home vouched for a user that is not its own.
    NotYourUser => "not_your_user",
    /// A price tier the sender may not claim.
    WrongTier => "wrong_tier",
    /// Too close to the start to cancel; the owner's manager must be asked.
    TooLate => "too_late",
    /// The receipt no longer waits for a confirmation.
    NotAwaiting => "not_awaiting",
    /// The recipient is too loaded now; try again later.
    Busy => "busy",
    /// The recipient failed (its store); try again later.
    Internal => "internal",
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.reason())
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
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
