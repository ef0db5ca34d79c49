//! The home side of booking: this node's copy of its users' bookings at any institution
//! (the owner's word is the truth; the copy keeps the highest version seen), and each
//! user's notifications of changes.

use alliance_protocol::{
    InstitutionId, ServiceMode, UnixTime,
    booking::{BookingAnswer, BookingUpdate, Outcome},
};

use super::state::{BookingState, base64_bytes};

mod by_state;
mod by_user;
#[cfg(test)]
mod tests;
use crate::store::{Batch, Space, Store, StoreError};

/// Writes `booking` and files it under its user, in `batch`.
fn put(batch: &mut Batch, booking: &HomeBooking) -> Result<(), StoreError> {
    batch.put_json(
        Space::HomeBookings,
        booking.booking_id.as_bytes().to_vec(),
        booking,
    )?;
    by_user::file(batch, booking);
    by_state::file(batch, booking);
    Ok(())
}

/// A booking of one of this node's users, as this node knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HomeBooking {
    pub booking_id: String,
    pub owner: InstitutionId,
    pub local_id: String,
    pub start: UnixTime,
    pub end: UnixTime,
    pub user_id: String,
    pub mode: ServiceMode,
    pub samples: u32,
    pub purpose: String,
    pub state: BookingState,
    /// The owner's version last applied (0: no answer yet).
    pub version: u64,
    /// The quoted total, in fen (0 until answered).
    pub quote_fen: i64,
    pub hold_until: Option<UnixTime>,
    /// The owner's last reason or note.
    pub note: String,
    /// The signed request, sent again until the owner answers it.
    #[serde(with = "base64_bytes")]
    pub request: Vec<u8>,
    pub updated_at: UnixTime,
}

impl HomeBooking {
    /// Whether the owner refused the request at once (a rule, a quota, a taken slot):
    /// an attempt, kept as history, never shown or fed as a booking. (A request held
    /// and then rejected by a manager was a booking, and stays one.)
    pub fn refused_at_once(&self) -> bool {
        self.state == BookingState::Rejected && self.version == 1
    }

    /// The instrument's alliance-wide id.
    pub fn instrument_id(&self) -> String {
        format!("{}/{}", self.owner, self.local_id)
    }
}

/// One change a user is told about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    pub at: UnixTime,
    pub booking_id: String,
    pub instrument_id: String,
    pub state: BookingState,
    pub note: String,
}

fn inbox_key(user_id: &str, at: UnixTime, booking_id: &str) -> Vec<u8> {
    let mut key = format!("{user_id}\0").into_bytes();
    key.extend_from_slice(&(at.0 as u64 ^ (1 << 63)).to_be_bytes());
    key.push(0);
    key.extend_from_slice(booking_id.as_bytes());
    key
}

/// Whether a change waits for an fsync.
#[derive(Debug, Clone, Copy)]
enum Persist {
    Synced,
    Unsynced,
}

/// The home side's store of bookings and notifications.
#[derive(Debug, Clone)]
pub struct HomeLedger {
    store: Store,
    /// Where a user hears of the owner's changes to their booking, and the catalogue
    /// naming its instrument (none: nobody is told, as in a tool reading the store).
    notify: Option<(crate::notify::Notices, crate::catalogue::Catalogue)>,
    /// Bumped after every change, for pages and tests that wait on one.
    changes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl HomeLedger {
    /// The ledger kept in `store` (filing, once, bookings kept before the users' index).
    pub fn open(store: Store) -> Result<HomeLedger, StoreError> {
        by_user::index_once(&store)?;
        by_state::index_once(&store)?;
        Ok(HomeLedger {
            store,
            notify: None,
            changes: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
        })
    }

    /// Tells users of the owner's changes through `notices`, naming instruments from
    /// `catalogue`.
    pub fn telling(
        mut self,
        notices: crate::notify::Notices,
        catalogue: crate::catalogue::Catalogue,
    ) -> HomeLedger {
        self.notify = Some((notices, catalogue));
        self
    }

    /// A receiver bumped after every change to a booking held here.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub fn get(&self, booking_id: &str) -> Result<Option<HomeBooking>, StoreError> {
        self.store
            .get_json(Space::HomeBookings, booking_id.as_bytes())
    }

