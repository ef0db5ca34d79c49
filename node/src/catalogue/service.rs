//! [`Catalogue`]: the node's catalogue as the rest of the node uses it — what peers send
//! goes in through [`Catalogue::receive`], this institution's edits through
//! [`Catalogue::save_record`], and the web reads [`Catalogue::search`] and
//! [`Catalogue::instrument`].
//!
//! The replica on disk is the truth; the view (records, reviews and digests by instrument)
//! and the search index are rebuilt from it at start and updated after every commit.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use alliance_protocol::{
    AvailabilityDigest, Entry, EntryBody, InstitutionId, InstrumentRecord, MembershipCertificate,
    ReviewAttestation, Role, SecretKey,
    limits::MAX_INSTRUMENTS_PER_INSTITUTION,
    rpc::{OriginRevision, SyncRequest, SyncResponse},
};
use tokio::sync::{mpsc, watch};

use super::{
    admission::{KeyDirectory, RejectionKind},
    availability::FreeDays,
    classification::Classification,
    digest::BusySource,
    replica::{Applied, Replica},
    search::{IndexExtras, IndexQuery, SearchError, SearchIndex},
    stats::{CatalogueStats, Counters},
    summary::{RecordSummary, ReviewStatus, VOLUNTARY_BELOW_FEN, restricted, review_status},
};
use crate::store::{Store, StoreError};

/// What can go wrong in the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error("classification: {0}")]
    Classification(String),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no instrument {0}")]
    NotFound(String),
}

/// Whether `origin`'s entries are bounded by
/// [`alliance_protocol::limits::MAX_SLOTS_PER_MEMBER`]: every member's are; the
/// province's (reviews of every record) are not.
fn capped(directory: &KeyDirectory, origin: &InstitutionId) -> bool {
    directory
        .institutions()
        .get(origin)
        .is_none_or(|c| c.role != Role::Aggregator)
}

/// The refusal of an own entry with no room left.
fn full() -> CatalogueError {
    invalid(
        "local_id",
        format!(
            "this institution already lists the most instruments a member may ({MAX_INSTRUMENTS_PER_INSTITUTION})"
        ),
    )
}

fn invalid(field: &'static str, message: impl Into<String>) -> CatalogueError {
    CatalogueError::Invalid {
        field,
        message: message.into(),
    }
}

/// Everything known about one instrument.
#[derive(Debug, Clone)]
pub struct InstrumentView {
    pub record: Arc<InstrumentRecord>,
    /// The province's latest review of any revision of it.
    pub review: Option<ReviewAttestation>,
    pub availability: Option<AvailabilityDigest>,
    pub status: ReviewStatus,
}

#[derive(Debug, Default)]
struct View {
    /// Summaries of the records held (not tombstones); full records are in the replica.
    records: HashMap<String, RecordSummary>,
    /// Records held per institution (to know whose records to hide, without a scan).
    per_institution: HashMap<InstitutionId, usize>,
    reviews: HashMap<String, ReviewAttestation>,
    /// Free days per instrument, from its digest (the digest itself is in the replica).
    digests: HashMap<String, FreeDays>,
}

/// A search request as the web asks it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    pub query: IndexQuery,
    /// Only instruments with a free hour between these days (`YYYY-MM-DD`, inclusive).
    pub free_between: Option<(String, String)>,
    pub offset: usize,
    pub limit: usize,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct SearchResults {
    pub total: usize,
    pub items: Vec<InstrumentView>,
}

struct Inner {
    own: MembershipCertificate,
    key: SecretKey,
    replica: Replica,
    index: SearchIndex,
    view: RwLock<View>,
    classification: Classification,
    counters: Counters,
    directory: RwLock<Arc<KeyDirectory>>,
    outgoing: mpsc::Sender<Vec<u8>>,
    /// Whether a peer has confirmed this institution's highest revision since start.
    confirmed: watch::Sender<bool>,
    revision_wait: Duration,
    /// Bumped after every change to the view, for whoever waits on one.
    generation: watch::Sender<u64>,
    /// The owner's busy spans for this institution's digests (the booking service).
    busy: RwLock<Option<Arc<dyn BusySource>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("own", &self.own.institution_id)
            .finish_non_exhaustive()
    }
}

