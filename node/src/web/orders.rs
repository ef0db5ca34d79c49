//! The orders side of the web backend: a user's entrusted-testing orders placed from
//! this node, and their reports.

use alliance_protocol::{InstitutionId, UnixTime, order::OrderState};
use alliance_web::backend::{
    Account, ActionFailure, ManagedOrderView, OrderBackend, OrderStepForm, OrderStepView,
    OrderView, ReportFile,
};

use super::{WebBackend, booking::invalid, may_manage};
use crate::orders::{Order, OrderError};

pub(super) fn failure(e: OrderError) -> ActionFailure {
    match e {
        OrderError::NotFound(_) | OrderError::NoReport => ActionFailure::NotFound,
        OrderError::OutOfOrder { .. } => ActionFailure::Refused {
            code: "out_of_order".into(),
            message: e.to_string(),
        },
        OrderError::Invalid { field, message } => invalid(field, &message),
        OrderError::Unreachable(_) => ActionFailure::Unreachable,
        OrderError::Tampered => ActionFailure::Refused {
            code: "report_tampered".into(),
            message: e.to_string(),
        },
        OrderError::Store(e) => ActionFailure::Internal(e.to_string()),
    }
}

fn parse_state(name: &str) -> Result<OrderState, ActionFailure> {
    match name {
        "samples_received" => Ok(OrderState::SamplesReceived),
        "testing" => Ok(OrderState::Testing),
        "closed" => Ok(OrderState::Closed),
        "refused" => Ok(OrderState::Refused),
        _ => Err(invalid(
            "state",
            "samples_received, testing, closed or refused",
        )),
    }
}

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
            photos: order.photos.iter().map(|p| p.name.clone()).collect(),
        }
    }
}

impl WebBackend {
    fn managed_view(&self, order: &Order) -> ManagedOrderView {
        let placed = &order.placed;
        ManagedOrderView {
            order: self.order_view(order),
            home: placed.home.to_string(),
            home_name: self
                .catalogue
                .key_directory()
                .institutions()
                .get(&placed.home)
                .map_or_else(|| placed.home.to_string(), |c| c.name_zh.clone()),
            contact_name: placed.contact.name.clone(),
            organization: placed.contact.organization.clone(),
            email: placed.contact.email.clone(),
            phone: placed.contact.phone.clone(),
            samples: placed
                .samples
                .iter()
                .map(|s| {
                    if s.note.is_empty() {
                        format!("{} × {}", s.label, s.count)
                    } else {
                        format!("{} × {}（{}）", s.label, s.count, s.note)
                    }
                })
                .collect(),
        }
    }

    fn managed_order(
        &self,
        home: &str,
        order_id: &str,
    ) -> Result<(InstitutionId, Order), ActionFailure> {
        let home: InstitutionId = home.parse().map_err(|_| ActionFailure::NotFound)?;
        let order = self
            .orders
            .managed_order(&home, order_id)
            .map_err(|e| ActionFailure::Internal(e.to_string()))?
            .ok_or(ActionFailure::NotFound)?;
        Ok((home, order))
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
        served(self.orders.report(&order.placed.order_id).await)
    }

    async fn order_photo(
        &self,
        account: &Account,
        order_id: &str,
        n: u32,
    ) -> Result<ReportFile, ActionFailure> {
        let order = self
            .orders
            .home_order(order_id)
            .map_err(|e| ActionFailure::Internal(e.to_string()))?
            .filter(|o| o.placed.contact.user_id == account.username)
            .ok_or(ActionFailure::NotFound)?;
        served(self.orders.photo(&order.placed.order_id, n).await)
    }

    async fn add_intake_photo(
        &self,
        account: &Account,
        home: &str,
        order_id: &str,
        file: ReportFile,
    ) -> Result<ManagedOrderView, ActionFailure> {
        may_manage(account)?;
        let (home, _) = self.managed_order(home, order_id)?;
        let order = self
            .orders
            .add_intake_photo(&home, order_id, &file.name, file.bytes)
            .await
            .map_err(failure)?;
        Ok(self.managed_view(&order))
    }

    async fn cancel_order(
        &self,
        account: &Account,
        order_id: &str,
        reason: &str,
    ) -> Result<(), ActionFailure> {
        self.orders
            .cancel(&account.username, order_id, reason)
            .await
            .map_err(failure)?;
        tracing::info!(user = %account.username, order = order_id, "order cancelled");
        Ok(())
    }

    async fn managed_orders(
        &self,
        account: &Account,
    ) -> Result<Vec<ManagedOrderView>, ActionFailure> {
        may_manage(account)?;
        Ok(self
            .orders
            .managed()
            .map_err(|e| ActionFailure::Internal(e.to_string()))?
            .iter()
            .map(|o| self.managed_view(o))
            .collect())
    }

    async fn advance_order(
        &self,
        account: &Account,
        home: &str,
        order_id: &str,
        step: OrderStepForm,
    ) -> Result<ManagedOrderView, ActionFailure> {
        may_manage(account)?;
        let next = parse_state(&step.state)?;
        let (home, _) = self.managed_order(home, order_id)?;
        let order = self
            .orders
            .advance(&home, order_id, next, step.note.trim())
            .await
            .map_err(failure)?;
        tracing::info!(by = %account.username, order = order_id, %home, state = next.as_str(), "order step");
        Ok(self.managed_view(&order))
    }

    async fn issue_report(
        &self,
        account: &Account,
        home: &str,
        order_id: &str,
        file: ReportFile,
        (start, end): (i64, i64),
    ) -> Result<ManagedOrderView, ActionFailure> {
        may_manage(account)?;
        let (home, _) = self.managed_order(home, order_id)?;
        let order = self
            .orders
            .issue_report(
                &home,
                order_id,
                &file.name,
                file.bytes,
                (UnixTime(start), UnixTime(end)),
            )
            .await
            .map_err(failure)?;
        tracing::info!(by = %account.username, order = order_id, %home, "report issued");
        Ok(self.managed_view(&order))
    }
}

/// A file of an order as served to its user, or why not.
fn served(
    file: Result<(String, String, Vec<u8>), OrderError>,
) -> Result<ReportFile, ActionFailure> {
    match file {
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
