//! The orders half of [`MemoryBackend`]: no orders (they come from the node's order
//! service, tested across real nodes); a report asked for is not found.

use alliance_web::backend::{
    Account, ActionFailure, ManagedOrderView, OrderBackend, OrderStepForm, OrderView, ReportFile,
};

use super::MemoryBackend;

impl OrderBackend for MemoryBackend {
    async fn order_photo(
        &self,
        _account: &Account,
        _order_id: &str,
        _n: u32,
    ) -> Result<ReportFile, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn add_intake_photo(
        &self,
        _account: &Account,
        _home: &str,
        _order_id: &str,
        _file: ReportFile,
    ) -> Result<ManagedOrderView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn my_orders(&self, _account: &Account) -> Vec<OrderView> {
        Vec::new()
    }

    async fn order_report(
        &self,
        _account: &Account,
        _order_id: &str,
    ) -> Result<ReportFile, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn cancel_order(
        &self,
        _account: &Account,
        _order_id: &str,
        _reason: &str,
    ) -> Result<(), ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn managed_orders(
        &self,
        _account: &Account,
    ) -> Result<Vec<ManagedOrderView>, ActionFailure> {
        Ok(Vec::new())
    }

    async fn advance_order(
        &self,
        _account: &Account,
        _home: &str,
        _order_id: &str,
        _step: OrderStepForm,
    ) -> Result<ManagedOrderView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn issue_report(
        &self,
        _account: &Account,
        _home: &str,
        _order_id: &str,
        _file: ReportFile,
        _measured: (i64, i64),
    ) -> Result<ManagedOrderView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }
}