/// The node's catalogue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Catalogue {
    inner: Arc<Inner>,
}

/// How the catalogue is set up.
#[derive(Debug, Clone)]
pub struct CatalogueOptions {
    /// Whether edits must wait for a peer to confirm this institution's revision (true
    /// whenever the node has peers to ask).
    pub confirm_revision: bool,
    pub revision_wait: Duration,
    /// Where to keep the search index (rebuilt at every start); in memory if `None`.
    pub index_dir: Option<std::path::PathBuf>,
}

/// Gossip queue of own entries; the network task drains it.
pub const OUTGOING_QUEUE: usize = 1024;

impl Catalogue {
    /// Loads the replica from `store` and builds the view and the index. Own entries to
    /// gossip are sent on `outgoing`.
    pub fn open(
        store: Store,
        own: MembershipCertificate,
        key: SecretKey,
        outgoing: mpsc::Sender<Vec<u8>>,
        options: CatalogueOptions,
    ) -> Result<Catalogue, CatalogueError> {
        let replica = Replica::open(store)?;
        let classification = Classification::default_set()
            .map_err(|e| CatalogueError::Classification(e.to_string()))?;
        let directory = KeyDirectory::new([&own]);
        let catalogue = Catalogue {
            inner: Arc::new(Inner {
                own,
                key,
                index: match &options.index_dir {
                    Some(dir) => SearchIndex::in_dir(dir)?,
                    None => SearchIndex::new()?,
                },
                view: RwLock::new(View::default()),
                classification,
                counters: Counters::default(),
                directory: RwLock::new(Arc::new(directory)),
                outgoing,
                confirmed: watch::Sender::new(!options.confirm_revision),
                revision_wait: options.revision_wait,
                generation: watch::Sender::new(0),
                busy: RwLock::new(None),
                replica,
            }),
        };
        let bodies = catalogue.inner.replica.load_all()?;
        catalogue.absorb(bodies.iter())?;
        Ok(catalogue)
    }

    fn view(&self) -> std::sync::RwLockReadGuard<'_, View> {
        // Updates are single inserts, so a poisoned lock still holds a consistent view.
        self.inner
            .view
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn directory(&self) -> Arc<KeyDirectory> {
        self.inner
            .directory
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// This node's institution.
    pub fn own_institution(&self) -> &InstitutionId {
        &self.inner.own.institution_id
    }

    /// The classification records are checked against.
    pub fn classification(&self) -> &Classification {
        &self.inner.classification
    }

    fn extras(
        &self,
        record: &InstrumentRecord,
        review: Option<&ReviewAttestation>,
        directory: &KeyDirectory,
    ) -> IndexExtras {
        let classification = &self.inner.classification;
        let mut extras = IndexExtras::default();
        let status = review_status(record.original_value_fen, review);
        if restricted(record.sharing_scope, record.original_value_fen, status) {
            extras.visible_only_to = Some(record.institution_id.clone());
        }
        let mut text = Vec::new();
        if let Some(category) = classification.get(&record.classification_code) {
            extras.categories.push(category.code.clone());
            text.push(category.name_zh.clone());
            text.push(category.name_en.clone());
        }
        if let Some(top) = classification.top_of(&record.classification_code)
            && top.code != record.classification_code
        {
            extras.categories.push(top.code.clone());
            text.push(top.name_zh.clone());
            text.push(top.name_en.clone());
        }
        if let Some(cert) = directory.institutions().get(&record.institution_id) {
            text.push(cert.name_zh.clone());
            text.push(cert.name_en.clone());
        }
        extras.text = text.join(" ");
        extras
    }

    /// Puts fresh bodies into the view and the index, then commits the index.
    fn absorb<'a>(
        &self,
        bodies: impl Iterator<Item = &'a EntryBody>,
    ) -> Result<(), CatalogueError> {
        let directory = self.directory();
        {
            let mut view = self
                .inner
                .view
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for body in bodies {
                match body {
                    EntryBody::Instrument(record) => {
                        let id = record.id();
                        let extras = self.extras(record, view.reviews.get(&id), &directory);
                        if view.records.contains_key(&id) || record.deleted {
                            self.inner.index.upsert(record, &extras)?;
                        } else {
                            self.inner.index.insert(record, &extras)?;
                        }
                        let previous = if record.deleted {
                            view.records.remove(&id)
                        } else {
                            view.records.insert(id, RecordSummary::of(record))
                        };
                        let count = view
                            .per_institution
                            .entry(record.institution_id.clone())
                            .or_default();
                        match (previous.is_some(), record.deleted) {
                            (false, false) => *count += 1,
                            (true, true) => *count = count.saturating_sub(1),
                            _ => {}
                        }
                    }
                    EntryBody::Review(review) => {
                        let id = review.instrument_id();
                        let newer = view
                            .reviews
                            .get(&id)
                            .is_none_or(|old| old.revision < review.revision);
                        if newer {
                            view.reviews.insert(id.clone(), review.clone());
                            // Approval can change who may find the record.
                            if view.records.contains_key(&id)
                                && let Some(record) = self.stored_record(&id)
                            {
                                let extras = self.extras(&record, Some(review), &directory);
                                self.inner.index.upsert(&record, &extras)?;
                            }
                        }
                    }
                    EntryBody::Availability(digest) => {
                        if let Some(free) = FreeDays::of(digest) {
                            view.digests.insert(digest.instrument_id(), free);
                        }
                    }
                }
            }
        }
        self.inner.generation.send_modify(|g| *g += 1);
        Ok(())
    }

