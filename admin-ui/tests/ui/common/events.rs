//! The events half of [`MemoryBackend`]: no events (they are the node's, tested across
//! real nodes through the API and a browser).

use alliance_web::backend::{
    Account, ActionFailure, EventBackend, EventDetail, EventPageView, EventQuery, EventView,
    NewEvent,
};

use super::MemoryBackend;

impl EventBackend for MemoryBackend {
    async fn events(&self, _viewer: Option<&Account>, query: &EventQuery) -> EventPageView {
        EventPageView {
            total: 0,
            offset: query.offset,
            items: Vec::new(),
        }
    }

    async fn event(
        &self,
        _viewer: Option<&Account>,
        _event_id: &str,
    ) -> Result<EventDetail, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn announce_event(
        &self,
        _account: &Account,
        _event: NewEvent,
    ) -> Result<EventView, ActionFailure> {
        Err(ActionFailure::Unreachable)
    }

    async fn cancel_event(
        &self,
        _account: &Account,
        _event_id: &str,
        _reason: &str,
    ) -> Result<EventView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn register_for_event(
        &self,
        _account: &Account,
        _event_id: &str,
        _withdraw: bool,
    ) -> Result<EventView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }
}
