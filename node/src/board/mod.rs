//! The board of needs and offers (R3, R19): a user posts a need at their home node, the
//! home signs it and it reaches every member like a catalogue entry; institutions answer
//! with signed offers; the user accepts one.
//!
//! - [`view`]: the board as held in memory, for pages.
//! - [`matching`]: which instruments could do what a need asks.
//! - `news`: what is told to whom when a need or an offer arrives.
//! - [`stats`]: how fast and how well each institution answers needs.
//! - `files`: the files attached to needs, kept at the home and fetched through it.
//!
//! Who posted a need stays at the home (`Space::NeedAuthors`): the signed need names no
//! one, so the public board and other members see what is wanted, not who wants it.

mod files;
pub mod matching;
mod news;
pub mod stats;
pub mod view;

use std::sync::Arc;

use alliance_protocol::{
    Entry, EntryBody, InstitutionId, Need, NeedState, Offer, RecordError, SecretKey, UnixTime,
    UnverifiedEntry, UserTier,
    quote::{Usage, quote_item},
    record::{InstrumentStatus, ServiceMode},
};
use tokio_util::sync::CancellationToken;

pub use view::{BoardView, NeedFilter, NeedPage};

use crate::{
    catalogue::{Catalogue, CatalogueError},
    notify::Notices,
    store::{Batch, Space, Store, StoreError},
};

/// Needs one person may have open at a time.
pub const MAX_OPEN_NEEDS_PER_USER: usize = 20;

/// Why a board operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no need {0}")]
    NoNeed(String),
    #[error("no offer from {0} for this need")]
    NoOffer(String),
    /// The need no longer takes offers (or acceptance): withdrawn or accepted.
    #[error("the need is {0} and takes no more offers")]
    Closed(&'static str),
    #[error("only the person who posted the need may do this")]
    NotYours,
    #[error("the offer was withdrawn")]
    OfferWithdrawn,
    #[error("{0}")]
    Full(String),
    #[error("the need's home could not be reached: {0}")]
    Unreachable(String),
    #[error("the file sent does not match the SHA-256 its home signed")]
    Tampered,
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> BoardError {
    BoardError::Invalid {
        field,
        message: message.into(),
    }
}

/// A need as a user typed it (checked again here and by the protocol).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NeedDraft {
    pub title: String,
    pub description: String,
    pub categories: Vec<String>,
    pub modes: Vec<ServiceMode>,
    pub keywords: Vec<String>,
    pub sample_kind: String,
    pub sample_count: u32,
    pub deadline: String,
    pub budget_min_fen: i64,
    pub budget_max_fen: i64,
    pub results_public: bool,
    /// A member a service expert refers the need to (see [`crate::help`]).
    pub referred_to: Option<InstitutionId>,
}

/// An offer as a manager typed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferDraft {
    /// `home/local_id`.
    pub need_id: String,
    pub instrument_local_id: String,
    pub mode: Option<ServiceMode>,
    /// A fee item's Chinese name (by the schedule), or a line of text (quoted).
    pub service_item: String,
    /// A quoted price in fen and its reason; `None`: by the instrument's fee schedule.
    pub quoted: Option<(i64, String)>,
    pub earliest_date: String,
    pub turnaround_days: u32,
    pub conditions: String,
}

/// The board service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Board {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    own: InstitutionId,
    catalogue: Catalogue,
    store: Store,
    notices: Notices,
    net: crate::net::NetClient,
    /// Held across each read-check-sign of one of this home's needs (withdraw, accept,
    /// attach), so one change never signs over another made meanwhile.
    need_writes: tokio::sync::Mutex<()>,
    /// The response figures and the board generation they were worked out at.
    stats: std::sync::Mutex<Option<(u64, Arc<stats::AllStats>)>>,
}

/// Keys of `Space::NeedAuthors`: who posted a need, and each person's needs.
fn author_key(local_id: &str) -> Vec<u8> {
    format!("a\0{local_id}").into_bytes()
}