    /// Stores what is news among entries already admitted (see
    /// [`super::admission::admit`]); returns how many were.
    pub async fn receive(&self, entries: Vec<Entry>) -> Result<usize, CatalogueError> {
        if entries.is_empty() {
            return Ok(0);
        }
        let directory = self.directory();
        let outcomes = self
            .inner
            .replica
            .apply(entries.clone(), |origin| capped(&directory, origin))
            .await?;
        let fresh: Vec<&EntryBody> = entries
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| matches!(o, Applied::Fresh { .. }))
            .map(|(e, _)| &e.body)
            .collect();
        let full = outcomes.iter().filter(|o| **o == Applied::Full).count();
        self.inner.counters.accepted(fresh.len() as u64);
        self.inner
            .counters
            .stale((outcomes.len() - fresh.len() - full) as u64);
        self.inner.counters.full(full as u64);
        // Nothing new changes nothing a page or a cached search shows.
        if !fresh.is_empty() {
            self.absorb(fresh.iter().copied())?;
        }
        Ok(fresh.len())
    }

    /// Counts a sync page received and the bytes of its entries.
    pub fn count_sync_page(&self, bytes: usize) {
        self.inner.counters.sync_page(bytes as u64);
    }

    /// Counts an entry refused by admission.
    pub fn count_rejection(&self, kind: RejectionKind) {
        self.inner.counters.rejected(kind);
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// Counts a valid entry refused on gossip because its origin was past its quota.
    pub fn count_over_quota(&self) {
        self.inner.counters.over_quota();
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// Counts an entry that was not news (seen before it reached [`Catalogue::receive`]).
    pub fn count_stale(&self) {
        self.inner.counters.stale(1);
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// What was accepted and refused since start.
    pub fn stats(&self) -> CatalogueStats {
        self.inner.counters.snapshot()
    }

    /// Whether an entry would be news here.
    pub fn is_fresh(&self, body: &EntryBody) -> bool {
        self.inner.replica.is_fresh(body).is_ok()
    }

    /// The version vector to send in a sync request.
    pub fn sync_request(&self, after: Option<OriginRevision>, limit: u32) -> SyncRequest {
        SyncRequest {
            have: self
                .inner
                .replica
                .watermarks()
                .into_iter()
                .map(|(origin, revision)| OriginRevision { origin, revision })
                .collect(),
            after,
            limit,
        }
    }

    /// Serves one page of a peer's sync request.
    pub fn page(&self, request: &SyncRequest) -> Result<SyncResponse, CatalogueError> {
        Ok(self.inner.replica.page(request)?)
    }

    /// Records what a finished sync page vouched for.
    pub async fn finish_page(&self, complete: &[OriginRevision]) -> Result<(), CatalogueError> {
        self.inner.replica.raise_watermarks(complete).await?;
        Ok(())
    }

    /// A sync with a peer completed: this institution's revision is now confirmed.
    pub fn mark_synced(&self) {
        self.inner.confirmed.send_replace(true);
    }

    /// Installs the current members' keys (after a roster or connection change).
    pub fn set_directory(&self, directory: KeyDirectory) {
        let mut current = self
            .inner
            .directory
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if **current != directory {
            *current = Arc::new(directory);
            drop(current);
            // Who is a member decides what is visible.
            self.inner.generation.send_modify(|g| *g += 1);
        }
    }

    /// The current members' keys.
    pub fn key_directory(&self) -> Arc<KeyDirectory> {
        self.directory()
    }

    /// A receiver bumped after every change to the catalogue and to its counters.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.generation.subscribe()
    }

    /// Checks a record of this institution before it is signed.
    pub fn check_record(&self, record: &InstrumentRecord) -> Result<(), CatalogueError> {
        if record.institution_id != self.inner.own.institution_id {
            return Err(invalid(
                "institution_id",
                "a node only writes its own institution's records",
            ));
        }
        if !record.deleted {
            if record.name_zh.trim().is_empty() {
                return Err(invalid("name_zh", "required"));
            }
            if self
                .inner
                .classification
                .get(&record.classification_code)
                .is_none()
            {
                return Err(invalid(
                    "classification_code",
                    format!("unknown category {:?}", record.classification_code),
                ));
            }
        }
        Ok(())
    }

    async fn wait_confirmed(&self) {
        let mut confirmed = self.inner.confirmed.subscribe();
        let waited =
            tokio::time::timeout(self.inner.revision_wait, confirmed.wait_for(|c| *c)).await;
        if waited.is_err() {
            tracing::warn!(
                "no peer confirmed this institution's revision in time; continuing with the local counter"
            );
            self.inner.confirmed.send_replace(true);
        }
    }

    /// Signs and stores a new version of one of this institution's records (its revision
    /// is set here), and queues it for gossip. Returns the record as stored.
    pub async fn save_record(
        &self,
        mut record: InstrumentRecord,
    ) -> Result<InstrumentRecord, CatalogueError> {
        self.check_record(&record)?;
        let held = self.view().records.contains_key(&record.id());
        if held && let Some(current) = self.stored_record(&record.id()) {
            let mut same = record.clone();
            same.revision = current.revision;
            if same == current {
                // Nothing changed: no new revision (re-importing a file is a no-op).
                return Ok(same);
            }
        }
        self.wait_confirmed().await;
        let key = self.inner.key.clone();
        let origin = self.inner.own.institution_id.clone();
        let entry = self
            .inner
            .replica
            .apply_own(&origin, capped(&self.directory(), &origin), |revision| {
                record.revision = revision;
                let bytes = record.seal(&key);
                Entry {
                    body: EntryBody::Instrument(Box::new(record.clone())),
                    bytes,
                }
            })
            .await?
            .ok_or_else(full)?;
        self.absorb(std::iter::once(&entry.body))?;
        self.gossip(entry.bytes);
        if !record.deleted {
            self.publish_digest(&record, super::digest::this_monday(chrono::Utc::now()))
                .await?;
        }
        Ok(record)
    }

    /// Signs and publishes the availability digest of one of this institution's records.
    async fn publish_digest(
        &self,
        record: &InstrumentRecord,
        monday: chrono::NaiveDate,
    ) -> Result<(), CatalogueError> {
        let key = self.inner.key.clone();
        let origin = self.inner.own.institution_id.clone();
        let mut digest = AvailabilityDigest {
            institution_id: origin.clone(),
            local_id: record.local_id.clone(),
            revision: 0,
            first_day: monday.format("%Y-%m-%d").to_string(),
            hours: self.digest_hours(record, monday),
        };
        let entry = self
            .inner
            .replica
            .apply_own(&origin, capped(&self.directory(), &origin), |revision| {
                digest.revision = revision;
                Entry {
                    bytes: digest.seal(&key),
                    body: EntryBody::Availability(digest.clone()),
                }
            })
            .await?
            .ok_or_else(full)?;
        self.absorb(std::iter::once(&entry.body))?;
        self.gossip(entry.bytes);
        Ok(())
    }

    /// The hours of a digest of `record` from `monday`, with the owner's busy spans.
    fn digest_hours(
        &self,
        record: &InstrumentRecord,
        monday: chrono::NaiveDate,
    ) -> Vec<alliance_protocol::HourState> {
        let busy = self
            .inner
            .busy
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|source| source.busy(&record.local_id))
            .unwrap_or_default();
        super::digest::hours_with(record, monday, &busy)
    }

    /// Takes busy spans (bookings, blackouts) for this institution's digests from `source`.
    pub fn set_busy_source(&self, source: Arc<dyn BusySource>) {
        *self
            .inner
            .busy
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(source);
    }

    /// Republishes one of this institution's digests if its hours changed (a booking
    /// took or freed a slot, a blackout was set), so every node's calendar shows it.
    pub async fn republish_digest(&self, local_id: &str) -> Result<bool, CatalogueError> {
        let id = format!("{}/{local_id}", self.inner.own.institution_id);
        let Some(view) = self.instrument_unfiltered(&id) else {
            return Ok(false);
        };
        let monday = super::digest::this_monday(chrono::Utc::now());
        let first_day = monday.format("%Y-%m-%d").to_string();
        let hours = self.digest_hours(&view.record, monday);
        let unchanged = view
            .availability
            .as_ref()
            .is_some_and(|d| d.first_day == first_day && d.hours == hours);
        if unchanged {
            return Ok(false);
        }
        self.publish_digest(&view.record, monday).await?;
        Ok(true)
    }

    /// Republishes the digests of this institution's records that are missing, start on
    /// another week than `now`'s, or no longer match their record. Returns how many.
    pub async fn refresh_digests(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, CatalogueError> {
        self.wait_confirmed().await;
        let monday = super::digest::this_monday(now);
        let first_day = monday.format("%Y-%m-%d").to_string();
        let own = self.inner.own.institution_id.clone();
        let stale: Vec<Arc<InstrumentRecord>> = self
            .institution_views(&own)
            .into_iter()
            .filter(|v| {
                v.availability.as_ref().is_none_or(|d| {
                    d.first_day != first_day || d.hours != self.digest_hours(&v.record, monday)
                })
            })
            .map(|v| v.record)
            .collect();
        for record in &stale {
            self.publish_digest(record, monday).await?;
        }
        Ok(stale.len())
    }

    /// Signs and publishes the province's review of the current version of an instrument
    /// (province node only: peers refuse reviews from anyone else).
    pub async fn review(
        &self,
        instrument_id: &str,
        verdict: alliance_protocol::ReviewVerdict,
        comment: String,
        reviewer: String,
    ) -> Result<ReviewAttestation, CatalogueError> {
        if self.inner.own.role != alliance_protocol::Role::Aggregator {
            return Err(invalid("verdict", "only the province reviews records"));
        }
        if verdict == alliance_protocol::ReviewVerdict::NeedsCorrection && comment.trim().is_empty()
        {
            return Err(invalid("comment", "say what needs correcting"));
        }
        if comment.len() > alliance_protocol::record::MAX_LONG_TEXT {
            return Err(invalid("comment", "too long"));
        }
        let found = self
            .instrument_unfiltered(instrument_id)
            .ok_or_else(|| CatalogueError::NotFound(instrument_id.to_owned()))?;
        let key = self.inner.key.clone();
        let origin = self.inner.own.institution_id.clone();
        let mut review = ReviewAttestation {
            province_id: origin.clone(),
            revision: 0,
            institution_id: found.record.institution_id.clone(),
            local_id: found.record.local_id.clone(),
            record_revision: found.record.revision,
            verdict,
            comment,
            reviewer,
            reviewed_at: alliance_protocol::UnixTime::now(),
        };
        let entry = self
            .inner
            .replica
            .apply_own(&origin, capped(&self.directory(), &origin), |revision| {
                review.revision = revision;
                Entry {
                    bytes: review.seal(&key),
                    body: EntryBody::Review(review.clone()),
                }
            })
            .await?
            .ok_or_else(full)?;
        self.absorb(std::iter::once(&entry.body))?;
        self.gossip(entry.bytes);
        Ok(review)
    }

    /// Records the province has not reviewed in their current version, voluntary ones
    /// first, then by id.
    pub fn review_queue(&self) -> Vec<InstrumentView> {
        let directory = self.directory();
        let pending: Vec<String> = {
            let view = self.view();
            view.records
                .values()
                .filter(|s| {
                    view.reviews
                        .get(&s.id)
                        .is_none_or(|r| r.record_revision < s.revision)
                        && directory.is_current(&s.institution_id)
                })
                .map(|s| s.id.clone())
                .collect()
        };
        let mut queue: Vec<InstrumentView> = pending
            .iter()
            .filter_map(|id| self.instrument_unfiltered(id))
            .collect();
        queue.sort_by_key(|v| {
            (
                v.record.original_value_fen >= VOLUNTARY_BELOW_FEN,
                v.record.id(),
            )
        });
        queue
    }

    /// Deletes one of this institution's records with a signed tombstone.
    pub async fn delete_record(&self, local_id: &str) -> Result<(), CatalogueError> {
        let id = format!("{}/{local_id}", self.inner.own.institution_id);
        let held = self.view().records.contains_key(&id);
        let record = held
            .then(|| self.stored_record(&id))
            .flatten()
            .ok_or(CatalogueError::NotFound(id))?;
        self.save_record(record.tombstone(0)).await?;
        Ok(())
    }

    fn gossip(&self, bytes: Vec<u8>) {
        if self.inner.outgoing.try_send(bytes).is_err() {
            // Anti-entropy delivers it anyway; gossip only makes it faster.
            tracing::debug!("gossip queue full; the entry will spread by sync");
        }
    }

    /// Everything known about an instrument, if it exists and is visible here.
    pub fn instrument(&self, id: &str) -> Option<InstrumentView> {
        let visible = {
            let view = self.view();
            let summary = view.records.get(id)?;
            let status = review_status(summary.original_value_fen, view.reviews.get(id));
            self.visible(summary, status)
        };
        visible.then(|| self.instrument_unfiltered(id)).flatten()
    }

    /// Whether a record of instrument `id` (`institution/local_id`) is held, visible or
    /// not; a lookup in memory.
    pub fn has_instrument(&self, id: &str) -> bool {
        self.view().records.contains_key(id)
    }

    /// Everything known about an instrument, whoever may see it (for its owner's admin
    /// pages and the province's review).
    pub fn instrument_unfiltered(&self, id: &str) -> Option<InstrumentView> {
        let review = {
            let view = self.view();
            view.records.get(id)?;
            view.reviews.get(id).cloned()
        };
        let record = self.stored_record(id)?;
        let availability = self.stored_digest(&record);
        Some(self.view_of(record, review, availability))
    }

    fn view_of(
        &self,
        record: InstrumentRecord,
        review: Option<ReviewAttestation>,
        availability: Option<AvailabilityDigest>,
    ) -> InstrumentView {
        InstrumentView {
            status: review_status(record.original_value_fen, review.as_ref()),
            review,
            availability,
            record: Arc::new(record),
        }
    }

    /// The availability digest of a record, read from the replica.
    fn stored_digest(&self, record: &InstrumentRecord) -> Option<AvailabilityDigest> {
        self.inner
            .replica
            .availability(&record.institution_id, &record.local_id)
            .unwrap_or_else(|e| {
                tracing::error!(id = record.id(), error = %e, "cannot read a digest");
                None
            })
    }

    /// The full record behind a summary, read from the replica.
    fn stored_record(&self, id: &str) -> Option<InstrumentRecord> {
        let (origin, local_id) = id.split_once('/')?;
        let origin: InstitutionId = origin.parse().ok()?;
        match self.inner.replica.instrument(&origin, local_id) {
            Ok(record) => record.filter(|r| !r.deleted),
            Err(e) => {
                tracing::error!(id, error = %e, "cannot read an instrument record");
                None
            }
        }
    }

    fn visible(&self, summary: &RecordSummary, status: ReviewStatus) -> bool {
        let own = &self.inner.own.institution_id;
        if summary.institution_id == *own {
            return true;
        }
        self.directory().is_current(&summary.institution_id)
            && !restricted(summary.sharing_scope, summary.original_value_fen, status)
    }

    /// Institutions that hold records here but are no longer members.
    fn hidden_institutions(&self) -> Vec<InstitutionId> {
        let directory = self.directory();
        let own = &self.inner.own.institution_id;
        let mut hidden: Vec<InstitutionId> = self
            .view()
            .per_institution
            .iter()
            .filter(|(i, count)| **count > 0 && *i != own && !directory.is_current(i))
            .map(|(i, _)| i.clone())
            .collect();
        hidden.sort();
        hidden
    }

    /// Searches the catalogue.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, CatalogueError> {
        let mut query = request.query.clone();
        query.viewer = Some(self.inner.own.institution_id.clone());
        query.hidden = self.hidden_institutions();
        let free = request.free_between.clone();
        let keep = |id: &str| -> bool {
            let Some((from, to)) = &free else {
                return true;
            };
            self.view()
                .digests
                .get(id)
                .is_some_and(|d| d.any_between(from, to))
        };
        let (total, ids) = self.inner.index.search(
            &query,
            request.offset,
            request.limit.clamp(1, 100),
            free.is_some().then_some(&keep as &dyn Fn(&str) -> bool),
        )?;
        let items = ids.iter().filter_map(|id| self.instrument(id)).collect();
        Ok(SearchResults { total, items })
    }

    /// Every visible instrument, summarised, by id.
    pub fn records(&self) -> Vec<RecordSummary> {
        let view = self.view();
        let mut records: Vec<RecordSummary> = view
            .records
            .values()
            .filter(|s| {
                let status = review_status(s.original_value_fen, view.reviews.get(&s.id));
                self.visible(s, status)
            })
            .cloned()
            .collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        records
    }

    /// Every instrument of one institution held here, visible or not, with its review
    /// state, by local id (read from the replica).
    pub fn institution_views(&self, institution: &InstitutionId) -> Vec<InstrumentView> {
        let records = match self.inner.replica.instruments_of(institution) {
            Ok(records) => records,
            Err(e) => {
                tracing::error!(%institution, error = %e, "cannot read the institution's records");
                return Vec::new();
            }
        };
        let view = self.view();
        records
            .into_iter()
            .filter(|r| !r.deleted)
            .map(|record| {
                let id = record.id();
                let review = view.reviews.get(&id).cloned();
                let availability = self.stored_digest(&record);
                self.view_of(record, review, availability)
            })
            .collect()
    }

    /// The highest revision of `origin` held here.
    pub fn revision_of(&self, origin: &InstitutionId) -> u64 {
        self.inner.replica.highest(origin)
    }

    /// The highest revision this institution has issued, as far as this node knows.
    pub fn own_revision(&self) -> u64 {
        self.inner.replica.highest(&self.inner.own.institution_id)
    }

    /// Number of records (not tombstones) held, visible or not.
    pub fn record_count(&self) -> usize {
        self.view().records.len()
    }
}
