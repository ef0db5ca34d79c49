//! The owner's calendar authority (R3): every request for one of this node's instruments
//! is checked and, if it may, takes its slot in one serialised, durable step.
//!
//! Per instrument, a lock orders requests; under it the ledger checks idempotency, the
//! rules and overlaps against the in-memory calendar, queues the booking and its answer
//! for the store's committer and marks the slot taken. It lets go of the lock then, and
//! lets the answer leave only once the write is durable (fsynced). The committer writes
//! in queue order and refuses everything after a failed write, so an answer never rests
//! on a write that did not happen; a failed write takes its slot back (see `in_flight`).
//! Other changes of an instrument first wait for its queued writes. Requests for one or
//! different instruments thus share the store's group commits.
//!
//! Keys: bookings by `home \0 booking_id` (the id is the home node's, so two homes
//! cannot collide); the slots taken, by `local_id \0 start` (valued `end ‖ booking key`),
//! are what is loaded at start; cancels that arrived before their request, by booking key
//! (at most so many per home, see `remembered.rs`).
//!
//! Requests are answered here; the changes after the answer (cancels, managers'
//! decisions, lapsing holds) are in `changes.rs`, reads of the calendar in `reads.rs`.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use alliance_protocol::{
    FeeItem, InstitutionId, SecretKey, UnixTime,
    booking::{BookingAnswer, BookingRequest, ManagerDecision, Outcome, Slot},
    quote::{ItemError, Usage, quote, quote_item},
};

mod alternatives;
mod changes;
mod in_flight;
mod reads;
mod remembered;
mod sections;

pub use sections::Section;

use alternatives::nearest_free;

use in_flight::{Asked, InFlight, Reservation, SharedDurable};
use remembered::Remembered;

/// Cancels of not-yet-requested bookings remembered per home unless configured.
pub const REMEMBERED_CANCELS_PER_HOME: usize = 256;

use super::{
    rules::{BookingRules, InstrumentFacts, Proposal, RulesCheck},
    state::{Booking, BookingState},
};
use crate::{
    mail::outbox,
    store::{Batch, Space, Store, StoreError},
};

/// What can go wrong in the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("booking id {0} was already used for another request")]
    IdReused(String),
    #[error("no booking {0}")]
    NotFound(String),
    #[error("a booking that is {from:?} cannot be {decision:?}")]
    InvalidTransition {
        from: BookingState,
        decision: ManagerDecision,
    },
    #[error("the cancellation deadline has passed")]
    TooLate,
    /// The receipt of a completion could not be issued: nothing was written.
    #[error("{0}")]
    Receipt(String),
}

/// What the owner knows when a request arrives, besides its calendar.
#[derive(Debug, Clone)]
pub struct RequestContext<'a> {
    pub rules: &'a BookingRules,
    pub facts: InstrumentFacts<'a>,
    pub fees: &'a [FeeItem],
    /// Whether the user holds a valid training certification for the instrument.
    pub trained: bool,
    /// The user's no-shows and late cancels at this owner within the rules' period.
    pub strikes: u32,
    pub now: UnixTime,
}

/// A signed answer and what it says.
#[derive(Debug, Clone)]
pub struct Answered {
    pub answer: BookingAnswer,
    pub signed: Vec<u8>,
    /// Whether this call made the answer (not a repeat of a request answered before).
    pub fresh: bool,
}

/// What a user's cancel did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled(Box<Booking>),
    /// No request yet: the cancel is remembered and the request will be refused.
    Remembered,
    /// Already over (rejected, cancelled, completed…): nothing changed.
    AlreadyFinal(Box<Booking>),
}

/// A slot taken, and by whom: what the quotas count.
#[derive(Debug, Clone)]
struct Taken {
    end: i64,
    /// The booking's key, `home \0 booking id`.
    key: Vec<u8>,
    user: String,
    /// Waiting for a manager's approval.
    held: bool,
}

impl Taken {
    fn home(&self) -> &[u8] {
        self.key.split(|b| *b == 0).next().unwrap_or_default()
    }
}

