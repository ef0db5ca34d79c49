//! The board side of [`Backend`](super::Backend) (R3, R19): needs users post at their
//! home, every member's offers for them, accepting one.
//!
//! Who sees what: the public sees what is wanted, never by whom (not even the home
//! institution); members' people see the home institution; the person who posted a need
//! sees every offer for it side by side; an institution's managers see their own offer.
//! Contact details go only to the institution whose offer is accepted.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{Account, ActionFailure};

/// A need as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NeedForm {
    /// What is to be measured, in a line.
    pub title: String,
    pub description: String,
    /// Classification codes of instruments that could do it (at most 5).
    pub categories: Vec<String>,
    /// `staff_run` (entrusted testing), `self_operated`, or both.
    pub modes: Vec<String>,
    /// Words to match instruments by (at most 10).
    pub keywords: Vec<String>,
    pub sample_kind: String,
    pub sample_count: u32,
    /// `YYYY-MM-DD`, today or later.
    pub deadline: String,
    /// Fen; 0 for the upper bound: not stated.
    pub budget_min_fen: i64,
    pub budget_max_fen: i64,
    pub results_public: bool,
}

/// An offer as a manager typed it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OfferForm {
    /// The instrument of this institution that would do it (its local id).
    pub instrument_local_id: String,
    /// `staff_run` or `self_operated`.
    pub mode: String,
    /// A fee item's Chinese name (priced by the schedule), or a line of text.
    pub service_item: String,
    /// A quoted price for the whole need, in fen, with its reason; absent: by the
    /// instrument's fee schedule (staff-run testing, per sample).
    pub quoted_price_fen: Option<i64>,
    pub price_reason: String,
    /// `YYYY-MM-DD`.
    pub earliest_date: String,
    /// Working days from the samples' arrival to the report.
    pub turnaround_days: u32,
    pub conditions: String,
}

/// Which offer to accept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AcceptForm {
    /// The institution whose offer is accepted.
    pub institution: String,
}

/// A need as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NeedView {
    /// `home/local_id`.
    pub need_id: String,
    /// The home institution; empty for a visitor who is not signed in.
    pub home: String,
    pub home_name: String,
    pub title: String,
    pub description: String,
    pub categories: Vec<String>,
    pub modes: Vec<String>,
    pub keywords: Vec<String>,
    pub sample_kind: String,
    pub sample_count: u32,
    pub deadline: String,
    pub budget_min_fen: i64,
    pub budget_max_fen: i64,
    pub results_public: bool,
    /// Unix seconds.
    pub posted_at: i64,
    /// `open`, `expired` (open, but past its deadline), `withdrawn` or `accepted`.
    pub state: String,
    /// With `accepted`: the institution whose offer was accepted.
    pub accepted_institution: String,
    /// Offers made and not withdrawn.
    pub offers: usize,
    /// Whether the signed-in person posted it.
    pub mine: bool,
    /// Files attached (a sample photo, a method); members' people download them.
    pub attachments: Vec<AttachmentView>,
}

/// A file attached to a need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    /// Hex, as signed in the need.
    pub sha256: String,
}

/// An offer as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OfferView {
    pub institution_id: String,
    pub institution_name: String,
    /// `institution/local_id`.
    pub instrument_id: String,
    pub instrument_name: String,
    pub mode: String,
    pub service_item: String,
    pub price_fen: i64,
    /// A quoted price (with its reason) rather than the fee schedule's.
    pub quoted: bool,
    pub price_reason: String,
    pub earliest_date: String,
    pub turnaround_days: u32,
    pub conditions: String,
    /// Unix seconds.
    pub offered_at: i64,
    pub withdrawn: bool,
    /// Signed after the need closed: shown, never accepted.
    pub late: bool,
    /// The offer the user accepted.
    pub accepted: bool,
}

