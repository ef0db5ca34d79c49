//! The instrument catalogue (R1, R2, R7–R9): every member's signed records, the
//! province's reviews and the owners' availability digests, replicated on every node.
//!
//! - [`classification`]: the national instrument classification, from `configs/`.
//! - [`admission`]: whether an entry from a peer may enter (signer, owner, size).
//! - [`replica`]: every origin's signed entries on disk, and the version vector.
//! - [`search`]: the full-text index (Chinese and English).
//! - [`availability`], [`digest`], [`schedule`]: availability digests — reading them,
//!   and building this institution's from its published opening hours.
//! - [`import`]: CSV/XLSX import, export and templates.
//! - [`service`]: [`Catalogue`], what the rest of the node uses.
//! - [`stats`]: counters of accepted and refused entries.
//! - [`summary`]: what is kept in memory per record, and the visibility rules.

pub mod admission;
pub mod availability;
pub mod classification;
pub mod digest;
pub mod import;
pub mod replica;
pub mod schedule;
pub mod search;
pub mod service;
pub mod stats;
pub mod summary;

pub use service::{
    Catalogue, CatalogueError, CatalogueOptions, InstrumentView, OUTGOING_QUEUE, SearchRequest,
    SearchResults,
};
pub use stats::CatalogueStats;
pub use summary::{RecordSummary, ReviewStatus, VOLUNTARY_BELOW_FEN, review_status};
