//! Photos of instruments. An institution admin uploads a photo of one of the
//! institution's instruments; it is resized (`resize.rs`) to a published JPEG and a
//! thumbnail, both kept here by SHA-256, and both hashes are signed into a new version
//! of the record, which goes through the province's review like any change. Other
//! nodes fetch the bytes when someone looks (`alliance/photo-fetch/v1`): from the owner
//! first, else from any member holding a copy — the signed hash, not the sender, vouches
//! for them — and keep a bounded number of copies.

mod resize;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alliance_protocol::{
    Domain, InstitutionId, InstrumentPhoto, InstrumentRecord, MembershipCertificate,
    record::{MAX_PHOTO_BYTES, MAX_PHOTOS, MAX_THUMB_BYTES, PhotoFetch},
};
use futures::future::BoxFuture;
use sha2::Digest;

use crate::{
    catalogue::{Catalogue, CatalogueError},
    mail,
    net::{NetClient, Refusal},
    store::{Batch, Space, Store, StoreError},
};

/// Largest upload, before resizing (phone cameras write 3–8 MB).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Copies of other members' photos kept at once: they can be fetched again, so beyond
/// this the copies no record names any more go first, then the first by hash.
const MAX_KEPT_COPIES: usize = 600;
/// Members asked for a photo, the owner first, before giving up.
const MAX_ASKED: usize = 4;
/// How long one member may take to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a fetch may take in all, whoever is asked.
const FETCH_DEADLINE: Duration = Duration::from_secs(12);
/// Photos fetched from other members at once; more wait their turn.
const MAX_FETCHES: usize = 4;
/// After no member could give a photo, how long before it is asked for again (a page
/// of thumbnails must not set off a round of requests on every view).
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a photo could not be added, removed or served.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such instrument")]
    NoInstrument,
    #[error("no such photo")]
    NoPhoto,
    #[error("an instrument has at most {MAX_PHOTOS} photos")]
    Full,
    #[error("no member holding the photo answered; try again later")]
    Unreachable,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
}

/// The photos capability. Cheap to clone.
#[derive(Clone)]
pub struct Photos {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Photos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Photos").finish_non_exhaustive()
    }
}

struct Inner {
    catalogue: Catalogue,
    store: Store,
    net: NetClient,
    /// One fetch per photo at a time: those asking for the same one wait for it.
    fetching: Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
    /// Fetches from other members at once, all photos together.
    fetches: tokio::sync::Semaphore,
    /// Photos no member could give lately, and when that was.
    missing: Mutex<HashMap<[u8; 32], Instant>>,
}

fn own_key(sha256: &[u8; 32]) -> Vec<u8> {
    [b"o".as_slice(), sha256].concat()
}