/// Slots taken on one instrument, by start.
#[derive(Default)]
struct Calendar {
    taken: BTreeMap<i64, Taken>,
    /// The instrument's last queued write, which may not be durable yet.
    last_write: Option<SharedDurable>,
}

impl Calendar {
    /// Waits until every write queued for this instrument is durable, so the store holds
    /// all of its bookings.
    async fn settle(&mut self) -> Result<(), StoreError> {
        match self.last_write.take() {
            Some(write) => in_flight::settled(write).await,
            None => Ok(()),
        }
    }

    fn overlaps(&self, slot: &Slot) -> bool {
        // Taken slots never overlap each other, so only the last one starting before
        // the asked end can reach into it.
        self.taken
            .range(..slot.end.0)
            .next_back()
            .is_some_and(|(_, taken)| taken.end > slot.start.0)
    }

    /// Bookings not yet ended at `now` of `user` of `home`, and of `home`, and those of
    /// `home` waiting for approval.
    fn active(&self, home: &InstitutionId, user: &str, now: UnixTime) -> (u32, u32, u32) {
        let (mut of_user, mut of_home, mut held) = (0, 0, 0);
        // Only a booking starting less than the longest booking ago can still be running.
        let running_from = now
            .0
            .saturating_sub(alliance_protocol::booking::MAX_BOOKING_SECONDS);
        for taken in self
            .taken
            .range(running_from..)
            .map(|(_, t)| t)
            .filter(|t| t.end > now.0)
        {
            if taken.home() != home.as_str().as_bytes() {
                continue;
            }
            of_home += 1;
            held += u32::from(taken.held);
            of_user += u32::from(taken.user == user);
        }
        (of_user, of_home, held)
    }
}

fn booking_key(home: &InstitutionId, booking_id: &str) -> Vec<u8> {
    let mut key = home.as_str().as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(booking_id.as_bytes());
    key
}

fn slot_key(local_id: &str, start: i64) -> Vec<u8> {
    let mut key = local_id.as_bytes().to_vec();
    key.push(0);
    // Offset so that the big-endian bytes sort like the (possibly negative) number.
    key.extend_from_slice(&(start as u64 ^ (1 << 63)).to_be_bytes());
    key
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Engine(format!("booking store holds a malformed {what}"))
}

struct Inner {
    store: Store,
    key: SecretKey,
    /// Whether answers are signed: always, but for measuring the core alone.
    sign_answers: bool,
    own: InstitutionId,
    calendars: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Calendar>>>>,
    /// Held bookings by when their hold lapses: (until, booking key) → local id.
    holds: Mutex<BTreeMap<(i64, Vec<u8>), String>>,
    in_flight: InFlight,
    remembered: Remembered,
}

/// The ledger. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").finish_non_exhaustive()
    }
}

impl Ledger {
    /// Loads the slots taken and the holds pending from `store`; answers are signed
    /// with `key` (the node's).
    pub fn open(store: Store, key: SecretKey, own: InstitutionId) -> Result<Ledger, StoreError> {
        Ledger::open_with(store, key, own, true, REMEMBERED_CANCELS_PER_HOME)
    }

    /// [`Ledger::open`], remembering at most `cancels_per_home` cancels of bookings not
    /// (yet) requested per home institution; past that the oldest is forgotten.
    pub fn open_with_cancel_cap(
        store: Store,
        key: SecretKey,
        own: InstitutionId,
        cancels_per_home: usize,
    ) -> Result<Ledger, StoreError> {
        Ledger::open_with(store, key, own, true, cancels_per_home)
    }

    /// [`Ledger::open`] with answers stored and returned unsigned
    /// ([`BookingAnswer::encode_unsigned`]): the booking core alone, to measure it beside a
    /// database that signs nothing. A node never opens its ledger this way.
    pub fn open_unsigned_answers(
        store: Store,
        key: SecretKey,
        own: InstitutionId,
    ) -> Result<Ledger, StoreError> {
        Ledger::open_with(store, key, own, false, REMEMBERED_CANCELS_PER_HOME)
    }

