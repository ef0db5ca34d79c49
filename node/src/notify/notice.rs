//! What a notice says, to whom, and how its delivery stands.

use alliance_protocol::{UnixTime, booking::BookingState};
pub use alliance_web::backend::NoticeKind;
use serde::{Deserialize, Serialize};

/// Who a notice is for: one account of this node, or every active instrument manager
/// and institution administrator of it (fanned out into one notice each before sending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipients {
    User(String),
    Managers,
}

/// The facts a notice's text is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// `institution/local_id`.
    pub instrument_id: String,
    /// The instrument's name in Chinese and English, when known.
    #[serde(default)]
    pub instrument_name: String,
    #[serde(default)]
    pub instrument_name_en: String,
    #[serde(default)]
    pub booking_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<BookingState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<UnixTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<UnixTime>,
    /// When a hold lapses unless decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<UnixTime>,
    /// The user the notice is about (for managers: who asked), as their home shows them.
    #[serde(default)]
    pub about_user: String,
    #[serde(default)]
    pub note: String,
    /// A need of the board, `home/local_id`, and its title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub need_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub need_title: String,
    /// The need's deadline, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub need_deadline: String,
    /// The institution the notice is about (the one that offered), in Chinese and
    /// English.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub institution_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub institution_name_en: String,
    /// An entrusted-testing order's new state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_state: Option<alliance_protocol::order::OrderState>,
}

/// One notice, as queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Names the event: one event queued twice is one notice (same key).
    pub event_id: String,
    pub kind: NoticeKind,
    pub to: Recipients,
    pub facts: Facts,
    pub at: UnixTime,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub email_sent: bool,
    #[serde(default)]
    pub webhook_sent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Notice {
    /// A fresh notice of `kind` about `facts`, for `to`, named by `event_id`.
    pub fn new(
        event_id: impl Into<String>,
        kind: NoticeKind,
        to: Recipients,
        facts: Facts,
    ) -> Self {
        Notice {
            event_id: event_id.into(),
            kind,
            to,
            facts,
            at: UnixTime::now(),
            attempts: 0,
            email_sent: false,
            webhook_sent: false,
            last_error: None,
        }
    }
}
