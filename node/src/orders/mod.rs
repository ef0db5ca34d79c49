//! Entrusted testing (送样检测 / 委托测试): the order a user's home places when the user
//! accepts a staff-run offer, the owner's steps (samples received with intake notes,
//! testing, report issued, closed — or refused), and the report.
//!
//! The owner is the authority on an order's state, as on its calendar: each step is
//! stored with the update mail to the home in one commit, and the home keeps the highest
//! version it was sent. The report's SHA-256 goes into the owner's signed usage receipt
//! and into the update; the home fetches the bytes from the owner and keeps them only if
//! they hash to it, so the user downloads through their home a report that can later be
//! proven genuine against the receipt.
//!
//! - `inbound.rs`: the mail kinds (orders at the owner, updates at the home, report
//!   fetches at the owner).
//! - `intake.rs`: the owner takes an order only as its own offer made it.
//! - `photos.rs`: photos of the samples taken in, kept by the owner, fetched by the home.
//! - `report.rs`: what a report may be (size, and a type read from its bytes).

mod inbound;
mod intake;
mod photos;
pub mod report;

pub use photos::Photo;

use std::sync::Arc;

use alliance_protocol::{
    InstitutionId, MembershipCertificate, Need, Offer, SecretKey, UnixTime,
    order::{
        OrderCancel, OrderContact, OrderPlaced, OrderState, OrderUpdate, ReportFetch, ReportRef,
        SampleLine,
    },
    receipt::{SessionFacts, WalkIn},
    record::ServiceMode,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::{
    board::Board,
    booking::service::Bookings,
    mail::{Mail, outbox},
    net::NetClient,
    notify::{Facts, Notice, NoticeKind, Notices, Recipients},
    store::{Batch, Space, Store, StoreError},
};

/// One step of an order, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub state: OrderState,
    pub note: String,
    pub at: UnixTime,
}

/// An order as a node keeps it (the owner, or the user's home).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub placed: OrderPlaced,
    pub state: OrderState,
    /// The owner's count of updates (the home keeps the highest it was sent).
    pub version: u32,
    pub steps: Vec<Step>,
    pub report: Option<ReportRef>,
    /// At the home: the report's bytes are held here, checked against its SHA-256.
    #[serde(default)]
    pub report_held: bool,
    /// Photos of the samples taken in.
    #[serde(default)]
    pub photos: Vec<Photo>,
}

/// Why an order operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("no order {0}")]
    NotFound(String),
    #[error("an order that is {from} cannot become {to}")]
    OutOfOrder {
        from: &'static str,
        to: &'static str,
    },
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the report is not available yet")]
    NoReport,
    #[error("the owner's node could not be reached: {0}")]
    Unreachable(String),
    #[error("the report sent does not match the SHA-256 its owner signed")]
    Tampered,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> OrderError {
    OrderError::Invalid {
        field,
        message: message.into(),
    }
}

pub(super) fn owner_key(home: &InstitutionId, order_id: &str) -> Vec<u8> {
    format!("o\0{home}\0{order_id}").into_bytes()
}

pub(super) fn home_key(order_id: &str) -> Vec<u8> {
    format!("h\0{order_id}").into_bytes()
}

fn thread(order_id: &str) -> String {
    format!("order/{order_id}")
}

/// The orders service. Cheap to clone.
#[derive(Clone)]
pub struct Orders {
    inner: Arc<Inner>,
}

struct Inner {
    own: MembershipCertificate,
    key: SecretKey,
    store: Store,
    mail: Mail,
    net: NetClient,
    bookings: Bookings,
    notices: Notices,
    board: Board,
    /// Held across each read-modify-write of an order at the home (an update kept, the
    /// report marked held), so neither writes over the other.
    home_writes: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Orders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orders").finish_non_exhaustive()
    }
}