    fn open_with(
        store: Store,
        key: SecretKey,
        own: InstitutionId,
        sign_answers: bool,
        cancels_per_home: usize,
    ) -> Result<Ledger, StoreError> {
        let remembered = Remembered::load(&store, cancels_per_home)?;
        sections::index_once(&store)?;
        let mut calendars: HashMap<String, Calendar> = HashMap::new();
        let mut holds = BTreeMap::new();
        for (slot, value) in store.scan_prefix(Space::BookingSlots, b"")? {
            let local_id = slot
                .split(|b| *b == 0)
                .next()
                .and_then(|l| std::str::from_utf8(l).ok())
                .ok_or_else(|| corrupt("slot key"))?
                .to_owned();
            let end = value
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(i64::from_be_bytes)
                .ok_or_else(|| corrupt("slot"))?;
            let key = value.get(8..).unwrap_or_default().to_vec();
            let booking: Booking = store
                .get_json(Space::Bookings, &key)?
                .ok_or_else(|| corrupt("slot without its booking"))?;
            if let Some(until) = booking.hold_until
                && booking.state == BookingState::Held
            {
                holds.insert((until.0, key.clone()), local_id.clone());
            }
            calendars.entry(local_id).or_default().taken.insert(
                booking.start.0,
                Taken {
                    end,
                    key,
                    user: booking.user_id.clone(),
                    held: booking.state == BookingState::Held,
                },
            );
        }
        Ok(Ledger {
            inner: Arc::new(Inner {
                store,
                key,
                sign_answers,
                own,
                calendars: Mutex::new(
                    calendars
                        .into_iter()
                        .map(|(id, c)| (id, Arc::new(tokio::sync::Mutex::new(c))))
                        .collect(),
                ),
                holds: Mutex::new(holds),
                in_flight: InFlight::default(),
                remembered,
            }),
        })
    }

    fn calendar(&self, local_id: &str) -> Arc<tokio::sync::Mutex<Calendar>> {
        // Nothing is left half-done under this lock, so a poisoned one is still sound.
        let mut calendars = self
            .inner
            .calendars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        calendars.entry(local_id.to_owned()).or_default().clone()
    }

    fn holds(&self) -> std::sync::MutexGuard<'_, BTreeMap<(i64, Vec<u8>), String>> {
        self.inner
            .holds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The bookings still held whose hold lapses by `before`, soonest first.
    pub fn lapsing_holds(&self, before: UnixTime) -> Result<Vec<Booking>, StoreError> {
        let keys: Vec<Vec<u8>> = self
            .holds()
            .range(..(before.0.saturating_add(1), Vec::new()))
            .map(|((_, key), _)| key.clone())
            .collect();
        let mut held = Vec::new();
        for key in keys {
            if let Some(booking) = self
                .inner
                .store
                .get_json::<Booking>(Space::Bookings, &key)?
                && booking.state == BookingState::Held
            {
                held.push(booking);
            }
        }
        Ok(held)
    }

    /// How many cancels of bookings not (yet) requested are remembered for `home`.
    pub fn remembered_cancels(&self, home: &InstitutionId) -> usize {
        self.inner.remembered.count(home)
    }

    /// A booking of this node's instruments.
    pub fn booking(
        &self,
        home: &InstitutionId,
        booking_id: &str,
    ) -> Result<Option<Booking>, StoreError> {
        self.inner
            .store
            .get_json(Space::Bookings, &booking_key(home, booking_id))
    }

