//! Where a booking stands (R3): the full life of a booking as its owner keeps it and as
//! every page and API shows it. The wire names fewer states ([`BookingStatus`]): a booking
//! only the home node knows of is never sent.

use super::BookingStatus;

/// Where a booking stands (R3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// Sent by the home node, no answer yet (only ever seen there).
    Requested,
    /// The slot is kept until the manager decides or the hold lapses.
    Held,
    Confirmed,
    Rejected,
    Cancelled,
    NoShow,
    InUse,
    Completed,
}

impl BookingState {
    /// Whether a booking in this state keeps its slot from others.
    pub fn occupies_slot(self) -> bool {
        matches!(
            self,
            BookingState::Held | BookingState::Confirmed | BookingState::InUse
        )
    }

    /// The state as the protocol names it (a booking only the home knows of is not sent).
    pub fn status(self) -> BookingStatus {
        match self {
            BookingState::Requested | BookingState::Held => BookingStatus::Held,
            BookingState::Confirmed => BookingStatus::Confirmed,
            BookingState::Rejected => BookingStatus::Rejected,
            BookingState::Cancelled => BookingStatus::Cancelled,
            BookingState::NoShow => BookingStatus::NoShow,
            BookingState::InUse => BookingStatus::InUse,
            BookingState::Completed => BookingStatus::Completed,
        }
    }

    /// The state an owner's status names.
    pub fn from_status(status: BookingStatus) -> BookingState {
        match status {
            BookingStatus::Held | BookingStatus::Unspecified => BookingState::Held,
            BookingStatus::Confirmed => BookingState::Confirmed,
            BookingStatus::Rejected => BookingState::Rejected,
            BookingStatus::Cancelled => BookingState::Cancelled,
            BookingStatus::NoShow => BookingState::NoShow,
            BookingStatus::InUse => BookingState::InUse,
            BookingStatus::Completed => BookingState::Completed,
        }
    }

    /// Whether nothing can change it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BookingState::Rejected
                | BookingState::Cancelled
                | BookingState::NoShow
                | BookingState::Completed
        )
    }
}

/// What a manager (or the clock) decides about a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ManagerDecision {
    Approve,
    Reject,
    CancelByOwner,
    Start,
    NoShow,
    Complete,
}

impl ManagerDecision {
    /// The state a booking in `from` moves to, if this decision applies to it.
    pub fn apply(self, from: BookingState) -> Option<BookingState> {
        use BookingState as S;
        match (self, from) {
            (ManagerDecision::Approve, S::Held) => Some(S::Confirmed),
            (ManagerDecision::Reject, S::Held) => Some(S::Rejected),
            (ManagerDecision::CancelByOwner, S::Held | S::Confirmed) => Some(S::Cancelled),
            (ManagerDecision::Start, S::Confirmed) => Some(S::InUse),
            (ManagerDecision::NoShow, S::Confirmed) => Some(S::NoShow),
            (ManagerDecision::Complete, S::Confirmed | S::InUse) => Some(S::Completed),
            _ => None,
        }
    }
}
