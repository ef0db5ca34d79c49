//! The orders side of the web backend: a user's entrusted-testing orders placed from
//! this node, and their reports.

use alliance_web::backend::{
    Account, ActionFailure, OrderBackend, OrderStepView, OrderView, ReportFile,
};

use super::WebBackend;
use crate::orders::{Order, OrderError};

impl WebBackend {
    fn order_view(&self, order: &Order) -> OrderView {
        let placed = &order.placed;
        let instrument_id = format!("{}/{}", placed.owner, placed.instrument_local_id);
        OrderView {
            order_id: placed.order_id.clone(),
            owner: placed.owner.to_string(),
            owner_name: self
                .catalogue
                .key_directory()
                .institutions()
                .get(&placed.owner)
                .map_or_else(|| placed.owner.to_string(), |c| c.name_zh.clone()),
            instrument_id,
            title: placed.title.clone(),
            state: order.state.as_str().to_owned(),
            steps: order
                .steps
                .iter()
                .map(|s| OrderStepView {
                    state: s.state.as_str().to_owned(),
                    note: s.note.clone(),
                    at: s.at.0,
                })
                .collect(),
            price_fen: placed.price_fen,
            samples: placed.sample_count(),
            report_name: order.report.as_ref().map(|r| r.name.clone()),
            report_sha256: order.report.as_ref().map(|r| hex::encode(r.sha256)),
            receipt_id: order.report.as_ref().map(|r| r.receipt_id.clone()),
            placed_at: placed.placed_at.0,
        }
    }
}

impl OrderBackend for WebBackend {
    async fn my_orders(&self, account: &Account) -> Vec<OrderView> {
        self.orders
            .orders_of(&account.username)
            .unwrap_or_default()
            .iter()
            .map(|o| self.order_view(o))
            .collect()
    }

    async fn order_report(
        &self,
        account: &Account,
        order_id: &str,
    ) -> Result<ReportFile, ActionFailure> {
        let order = self
            .orders
            .home_order(order_id)
            .map_err(|e| ActionFailure::Internal(e.to_string()))?
            .filter(|o| o.placed.contact.user_id == account.username)
            .ok_or(ActionFailure::NotFound)?;
        match self.orders.report(&order.placed.order_id).await {
            Ok((name, media_type, bytes)) => Ok(ReportFile {
                name,
                media_type,
                bytes,
            }),
            Err(OrderError::NoReport | OrderError::NotFound(_)) => Err(ActionFailure::NotFound),
            Err(OrderError::Unreachable(_)) => Err(ActionFailure::Unreachable),
            Err(OrderError::Tampered) => Err(ActionFailure::Refused {
                code: "report_tampered".into(),
                message: OrderError::Tampered.to_string(),
            }),
            Err(e) => Err(ActionFailure::Internal(e.to_string())),
        }
    }
}