    /// Answers a request: the same answer for the same booking id, whatever happens in
    /// between; otherwise the first rule it breaks, a conflict, a hold or a confirmation.
    pub async fn request(
        &self,
        request: &BookingRequest,
        context: &RequestContext<'_>,
    ) -> Result<Answered, LedgerError> {
        let key = booking_key(&request.user.home_institution, &request.booking_id);
        let calendar_lock = self.calendar(&request.local_id);
        let mut calendar = calendar_lock.lock().await;
        let asked = Asked {
            local_id: request.local_id.clone(),
            start: request.start,
            end: request.end,
        };
        let reserved = match self.inner.in_flight.reserve(&key, asked) {
            Reservation::Reserved(reserved) => reserved,
            Reservation::Queued(answered, durable) => {
                drop(calendar);
                in_flight::settled(durable).await?;
                return Ok(Answered {
                    fresh: false,
                    ..answered
                });
            }
            Reservation::Reused => return Err(LedgerError::IdReused(request.booking_id.clone())),
        };
        let store = &self.inner.store;
        if let Some(existing) = store.get_json::<Booking>(Space::Bookings, &key)? {
            if existing.local_id != request.local_id
                || existing.start != request.start
                || existing.end != request.end
            {
                return Err(LedgerError::IdReused(request.booking_id.clone()));
            }
            let answer = self
                .read_answer(&existing.answer)
                .map_err(|e| corrupt(&format!("answer ({e})")))?;
            return Ok(Answered {
                answer,
                signed: existing.answer,
                fresh: false,
            });
        }
        let cancelled_first = store.get(Space::BookingCancels, &key)?.is_some();
        let outcome = self.decide_request(request, context, &calendar, cancelled_first);
        let state = match outcome {
            Outcome::Held { .. } => BookingState::Held,
            Outcome::Confirmed => BookingState::Confirmed,
            Outcome::Rejected { .. } | Outcome::Conflict { .. } => BookingState::Rejected,
        };
        let usage = Usage {
            mode: request.mode,
            minutes: u32::try_from((request.end.0 - request.start.0) / 60).unwrap_or(u32::MAX),
            samples: request.samples,
        };
        // The chosen service item only; a refused request still says what the whole
        // schedule would have cost, for the record.
        let quote = quote_item(
            context.fees,
            request.user.tier,
            &usage,
            &request.service_item,
        )
        .unwrap_or_else(|_| quote(context.fees, request.user.tier, &usage));
        let answer = BookingAnswer {
            booking_id: request.booking_id.clone(),
            outcome,
            quote,
            answered_at: context.now,
        };
        let signed = if self.inner.sign_answers {
            answer.seal(&self.inner.key)
        } else {
            answer.encode_unsigned()
        };
        let mut booking = Booking::from_request(request, state, context.now);
        if let Outcome::Held { until } = &answer.outcome {
            booking.hold_until = Some(*until);
        }
        booking.answer = signed.clone();
        let mut batch = Batch::new();
        batch.put_json(Space::Bookings, key.clone(), &booking)?;
        sections::file(&mut batch, &key, &booking);
        if cancelled_first {
            self.inner
                .remembered
                .forget(&request.user.home_institution, &key, &mut batch);
        }
        if state.occupies_slot() {
            let mut value = request.end.0.to_be_bytes().to_vec();
            value.extend_from_slice(&key);
            batch.put(
                Space::BookingSlots,
                slot_key(&request.local_id, request.start.0),
                value,
            );
        }
        let durable = in_flight::share(store.queue(batch).await?);
        calendar.last_write = Some(durable.clone());
        if state.occupies_slot() {
            calendar.taken.insert(
                request.start.0,
                Taken {
                    end: request.end.0,
                    key: key.clone(),
                    user: request.user.user_id.clone(),
                    held: state == BookingState::Held,
                },
            );
        }
        if let Some(until) = booking.hold_until {
            self.holds()
                .insert((until.0, key.clone()), request.local_id.clone());
        }
        drop(calendar);
        let answered = Answered {
            answer,
            signed,
            fresh: true,
        };
        reserved.queued(
            answered.clone(),
            durable.clone(),
            take_back(
                Arc::downgrade(&self.inner),
                request.local_id.clone(),
                request.start.0,
                key,
            ),
        );
        in_flight::settled(durable).await?;
        Ok(answered)
    }

    /// Reads an answer this ledger stored.
    fn read_answer(
        &self,
        bytes: &[u8],
    ) -> Result<BookingAnswer, alliance_protocol::booking::BookingError> {
        if self.inner.sign_answers {
            BookingAnswer::open(bytes, &self.inner.key.public())
        } else {
            BookingAnswer::decode_unsigned(bytes)
        }
    }

