//! The events side of [`Backend`](super::Backend) (对接会, R17): matching events the
//! province or a member announces, each with the needs of its field and the offers made
//! for them; registration by firms and members' staff at their own node.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{Account, ActionFailure, NeedView};

/// An event as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EventForm {
    pub title: String,
    pub description: String,
    /// The classification code of its field.
    pub field: String,
    /// `YYYY-MM-DDTHH:MM`, Beijing time.
    pub starts_at: String,
    pub ends_at: String,
    /// An address; a link to join online (https), or both.
    pub place: String,
    pub link: String,
    /// Most registrations; 0: no limit.
    pub capacity: u32,
}

/// An event to announce, its times read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub title: String,
    pub description: String,
    pub field: String,
    /// Unix seconds.
    pub starts_at: i64,
    pub ends_at: i64,
    pub place: String,
    pub link: String,
    pub capacity: u32,
}

/// Why an event is called off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EventCancelForm {
    pub reason: String,
}

/// An event as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// `organiser/local_id`.
    pub event_id: String,
    pub organiser: String,
    pub organiser_name: String,
    pub title: String,
    pub description: String,
    pub field: String,
    pub field_name: String,
    /// Unix seconds.
    pub starts_at: i64,
    pub ends_at: i64,
    pub place: String,
    pub link: String,
    /// 0: no limit.
    pub capacity: u32,
    /// Why it was called off; empty while on.
    pub cancelled: String,
    /// Whether the viewer registered for it.
    pub registered: bool,
    /// Whether the viewer administers its organiser (and may call it off).
    pub organised_here: bool,
}

/// An offer made for a need of the event's field (no price: that is between the
/// institution and the person who posted the need).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EventOfferView {
    pub need_id: String,
    pub institution_id: String,
    pub institution_name: String,
    pub instrument_id: String,
    pub instrument_name: String,
}

/// A registration, as the organiser's administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RegistrationView {
    pub name: String,
    pub organization: String,
    /// `firm` or `member`.
    pub kind: String,
    pub home_name: String,
    /// Unix seconds.
    pub registered_at: i64,
}

/// An event with the needs of its field and the offers made for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EventDetail {
    pub event: EventView,
    /// Open needs in its field, newest first (at most 100).
    pub needs: Vec<NeedView>,
    /// For people signed in at a member's node (a visitor sees each need's count).
    pub offers: Vec<EventOfferView>,
    /// Registrations: their number at the organiser's node, and the list (the first
    /// 1,000, in the order taken) for its administrators.
    pub registration_count: Option<usize>,
    pub registrations: Vec<RegistrationView>,
}

/// Which events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Past events too (the default: those not yet over).
    pub all: bool,
    pub offset: usize,
    /// At most 100; 20 when absent.
    pub limit: usize,
}

impl EventQuery {
    /// The page size asked for, within bounds.
    pub fn limit(&self) -> usize {
        match self.limit {
            0 => 20,
            n => n.min(100),
        }
    }
}

/// One page of events, soonest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EventPageView {
    pub total: usize,
    pub offset: usize,
    pub items: Vec<EventView>,
}

/// Matching events.
pub trait EventBackend {
    /// A page of events (anyone).
    fn events(
        &self,
        viewer: Option<&Account>,
        query: &EventQuery,
    ) -> impl Future<Output = EventPageView> + Send;
    /// One event with the needs and offers of its field (anyone).
    fn event(
        &self,
        viewer: Option<&Account>,
        event_id: &str,
    ) -> impl Future<Output = Result<EventDetail, ActionFailure>> + Send;
    /// Announces an event of this institution (its administrators).
    fn announce_event(
        &self,
        account: &Account,
        event: NewEvent,
    ) -> impl Future<Output = Result<EventView, ActionFailure>> + Send;
    /// Calls off an event of this institution (its administrators).
    fn cancel_event(
        &self,
        account: &Account,
        event_id: &str,
        reason: &str,
    ) -> impl Future<Output = Result<EventView, ActionFailure>> + Send;
    /// Registers the signed-in person for an event, or takes it back.
    fn register_for_event(
        &self,
        account: &Account,
        event_id: &str,
        withdraw: bool,
    ) -> impl Future<Output = Result<EventView, ActionFailure>> + Send;
}