impl Orders {
    /// `signer`: this institution's certificate and node key.
    pub fn new(
        (own, key): (MembershipCertificate, SecretKey),
        store: Store,
        mail: Mail,
        net: NetClient,
        bookings: Bookings,
        notices: Notices,
        board: Board,
    ) -> Orders {
        Orders {
            inner: Arc::new(Inner {
                own,
                key,
                store,
                mail,
                net,
                bookings,
                notices,
                board,
                home_writes: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn own(&self) -> &InstitutionId {
        &self.inner.own.institution_id
    }

    fn read(&self, key: &[u8]) -> Result<Option<Order>, StoreError> {
        match self.inner.store.get(Space::Orders, key)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StoreError::Engine(format!("an order is unreadable: {e}"))),
        }
    }

    fn put(batch: &mut Batch, key: Vec<u8>, order: &Order) -> Result<(), StoreError> {
        let json = serde_json::to_vec(order)
            .map_err(|e| StoreError::Engine(format!("an order cannot be written: {e}")))?;
        batch.put(Space::Orders, key, json);
        Ok(())
    }

    fn list(&self, prefix: &[u8]) -> Result<Vec<Order>, StoreError> {
        let mut orders: Vec<Order> = self
            .inner
            .store
            .scan_prefix(Space::Orders, prefix)?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
            .collect();
        orders.sort_by_key(|o| std::cmp::Reverse(o.placed.placed_at));
        Ok(orders)
    }

    // The user's home.

    /// Places the order that accepting `offer` for `need` makes, for the person
    /// `contact` (who posted the need): one manifest line of the need's samples, the
    /// offer's price, the user's tier as the owner sees them. Under the need's id, so
    /// placing it again is a retry.
    pub async fn place_for(
        &self,
        need: &Need,
        offer: &Offer,
        contact: OrderContact,
    ) -> Result<Order, OrderError> {
        self.place(OrderPlaced {
            order_id: need.local_id.clone(),
            home: need.home.clone(),
            owner: offer.institution_id.clone(),
            offer_revision: offer.revision,
            instrument_local_id: offer.instrument_local_id.clone(),
            service_item: offer.service_item.clone(),
            price_fen: offer.price_fen,
            samples: vec![SampleLine {
                label: if need.sample_kind.is_empty() {
                    "样品".into()
                } else {
                    need.sample_kind.clone()
                },
                count: need.sample_count,
                note: String::new(),
            }],
            contact,
            tier: need.tier_at(&offer.institution_id),
            placed_at: UnixTime::now(),
            title: need.title.clone(),
        })
        .await
    }

    /// Places `placed` with its owner (a retry of the same order changes nothing): kept
    /// here and sent in one commit.
    pub async fn place(&self, placed: OrderPlaced) -> Result<Order, OrderError> {
        let key = home_key(&placed.order_id);
        let _writing = self.inner.home_writes.lock().await;
        if let Some(held) = self.read(&key)? {
            if held.state != OrderState::Refused {
                return Ok(held);
            }
            // The need was opened again: a new order replaces the refused one, but not
            // with the institution that took the order and then refused it.
            if held.version > 0 && held.placed.owner == placed.owner {
                return Err(invalid(
                    "offer",
                    format!("{} refused this order", held.placed.owner),
                ));
            }
        }
        let order = Order {
            state: OrderState::Ordered,
            version: 0,
            steps: vec![Step {
                state: OrderState::Ordered,
                note: String::new(),
                at: placed.placed_at,
            }],
            report: None,
            report_held: false,
            photos: Vec::new(),
            placed,
        };
        let mut batch = Batch::new();
        Self::put(&mut batch, key, &order)?;
        // Named by when it was placed: an order placed again after a refusal is a
        // message of its own, not the dead letter the first became.
        let sequence = u64::try_from(order.placed.placed_at.0).unwrap_or_default();
        outbox::enqueue(
            &mut batch,
            outbox::key(
                &order.placed.owner,
                &thread(&order.placed.order_id),
                sequence,
            ),
            order.placed.seal(&self.inner.key),
        );
        self.inner.store.commit(batch).await?;
        self.inner.mail.poke();
        tracing::info!(order = order.placed.order_id, owner = %order.placed.owner, "order placed");
        Ok(order)
    }

    /// The orders `user_id` placed from here, newest first.
    pub fn orders_of(&self, user_id: &str) -> Result<Vec<Order>, StoreError> {
        Ok(self
            .list(b"h\0")?
            .into_iter()
            .filter(|o| o.placed.contact.user_id == user_id)
            .collect())
    }

    /// An order placed from here.
    pub fn home_order(&self, order_id: &str) -> Result<Option<Order>, StoreError> {
        self.read(&home_key(order_id))
    }

    /// `user_id` takes back their order before the samples arrive: asked of the owner at
    /// once (it alone knows whether the samples are in); its update follows by mail.
    pub async fn cancel(
        &self,
        user_id: &str,
        order_id: &str,
        reason: &str,
    ) -> Result<(), OrderError> {
        let order = self
            .read(&home_key(order_id))?
            .filter(|o| o.placed.contact.user_id == user_id)
            .ok_or_else(|| OrderError::NotFound(order_id.to_owned()))?;
        if !order.state.may_become(OrderState::Cancelled) {
            return Err(OrderError::OutOfOrder {
                from: order.state.as_str(),
                to: OrderState::Cancelled.as_str(),
            });
        }
        if reason.trim().is_empty() {
            return Err(invalid("reason", "a cancellation gives its reason"));
        }
        let cancel = OrderCancel {
            order_id: order_id.to_owned(),
            home: self.own().clone(),
            reason: reason.trim().to_owned(),
        };
        match self
            .inner
            .net
            .send_mail(&order.placed.owner, cancel.seal(&self.inner.key))
            .await
        {
            Ok(_) => Ok(()),
            Err(crate::net::NetError::Refused(refusal)) => Err(OrderError::OutOfOrder {
                from: "received by the owner",
                to: OrderState::Cancelled.as_str(),
            })
            .inspect_err(|_| {
                tracing::info!(
                    order = order_id,
                    reason = refusal.reason(),
                    "the owner refused a cancellation"
                )
            }),
            Err(e) => Err(OrderError::Unreachable(e.to_string())),
        }
    }

    /// An update from the owner: kept if newer, and the user told.
    async fn updated(&self, update: OrderUpdate) -> Result<(), OrderError> {
        let key = home_key(&update.order_id);
        let writing = self.inner.home_writes.lock().await;
        let mut order = self
            .read(&key)?
            .ok_or_else(|| OrderError::NotFound(update.order_id.clone()))?;
        if update.owner != order.placed.owner {
            return Err(invalid("institution_id", "not this order's owner"));
        }
        if update.version <= order.version {
            return Ok(());
        }
        order.version = update.version;
        // The owner's first update acknowledges the order: no step of its own.
        if update.state != order.state || !update.note.is_empty() {
            order.steps.push(Step {
                state: update.state,
                note: update.note.clone(),
                at: update.at,
            });
        }
        if update.state == OrderState::Refused {
            self.reopen(&order).await?;
        }
        order.state = update.state;
        if update.report.is_some() {
            order.report = update.report.clone();
        }
        if !update.photos.is_empty() {
            order.photos = update.photos.iter().map(Photo::from_protocol).collect();
        }
        let mut batch = Batch::new();
        Self::put(&mut batch, key, &order)?;
        let notice = state_notice(&order, &update.version.to_string(), &update.note);
        self.inner.notices.put(&mut batch, &notice)?;
        self.inner.store.commit(batch).await?;
        drop(writing);
        self.inner.notices.wake();
        if order.report.is_some() && !order.report_held {
            // Fetched now so the user downloads it from here even if the owner is away
            // later; a failure is retried when the user asks for it.
            let orders = self.clone();
            let order_id = order.placed.order_id.clone();
            tokio::spawn(async move {
                // Tries further apart each time, up to a minute (about ten minutes in
                // all); after that, when the user asks.
                let mut wait = std::time::Duration::from_secs(2);
                for _ in 0..14 {
                    match orders.report(&order_id).await {
                        Ok(_) | Err(OrderError::Tampered | OrderError::NotFound(_)) => return,
                        Err(e) => {
                            tracing::warn!(order = order_id, error = %e, "the report could not be fetched yet");
                        }
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(std::time::Duration::from_secs(60));
                }
            });
        }
        Ok(())
    }

    /// The owner refused `placed` for good when it arrived (its offer changed in the
    /// moment it was accepted, say): the order ends refused with the owner's words, the
    /// user is told, and the need is open again for another offer.
    async fn never_taken(&self, placed: &OrderPlaced, reason: &str) -> Result<(), OrderError> {
        let key = home_key(&placed.order_id);
        let _writing = self.inner.home_writes.lock().await;
        let Some(mut order) = self.read(&key)? else {
            return Ok(());
        };
        let same = order.placed.owner == placed.owner && order.placed.placed_at == placed.placed_at;
        if !same || order.state != OrderState::Ordered || order.version > 0 {
            return Ok(());
        }
        self.reopen(&order).await?;
        let note = format!("对方未接受此订单 (the owner did not take this order): {reason}");
        order.state = OrderState::Refused;
        order.steps.push(Step {
            state: OrderState::Refused,
            note: note.clone(),
            at: UnixTime::now(),
        });
        let mut batch = Batch::new();
        Self::put(&mut batch, key, &order)?;
        let tag = format!("not-taken-{}", placed.placed_at.0);
        self.inner
            .notices
            .put(&mut batch, &state_notice(&order, &tag, &note))?;
        self.inner.store.commit(batch).await?;
        self.inner.notices.wake();
        tracing::info!(order = placed.order_id, owner = %placed.owner, reason, "order not taken by its owner");
        Ok(())
    }

    /// After the user's acceptance is signed: if the order was already refused (the
    /// refusal came back before the acceptance was signed), the need opens again.
    pub async fn reopen_if_refused(&self, order_id: &str) -> Result<(), OrderError> {
        match self.read(&home_key(order_id))? {
            Some(order) if order.state == OrderState::Refused => self.reopen(&order).await,
            _ => Ok(()),
        }
    }

    /// Opens the order's need again for other offers (the order ended refused).
    async fn reopen(&self, order: &Order) -> Result<(), OrderError> {
        self.inner
            .board
            .reopen_after_refusal(&order.placed.order_id, &order.placed.owner)
            .await
            // Not the sender's fault: the message is tried again.
            .map_err(|e| OrderError::Store(StoreError::Engine(e.to_string())))
    }

    /// The report of an order placed from here, fetched from its owner the first time
    /// and kept only if it hashes to what the owner signed: `(name, media type, bytes)`.
    pub async fn report(&self, order_id: &str) -> Result<(String, String, Vec<u8>), OrderError> {
        let key = home_key(order_id);
        let mut order = self
            .read(&key)?
            .ok_or_else(|| OrderError::NotFound(order_id.to_owned()))?;
        let report = order.report.clone().ok_or(OrderError::NoReport)?;
        if let Some(bytes) = self.inner.store.get(Space::Reports, &key)? {
            return Ok((report.name, report.media_type, bytes));
        }
        let bytes = self.fetch_checked(&order, 0, report.sha256).await?;
        // Marked on the order as it is now: an update kept while the file was on its
        // way (e.g. "closed") must not be written over with the copy read before.
        let _writing = self.inner.home_writes.lock().await;
        if let Some(now) = self.read(&key)? {
            order = now;
        }
        order.report_held = true;
        let mut batch = Batch::new();
        batch.put(Space::Reports, key.clone(), bytes.clone());
        Self::put(&mut batch, key, &order)?;
        self.inner.store.commit(batch).await?;
        Ok((report.name, report.media_type, bytes))
    }

    /// File `photo` of an order placed from here (0: the report; n: intake photo n),
    /// fetched from its owner and checked against the SHA-256 it signed.
    async fn fetch_checked(
        &self,
        order: &Order,
        photo: u32,
        sha256: [u8; 32],
    ) -> Result<Vec<u8>, OrderError> {
        let fetch = ReportFetch {
            order_id: order.placed.order_id.clone(),
            home: self.own().clone(),
            photo,
        };
        let bytes = self
            .inner
            .net
            .send_mail(&order.placed.owner, fetch.seal(&self.inner.key))
            .await
            .map_err(|e| OrderError::Unreachable(e.to_string()))?;
        if <[u8; 32]>::from(sha2::Sha256::digest(&bytes)) != sha256 {
            tracing::warn!(order = order.placed.order_id, owner = %order.placed.owner, photo, "a file did not match its signed SHA-256");
            return Err(OrderError::Tampered);
        }
        Ok(bytes)
    }

    // The owner.

    /// An order from a home: kept (a retry changes nothing) and acknowledged to the
    /// home with the first update.
    async fn received(&self, placed: OrderPlaced) -> Result<(), OrderError> {
        let key = owner_key(&placed.home, &placed.order_id);
        if self.read(&key)?.is_some() {
            return Ok(());
        }
        if let Some(why) = intake::mismatch(self.inner.board.view(), self.own(), &placed) {
            tracing::warn!(order = placed.order_id, home = %placed.home, why, "an order refused");
            return Err(invalid("offer", why));
        }
        let order = Order {
            state: OrderState::Ordered,
            version: 1,
            steps: vec![Step {
                state: OrderState::Ordered,
                note: String::new(),
                at: UnixTime::now(),
            }],
            report: None,
            report_held: false,
            photos: Vec::new(),
            placed,
        };
        let mut batch = Batch::new();
        Self::put(&mut batch, key, &order)?;
        self.enqueue_update(&mut batch, &order, String::new());
        // The managers heard of it when the need named their offer accepted.
        self.inner.store.commit(batch).await?;
        self.inner.mail.poke();
        Ok(())
    }

    fn enqueue_update(&self, batch: &mut Batch, order: &Order, note: String) {
        let update = OrderUpdate {
            order_id: order.placed.order_id.clone(),
            home: order.placed.home.clone(),
            owner: self.own().clone(),
            version: order.version,
            state: order.state,
            note,
            at: UnixTime::now(),
            report: order.report.clone(),
            photos: order.photos.iter().map(Photo::to_protocol).collect(),
        };
        outbox::enqueue(
            batch,
            outbox::key(
                &order.placed.home,
                &thread(&order.placed.order_id),
                u64::from(order.version),
            ),
            update.seal(&self.inner.key),
        );
    }

    /// The orders placed with this institution, newest first.
    pub fn managed(&self) -> Result<Vec<Order>, StoreError> {
        self.list(b"o\0")
    }

    /// An order placed with this institution.
    pub fn managed_order(
        &self,
        home: &InstitutionId,
        order_id: &str,
    ) -> Result<Option<Order>, StoreError> {
        self.read(&owner_key(home, order_id))
    }

    fn step(order: &mut Order, next: OrderState, note: &str) -> Result<(), OrderError> {
        if !order.state.may_become(next) {
            return Err(OrderError::OutOfOrder {
                from: order.state.as_str(),
                to: next.as_str(),
            });
        }
        order.state = next;
        order.version += 1;
        order.steps.push(Step {
            state: next,
            note: note.to_owned(),
            at: UnixTime::now(),
        });
        Ok(())
    }

    /// Moves an order placed with this institution one step (not to "report issued":
    /// see [`Orders::issue_report`]), telling its home in the same commit.
    pub async fn advance(
        &self,
        home: &InstitutionId,
        order_id: &str,
        next: OrderState,
        note: &str,
    ) -> Result<Order, OrderError> {
        if next == OrderState::ReportIssued {
            return Err(invalid("state", "a report is issued with its file"));
        }
        if next == OrderState::Refused && note.trim().is_empty() {
            return Err(invalid("note", "a refusal gives its reason"));
        }
        if note.len() > alliance_protocol::record::MAX_LONG_TEXT {
            return Err(invalid("note", "at most 8 KiB"));
        }
        let key = owner_key(home, order_id);
        let mut order = self
            .read(&key)?
            .ok_or_else(|| OrderError::NotFound(order_id.to_owned()))?;
        if next == OrderState::SamplesReceived
            && self
                .inner
                .board
                .view()
                .need(&format!("{home}/{order_id}"))
                .is_some_and(|n| intake::closed_for(&n, self.own()))
        {
            return Err(invalid(
                "state",
                "the need was withdrawn or accepted for another institution: refuse the order",
            ));
        }
        Self::step(&mut order, next, note)?;
        let mut batch = Batch::new();
        Self::put(&mut batch, key, &order)?;
        self.enqueue_update(&mut batch, &order, note.to_owned());
        self.inner.store.commit(batch).await?;
        self.inner.mail.poke();
        tracing::info!(order = order_id, %home, state = next.as_str(), "order moved");
        Ok(order)
    }

    /// Issues the report of an order in testing: checked (size, a type read from its
    /// bytes), its SHA-256 put into the usage receipt of the measurement (`start` to
    /// `end` on the instrument), then kept and announced to the home.
    pub async fn issue_report(
        &self,
        home: &InstitutionId,
        order_id: &str,
        name: &str,
        bytes: Vec<u8>,
        (start, end): (UnixTime, UnixTime),
    ) -> Result<Order, OrderError> {
        let key = owner_key(home, order_id);
        let mut order = self
            .read(&key)?
            .ok_or_else(|| OrderError::NotFound(order_id.to_owned()))?;
        if !order.state.may_become(OrderState::ReportIssued) {
            return Err(OrderError::OutOfOrder {
                from: order.state.as_str(),
                to: OrderState::ReportIssued.as_str(),
            });
        }
        let media_type = report::check(name, &bytes).map_err(|m| invalid("report", m))?;
        let sha256: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        let minutes = u32::try_from((end.0 - start.0).max(0) / 60).unwrap_or(u32::MAX);
        let placed = &order.placed;
        // One report per order: its receipt is named by the order, and issued in the
        // same commit as the step and the update, so no crash leaves one without the
        // other.
        let receipt_id = format!("t_{}", &hex::encode(sha2::Sha256::digest(&key))[..24]);
        let walk_in = WalkIn {
            local_id: placed.instrument_local_id.clone(),
            user_id: placed.contact.user_id.clone(),
            user_name: placed.contact.name.clone(),
            home: placed.home.clone(),
            tier: placed.tier,
            mode: ServiceMode::StaffRun,
            service_item: placed.service_item.clone(),
            facts: SessionFacts {
                start,
                end,
                preparation_minutes: 0,
                test_minutes: minutes,
                post_processing_minutes: 0,
                samples: placed.sample_count(),
                note: String::new(),
            },
        };
        let agreed_fen = placed.price_fen;
        order.report = Some(ReportRef {
            name: name.to_owned(),
            media_type: media_type.to_owned(),
            size: bytes.len() as u64,
            sha256,
            receipt_id: receipt_id.clone(),
        });
        Self::step(&mut order, OrderState::ReportIssued, "")?;
        let mut batch = Batch::new();
        batch.put(Space::Reports, key.clone(), bytes);
        Self::put(&mut batch, key, &order)?;
        self.enqueue_update(&mut batch, &order, String::new());
        self.inner
            .bookings
            .record_entrusted(receipt_id, walk_in, (sha256, agreed_fen), batch)
            .await
            .map_err(|e| invalid("facts", e.to_string()))?;
        self.inner.mail.poke();
        tracing::info!(order = order_id, %home, "report issued");
        Ok(order)
    }
}

/// The user's notice of an order's new state (`tag` tells one notice of the order from
/// another).
fn state_notice(order: &Order, tag: &str, note: &str) -> Notice {
    Notice::new(
        format!("order/{}/{tag}", order.placed.order_id),
        NoticeKind::OrderState,
        Recipients::User(order.placed.contact.user_id.clone()),
        Facts {
            instrument_id: format!(
                "{}/{}",
                order.placed.owner, order.placed.instrument_local_id
            ),
            need_id: format!("{}/{}", order.placed.home, order.placed.order_id),
            need_title: order.placed.title.clone(),
            note: note.to_owned(),
            order_state: Some(order.state),
            ..Facts::default()
        },
    )
}
