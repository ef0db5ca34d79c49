//! Languages of the UI: Chinese (zh-CN) by default, English on request.
//!
//! Every string the pages show lives in [`Strings`], filled once per language in
//! `zh.rs` and `en.rs`; a missing translation is a compile error. The language of a
//! request is chosen by [`negotiate`]: `?lang=en|zh` wins and is remembered in the `lang`
//! cookie; otherwise the cookie; otherwise Chinese.

pub(crate) mod api_docs;
pub(crate) mod board;
pub(crate) mod booking;
pub(crate) mod catalogue;
mod en;
pub(crate) mod events;
pub(crate) mod guide;
pub(crate) mod help;
pub(crate) mod monitoring;
pub(crate) mod publications;
pub(crate) mod receipts;
pub(crate) mod results;
pub(crate) mod work;
mod zh;

use std::convert::Infallible;

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header::SET_COOKIE, request::Parts},
    middleware::Next,
    response::Response,
};

use crate::{
    AppState,
    backend::{AccountRole, AccountState, Backend},
    cookies,
    validate::Problem,
};

/// A language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag for `<html lang>`.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The short code used in `?lang=` and the `lang` cookie.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Parses a `?lang=` value or cookie.
    pub(crate) fn parse(value: &str) -> Option<Lang> {
        match value.to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language the switch link offers.
    pub(crate) fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The UI strings of this language.
    pub(crate) fn strings(self) -> &'static Strings {
        match self {
            Lang::Zh => &zh::STRINGS,
            Lang::En => &en::STRINGS,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Lang>().copied().unwrap_or_default())
    }
}

/// Picks the language of a request (query, then cookie, then Chinese), stores it in the
/// request's extensions and remembers an explicit choice in the `lang` cookie.
pub(crate) async fn negotiate<B: Backend>(
    State(state): State<AppState<B>>,
    mut request: Request,
    next: Next,
) -> Response {
    let chosen = request.uri().query().and_then(query_lang);
    let lang = chosen
        .or_else(|| cookies::get(request.headers(), cookies::LANG).and_then(|v| Lang::parse(&v)))
        .unwrap_or_default();
    request.extensions_mut().insert(lang);
    let mut response = next.run(request).await;
    if let Some(lang) = chosen {
        response.headers_mut().append(
            SET_COOKIE,
            cookies::lang(lang.code(), state.options.secure_cookies),
        );
    }
    response
}

/// The language asked for in a query string, if any.
fn query_lang(query: &str) -> Option<Lang> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "lang")
        .and_then(|(_, value)| Lang::parse(value))
}

/// Every string the UI shows, in one language.
#[derive(Debug)]
pub(crate) struct Strings {
    /// Strings of the catalogue pages.
    pub cat: &'static catalogue::CatalogueStrings,
    /// Strings of booking: the form, the answer, my bookings, the managers' page.
    pub book: &'static booking::BookingStrings,
    /// The guide for outside users.
    pub guide: &'static guide::GuideStrings,
    /// The API documentation page.
    pub api_docs: &'static api_docs::ApiDocsStrings,
    /// Usage receipts: confirming and rating them, completing uses, the province's log.
    pub receipts: &'static receipts::ReceiptStrings,
    /// The province's publications: evaluation results, subsidy allocation, reporting.
    pub results: &'static results::ResultsStrings,
    /// Instrument monitoring: the managers' agent tokens and states, the province's board.
    pub monitoring: &'static monitoring::MonitoringStrings,
    /// Publications users register as having used alliance instruments (R13).
    pub publications: &'static publications::PublicationStrings,
    /// The board of needs and offers (R3, R19).
    pub board: &'static board::BoardStrings,
    /// Matching events (R17).
    pub events: &'static events::EventStrings,
    /// The help desk (R18).
    pub help: &'static help::HelpStrings,
    /// The work page after sign-in.
    pub work: &'static work::WorkStrings,
    // Layout.
    pub product_name: &'static str,
    pub skip_to_content: &'static str,
    pub nav_label: &'static str,
    /// After a menu item's count of work waiting: `待处理`.
    pub badge_waiting: &'static str,
    pub menu: &'static str,
    pub nav_status: &'static str,
    pub nav_accounts: &'static str,
    pub nav_me: &'static str,
    pub nav_login: &'static str,
    pub nav_logout: &'static str,
    pub nav_register: &'static str,
    /// Name of the *other* language, shown on the switch link.
    pub switch_language: &'static str,
    pub switch_language_label: &'static str,
    pub footer_policy: &'static str,
    pub footer_times: &'static str,
    pub beijing_time: &'static str,
    pub none: &'static str,
    pub optional: &'static str,

    // Status page.
    pub status_title: &'static str,
    pub status_this_node: &'static str,
    pub institution: &'static str,
    pub institution_id: &'static str,
    pub peer_id: &'static str,
    pub node_role: &'static str,
    pub node_role_member: &'static str,
    pub node_role_aggregator: &'static str,
    pub roster_version: &'static str,
    pub roster_none: &'static str,
    pub started_at: &'static str,
    pub listen_addrs: &'static str,
    pub members_title: &'static str,
    pub members_connected: &'static str,
    pub members_empty: &'static str,

