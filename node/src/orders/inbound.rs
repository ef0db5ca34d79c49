//! Orders' mail: orders and report fetches at the owner, updates at the home. Each is
//! checked against its sender before anything is kept: only a home places its own
//! users' orders and fetches their reports; only the owner updates an order.

use alliance_protocol::{
    Domain, InstitutionId, MembershipCertificate,
    order::{OrderCancel, OrderPlaced, OrderState, OrderUpdate, ReportFetch},
};
use futures::future::BoxFuture;

use super::{OrderError, Orders};
use crate::{mail, net::Refusal, store::StoreError};

fn refusal(e: OrderError) -> Refusal {
    match e {
        OrderError::Store(e) => {
            tracing::error!(error = %e, "cannot keep an order");
            Refusal::Internal("the order could not be stored".into())
        }
        other => Refusal::BadRequest(other.to_string()),
    }
}

impl Orders {
    async fn on_message(
        &self,
        from: &MembershipCertificate,
        kind: &str,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let bad = |e: &dyn std::fmt::Display| Refusal::BadRequest(e.to_string());
        match kind {
            k if k == Domain::ORDER.0 => {
                let placed =
                    OrderPlaced::open(bytes, &from.node_public_key).map_err(|e| bad(&e))?;
                if placed.home != from.institution_id {
                    return Err(Refusal::NotYours(
                        "an order comes from its user's home".into(),
                    ));
                }
                if &placed.owner != self.own() {
                    return Err(bad(&"the order is for another institution"));
                }
                self.received(placed).await.map_err(refusal)?;
                Ok(Vec::new())
            }
            k if k == Domain::ORDER_UPDATE.0 => {
                let update =
                    OrderUpdate::open(bytes, &from.node_public_key).map_err(|e| bad(&e))?;
                if update.owner != from.institution_id {
                    return Err(Refusal::NotYours("an order is updated by its owner".into()));
                }
                if &update.home != self.own() {
                    return Err(bad(&"the order was placed by another home"));
                }
                self.updated(update).await.map_err(refusal)?;
                Ok(Vec::new())
            }
            k if k == Domain::REPORT_FETCH.0 => {
                let fetch = ReportFetch::open(bytes, &from.node_public_key).map_err(|e| bad(&e))?;
                if fetch.home != from.institution_id {
                    return Err(Refusal::NotYours(
                        "only the user's home fetches a report".into(),
                    ));
                }
                self.file_for(&fetch.home, &fetch.order_id, fetch.photo)
                    .map_err(refusal)
            }
            k if k == Domain::ORDER_CANCEL.0 => {
                let cancel =
                    OrderCancel::open(bytes, &from.node_public_key).map_err(|e| bad(&e))?;
                if cancel.home != from.institution_id {
                    return Err(Refusal::NotYours(
                        "only the user's home cancels an order".into(),
                    ));
                }
                self.advance(
                    &cancel.home,
                    &cancel.order_id,
                    OrderState::Cancelled,
                    &cancel.reason,
                )
                .await
                .map_err(refusal)?;
                Ok(Vec::new())
            }
            other => Err(Refusal::BadRequest(format!("{other} is not order mail"))),
        }
    }
}

/// The kinds of mail [`Orders`] owns.
const ORDER_MAIL: &[Domain] = &[
    Domain::ORDER,
    Domain::ORDER_UPDATE,
    Domain::REPORT_FETCH,
    Domain::ORDER_CANCEL,
];

impl mail::Handler for Orders {
    fn kinds(&self) -> &'static [Domain] {
        ORDER_MAIL
    }

    fn receive<'a>(
        &'a self,
        from: &'a MembershipCertificate,
        kind: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Refusal>> {
        Box::pin(self.on_message(from, kind, message))
    }

    fn refused<'a>(
        &'a self,
        _to: &'a InstitutionId,
        kind: &'a str,
        message: &'a [u8],
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if kind != Domain::ORDER.0 {
                return Ok(());
            }
            // Our own order, as we signed it.
            let Ok(placed) = OrderPlaced::open(message, &self.inner.own.node_public_key) else {
                return Ok(());
            };
            match self.never_taken(&placed, reason).await {
                Ok(()) => Ok(()),
                Err(OrderError::Store(e)) => Err(e),
                Err(e) => {
                    tracing::error!(error = %e, "a refused order could not be marked");
                    Ok(())
                }
            }
        })
    }
}
