//! Usage receipts on a member node: their way to the province's log, and the log as
//! this node watches it.
//!
//! - [`issued`]: receipts this node issues as an owner, until confirmed or lapsed.
//! - [`outbox`]: receipts are kept, and submitted with backoff, until this node holds a
//!   verified proof that the province logged those very bytes.
//! - [`watch`]: every tree head the province shows must extend the last one this node
//!   verified; if it ever does not, the node keeps both signed heads as evidence and
//!   raises the alarm.

pub mod issued;
pub mod outbox;
pub mod watch;