fn user_prefix(username: &str) -> Vec<u8> {
    format!("u\0{username}\0").into_bytes()
}

/// Today in Beijing, `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string()
}

impl Board {
    pub fn new(
        catalogue: Catalogue,
        store: Store,
        notices: Notices,
        net: crate::net::NetClient,
    ) -> Board {
        Board {
            inner: Arc::new(Inner {
                own: catalogue.own_institution().clone(),
                catalogue,
                store,
                notices,
                net,
                need_writes: tokio::sync::Mutex::new(()),
                stats: std::sync::Mutex::default(),
            }),
        }
    }

    /// How each institution answers needs ([`stats::response_stats`]), worked out again
    /// only when the board has changed: the figures are public, and a page of them must
    /// not cost a walk of the whole board each time it is asked for.
    pub fn response_stats(&self) -> Arc<stats::AllStats> {
        let generation = self.view().generation();
        let cached = || {
            self.inner
                .stats
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((at, stats)) = cached().as_ref()
            && *at == generation
        {
            return stats.clone();
        }
        // Worked out without the lock held: two requests at once may both work it out,
        // neither waits on the other.
        let stats = Arc::new(stats::response_stats(self.view(), &self.inner.catalogue));
        *cached() = Some((generation, stats.clone()));
        stats
    }

    /// Whether `code` is a category of the classification.
    pub fn knows_category(&self, code: &str) -> bool {
        self.inner.catalogue.classification().get(code).is_some()
    }

    /// The board as held.
    pub fn view(&self) -> &BoardView {
        self.inner.catalogue.board()
    }

    /// Starts telling people of needs and offers as they arrive.
    pub fn start(&self, cancel: CancellationToken) -> impl Future<Output = ()> + use<> {
        news::run(self.clone(), self.inner.catalogue.board_news(), cancel)
    }

    /// Who posted need `local_id` of this home.
    pub fn author(&self, local_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .inner
            .store
            .get(Space::NeedAuthors, &author_key(local_id))?
            .and_then(|v| String::from_utf8(v).ok()))
    }

    /// The needs `username` posted here, newest first.
    pub fn needs_of(&self, username: &str) -> Result<Vec<Arc<Need>>, StoreError> {
        let prefix = user_prefix(username);
        let mut needs: Vec<Arc<Need>> = self
            .inner
            .store
            .scan_prefix(Space::NeedAuthors, &prefix)?
            .into_iter()
            .filter_map(|(key, _)| {
                let local_id = std::str::from_utf8(&key[prefix.len()..]).ok()?;
                self.view().need(&format!("{}/{local_id}", self.inner.own))
            })
            .collect();
        needs.sort_by_key(|n| std::cmp::Reverse(n.posted_at));
        Ok(needs)
    }

    fn check_draft(&self, draft: &NeedDraft) -> Result<(), BoardError> {
        let classification = self.inner.catalogue.classification();
        if let Some(unknown) = draft
            .categories
            .iter()
            .find(|c| classification.get(c).is_none())
        {
            return Err(invalid(
                "categories",
                format!("unknown category {unknown:?}"),
            ));
        }
        if draft.deadline < today() {
            return Err(invalid("deadline", "a day from today on"));
        }
        if let Some(to) = &draft.referred_to
            && !self.inner.catalogue.key_directory().is_current(to)
        {
            return Err(invalid(
                "referred_to",
                format!("{to} is not a member of the alliance"),
            ));
        }
        Ok(())
    }

    /// Signs a need of `username` (whose prices are `tier`'s) and puts it on the board.
    pub async fn post(
        &self,
        username: &str,
        tier: UserTier,
        draft: NeedDraft,
    ) -> Result<Need, BoardError> {
        let mut id = [0u8; 8];
        rand::fill(&mut id);
        self.post_as(username, tier, draft, format!("n_{}", hex::encode(id)))
            .await
    }