fn copy_key(sha256: &[u8; 32]) -> Vec<u8> {
    [b"c".as_slice(), sha256].concat()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

/// The photo or thumbnail of `record` whose SHA-256 is `sha`, and its largest size.
fn named(record: &InstrumentRecord, sha: &[u8; 32]) -> Option<u32> {
    record.photos.iter().find_map(|p| {
        if &p.sha256 == sha {
            Some(MAX_PHOTO_BYTES)
        } else if &p.thumb_sha256 == sha {
            Some(MAX_THUMB_BYTES)
        } else {
            None
        }
    })
}

impl Photos {
    pub fn new(catalogue: Catalogue, store: Store, net: NetClient) -> Photos {
        Photos {
            inner: Arc::new(Inner {
                catalogue,
                store,
                net,
                fetching: Mutex::new(HashMap::new()),
                fetches: tokio::sync::Semaphore::new(MAX_FETCHES),
                missing: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Adds a photo to one of this institution's instruments: resized, kept, and named
    /// in a new signed version of its record. Returns that record.
    pub async fn add(
        &self,
        local_id: &str,
        upload: Vec<u8>,
    ) -> Result<InstrumentRecord, PhotoError> {
        if upload.len() > MAX_UPLOAD_BYTES {
            return Err(PhotoError::Invalid(format!(
                "a photo may be at most {} MB",
                MAX_UPLOAD_BYTES / (1024 * 1024)
            )));
        }
        let id = format!("{}/{local_id}", self.inner.catalogue.own_institution());
        let held = self
            .inner
            .catalogue
            .instrument_unfiltered(&id)
            .ok_or(PhotoError::NoInstrument)?;
        if held.record.photos.len() >= MAX_PHOTOS {
            return Err(PhotoError::Full);
        }
        // Decoding and scaling a camera's photo is a second of CPU: off the async workers,
        // and before the record is locked for the change.
        let prepared = tokio::task::spawn_blocking(move || resize::prepare(&upload))
            .await
            .map_err(|e| PhotoError::Invalid(e.to_string()))?
            .map_err(PhotoError::Invalid)?;
        let photo = InstrumentPhoto {
            sha256: sha256(&prepared.photo),
            size: prepared.photo.len() as u32,
            width: prepared.width,
            height: prepared.height,
            thumb_sha256: sha256(&prepared.thumb),
            thumb_size: prepared.thumb.len() as u32,
        };
        // The bytes are kept before the record names them: a crash in between leaves
        // bytes nothing names, which the next change of photos forgets.
        let mut batch = Batch::new();
        batch.put(Space::Photos, own_key(&photo.sha256), prepared.photo);
        batch.put(Space::Photos, own_key(&photo.thumb_sha256), prepared.thumb);
        self.inner.store.commit(batch).await?;
        let saved = self
            .inner
            .catalogue
            .update_photos(local_id, |photos| {
                if photos.len() >= MAX_PHOTOS {
                    return Err(PhotoError::Full);
                }
                if photos.iter().any(|p| p.sha256 == photo.sha256) {
                    return Err(PhotoError::Invalid(
                        "this photo is already one of the instrument's".into(),
                    ));
                }
                photos.push(photo);
                Ok(())
            })
            .await;
        self.forget_unnamed_own().await?;
        saved
    }

    /// Takes photo `sha` (hex) off one of this institution's instruments.
    pub async fn remove(&self, local_id: &str, sha: &str) -> Result<InstrumentRecord, PhotoError> {
        let saved = self
            .inner
            .catalogue
            .update_photos(local_id, |photos| {
                let before = photos.len();
                photos.retain(|p| p.hex() != sha);
                if photos.len() == before {
                    return Err(PhotoError::NoPhoto);
                }
                Ok(())
            })
            .await?;
        self.forget_unnamed_own().await?;
        Ok(saved)
    }

    /// Forgets this institution's photo bytes that none of its records names (removed,
    /// deleted with their instrument, or kept by an upload a crash cut short). What is
    /// named is read from memory, so a failing read can never make it forget them all.
    pub async fn forget_unnamed_own(&self) -> Result<(), PhotoError> {
        let own = self.inner.catalogue.own_institution().clone();
        let named: HashSet<Vec<u8>> = self
            .inner
            .catalogue
            .photo_hashes(Some(&own))
            .iter()
            .map(own_key)
            .collect();
        let mut batch = Batch::new();
        for key in self.inner.store.keys_with_prefix(Space::Photos, b"o")? {
            if !named.contains(&key) {
                batch.delete(Space::Photos, key);
            }
        }
        if !batch.is_empty() {
            self.inner.store.commit(batch).await?;
        }
        Ok(())
    }

    /// The JPEG bytes of the photo or thumbnail `sha` of `record` (a record the caller
    /// may show): held here, or fetched from the owner or another member and kept if
    /// it hashes right.
    pub async fn bytes(
        &self,
        record: &InstrumentRecord,
        sha: &[u8; 32],
    ) -> Result<Vec<u8>, PhotoError> {
        let max = named(record, sha).ok_or(PhotoError::NoPhoto)?;
        for key in [own_key(sha), copy_key(sha)] {
            if let Some(bytes) = self.inner.store.get(Space::Photos, &key)?
                && &sha256(&bytes) == sha
            {
                return Ok(bytes);
            }
        }
        let own = self.inner.catalogue.own_institution().clone();
        if record.institution_id == own {
            return Err(PhotoError::NoPhoto);
        }
        // Those asking for the same photo wait for the first fetch, then find its copy.
        let one = self.fetch_lock(sha);
        let result = {
            let _this_photo = one.lock().await;
            self.fetch_and_keep(&record.institution_id, sha, max).await
        };
        drop(one);
        self.forget_fetch_lock(sha);
        result
    }

    /// Under the photo's lock: its copy if a fetch before this one kept it, else a
    /// fetch from the members (unless none could give it lately), kept if it came.
    async fn fetch_and_keep(
        &self,
        owner: &InstitutionId,
        sha: &[u8; 32],
        max: u32,
    ) -> Result<Vec<u8>, PhotoError> {
        if let Some(bytes) = self.inner.store.get(Space::Photos, &copy_key(sha))?
            && &sha256(&bytes) == sha
        {
            return Ok(bytes);
        }
        if self.missed_lately(sha) {
            return Err(PhotoError::Unreachable);
        }
        let fetched = match self.inner.fetches.acquire().await {
            Ok(_turn) => tokio::time::timeout(FETCH_DEADLINE, self.fetch(owner, sha, max))
                .await
                .ok()
                .flatten(),
            Err(_) => None,
        };
        let Some(bytes) = fetched else {
            self.lock_missing().insert(*sha, Instant::now());
            return Err(PhotoError::Unreachable);
        };
        let mut batch = Batch::new();
        self.make_room(&mut batch)?;
        batch.put(Space::Photos, copy_key(sha), bytes.clone());
        self.inner.store.commit(batch).await?;
        Ok(bytes)
    }

    fn lock_missing(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Instant>> {
        // Entries are inserted and removed whole; a poisoned map is still consistent.
        self.inner
            .missing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fetch_lock(&self, sha: &[u8; 32]) -> Arc<tokio::sync::Mutex<()>> {
        let mut fetching = self
            .inner
            .fetching
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        fetching.entry(*sha).or_default().clone()
    }

    /// Drops the photo's lock once no one else holds or waits for it.
    fn forget_fetch_lock(&self, sha: &[u8; 32]) {
        let mut fetching = self
            .inner
            .fetching
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if fetching.get(sha).is_some_and(|l| Arc::strong_count(l) == 1) {
            fetching.remove(sha);
        }
    }

    fn missed_lately(&self, sha: &[u8; 32]) -> bool {
        let mut missing = self.lock_missing();
        missing.retain(|_, at| at.elapsed() < RETRY_AFTER);
        missing.contains_key(sha)
    }

    /// Asks the owner, then other members, for `sha`; the first answer that hashes to
    /// it and is a JPEG of at most `max` bytes.
    async fn fetch(&self, owner: &InstitutionId, sha: &[u8; 32], max: u32) -> Option<Vec<u8>> {
        let own = self.inner.catalogue.own_institution().clone();
        let directory = self.inner.catalogue.key_directory();
        // The others in a random order: the same few members are not asked every time.
        let mut others: Vec<&InstitutionId> = directory
            .institutions()
            .keys()
            .filter(|id| *id != owner && **id != own)
            .collect();
        rand::seq::SliceRandom::shuffle(others.as_mut_slice(), &mut rand::rng());
        let ask = PhotoFetch { sha256: *sha }.seal(&self.inner.catalogue.signing_key());
        for member in std::iter::once(owner).chain(others).take(MAX_ASKED) {
            let answer =
                tokio::time::timeout(ASK_TIMEOUT, self.inner.net.send_mail(member, ask.clone()))
                    .await;
            match answer {
                Ok(Ok(bytes))
                    if bytes.len() <= max as usize
                        && &sha256(&bytes) == sha
                        && bytes.starts_with(&[0xFF, 0xD8, 0xFF]) =>
                {
                    return Some(bytes);
                }
                Ok(Ok(_)) => {
                    tracing::warn!(%member, "a member answered with a photo that does not match its hash");
                }
                Ok(Err(e)) => tracing::debug!(%member, error = %e, "no photo from this member"),
                Err(_) => tracing::debug!(%member, "a member took too long to send a photo"),
            }
        }
        None
    }

    /// Deletes copies, in `batch`, until one more fits under [`MAX_KEPT_COPIES`]: those
    /// no record names any more first.
    fn make_room(&self, batch: &mut Batch) -> Result<(), PhotoError> {
        let copies = self.inner.store.keys_with_prefix(Space::Photos, b"c")?;
        let excess = (copies.len() + 1).saturating_sub(MAX_KEPT_COPIES);
        if excess == 0 {
            return Ok(());
        }
        let named: HashSet<Vec<u8>> = self
            .inner
            .catalogue
            .photo_hashes(None)
            .iter()
            .map(copy_key)
            .collect();
        let (unnamed, still_named): (Vec<_>, Vec<_>) =
            copies.into_iter().partition(|k| !named.contains(k));
        for key in unnamed.into_iter().chain(still_named).take(excess) {
            batch.delete(Space::Photos, key);
        }
        Ok(())
    }

    async fn on_fetch(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let fetch = PhotoFetch::open(bytes, &from.node_public_key)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        for key in [own_key(&fetch.sha256), copy_key(&fetch.sha256)] {
            if let Some(bytes) = self
                .inner
                .store
                .get(Space::Photos, &key)
                .map_err(|e| Refusal::Internal(e.to_string()))?
            {
                return Ok(bytes);
            }
        }
        Err(Refusal::BadRequest("no such photo here".into()))
    }
}

const PHOTO_MAIL: &[Domain] = &[Domain::PHOTO_FETCH];

impl mail::Handler for Photos {
    fn kinds(&self) -> &'static [Domain] {
        PHOTO_MAIL
    }

    fn receive<'a>(
        &'a self,
        from: &'a MembershipCertificate,
        _kind: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Refusal>> {
        Box::pin(self.on_fetch(from, message))
    }
}
