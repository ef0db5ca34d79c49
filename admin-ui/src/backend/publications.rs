//! The publications side of [`Backend`](super::Backend) (R13): users register the papers,
//! patents and reports that used alliance instruments, with the acknowledgement they
//! printed; their home node signs each and sends it to the province, which counts it in
//! the instruments' evaluation.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{Account, ActionFailure};

/// A publication as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PublicationForm {
    /// `paper`, `patent` or `report`.
    pub kind: String,
    pub title: String,
    pub authors: String,
    /// A DOI for a paper (`10.…`), the number of a patent or a report.
    pub identifier: String,
    /// The acknowledgement as printed (致谢).
    pub acknowledgement: String,
    /// The instruments it used, `institution/local_id`, at least one.
    pub instruments: Vec<String>,
    /// `YYYY-MM-DD`.
    pub published_on: String,
}

/// A registered publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicationView {
    pub publication_id: String,
    pub kind: String,
    pub title: String,
    pub authors: String,
    pub identifier: String,
    pub acknowledgement: String,
    /// `(institution/local_id, Chinese name)`.
    pub instruments: Vec<(String, String)>,
    pub published_on: String,
    /// Unix seconds.
    pub registered_at: i64,
    /// Whether the province has acknowledged it.
    pub delivered: bool,
}

/// Publication operations for the signed-in user.
pub trait PublicationBackend: Clone + Send + Sync + 'static {
    /// The user's publications, newest first.
    fn my_publications(
        &self,
        account: &Account,
    ) -> impl Future<Output = Vec<PublicationView>> + Send;
    /// Registers one (checked: kind, title ≤ 300 chars, authors, identifier, a date, one to
    /// ten instruments of the alliance); `Invalid` names the field.
    fn register_publication(
        &self,
        account: &Account,
        form: PublicationForm,
    ) -> impl Future<Output = Result<PublicationView, ActionFailure>> + Send;
}