    /// Posts the need under `local_id`, or gives back the one this home already signed
    /// under it for `username`: a step that posts a need and then records it can be
    /// taken again after a crash between the two without a second need.
    pub async fn post_once(
        &self,
        username: &str,
        tier: UserTier,
        draft: NeedDraft,
        local_id: String,
    ) -> Result<Need, BoardError> {
        if let Some(held) = self.view().need(&format!("{}/{local_id}", self.inner.own)) {
            return if self.author(&local_id)?.as_deref() == Some(username) {
                Ok((*held).clone())
            } else {
                Err(BoardError::NotYours)
            };
        }
        self.post_as(username, tier, draft, local_id).await
    }

    async fn post_as(
        &self,
        username: &str,
        tier: UserTier,
        draft: NeedDraft,
        local_id: String,
    ) -> Result<Need, BoardError> {
        self.check_draft(&draft)?;
        let open = self
            .needs_of(username)?
            .iter()
            .filter(|n| n.is_open())
            .count();
        if open >= MAX_OPEN_NEEDS_PER_USER {
            return Err(BoardError::Full(format!(
                "at most {MAX_OPEN_NEEDS_PER_USER} needs open at a time: withdraw one first"
            )));
        }
        // Whose it is goes in first: a crash before the need is signed leaves a name
        // pointing at nothing, never a need no one may withdraw.
        let mut batch = Batch::new();
        batch.put(
            Space::NeedAuthors,
            author_key(&local_id),
            username.as_bytes().to_vec(),
        );
        let mut by_user = user_prefix(username);
        by_user.extend_from_slice(local_id.as_bytes());
        batch.put(Space::NeedAuthors, by_user, Vec::new());
        self.inner.store.commit(batch).await?;
        let need = Need {
            home: self.inner.own.clone(),
            local_id,
            revision: 0,
            title: draft.title,
            description: draft.description,
            categories: draft.categories,
            modes: draft.modes,
            keywords: draft.keywords,
            sample_kind: draft.sample_kind,
            sample_count: draft.sample_count,
            deadline: draft.deadline,
            budget_min_fen: draft.budget_min_fen,
            budget_max_fen: draft.budget_max_fen,
            results_public: draft.results_public,
            tier,
            posted_at: UnixTime::now(),
            state: NeedState::Open,
            referred_to: draft.referred_to,
            attachments: Vec::new(),
        };
        self.sign_need(need).await
    }

    async fn sign_need(&self, mut need: Need) -> Result<Need, BoardError> {
        let key = self.inner.catalogue.signing_key();
        need.revision = need.revision.max(1);
        as_peers_read_it(&need.seal(&key), &key)?;
        let entry = self
            .inner
            .catalogue
            .save_board_entry(|revision| {
                need.revision = revision;
                Entry {
                    bytes: need.seal(&key),
                    body: EntryBody::Need(Box::new(need.clone())),
                }
            })
            .await?
            .ok_or_else(|| {
                BoardError::Full(format!(
                    "this institution already holds the most needs a member may ({})",
                    alliance_protocol::board::MAX_NEEDS_PER_MEMBER
                ))
            })?;
        match entry.body {
            EntryBody::Need(need) => Ok(*need),
            _ => Err(invalid("need", "signed as another kind")),
        }
    }

    /// The open need `local_id` of this home, if `username` posted it.
    fn own_open_need(&self, username: &str, local_id: &str) -> Result<Need, BoardError> {
        let id = format!("{}/{local_id}", self.inner.own);
        let need = self
            .view()
            .need(&id)
            .ok_or_else(|| BoardError::NoNeed(id.clone()))?;
        if self.author(local_id)?.as_deref() != Some(username) {
            return Err(BoardError::NotYours);
        }
        closed_reason(&need).map_or(Ok((*need).clone()), |why| Err(BoardError::Closed(why)))
    }

