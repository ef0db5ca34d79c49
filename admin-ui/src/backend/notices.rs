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
    /// To the owner's managers: a held request lapses within hours unless decided.
    HoldLapsing,
    /// To the user: their confirmed booking starts within a day.
    BookingTomorrow,
    /// To an institution's managers: a need its instruments could do was posted.
    NeedMatched,
    /// To the user: an institution offered to do their need.
    OfferReceived,
    /// To the offering institution's managers: the user accepted their offer.
    OfferAccepted,
    /// To the user: their entrusted-testing order moved (samples received, testing,
    /// report issued, closed, refused).
    OrderState,
    /// To an institution's managers: a service expert referred a need to them.
    NeedReferred,
    /// To the person who asked for help: a service expert took their request, wrote to
    /// them or posted a need for them.
    HelpUpdate,
}

impl NoticeKind {
    /// Every kind, in the order the settings list them.
    pub const ALL: [NoticeKind; 11] = [
        NoticeKind::BookingRequest,
        NoticeKind::HoldLapsing,
        NoticeKind::BookingDecision,
        NoticeKind::BookingTomorrow,
        NoticeKind::ReceiptToConfirm,
        NoticeKind::NeedMatched,
        NoticeKind::OfferReceived,
        NoticeKind::OfferAccepted,
        NoticeKind::OrderState,
        NoticeKind::NeedReferred,
        NoticeKind::HelpUpdate,
    ];

    /// The kind's name in the API, forms and the webhook's JSON.
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::BookingRequest => "booking_request",
            NoticeKind::BookingDecision => "booking_decision",
            NoticeKind::ReceiptToConfirm => "receipt_to_confirm",
            NoticeKind::HoldLapsing => "hold_lapsing",
            NoticeKind::BookingTomorrow => "booking_tomorrow",
            NoticeKind::NeedMatched => "need_matched",
            NoticeKind::OfferReceived => "offer_received",
            NoticeKind::OfferAccepted => "offer_accepted",
            NoticeKind::OrderState => "order_state",
            NoticeKind::NeedReferred => "need_referred",
            NoticeKind::HelpUpdate => "help_update",
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
    /// The kinds turned off, each once.
    #[serde(default, deserialize_with = "each_once")]
    #[schema(max_items = 11)]
    pub off: BTreeSet<NoticeKind>,
}

/// A list of kinds that names none twice (the schema says its items are unique; a
/// client repeating one has made a mistake worth hearing of).
fn each_once<'de, D>(deserializer: D) -> Result<BTreeSet<NoticeKind>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let listed = Vec::<NoticeKind>::deserialize(deserializer)?;
    let count = listed.len();
    let kinds: BTreeSet<NoticeKind> = listed.into_iter().collect();
    if kinds.len() == count {
        Ok(kinds)
    } else {
        Err(serde::de::Error::custom("a kind is listed twice"))
    }
}

impl NoticePrefs {
    pub fn wants(&self, kind: NoticeKind) -> bool {
        !self.off.contains(&kind)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_schema_lets_every_kind_be_turned_off_once() {
        let schema =
            serde_json::to_value(<NoticePrefs as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(
            schema["properties"]["off"]["maxItems"],
            NoticeKind::ALL.len(),
            "the schema's bound of `off` must follow NoticeKind::ALL"
        );
    }
}
