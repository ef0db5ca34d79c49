//! Usage receipts on a member node: their way to the province's log, and the log as
//! this node watches it.
//!
//! - [`issued`]: receipts this node issues as an owner, until confirmed or lapsed.
//! - [`received`]: receipts of this node's users, from owners, to confirm and rate.
//! - [`publications`]: papers, patents and reports users register (R13), sent to the
//!   province, which counts them per instrument.
//! - [`statistics`]: on the province, members' booking service statistics (R14).
//! - [`outbox`]: receipts are kept, and submitted with backoff, until this node holds a
//!   verified proof that the province logged those very bytes.
//! - [`watch`]: every tree head the province shows must extend the last one this node
//!   verified; if it ever does not, the node keeps both signed heads as evidence and
//!   raises the alarm.
//! - `service.rs`: [`Receipts`], the above as the node runs them: receipts and
//!   confirmations between owner and home, submission to the province, checking its log.

pub mod issued;
pub mod outbox;
pub mod publications;
pub mod received;
mod received_by_user;
mod service;
pub mod statistics;
pub mod watch;

pub use service::{IssuedView, ReceiptError as ReceiptsError, Receipts};