    /// `username` takes back their need: it takes no more offers.
    pub async fn withdraw(&self, username: &str, local_id: &str) -> Result<Need, BoardError> {
        let _writing = self.inner.need_writes.lock().await;
        let mut need = self.own_open_need(username, local_id)?;
        need.state = NeedState::Withdrawn {
            at: UnixTime::now(),
        };
        self.sign_need(need).await
    }

    /// Opens this home's need `local_id` again, if it is accepted for `institution`, whose
    /// order for it ended refused (or never reached it): the user may take another offer.
    /// Changes nothing otherwise, so it may run again after a crash.
    pub async fn reopen_after_refusal(
        &self,
        local_id: &str,
        institution: &InstitutionId,
    ) -> Result<(), BoardError> {
        let _writing = self.inner.need_writes.lock().await;
        let id = format!("{}/{local_id}", self.inner.own);
        let Some(need) = self.view().need(&id) else {
            return Ok(());
        };
        if !matches!(&need.state, NeedState::Accepted { institution: i, .. } if i == institution) {
            return Ok(());
        }
        let mut need = (*need).clone();
        need.state = NeedState::Open;
        self.sign_need(need).await?;
        tracing::info!(need = id, %institution, "need open again after its order was refused");
        Ok(())
    }

    /// `username` accepts `institution`'s offer for their need: the need is closed to
    /// every other offer, and the offering institution is told.
    pub async fn accept(
        &self,
        username: &str,
        local_id: &str,
        institution: &InstitutionId,
    ) -> Result<(Need, Arc<Offer>), BoardError> {
        let _writing = self.inner.need_writes.lock().await;
        let mut need = self.own_open_need(username, local_id)?;
        let offer = self
            .view()
            .offer(&need.id(), institution)
            .ok_or_else(|| BoardError::NoOffer(institution.to_string()))?;
        if offer.withdrawn {
            return Err(BoardError::OfferWithdrawn);
        }
        need.state = NeedState::Accepted {
            institution: institution.clone(),
            revision: offer.revision,
            at: UnixTime::now(),
        };
        Ok((self.sign_need(need).await?, offer))
    }

    /// Signs this institution's offer for a need (a new one, or a revision of its own).
    pub async fn offer(&self, draft: OfferDraft) -> Result<Offer, BoardError> {
        let need = self
            .view()
            .need(&draft.need_id)
            .ok_or_else(|| BoardError::NoNeed(draft.need_id.clone()))?;
        if let Some(why) = closed_reason(&need) {
            return Err(BoardError::Closed(why));
        }
        if need.deadline < today() {
            return Err(BoardError::Closed("past its deadline"));
        }
        let instrument_id = format!("{}/{}", self.inner.own, draft.instrument_local_id);
        let view = self
            .inner
            .catalogue
            .instrument_unfiltered(&instrument_id)
            .ok_or_else(|| {
                invalid(
                    "instrument_local_id",
                    "not an instrument of this institution",
                )
            })?;
        let record = &view.record;
        if record.status != InstrumentStatus::InService {
            return Err(invalid(
                "instrument_local_id",
                "the instrument is not in service",
            ));
        }
        let tier = need.tier_at(&self.inner.own);
        if !record.sharing_scope.admits(tier) {
            return Err(invalid(
                "instrument_local_id",
                "the instrument is not shared with this user",
            ));
        }
        let mode = draft
            .mode
            .ok_or_else(|| invalid("mode", "staff-run testing or self-operated use"))?;
        if !need.modes.contains(&mode) {
            return Err(invalid(
                "mode",
                "the need does not ask for this service mode",
            ));
        }
        if !record.service_modes.contains(&mode) {
            return Err(invalid(
                "mode",
                "the instrument does not offer this service mode",
            ));
        }
        let (price_fen, quoted, price_reason, service_item) = match draft.quoted {
            Some((price, reason)) => (price, true, reason, draft.service_item),
            None => {
                if mode != ServiceMode::StaffRun {
                    return Err(invalid(
                        "price_fen",
                        "self-operated use has no per-sample price: quote one, with its reason",
                    ));
                }
                let usage = Usage {
                    mode,
                    minutes: 0,
                    samples: need.sample_count,
                };
                let quote = quote_item(&record.fees, tier, &usage, draft.service_item.trim())
                    .map_err(|e| invalid("service_item", e.to_string()))?;
                let total = quote.total;
                let item = quote
                    .lines
                    .first()
                    .map(|l| l.item_zh.clone())
                    .unwrap_or(draft.service_item);
                (
                    total
                        .materials_fen
                        .saturating_add(total.operating_fen)
                        .saturating_add(total.labour_fen),
                    false,
                    String::new(),
                    item,
                )
            }
        };
        let offered_at = self
            .view()
            .offer(&need.id(), &self.inner.own)
            .map_or_else(UnixTime::now, |o| o.offered_at);
        let mut offer = Offer {
            institution_id: self.inner.own.clone(),
            revision: 0,
            need_home: need.home.clone(),
            need_id: need.local_id.clone(),
            instrument_local_id: draft.instrument_local_id,
            mode,
            service_item,
            price_fen,
            quoted,
            price_reason,
            earliest_date: draft.earliest_date,
            turnaround_days: draft.turnaround_days,
            conditions: draft.conditions,
            offered_at,
            withdrawn: false,
        };
        self.sign_offer(&mut offer).await?;
        Ok(offer)
    }

