//! Usage receipts on a member node: the province's log as this node watches it.
//!
//! - [`watch`]: every tree head the province shows must extend the last one this node
//!   verified; if it ever does not, the node keeps both signed heads as evidence and
//!   raises the alarm.

pub mod watch;
