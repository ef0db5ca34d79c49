//! Cross-institution booking (R3, R11, R17, R20): a member's users reserve instruments
//! owned by other member institutions, and the nodes negotiate those bookings between
//! them; the owner's node is the only authority for its instruments' calendars.
//!
//! - [`home`]: this node's copy of its users' bookings, and their notifications.
//! - [`rules`]: an instrument's booking rules and the check every request passes.
//! - [`ledger`]: the owner's calendar — one serialised, durable check-and-insert per
//!   instrument, idempotent answers, holds that lapse, cancels that arrive first.
//! - [`state`]: a booking's states and its audit trail.
//! - [`service`]: [`service::Bookings`], the owner's answers to members and the home
//!   side's requests to owners; rules and training certifications.
//! - [`stats`]: the booking service statistics the province evaluates (R14).
//! - [`ics`]: iCalendar feeds that show bookings in people's calendars.

pub mod home;
pub mod ics;
pub mod ledger;
pub mod rules;
pub mod service;
pub mod state;
pub mod stats;
