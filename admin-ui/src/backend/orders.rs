//! The entrusted-testing side of [`Backend`](super::Backend): the orders a user placed
//! from this node, followed step by step, and their reports, downloaded through this
//! node (which checked each against the SHA-256 its owner signed).

use std::future::Future;

use serde::Serialize;

use super::{Account, ActionFailure};

/// One step of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OrderStepView {
    pub state: String,
    pub note: String,
    /// Unix seconds.
    pub at: i64,
}

/// An order as its user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    /// The order's id at this home (the need's).
    pub order_id: String,
    pub owner: String,
    pub owner_name: String,
    /// `institution/local_id`.
    pub instrument_id: String,
    pub title: String,
    /// `ordered`, `samples_received`, `testing`, `report_issued`, `closed`, `refused` or
    /// `cancelled`.
    pub state: String,
    pub steps: Vec<OrderStepView>,
    pub price_fen: i64,
    pub samples: u32,
    /// With a report: its name, SHA-256 (hex) and the receipt that names the same hash.
    pub report_name: Option<String>,
    pub report_sha256: Option<String>,
    pub receipt_id: Option<String>,
    /// Unix seconds.
    pub placed_at: i64,
    /// Names of the photos of the samples taken in (photo n is the n-th, from 1).
    pub photos: Vec<String>,
}

/// An order placed with this institution, as its managers see it: with whom to deal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ManagedOrderView {
    pub order: OrderView,
    /// The user's home institution.
    pub home: String,
    pub home_name: String,
    pub contact_name: String,
    pub organization: String,
    pub email: String,
    pub phone: String,
    /// The sample manifest, a line each: label × count (note).
    pub samples: Vec<String>,
}

/// A step a manager takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub struct OrderStepForm {
    /// `samples_received`, `testing`, `closed` or `refused` (a report is issued with its
    /// file).
    pub state: String,
    /// Intake notes, or a refusal's reason (required then).
    #[serde(default)]
    pub note: String,
}

/// Why an order is taken back.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub struct CancelForm {
    pub reason: String,
}

/// A report's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// Order operations for the signed-in user.
pub trait OrderBackend: Clone + Send + Sync + 'static {
    /// The user's orders, newest first.
    fn my_orders(&self, account: &Account) -> impl Future<Output = Vec<OrderView>> + Send;
    /// The report of one of the user's orders.
    fn order_report(
        &self,
        account: &Account,
        order_id: &str,
    ) -> impl Future<Output = Result<ReportFile, ActionFailure>> + Send;
    /// The user takes back an order of theirs before the samples arrive, with a reason
    /// (the owner is asked at once; `Refused` once the samples are in).
    fn cancel_order(
        &self,
        account: &Account,
        order_id: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), ActionFailure>> + Send;
    /// The orders placed with this institution, newest first (managers).
    fn managed_orders(
        &self,
        account: &Account,
    ) -> impl Future<Output = Result<Vec<ManagedOrderView>, ActionFailure>> + Send;
    /// A manager moves an order one step.
    fn advance_order(
        &self,
        account: &Account,
        home: &str,
        order_id: &str,
        step: OrderStepForm,
    ) -> impl Future<Output = Result<ManagedOrderView, ActionFailure>> + Send;
    /// Intake photo `n` (from 1) of one of the user's orders, through their home.
    fn order_photo(
        &self,
        account: &Account,
        order_id: &str,
        n: u32,
    ) -> impl Future<Output = Result<ReportFile, ActionFailure>> + Send;
    /// A manager adds a photo of the samples taken in (JPEG or PNG, at most 3).
    fn add_intake_photo(
        &self,
        account: &Account,
        home: &str,
        order_id: &str,
        file: ReportFile,
    ) -> impl Future<Output = Result<ManagedOrderView, ActionFailure>> + Send;
    /// A manager issues an order's report: the file, and the measurement's time on the
    /// instrument (Unix seconds).
    fn issue_report(
        &self,
        account: &Account,
        home: &str,
        order_id: &str,
        file: ReportFile,
        measured: (i64, i64),
    ) -> impl Future<Output = Result<ManagedOrderView, ActionFailure>> + Send;
}
