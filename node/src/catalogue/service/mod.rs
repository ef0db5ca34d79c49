//! [`Catalogue`]: the node's catalogue as the rest of the node uses it — what peers send
//! goes in through [`Catalogue::receive`], this institution's edits through
//! [`Catalogue::save_record`], and the web reads [`Catalogue::search`] and
//! [`Catalogue::instrument`].
//!
//! The replica on disk is the truth; the view (records, reviews and digests by instrument)
//! and the search index are rebuilt from it at start and updated after every commit.
//!
//! Here: the types, opening, and the state every part shares. `peers`: what peers send
//! and are served. `own`: this institution's own entries. `queries`: what pages read.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use alliance_protocol::{
    AvailabilityDigest, Entry, EntryBody, InstitutionId, InstrumentRecord, MembershipCertificate,
    ReviewAttestation, Role, SecretKey,
    checkpoint::Checkpoint,
    limits::MAX_INSTRUMENTS_PER_INSTITUTION,
    rpc::{OriginRevision, SyncRequest, SyncResponse},
};
use tokio::sync::{broadcast, mpsc, watch};

use super::{
    admission::{KeyDirectory, RejectionKind},
    availability::FreeDays,
    classification::Classification,
    digest::BusySource,
    replica::{Applied, CheckpointOutcome, Replica},
    search::{IndexExtras, IndexQuery, SearchError, SearchIndex},
    stats::{CatalogueStats, Counters},
    summary::{RecordSummary, ReviewStatus, VOLUNTARY_BELOW_FEN, restricted, review_status},
};
use crate::{
    board::BoardView,
    store::{Store, StoreError},
};

mod own;
mod peers;
mod queries;

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
    /// The least revision of the next own entry (see `jump_revisions`).
    revision_floor: std::sync::atomic::AtomicU64,
    /// One change of this institution's records at a time: a form, an import, a
    /// deletion and a photo each read the record held and sign the next version, so two
    /// at once could undo each other (or bring a deleted instrument back).
    own_writes: tokio::sync::Mutex<()>,
    /// Bumped after every change to the view and to the counters, for whoever waits on one.
    generation: watch::Sender<u64>,
    /// Bumped only when what the catalogue holds or shows changes: what caches of answers
    /// key on, so that refused or stale gossip (a flood included) never empties them.
    content: std::sync::atomic::AtomicU64,
    /// The owner's busy spans for this institution's digests (the booking service).
    busy: RwLock<Option<Arc<dyn BusySource>>>,
    /// The board's needs and offers, as held.
    board: BoardView,
    /// Needs and offers just stored (from peers or this node), for whoever tells people
    /// of them; nothing is sent while the replica loads at start.
    board_news: broadcast::Sender<EntryBody>,
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

/// Needs and offers waiting for the board's listener; one that lags past this many
/// misses some (and logs it).
const BOARD_NEWS: usize = 1024;

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
                revision_floor: std::sync::atomic::AtomicU64::new(0),
                own_writes: tokio::sync::Mutex::new(()),
                generation: watch::Sender::new(0),
                content: std::sync::atomic::AtomicU64::new(0),
                busy: RwLock::new(None),
                board: BoardView::default(),
                board_news: broadcast::Sender::new(BOARD_NEWS),
                replica,
            }),
        };
        if !options.confirm_revision {
            // No peer to confirm the counter: it may have been restored from a backup.
            catalogue.jump_revisions();
        }
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

    /// What was accepted and refused since start.
    pub fn stats(&self) -> CatalogueStats {
        self.inner.counters.snapshot()
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
            self.content_changed();
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

    /// A number that changes exactly when what the catalogue holds or shows changes (not
    /// with its counters): the key for caches of answers computed from it.
    pub fn content_generation(&self) -> u64 {
        self.inner
            .content
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Records a change of content and wakes whoever waits on [`Catalogue::changes`].
    fn content_changed(&self) {
        self.inner
            .content
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// The highest revision of `origin` held here.
    pub fn revision_of(&self, origin: &InstitutionId) -> u64 {
        self.inner.replica.highest(origin)
    }

    /// The highest revision this institution has issued, as far as this node knows.
    pub fn own_revision(&self) -> u64 {
        self.inner.replica.highest(&self.inner.own.institution_id)
    }

    /// The key this node signs its institution's entries with.
    pub(crate) fn signing_key(&self) -> SecretKey {
        self.inner.key.clone()
    }

    /// The board's needs and offers.
    pub fn board(&self) -> &BoardView {
        &self.inner.board
    }

    /// Needs and offers as they are stored from now on.
    pub fn board_news(&self) -> broadcast::Receiver<EntryBody> {
        self.inner.board_news.subscribe()
    }

    /// Hands fresh needs and offers to whoever listens (no one: nothing to do).
    fn tell_board<'a>(&self, bodies: impl Iterator<Item = &'a EntryBody>) {
        for body in bodies {
            if matches!(body, EntryBody::Need(_) | EntryBody::Offer(_)) {
                let _ = self.inner.board_news.send(body.clone());
            }
        }
    }

    /// Number of records (not tombstones) held, visible or not.
    pub fn record_count(&self) -> usize {
        self.view().records.len()
    }
}