    fn decide_request(
        &self,
        request: &BookingRequest,
        context: &RequestContext<'_>,
        calendar: &Calendar,
        cancelled_first: bool,
    ) -> Outcome {
        if cancelled_first {
            return Outcome::Rejected {
                code: "cancelled".into(),
                reason: "该预约在到达前已被取消".into(),
            };
        }
        let proposal = Proposal {
            slot: request.slot(),
            tier: request.user.tier,
            mode: request.mode,
            trained: context.trained,
            now: context.now,
        };
        if let Err(refusal) = context.rules.check(&context.facts, &proposal) {
            return Outcome::Rejected {
                code: refusal.code.into(),
                reason: refusal.reason,
            };
        }
        // The quote covers the service item the user chose: one must be chosen where
        // there are several, and it must be one the instrument offers.
        let usage = Usage {
            mode: request.mode,
            minutes: 0,
            samples: 0,
        };
        match quote_item(
            context.fees,
            request.user.tier,
            &usage,
            &request.service_item,
        ) {
            Ok(_) => {}
            Err(ItemError::Required(names)) => {
                return Outcome::Rejected {
                    code: "service_item_required".into(),
                    reason: format!("请选择服务项目：{names}"),
                };
            }
            Err(ItemError::Unknown(name)) => {
                return Outcome::Rejected {
                    code: "unknown_service_item".into(),
                    reason: format!("该仪器没有服务项目「{name}」"),
                };
            }
        }
        // Fair shares, before the calendar: a user or an institution past its quota is
        // told so whatever the slot (these refusals are not the owner's refusals).
        let rules = context.rules;
        let home = &request.user.home_institution;
        let (of_user, of_home, held) = calendar.active(home, &request.user.user_id, context.now);
        if of_user >= rules.max_active_per_user {
            return Outcome::Rejected {
                code: "user_quota".into(),
                reason: format!(
                    "每位用户最多同时有 {} 个未结束的预约，请在已有预约结束或取消后再预约",
                    rules.max_active_per_user
                ),
            };
        }
        if of_home >= rules.max_active_per_home {
            return Outcome::Rejected {
                code: "home_quota".into(),
                reason: format!(
                    "贵单位用户在该仪器上已有 {} 个未结束的预约，已达上限",
                    rules.max_active_per_home
                ),
            };
        }
        // A user past the strikes allowed waits for a manager, whatever the tier.
        let struck =
            rules.strikes_before_approval > 0 && context.strikes >= rules.strikes_before_approval;
        let needs_approval = struck || rules.needs_approval(request.user.tier);
        if needs_approval && held >= rules.max_holds_per_home {
            return Outcome::Rejected {
                code: "home_holds".into(),
                reason: format!(
                    "贵单位在该仪器上已有 {} 个待审批的预约，请待审批后再提交",
                    rules.max_holds_per_home
                ),
            };
        }
        if calendar.overlaps(&proposal.slot) {
            return Outcome::Conflict {
                nearest_free: nearest_free(context, calendar, &proposal),
            };
        }
        if needs_approval {
            Outcome::Held {
                until: context.rules.hold_until(context.now),
            }
        } else {
            Outcome::Confirmed
        }
    }
}

/// Takes back the slot of a booking whose write failed, if the ledger is still open (it
/// holds the ledger weakly, so that a closed ledger releases its store at once).
async fn take_back(ledger: std::sync::Weak<Inner>, local_id: String, start: i64, key: Vec<u8>) {
    let Some(inner) = ledger.upgrade() else {
        return;
    };
    let ledger = Ledger { inner };
    let calendar = ledger.calendar(&local_id);
    let mut calendar = calendar.lock().await;
    if calendar.taken.get(&start).is_some_and(|t| t.key == key) {
        calendar.taken.remove(&start);
    }
    ledger.holds().retain(|(_, k), _| *k != key);
}

#[cfg(test)]
mod tests;
