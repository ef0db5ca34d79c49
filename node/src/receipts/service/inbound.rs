//! Receipts' mail: receipts from owners, confirmations from homes, and on the province
//! publications and service statistics from members. Each is checked against its sender
//! before anything is kept.

use alliance_protocol::{Domain, MembershipCertificate, UnixTime};
use futures::future::BoxFuture;

use super::Receipts;
use crate::{
    mail,
    net::Refusal,
    receipts::{
        issued::IssueError, publications::PublicationsError, received::ReceivedError,
        statistics::StatisticsRefusal,
    },
};

impl Receipts {
    /// A receipt, confirmation, publication or statistics report from another member:
    /// an empty answer acknowledges.
    async fn on_message(
        &self,
        from: &MembershipCertificate,
        kind: &str,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let now = UnixTime::now();
        let bad = |e: &dyn std::fmt::Display| Refusal::BadRequest(e.to_string());
        match kind {
            k if k == Domain::RECEIPT.0 => {
                // Only the owner it names may send a receipt: checked before anything is
                // kept, so no member can plant a receipt of another's instrument.
                let claimed =
                    alliance_protocol::receipt::UsageReceipt::open(bytes, &from.node_public_key)
                        .map_err(|e| bad(&e))?;
                if claimed.institution_id != from.institution_id {
                    return Err(Refusal::NotYours("a receipt comes from its owner".into()));
                }
                let receipt = self
                    .inner
                    .received
                    .receive(bytes, &from.node_public_key, now)
                    .await
                    .map_err(|e| match e {
                        ReceivedError::Store(e) => {
                            tracing::error!(error = %e, "cannot keep a receipt");
                            Refusal::Internal("the receipt could not be stored".into())
                        }
                        other => bad(&other),
                    })?;
                tracing::info!(receipt = receipt.receipt_id, owner = %receipt.institution_id, "receipt received for a user");
                self.changed();
                Ok(Vec::new())
            }
            k if k == Domain::RECEIPT_CONFIRMATION.0 => {
                let confirmation = alliance_protocol::receipt::ReceiptConfirmation::open(
                    bytes,
                    &from.node_public_key,
                )
                .map_err(|e| bad(&e))?;
                let home_of_user = self
                    .inner
                    .book
                    .get(&confirmation.receipt_id)
                    .map_err(|e| {
                        tracing::error!(error = %e, "cannot read an issued receipt");
                        Refusal::Internal("the receipt could not be read".into())
                    })?
                    .map(|i| i.receipt.home_institution);
                if home_of_user.as_ref() != Some(&from.institution_id) {
                    return Err(Refusal::NotYours(
                        "only the user's home confirms a receipt".into(),
                    ));
                }
                match self
                    .inner
                    .book
                    .confirmed(bytes, &from.node_public_key, now)
                    .await
                {
                    Ok(_) => {
                        self.submit.notify_one();
                        self.changed();
                        Ok(Vec::new())
                    }
                    Err(IssueError::NotAwaiting(id)) => Err(Refusal::NotAwaiting(format!(
                        "receipt {id} is no longer awaiting confirmation"
                    ))),
                    Err(IssueError::BadConfirmation(e)) => Err(bad(&e)),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot take a confirmation");
                        Err(Refusal::Internal(
                            "the confirmation could not be stored".into(),
                        ))
                    }
                }
            }
            k if k == Domain::PUBLICATION.0 => {
                if self.inner.own.role != alliance_protocol::Role::Aggregator {
                    return Err(Refusal::NotTheProvince(
                        "only the province counts publications".into(),
                    ));
                }
                match self.inner.publications.received(from, bytes).await {
                    Ok(()) => {
                        self.changed();
                        Ok(Vec::new())
                    }
                    Err(PublicationsError::Store(e)) => {
                        tracing::error!(error = %e, "cannot keep a publication");
                        Err(Refusal::Internal(
                            "the publication could not be stored".into(),
                        ))
                    }
                    Err(e) => Err(bad(&e)),
                }
            }
            k if k == Domain::SERVICE_STATISTICS.0 => {
                if self.inner.own.role != alliance_protocol::Role::Aggregator {
                    return Err(Refusal::NotTheProvince(
                        "only the province evaluates".into(),
                    ));
                }
                match self.inner.statistics.received(from, bytes).await {
                    Ok(()) => {
                        self.changed();
                        Ok(Vec::new())
                    }
                    Err(StatisticsRefusal::Store(e)) => {
                        tracing::error!(error = %e, "cannot keep booking statistics");
                        Err(Refusal::Internal(
                            "the statistics could not be stored".into(),
                        ))
                    }
                    Err(e) => Err(bad(&e)),
                }
            }
            other => Err(Refusal::BadRequest(format!("{other} is not receipt mail"))),
        }
    }
}

/// The kinds of mail [`Receipts`] owns.
const RECEIPT_MAIL: &[Domain] = &[
    Domain::RECEIPT,
    Domain::RECEIPT_CONFIRMATION,
    Domain::PUBLICATION,
    Domain::SERVICE_STATISTICS,
];

impl mail::Handler for Receipts {
    fn kinds(&self) -> &'static [Domain] {
        RECEIPT_MAIL
    }

    fn receive<'a>(
        &'a self,
        from: &'a MembershipCertificate,
        kind: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Refusal>> {
        Box::pin(self.on_message(from, kind, message))
    }
}
