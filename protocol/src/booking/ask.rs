//! What a user asks for when booking, as the web layer reads it (once) from a form or the
//! JSON API, before the home node makes a signed request of it for the owner.

use crate::{record::ServiceMode, time::UnixTime};

/// A booking asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingAsk {
    /// `institution/local_id`.
    pub instrument_id: String,
    pub start: UnixTime,
    pub end: UnixTime,
    pub mode: ServiceMode,
    pub samples: u32,
    pub purpose: String,
    /// The service item chosen (a fee item's Chinese name); empty when there is one.
    pub service_item: String,
}
