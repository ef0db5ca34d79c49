//! The publications half of [`MemoryBackend`]: a user's publications in a list, each
//! naming its instruments with the catalogue's Chinese names, not delivered until a test
//! says the province has them. No field checks unless a test sets a refusal: the web
//! layer's own checks are what the tests exercise; signing and the province's counting
//! are tested in the node.

use alliance_web::backend::{
    Account, ActionFailure, PublicationBackend, PublicationForm, PublicationView,
};

use super::MemoryBackend;

#[derive(Debug, Default)]
pub(crate) struct Publications {
    /// (username, publication), oldest first.
    list: Vec<(String, PublicationView)>,
    /// What the node answers to the next registration, if it refuses.
    refusal: Option<ActionFailure>,
}

impl MemoryBackend {
    /// The publications of `username`, oldest first.
    pub(crate) fn publications(&self, username: &str) -> Vec<PublicationView> {
        self.lock()
            .publications
            .list
            .iter()
            .filter(|(user, _)| user == username)
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// Marks every publication as acknowledged by the province.
    pub(crate) fn deliver_publications(&self) {
        for (_, p) in &mut self.lock().publications.list {
            p.delivered = true;
        }
    }

    /// Makes the node refuse the next registration with `failure`.
    pub(crate) fn refuse_publication(&self, failure: ActionFailure) {
        self.lock().publications.refusal = Some(failure);
    }

    /// The Chinese name of an instrument in the catalogue, empty if it has none here.
    fn name_zh(&self, id: &str) -> String {
        self.records()
            .into_iter()
            .find(|r| r.id() == id)
            .map(|r| r.name_zh)
            .unwrap_or_default()
    }
}

impl PublicationBackend for MemoryBackend {
    async fn my_publications(&self, account: &Account) -> Vec<PublicationView> {
        let mut list = self.publications(&account.username);
        list.reverse();
        list
    }

    async fn register_publication(
        &self,
        account: &Account,
        form: PublicationForm,
    ) -> Result<PublicationView, ActionFailure> {
        if let Some(failure) = self.lock().publications.refusal.take() {
            return Err(failure);
        }
        let instruments = form
            .instruments
            .iter()
            .map(|id| (id.clone(), self.name_zh(id)))
            .collect();
        let mut inner = self.lock();
        inner.issued += 1;
        let publication = PublicationView {
            publication_id: format!("p{}", inner.issued),
            kind: form.kind,
            title: form.title,
            authors: form.authors,
            identifier: form.identifier,
            acknowledgement: form.acknowledgement,
            instruments,
            published_on: form.published_on,
            registered_at: chrono::Utc::now().timestamp(),
            delivered: false,
        };
        inner
            .publications
            .list
            .push((account.username.clone(), publication.clone()));
        Ok(publication)
    }
}
