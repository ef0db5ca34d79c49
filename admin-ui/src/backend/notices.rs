//! Notices a person may receive by e-mail or webhook, and their choice of them: part of
//! an account, like its address (never leaves its home node).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The kinds of notices; each person may turn each off.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// To the owner's managers: a request waits for their decision.
    BookingRequest,
    /// To the user: the owner decided, cancelled or marked their booking.
    BookingDecision,
    /// To the user: a receipt of their use waits for confirmation and a rating.
    ReceiptToConfirm,
}

impl NoticeKind {
    /// Every kind, in the order the settings list them.
    pub const ALL: [NoticeKind; 3] = [
        NoticeKind::BookingRequest,
        NoticeKind::BookingDecision,
        NoticeKind::ReceiptToConfirm,
    ];

    /// The kind's name in the API, forms and the webhook's JSON.
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::BookingRequest => "booking_request",
            NoticeKind::BookingDecision => "booking_decision",
            NoticeKind::ReceiptToConfirm => "receipt_to_confirm",
        }
    }
}

/// A notice's language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeLanguage {
    #[default]
    Zh,
    En,
}

/// One account's choices: every kind on, in Chinese, until they say otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticePrefs {
    #[serde(default)]
    pub language: NoticeLanguage,
    /// The kinds turned off.
    #[serde(default)]
    #[schema(max_items = 3)]
    pub off: BTreeSet<NoticeKind>,
}

impl NoticePrefs {
    pub fn wants(&self, kind: NoticeKind) -> bool {
        !self.off.contains(&kind)
    }
}
