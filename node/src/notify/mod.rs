//! Notices that reach people where they are: e-mail and a webhook (for SMS or WeChat
//! gateways), for the events they must act on or hear of — a request waiting for a
//! manager, the owner's decision on a booking, a receipt to confirm.
//!
//! A notice is queued at the node of the person it is for: a user's at their home (the
//! owner only ever signs updates; it never learns a user's address), a manager's at the
//! owner. It is written in the same commit as the event where it can be, and leaves the
//! queue only once every configured channel took it.
//!
//! - `config.rs` — the `[notify]` section.
//! - `notice.rs` — kinds, recipients, facts.
//! - `queue.rs` — the durable queue.
//! - `prefs.rs` — each person's choice of kinds and language.
//! - `text.rs` — the words, in Chinese and English.
//! - `channels.rs` — SMTP and the signed webhook.
//! - `delivery.rs` — the task that sends, with retries.

mod channels;
mod config;
mod delivery;
mod notice;
mod prefs;
mod queue;
mod text;

pub use self::{
    channels::{ChannelError, SIGNATURE_HEADER, Smtp, Webhook, signature},
    config::NotifySection,
    delivery::Delivery,
    notice::{Facts, Notice, NoticeKind, Recipients},
    prefs::{Language, NoticePrefs, Preferences},
    queue::Notices,
};