    /// Records a request before it is sent, so a lost answer is asked for again.
    pub async fn requested(&self, booking: &HomeBooking) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        // A record under this id kept before (a restored backup, or a request that
        // raced it) leaves no key of its own behind in the indexes.
        if let Some(before) = self.get(&booking.booking_id)? {
            by_user::unfile(&mut batch, &before);
            by_state::unfile(&mut batch, &before);
        }
        put(&mut batch, booking)?;
        self.store.commit(batch).await
    }

    /// Forgets a request the owner never answered (none of its nodes was reachable, or it
    /// refused the message); a booking the owner has answered stays.
    pub async fn forget_unanswered(&self, booking_id: &str) -> Result<(), StoreError> {
        let Some(booking) = self
            .get(booking_id)?
            .filter(|b| b.version == 0 && b.state == BookingState::Requested)
        else {
            return Ok(());
        };
        let mut batch = Batch::new();
        batch.delete(Space::HomeBookings, booking_id.as_bytes().to_vec());
        by_user::unfile(&mut batch, &booking);
        by_state::unfile(&mut batch, &booking);
        self.store.commit(batch).await
    }

    /// Applies the owner's answer to a request (once: a repeated answer changes nothing).
    pub async fn answered(
        &self,
        answer: &BookingAnswer,
    ) -> Result<Option<HomeBooking>, StoreError> {
        let Some(mut booking) = self.get(&answer.booking_id)? else {
            return Ok(None);
        };
        if booking.version > 0 {
            return Ok(Some(booking));
        }
        let (state, note) = match &answer.outcome {
            Outcome::Held { until } => {
                booking.hold_until = Some(*until);
                (BookingState::Held, String::new())
            }
            Outcome::Confirmed => (BookingState::Confirmed, String::new()),
            Outcome::Rejected { reason, .. } => (BookingState::Rejected, reason.clone()),
            Outcome::Conflict { .. } => (BookingState::Rejected, "所选时段已被预约".into()),
        };
        booking.state = state;
        booking.note = note;
        booking.version = 1;
        booking.quote_fen = answer.quote.total.total_fen();
        booking.updated_at = answer.answered_at;
        // Not fsynced: if a crash loses it, the booking is back to requested and the
        // owner, asked again, gives the same signed answer.
        self.save_and_notify(&booking, Persist::Unsynced, None)
            .await?;
        Ok(Some(booking))
    }

    /// [`Self::answered`] for an answer that came late (the request was sent again
    /// after the user had left the page): the user is told of it, as of a decision.
    pub async fn answered_late(
        &self,
        answer: &BookingAnswer,
    ) -> Result<Option<HomeBooking>, StoreError> {
        let Some(before) = self.get(&answer.booking_id)? else {
            return Ok(None);
        };
        let Some(booking) = self.answered(answer).await? else {
            return Ok(None);
        };
        if before.version == 0
            && booking.version == 1
            && matches!(
                booking.state,
                BookingState::Confirmed | BookingState::Rejected | BookingState::Held
            )
            && let (Some(notice), Some((notices, _))) =
                (self.decision_notice(&booking), &self.notify)
        {
            notices.send(&notice).await?;
        }
        Ok(Some(booking))
    }

    /// Applies an owner's update if it is newer than what is held; returns the booking
    /// if it changed.
    pub async fn updated(&self, update: &BookingUpdate) -> Result<Option<HomeBooking>, StoreError> {
        let Some(mut booking) = self.get(&update.booking_id)? else {
            return Ok(None);
        };
        if booking.owner != update.institution_id {
            return Ok(None);
        }
        let state = BookingState::from_status(update.status);
        // Version 0 is a cancel the owner remembered before any request: it only ever
        // settles a request that was never answered.
        let newer = update.version > booking.version
            || (update.version == 0 && booking.version == 0 && state == BookingState::Cancelled);
        if !newer {
            return Ok(None);
        }
        booking.state = state;
        booking.version = update.version;
        booking.note = update.note.clone();
        booking.updated_at = update.at;
        if state != BookingState::Held {
            booking.hold_until = None;
        }
        // The user hears of what the owner decided, not of what they did themselves
        // (their own cancel) nor of the use going its way (in use, completed: the
        // receipt that follows has its own notice).
        let by_user = update.by == format!("{}@{}", booking.user_id, update.home_institution);
        let told = matches!(
            state,
            BookingState::Confirmed
                | BookingState::Rejected
                | BookingState::Cancelled
                | BookingState::NoShow
        ) && !by_user;
        let notice = if told {
            self.decision_notice(&booking)
        } else {
            None
        };
        self.save_and_notify(&booking, Persist::Synced, notice.as_ref())
            .await?;
        if let (Some(_), Some((notices, _))) = (&notice, &self.notify) {
            notices.wake();
        }
        Ok(Some(booking))
    }

    /// What the user hears of the owner's change to their booking.
    fn decision_notice(&self, booking: &HomeBooking) -> Option<crate::notify::Notice> {
        let (_, catalogue) = self.notify.as_ref()?;
        let instrument_id = booking.instrument_id();
        let (name_zh, name_en) = catalogue.names_of(&instrument_id);
        Some(crate::notify::Notice::new(
            format!(
                "booking/{}/{}/v{}",
                booking.owner, booking.booking_id, booking.version
            ),
            crate::notify::NoticeKind::BookingDecision,
            crate::notify::Recipients::User(booking.user_id.clone()),
            crate::notify::Facts {
                instrument_id,
                instrument_name: name_zh,
                instrument_name_en: name_en,
                booking_id: booking.booking_id.clone(),
                state: Some(booking.state),
                start: Some(booking.start),
                end: Some(booking.end),
                note: booking.note.clone(),
                ..Default::default()
            },
        ))
    }

    async fn save_and_notify(
        &self,
        booking: &HomeBooking,
        persist: Persist,
        notice: Option<&crate::notify::Notice>,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        if let (Some(notice), Some((notices, _))) = (notice, &self.notify) {
            notices.put(&mut batch, notice)?;
        }
        put(&mut batch, booking)?;
        batch.put_json(
            Space::Inbox,
            inbox_key(&booking.user_id, booking.updated_at, &booking.booking_id),
            &Notification {
                at: booking.updated_at,
                booking_id: booking.booking_id.clone(),
                instrument_id: booking.instrument_id(),
                state: booking.state,
                note: booking.note.clone(),
            },
        )?;
        match persist {
            Persist::Synced => self.store.commit(batch).await?,
            Persist::Unsynced => self.store.commit_unsynced(batch).await?,
        }
        self.changes.send_modify(|n| *n += 1);
        Ok(())
    }

    /// Every booking held here, by booking id.
    pub fn all(&self) -> Result<Vec<HomeBooking>, StoreError> {
        Ok(self
            .store
            .scan_prefix_json(Space::HomeBookings, b"")?
            .into_iter()
            .map(|(_, b)| b)
            .collect())
    }

    /// `limit` of a user's notifications, newest first, after skipping the `offset`
    /// newest; and how many they have.
    pub fn notifications_page(
        &self,
        user_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<Notification>), StoreError> {
        let prefix = format!("{user_id}\0").into_bytes();
        let total = self.store.count_prefix(Space::Inbox, &prefix)?;
        let page = self
            .store
            .scan_prefix_back(Space::Inbox, &prefix, offset, limit)?
            .into_iter()
            .map(|(_, value)| {
                serde_json::from_slice(&value)
                    .map_err(|e| StoreError::Engine(format!("a malformed notification: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok((total, page))
    }

    /// A user's notifications, newest first.
    pub fn notifications(&self, user_id: &str) -> Result<Vec<Notification>, StoreError> {
        Ok(self.notifications_page(user_id, 0, usize::MAX)?.1)
    }
}
