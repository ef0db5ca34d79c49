//! The publications side of the web backend (R13): a user's registered papers, patents
//! and reports, and registering one (signed here and sent to the province).

use alliance_protocol::{
    UnixTime,
    publication::{Publication, PublicationError, PublicationKind},
    record::RecordError,
};
use alliance_web::backend::{
    Account, ActionFailure, PublicationBackend, PublicationForm, PublicationView,
};

use super::{WebBackend, booking::invalid};
use crate::receipts::publications::{PublicationsError, Registered};

impl WebBackend {
    fn publication_view(&self, (registered, delivered): (Registered, bool)) -> PublicationView {
        let p = registered.publication;
        PublicationView {
            instruments: p
                .instruments
                .iter()
                .map(|id| {
                    let name = self
                        .catalogue
                        .instrument_unfiltered(id)
                        .map(|v| v.record.name_zh.clone())
                        .unwrap_or_else(|| id.clone());
                    (id.clone(), name)
                })
                .collect(),
            publication_id: p.publication_id,
            kind: p.kind.as_str().to_owned(),
            title: p.title,
            authors: p.authors,
            identifier: p.identifier,
            acknowledgement: p.acknowledgement,
            published_on: p.published_on,
            registered_at: p.registered_at.0,
            delivered,
        }
    }
}

fn refusal(e: PublicationsError) -> ActionFailure {
    match e {
        PublicationsError::Invalid(PublicationError::Invalid(RecordError::Field {
            field,
            message,
        })) => invalid(field, &message),
        PublicationsError::Invalid(e) => invalid("publication", &e.to_string()),
        PublicationsError::IdReused(_) | PublicationsError::NotYours(_) => ActionFailure::Refused {
            code: "conflict".into(),
            message: e.to_string(),
        },
        PublicationsError::NoProvince => ActionFailure::Unreachable,
        PublicationsError::Store(e) => ActionFailure::Internal(e.to_string()),
    }
}

impl PublicationBackend for WebBackend {
    async fn my_publications(&self, account: &Account) -> Vec<PublicationView> {
        self.receipts
            .publications()
            .of_user(&account.username)
            .unwrap_or_default()
            .into_iter()
            .map(|entry| self.publication_view(entry))
            .collect()
    }

    async fn register_publication(
        &self,
        account: &Account,
        form: PublicationForm,
    ) -> Result<PublicationView, ActionFailure> {
        let kind: PublicationKind = form
            .kind
            .parse()
            .map_err(|_| invalid("kind", "paper, patent or report"))?;
        for id in &form.instruments {
            if self.catalogue.instrument_unfiltered(id).is_none() {
                return Err(invalid("instruments", &format!("no instrument {id}")));
            }
        }
        let mut id = [0u8; 12];
        rand::fill(&mut id);
        let publication = Publication {
            publication_id: format!("p_{}", hex::encode(id)),
            home_institution: self.certificate.institution_id.clone(),
            user_id: account.username.clone(),
            kind,
            title: form.title.trim().to_owned(),
            authors: form.authors.trim().to_owned(),
            identifier: form.identifier.trim().to_owned(),
            acknowledgement: form.acknowledgement.trim().to_owned(),
            instruments: form.instruments,
            published_on: form.published_on.trim().to_owned(),
            registered_at: UnixTime::now(),
        };
        let registered = self
            .receipts
            .register_publication(publication)
            .await
            .map_err(refusal)?;
        tracing::info!(user = %account.username, publication = registered.publication.publication_id, "publication registered");
        Ok(self.publication_view((registered, false)))
    }
}