    /// Takes back this institution's offer for a need still open.
    pub async fn withdraw_offer(&self, need_id: &str) -> Result<Offer, BoardError> {
        let need = self
            .view()
            .need(need_id)
            .ok_or_else(|| BoardError::NoNeed(need_id.to_owned()))?;
        if let Some(why) = closed_reason(&need) {
            return Err(BoardError::Closed(why));
        }
        let mut offer = (*self
            .view()
            .offer(need_id, &self.inner.own)
            .ok_or_else(|| BoardError::NoOffer(self.inner.own.to_string()))?)
        .clone();
        offer.withdrawn = true;
        self.sign_offer(&mut offer).await?;
        Ok(offer)
    }

    async fn sign_offer(&self, offer: &mut Offer) -> Result<(), BoardError> {
        let key = self.inner.catalogue.signing_key();
        offer.revision = offer.revision.max(1);
        as_peers_read_it(&offer.seal(&key), &key)?;
        self.inner
            .catalogue
            .save_board_entry(|revision| {
                offer.revision = revision;
                Entry {
                    bytes: offer.seal(&key),
                    body: EntryBody::Offer(Box::new(offer.clone())),
                }
            })
            .await?
            .ok_or_else(|| {
                BoardError::Full(format!(
                    "this institution already holds the most offers a member may ({})",
                    alliance_protocol::board::MAX_OFFERS_PER_MEMBER
                ))
            })?;
        Ok(())
    }
}

/// Reads signed bytes as every peer will, so that nothing is signed that they refuse;
/// a field they would refuse is named.
fn as_peers_read_it(bytes: &[u8], key: &SecretKey) -> Result<(), BoardError> {
    match UnverifiedEntry::decode(bytes).and_then(|e| e.verify(&key.public())) {
        Ok(_) => Ok(()),
        Err(RecordError::Field { field, message }) => Err(invalid(field, message)),
        Err(e) => Err(invalid("entry", e.to_string())),
    }
}

/// Why a need takes no offers, if it does not.
fn closed_reason(need: &Need) -> Option<&'static str> {
    match need.state {
        NeedState::Open => None,
        NeedState::Withdrawn { .. } => Some("withdrawn"),
        NeedState::Accepted { .. } => Some("accepted"),
    }
}
