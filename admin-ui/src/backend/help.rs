//! The help desk side of [`Backend`](super::Backend) (一站式服务, R18): a firm asks for
//! help in plain words; one of the node's service experts takes the request, writes to
//! the firm, and posts the need for it (perhaps referred to one member). The asker sees
//! every step; experts see the queue; nobody else sees a request.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{Account, ActionFailure, NeedForm};

/// A request for help as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct HelpForm {
    /// What the firm needs, in its own words (10 to 4,000 characters).
    pub text: String,
    /// A classification code the firm thinks it is in; empty if it does not know.
    pub field: String,
}

/// A message on a request, or the reason it is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct HelpTextForm {
    pub text: String,
}

/// The need an expert posts for the asker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct HelpNeedForm {
    pub need: NeedForm,
    /// A member institution the need is referred to (its managers are told at once);
    /// empty: none.
    pub referred_to: String,
}

/// The fields a service expert knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ExpertFields {
    /// Classification codes (at most 10).
    pub fields: Vec<String>,
}

/// One step of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HelpStepView {
    /// `asked`, `taken`, `message`, `need_posted` or `closed`.
    pub kind: String,
    /// Who did it.
    pub by: String,
    pub text: String,
    /// Unix seconds.
    pub at: i64,
    /// With `need_posted`: the need's id, and the member it was referred to (or empty).
    pub need_id: String,
    pub referred_to: String,
}

/// A request for help, as its asker or an expert sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HelpView {
    pub id: String,
    pub asker_name: String,
    pub text: String,
    pub field: String,
    /// Unix seconds.
    pub created_at: i64,
    /// `open`, `taken` or `closed`.
    pub state: String,
    /// The expert who took it; empty while open.
    pub expert_name: String,
    /// Whether the viewer asked it.
    pub mine: bool,
    /// Whether the viewer is the expert who took it.
    pub taken_by_me: bool,
    pub steps: Vec<HelpStepView>,
}

/// One page of requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HelpPageView {
    pub total: usize,
    pub offset: usize,
    pub items: Vec<HelpView>,
}

/// Which page of requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct HelpQuery {
    pub offset: usize,
    /// At most 100; 20 when absent.
    pub limit: usize,
}

impl HelpQuery {
    /// The page size asked for, within bounds.
    pub fn limit(&self) -> usize {
        match self.limit {
            0 => 20,
            n => n.min(100),
        }
    }
}

/// The help desk.
pub trait HelpBackend {
    /// The requests `account` asked, newest first.
    fn my_help_requests(
        &self,
        account: &Account,
        query: &HelpQuery,
    ) -> impl Future<Output = HelpPageView> + Send;
    /// Every request, newest first (service experts only).
    fn help_queue(
        &self,
        account: &Account,
        query: &HelpQuery,
    ) -> impl Future<Output = Result<HelpPageView, ActionFailure>> + Send;
    /// One request, for its asker or an expert.
    fn help_request(
        &self,
        account: &Account,
        id: &str,
    ) -> impl Future<Output = Result<HelpView, ActionFailure>> + Send;
    /// Asks for help.
    fn ask_help(
        &self,
        account: &Account,
        form: HelpForm,
    ) -> impl Future<Output = Result<HelpView, ActionFailure>> + Send;
    /// A service expert takes an open request.
    fn take_help(
        &self,
        account: &Account,
        id: &str,
    ) -> impl Future<Output = Result<HelpView, ActionFailure>> + Send;
    /// The asker or the expert who took the request writes on it.
    fn write_help(
        &self,
        account: &Account,
        id: &str,
        text: &str,
    ) -> impl Future<Output = Result<HelpView, ActionFailure>> + Send;
    /// The expert who took the request posts the need for its asker.
    fn post_help_need(
        &self,
        account: &Account,
        id: &str,
        form: HelpNeedForm,
    ) -> impl Future<Output = Result<HelpView, ActionFailure>> + Send;
    /// The asker, or the expert who took it (with a reason), closes a request.
    fn close_help(
        &self,
        account: &Account,
        id: &str,
        reason: &str,
    ) -> impl Future<Output = Result<HelpView, ActionFailure>> + Send;
    /// The fields a service expert says they know.
    fn expert_fields(
        &self,
        account: &Account,
    ) -> impl Future<Output = Result<Vec<String>, ActionFailure>> + Send;
    /// A service expert names their fields.
    fn set_expert_fields(
        &self,
        account: &Account,
        fields: Vec<String>,
    ) -> impl Future<Output = Result<Vec<String>, ActionFailure>> + Send;
}
