//! UI strings of the matching events pages (对接会, R17) — one struct per language
//! (`zh.rs`, `en.rs`).

mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Strings of the events pages.
#[derive(Debug)]
pub(crate) struct EventStrings {
    pub nav_events: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub empty: &'static str,
    pub show_past: &'static str,
    pub organiser: &'static str,
    pub when: &'static str,
    pub place: &'static str,
    pub link: &'static str,
    pub field: &'static str,
    pub capacity: &'static str,
    pub unlimited: &'static str,
    pub cancelled: &'static str,
    pub registered: &'static str,
    pub register_button: &'static str,
    pub unregister_button: &'static str,
    pub sign_in_to_register: &'static str,
    pub needs_heading: &'static str,
    pub needs_empty: &'static str,
    pub offers_heading: &'static str,
    pub offers_empty: &'static str,
    pub offer_for: &'static str,
    pub registrations_heading: &'static str,
    pub registrations_count: &'static str,
    pub kind_firm: &'static str,
    pub kind_member: &'static str,
    pub announce_heading: &'static str,
    pub f_title: &'static str,
    pub f_description: &'static str,
    pub f_field: &'static str,
    pub f_starts_at: &'static str,
    pub f_ends_at: &'static str,
    pub f_place: &'static str,
    pub f_link: &'static str,
    pub f_capacity: &'static str,
    pub announce_button: &'static str,
    pub f_cancel_reason: &'static str,
    pub cancel_button: &'static str,
    pub notice_announced: &'static str,
    pub notice_registered: &'static str,
    pub notice_unregistered: &'static str,
    pub notice_cancelled: &'static str,
}