/// An instrument the alliance could do a need with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub instrument_id: String,
    pub name: String,
    pub institution_name: String,
    /// The categories and keywords of the need it meets.
    pub reasons: Vec<String>,
    /// A free hour between today and the deadline, by its owner's availability.
    pub free_before_deadline: bool,
}

/// A need with what may be shown of its offers and the instruments proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NeedDetail {
    pub need: NeedView,
    /// For the person who posted it, every offer; for an institution's managers, their
    /// own; otherwise none.
    pub offers: Vec<OfferView>,
    pub proposals: Vec<ProposalView>,
    /// Whether the signed-in person may offer for it (a manager, the need open).
    pub may_offer: bool,
}

/// What a list of needs is filtered by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// Words that must all appear.
    pub q: String,
    /// A classification code.
    pub category: String,
    /// `open` (the default), or `all`.
    pub state: String,
    pub offset: usize,
    /// At most 100; 20 when absent.
    pub limit: usize,
}

/// One page of needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NeedPageView {
    pub total: usize,
    pub offset: usize,
    pub items: Vec<NeedView>,
}

/// How one institution answers needs.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResponseView {
    pub institution_id: String,
    pub institution_name: String,
    /// Offers made (not withdrawn), on needs of other institutions' users.
    pub offers: u32,
    pub accepted: u32,
    /// Accepted per offer made.
    pub acceptance_rate: Option<f64>,
    /// Median hours from a need to this institution's offer, as this node saw them.
    pub median_hours_to_offer: Option<f64>,
}

/// Board operations; `viewer` is the signed-in account, if any.
pub trait BoardBackend: Clone + Send + Sync + 'static {
    /// A page of needs, newest first.
    fn needs(
        &self,
        viewer: Option<&Account>,
        query: &BoardQuery,
    ) -> impl Future<Output = NeedPageView> + Send;
    /// One need, with what `viewer` may see of it.
    fn need(
        &self,
        viewer: Option<&Account>,
        need_id: &str,
    ) -> impl Future<Output = Option<NeedDetail>> + Send;
    /// The needs `account` posted, newest first.
    fn my_needs(&self, account: &Account) -> impl Future<Output = Vec<NeedView>> + Send;
    /// Posts a need; `Invalid` names the field.
    fn post_need(
        &self,
        account: &Account,
        form: NeedForm,
    ) -> impl Future<Output = Result<NeedView, ActionFailure>> + Send;
    /// Takes back a need of `account`'s.
    fn withdraw_need(
        &self,
        account: &Account,
        need_id: &str,
    ) -> impl Future<Output = Result<NeedView, ActionFailure>> + Send;
    /// Accepts `institution`'s offer for a need of `account`'s.
    fn accept_offer(
        &self,
        account: &Account,
        need_id: &str,
        institution: &str,
    ) -> impl Future<Output = Result<NeedView, ActionFailure>> + Send;
    /// This institution's offer for a need (a manager's); a second one revises it.
    fn make_offer(
        &self,
        account: &Account,
        need_id: &str,
        form: OfferForm,
    ) -> impl Future<Output = Result<OfferView, ActionFailure>> + Send;
    /// How each institution answers needs, by institution id.
    fn response_stats(&self) -> impl Future<Output = Vec<ResponseView>> + Send;
    /// Attaches a file to a need of `account`'s (at most 3; a photo, PDF or text).
    fn attach_to_need(
        &self,
        account: &Account,
        need_id: &str,
        file: super::ReportFile,
    ) -> impl Future<Output = Result<NeedView, ActionFailure>> + Send;
    /// A need's attachment, for a signed-in person (fetched through the need's home).
    fn need_attachment(
        &self,
        account: &Account,
        need_id: &str,
        index: usize,
    ) -> impl Future<Output = Result<super::ReportFile, ActionFailure>> + Send;
    /// Takes back this institution's offer (a manager's).
    fn withdraw_offer(
        &self,
        account: &Account,
        need_id: &str,
    ) -> impl Future<Output = Result<OfferView, ActionFailure>> + Send;
}