    // Accounts' fields.
    pub username: &'static str,
    pub username_hint: &'static str,
    pub password: &'static str,
    pub password_hint: &'static str,
    pub display_name: &'static str,
    pub organization: &'static str,
    pub organization_hint: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    /// E-mail and phone together, as a table column.
    pub contact: &'static str,
    pub role: &'static str,
    pub state: &'static str,
    pub created_at: &'static str,
    pub role_researcher: &'static str,
    pub role_external_user: &'static str,
    pub role_instrument_manager: &'static str,
    pub role_institution_admin: &'static str,
    pub role_province_admin: &'static str,
    pub role_service_expert: &'static str,
    pub state_active: &'static str,
    pub state_pending: &'static str,
    pub state_disabled: &'static str,

    // Sign-in.
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub login_submit: &'static str,
    pub login_failed: &'static str,
    pub login_pending: &'static str,
    pub login_disabled: &'static str,
    pub login_signed_in_as: &'static str,
    pub login_no_account: &'static str,
    /// Too many failed attempts; `{}` is replaced by the wait ("3 分钟").
    pub login_locked: &'static str,
    /// Too many password checks waiting (503).
    pub busy: &'static str,
    /// Units of a wait, after the number.
    pub wait_seconds: &'static str,
    pub wait_minutes: &'static str,

    // Registration.
    pub register_title: &'static str,
    pub register_intro: &'static str,
    pub register_submit: &'static str,
    pub register_done_title: &'static str,
    pub register_done_body: &'static str,
    /// Under the username: if it cannot sign in after approval, the name was taken.
    pub register_done_taken_hint: &'static str,
    pub register_have_account: &'static str,
    /// Too many registrations from this address; `{}` is replaced by the wait.
    pub register_rate_limited: &'static str,
    /// The queue of registrations waiting for approval is full.
    pub register_closed: &'static str,

    // Account administration.
    pub accounts_title: &'static str,
    pub accounts_intro: &'static str,
    pub accounts_pending: &'static str,
    pub accounts_empty: &'static str,
    pub actions: &'static str,
    pub you: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
    pub disable: &'static str,
    pub enable: &'static str,
    pub confirm_disable: &'static str,
    /// An outside user's price category, set on approval.
    pub price_category: &'static str,
    pub price_outside_academic: &'static str,
    pub price_enterprise: &'static str,
    pub price_individual: &'static str,
    pub credit_code: &'static str,
    pub price_hint: &'static str,
    pub err_price_category: &'static str,
    pub create_title: &'static str,
    pub create_submit: &'static str,
    pub notice_created: &'static str,
    pub notice_state: &'static str,
    pub reset_password: &'static str,
    pub confirm_reset: &'static str,
    /// Before the account's name and its new password, shown once.
    pub reset_done: &'static str,
    pub reset_done_hint: &'static str,

    // My account.
    pub me_title: &'static str,
    pub session_expires: &'static str,
    pub change_password_title: &'static str,
    pub change_password_intro: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub new_password_again: &'static str,
    pub change_password_submit: &'static str,
    pub notice_password_changed: &'static str,
    pub notices_title: &'static str,
    pub notices_intro: &'static str,
    pub notices_no_email: &'static str,
    pub notice_booking_request: &'static str,
    pub notice_booking_decision: &'static str,
    pub notice_receipt_to_confirm: &'static str,
    pub notice_hold_lapsing: &'static str,
    pub notice_booking_tomorrow: &'static str,
    pub notice_need_matched: &'static str,
    pub notice_offer_received: &'static str,
    pub notice_offer_accepted: &'static str,
    pub notice_need_referred: &'static str,
    pub notice_help_update: &'static str,
    pub notice_order_state: &'static str,
    pub notices_language: &'static str,
    pub notices_submit: &'static str,
    pub notice_notices_saved: &'static str,

    // Form errors.
    pub form_has_errors: &'static str,
    pub err_username: &'static str,
    pub err_username_taken: &'static str,
    pub err_password_short: &'static str,
    pub err_password_long: &'static str,
    pub err_current_password: &'static str,
    pub err_password_mismatch: &'static str,
    pub err_display_name: &'static str,
    pub err_organization: &'static str,
    pub err_email: &'static str,
    pub err_phone: &'static str,
    pub err_role: &'static str,
    pub err_state: &'static str,
    pub err_role_not_allowed: &'static str,
    pub err_own_account: &'static str,

    // Error pages.
    pub error_bad_request_title: &'static str,
    pub error_bad_request: &'static str,
    pub error_csrf_title: &'static str,
    pub error_csrf: &'static str,
    pub error_forbidden_title: &'static str,
    pub error_forbidden: &'static str,
    pub error_not_found_title: &'static str,
    pub error_not_found: &'static str,
    pub error_account_not_found: &'static str,
    pub error_internal_title: &'static str,
    pub error_internal: &'static str,
    pub back_home: &'static str,
}

