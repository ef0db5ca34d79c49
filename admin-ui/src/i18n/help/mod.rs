//! UI strings of the help desk (一站式服务, R18) — one struct per language (`zh.rs`,
//! `en.rs`).

mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Strings of the help page.
#[derive(Debug)]
pub(crate) struct HelpStrings {
    pub nav_help: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub ask_heading: &'static str,
    pub f_text: &'static str,
    pub f_field: &'static str,
    pub ask_button: &'static str,
    pub mine_heading: &'static str,
    pub mine_empty: &'static str,
    pub queue_heading: &'static str,
    pub queue_empty: &'static str,
    pub fields_heading: &'static str,
    pub f_fields: &'static str,
    pub save_fields: &'static str,
    pub state_open: &'static str,
    pub state_taken: &'static str,
    pub state_closed: &'static str,
    pub step_asked: &'static str,
    pub step_taken: &'static str,
    pub step_message: &'static str,
    pub step_need_posted: &'static str,
    pub step_closed: &'static str,
    pub asker: &'static str,
    pub expert: &'static str,
    pub take_button: &'static str,
    pub f_message: &'static str,
    pub send_button: &'static str,
    pub f_close_reason: &'static str,
    pub close_button: &'static str,
    pub need_heading: &'static str,
    pub f_referred_to: &'static str,
    pub no_referral: &'static str,
    pub post_need_button: &'static str,
    pub see_need: &'static str,
    pub referred_to: &'static str,
    pub notice_asked: &'static str,
    pub notice_done: &'static str,
    pub more: &'static str,
}
