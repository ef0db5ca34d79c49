//! Text of the API documentation page `/api/docs`, one struct per language (`zh.rs`,
//! `en.rs`). The operations' own descriptions come from the OpenAPI document (English).

mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Text of `/api/docs`.
#[derive(Debug)]
pub(crate) struct ApiDocsStrings {
    pub title: &'static str,
    pub intro: &'static str,
    pub document_link: &'static str,
    pub auth: &'static str,
    pub auth_public: &'static str,
    pub auth_session: &'static str,
    pub auth_csrf: &'static str,
    pub auth_agent: &'static str,
    pub parameters: &'static str,
    pub request_body: &'static str,
    pub responses: &'static str,
    pub required: &'static str,
    pub optional: &'static str,
}
