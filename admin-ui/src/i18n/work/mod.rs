//! UI strings of the work page (工作台): what each role has to do, on one page after
//! sign-in — one struct per language (`zh.rs`, `en.rs`).

mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Strings of the work page.
#[derive(Debug)]
pub(crate) struct WorkStrings {
    pub nav_work: &'static str,
    pub title: &'static str,
    pub upcoming: &'static str,
    pub upcoming_none: &'static str,
    pub all_bookings: &'static str,
    pub to_confirm: &'static str,
    pub open_needs: &'static str,
    pub offers_received: &'static str,
    pub orders_open: &'static str,
    pub to_approve: &'static str,
    pub to_approve_none: &'static str,
    pub manage_queue: &'static str,
    pub orders_to_act: &'static str,
    pub own_instruments: &'static str,
    pub awaiting_review: &'static str,
    pub accounts_pending: &'static str,
    pub review_queue: &'static str,
    pub help_open: &'static str,
}
