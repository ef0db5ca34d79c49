//! The orders half of [`MemoryBackend`]: no orders (they come from the node's order
//! service, tested across real nodes); a report asked for is not found.

use alliance_web::backend::{Account, ActionFailure, OrderBackend, OrderView, ReportFile};

use super::MemoryBackend;

impl OrderBackend for MemoryBackend {
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
}
