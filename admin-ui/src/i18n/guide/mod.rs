//! The guide for outside users (firms, individuals, other organisations), one struct per
//! language (`zh.rs`, `en.rs`).

mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Text of `/guide`. Lists are shown as numbered steps or bullet points.
#[derive(Debug)]
pub(crate) struct GuideStrings {
    pub title: &'static str,
    pub intro: &'static str,
    pub register_title: &'static str,
    pub register_steps: &'static [&'static str],
    pub register_link: &'static str,
    pub find_title: &'static str,
    pub find_body: &'static str,
    pub find_link: &'static str,
    pub book_title: &'static str,
    pub book_steps: &'static [&'static str],
    pub pay_title: &'static str,
    pub pay_intro: &'static str,
    pub tier_own: &'static str,
    pub tier_member: &'static str,
    pub tier_academic: &'static str,
    pub tier_enterprise: &'static str,
    pub pay_note: &'static str,
    pub approval_title: &'static str,
    pub approval_body: &'static str,
    pub cancel_title: &'static str,
    pub cancel_points: &'static [&'static str],
    pub contact_title: &'static str,
    pub contact_body: &'static str,
    pub contact_node: &'static str,
    /// The link to this guide on the registration page.
    pub register_page_link: &'static str,
}