impl Strings {
    /// The label of a kind of notice on the settings form.
    pub(crate) fn notice_kind(&self, kind: crate::backend::NoticeKind) -> &'static str {
        match kind {
            crate::backend::NoticeKind::BookingRequest => self.notice_booking_request,
            crate::backend::NoticeKind::BookingDecision => self.notice_booking_decision,
            crate::backend::NoticeKind::ReceiptToConfirm => self.notice_receipt_to_confirm,
            crate::backend::NoticeKind::HoldLapsing => self.notice_hold_lapsing,
            crate::backend::NoticeKind::BookingTomorrow => self.notice_booking_tomorrow,
            crate::backend::NoticeKind::NeedMatched => self.notice_need_matched,
            crate::backend::NoticeKind::OfferReceived => self.notice_offer_received,
            crate::backend::NoticeKind::OfferAccepted => self.notice_offer_accepted,
            crate::backend::NoticeKind::NeedReferred => self.notice_need_referred,
            crate::backend::NoticeKind::HelpUpdate => self.notice_help_update,
            crate::backend::NoticeKind::OrderState => self.notice_order_state,
        }
    }

    /// The name of an account role.
    pub(crate) fn role_name(&self, role: AccountRole) -> &'static str {
        match role {
            AccountRole::Researcher => self.role_researcher,
            AccountRole::ExternalUser => self.role_external_user,
            AccountRole::InstrumentManager => self.role_instrument_manager,
            AccountRole::InstitutionAdmin => self.role_institution_admin,
            AccountRole::ProvinceAdmin => self.role_province_admin,
            AccountRole::ServiceExpert => self.role_service_expert,
        }
    }

    /// The words of an outside user's price category.
    pub(crate) fn price_name(&self, category: &crate::backend::PriceCategory) -> String {
        use crate::backend::PriceCategory;
        match category {
            PriceCategory::OutsideAcademic => self.price_outside_academic.to_owned(),
            PriceCategory::Enterprise { credit_code } => {
                format!("{}（{credit_code}）", self.price_enterprise)
            }
            PriceCategory::Individual => self.price_individual.to_owned(),
        }
    }

    /// The name of an account state.
    pub(crate) fn state_name(&self, state: AccountState) -> &'static str {
        match state {
            AccountState::Active => self.state_active,
            AccountState::Pending => self.state_pending,
            AccountState::Disabled => self.state_disabled,
        }
    }

    /// `message` with its `{}` replaced by how long to wait ("3 分钟", "45 seconds").
    pub(crate) fn with_wait(&self, message: &str, wait: std::time::Duration) -> String {
        let secs = crate::throttle::retry_after_secs(wait);
        let amount = if secs < 90 {
            format!("{secs} {}", self.wait_seconds)
        } else {
            format!("{} {}", secs.div_ceil(60), self.wait_minutes)
        };
        message.replace("{}", &amount)
    }

    /// The name of a node role as the status reports it (`member` or `aggregator`).
    pub(crate) fn node_role_name<'a>(&self, role: &'a str) -> &'a str {
        match role {
            "member" => self.node_role_member,
            "aggregator" => self.node_role_aggregator,
            other => other,
        }
    }

    /// The message for a problem with a form field.
    pub(crate) fn problem(&self, problem: &Problem) -> String {
        let text = match problem {
            Problem::Username => self.err_username,
            Problem::UsernameTaken => self.err_username_taken,
            Problem::PasswordShort => self.err_password_short,
            Problem::PasswordLong => self.err_password_long,
            Problem::CurrentPassword => self.err_current_password,
            Problem::PasswordMismatch => self.err_password_mismatch,
            Problem::DisplayName => self.err_display_name,
            Problem::Organization => self.err_organization,
            Problem::Email => self.err_email,
            Problem::Phone => self.err_phone,
            Problem::Role => self.err_role,
            Problem::State => self.err_state,
            Problem::LocalId => self.cat.err_local_id,
            Problem::Required => self.cat.err_required,
            Problem::TooLong => self.cat.err_too_long,
            Problem::Date => self.cat.err_date,
            Problem::Money(_) => self.cat.err_money,
            Problem::Choice => self.cat.err_choice,
            Problem::Category => self.cat.err_category,
            Problem::FeeName => self.cat.err_fee_name,
            Problem::DateTime => self.book.err_start,
            Problem::BookingLength => self.book.err_minutes,
            Problem::PageTooDeep => self.cat.err_page_too_deep,
            Problem::Other(message) => return message.clone(),
        };
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_picks_the_lang_parameter_only() {
        assert_eq!(query_lang("lang=en"), Some(Lang::En));
        assert_eq!(query_lang("next=/me&lang=zh"), Some(Lang::Zh));
        assert_eq!(query_lang("language=en"), None);
        assert_eq!(query_lang("lang=fr"), None);
    }

    #[test]
    fn chinese_is_the_default() {
        assert_eq!(Lang::default(), Lang::Zh);
        assert_eq!(Lang::default().tag(), "zh-CN");
    }
}
