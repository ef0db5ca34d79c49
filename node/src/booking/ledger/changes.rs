//! The ledger's changes after the answer: a user's cancel, a manager's decision, holds
//! that lapse. Each waits for the instrument's queued writes, then commits the booking,
//! its freed slot and the update to the home (mail) in one batch.

use alliance_protocol::{UnixTime, booking::BookingUpdate};

use super::*;

/// What counts against a user at an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strike {
    NoShow,
    LateCancel,
}

impl Strike {
    fn as_str(self) -> &'static str {
        match self {
            Strike::NoShow => "no_show",
            Strike::LateCancel => "late_cancel",
        }
    }
}

/// Strikes read at most (far more than any rule asks for).
const MAX_STRIKES_READ: usize = 10_000;

fn strike_prefix(home: &InstitutionId, user_id: &str) -> Vec<u8> {
    format!("{home}\0{user_id}\0").into_bytes()
}

/// `home \0 user \0 when (u64 BE) booking id`: a user's strikes in time order.
fn strike_key(home: &InstitutionId, user_id: &str, at: UnixTime, booking_id: &str) -> Vec<u8> {
    let mut key = strike_prefix(home, user_id);
    key.extend_from_slice(&(at.0.max(0) as u64).to_be_bytes());
    key.extend_from_slice(booking_id.as_bytes());
    key
}

impl Ledger {
    /// A user's cancel (through the home node). A confirmed booking can be cancelled
    /// only until the rules' deadline; a held one at any time.
    pub async fn cancel(
        &self,
        home: &InstitutionId,
        booking_id: &str,
        local_id: &str,
        rules: &BookingRules,
        by: &str,
        now: UnixTime,
    ) -> Result<CancelOutcome, LedgerError> {
        let key = booking_key(home, booking_id);
        let calendar = self.calendar(local_id);
        let mut calendar = calendar.lock().await;
        calendar.settle().await?;
        let store = &self.inner.store;
        let Some(mut booking) = store.get_json::<Booking>(Space::Bookings, &key)? else {
            let mut batch = Batch::new();
            self.inner.remembered.remember(home, key, now, &mut batch)?;
            store.commit(batch).await?;
            return Ok(CancelOutcome::Remembered);
        };
        if booking.state.is_final() {
            return Ok(CancelOutcome::AlreadyFinal(Box::new(booking)));
        }
        if booking.state != BookingState::Held && !rules.may_cancel(booking.start, now) {
            return Err(LedgerError::TooLate);
        }
        // A confirmed slot given back close to its start is a strike against the user.
        let late = booking.state != BookingState::Held && rules.is_late_cancel(booking.start, now);
        booking.transition(BookingState::Cancelled, by, "", now);
        let strike = late.then_some(Strike::LateCancel);
        self.store_change(&key, &booking, &mut calendar, strike)
            .await?;
        Ok(CancelOutcome::Cancelled(Box::new(booking)))
    }

    /// A manager's decision about a booking.
    pub async fn decide(
        &self,
        home: &InstitutionId,
        booking_id: &str,
        decision: ManagerDecision,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<Booking, LedgerError> {
        let (key, booking, mut calendar) = self
            .transition(home, booking_id, decision, by, note, now)
            .await?;
        let strike = (booking.state == BookingState::NoShow).then_some(Strike::NoShow);
        self.store_change(&key, &booking, &mut calendar, strike)
            .await?;
        Ok(booking)
    }

    /// A manager's decision applied to the booking as it is under its instrument's
    /// lock (read again there: it may have changed meanwhile), not yet written. Returns
    /// its key, the changed booking and the lock, held until the change is written.
    async fn transition(
        &self,
        home: &InstitutionId,
        booking_id: &str,
        decision: ManagerDecision,
        by: &str,
        note: &str,
        now: UnixTime,
    ) -> Result<(Vec<u8>, Booking, tokio::sync::OwnedMutexGuard<Calendar>), LedgerError> {
        let key = booking_key(home, booking_id);
        let Some(found) = self
            .inner
            .store
            .get_json::<Booking>(Space::Bookings, &key)?
        else {
            return Err(LedgerError::NotFound(booking_id.to_owned()));
        };
        let mut calendar = self.calendar(&found.local_id).lock_owned().await;
        calendar.settle().await?;
        let mut booking = self
            .inner
            .store
            .get_json::<Booking>(Space::Bookings, &key)?
            .ok_or_else(|| LedgerError::NotFound(booking_id.to_owned()))?;
        let to = decision
            .apply(booking.state)
            .ok_or(LedgerError::InvalidTransition {
                from: booking.state,
                decision,
            })?;
        booking.transition(to, by, note, now);
        Ok((key, booking, calendar))
    }

    /// Completes a booking under its instrument's lock, with `issue` writing the
    /// booking's change (given as a batch) together with its receipt in one commit: a
    /// cancel, a no-show or a crash can come before or after, never between, so no
    /// receipt exists for a booking that was not completed. Returns the booking and what
    /// `issue` returned (the signed receipt).
    pub async fn complete_with<F, Fut, T>(
        &self,
        home: &InstitutionId,
        booking_id: &str,
        by: &str,
        note: &str,
        now: UnixTime,
        issue: F,
    ) -> Result<(Booking, T), LedgerError>
    where
        F: FnOnce(Booking, Batch) -> Fut,
        Fut: std::future::Future<Output = Result<T, LedgerError>>,
    {
        let (key, booking, mut calendar) = self
            .transition(home, booking_id, ManagerDecision::Complete, by, note, now)
            .await?;
        let batch = self.change_batch(&key, &booking, None)?;
        let issued = issue(booking.clone(), batch).await?;
        self.changed_in_memory(&key, &booking, &mut calendar);
        Ok((booking, issued))
    }

    /// Writes a changed booking, and the strike against its user if any; frees its slot
    /// if it no longer takes one.
    async fn store_change(
        &self,
        key: &[u8],
        booking: &Booking,
        calendar: &mut Calendar,
        strike: Option<Strike>,
    ) -> Result<(), StoreError> {
        let batch = self.change_batch(key, booking, strike)?;
        self.inner.store.commit(batch).await?;
        self.changed_in_memory(key, booking, calendar);
        Ok(())
    }

    /// A booking's change as written: the booking, the strike, its update to the home
    /// in the outbox, and its slot freed if it no longer takes one.
    fn change_batch(
        &self,
        key: &[u8],
        booking: &Booking,
        strike: Option<Strike>,
    ) -> Result<Batch, StoreError> {
        let mut batch = Batch::new();
        batch.put_json(Space::Bookings, key.to_vec(), booking)?;
        super::sections::file(&mut batch, key, booking);
        if let Some(strike) = strike {
            batch.put(
                Space::BookingStrikes,
                strike_key(
                    &booking.home,
                    &booking.user_id,
                    booking.history.last().map_or(UnixTime(0), |e| e.at),
                    &booking.booking_id,
                ),
                strike.as_str().as_bytes().to_vec(),
            );
        }
        // The home hears of every change, from the outbox, in the same commit.
        outbox::enqueue(
            &mut batch,
            outbox::key(&booking.home, &booking.booking_id, booking.version),
            self.update_of(booking).seal(&self.inner.key),
        );
        if !booking.state.occupies_slot() {
            batch.delete(
                Space::BookingSlots,
                slot_key(&booking.local_id, booking.start.0),
            );
        }
        Ok(batch)
    }

    /// The instrument's calendar in memory once a change is durable.
    fn changed_in_memory(&self, key: &[u8], booking: &Booking, calendar: &mut Calendar) {
        let frees = !booking.state.occupies_slot();
        let mine = calendar
            .taken
            .get_mut(&booking.start.0)
            .filter(|t| t.key == key);
        if let Some(taken) = mine {
            taken.held = booking.state == BookingState::Held;
            if frees {
                calendar.taken.remove(&booking.start.0);
            }
        }
        if booking.state != BookingState::Held {
            self.holds().retain(|(_, k), _| k != key);
        }
    }

    /// The owner's word on `booking`, as sent to its home.
    pub fn update_of(&self, booking: &Booking) -> BookingUpdate {
        let last = booking.history.last();
        BookingUpdate {
            booking_id: booking.booking_id.clone(),
            home_institution: booking.home.clone(),
            institution_id: self.inner.own.clone(),
            local_id: booking.local_id.clone(),
            status: booking.state.status(),
            version: booking.version,
            by: last.map(|e| e.by.clone()).unwrap_or_default(),
            note: last.map(|e| e.note.clone()).unwrap_or_default(),
            at: last.map_or(UnixTime(0), |e| e.at),
        }
    }

    /// A user's no-shows and late cancels at this owner since `since`.
    pub fn strikes(
        &self,
        home: &InstitutionId,
        user_id: &str,
        since: UnixTime,
    ) -> Result<u32, StoreError> {
        let prefix = strike_prefix(home, user_id);
        let from = {
            let mut key = prefix.clone();
            key.extend_from_slice(&(since.0.max(0) as u64).to_be_bytes());
            key
        };
        let mut to = prefix;
        to.extend_from_slice(&[0xff; 9]);
        let found =
            self.inner
                .store
                .scan_range(Space::BookingStrikes, &from, &to, MAX_STRIKES_READ)?;
        Ok(u32::try_from(found.len()).unwrap_or(u32::MAX))
    }

    /// When the next hold lapses, if any is pending.
    pub fn next_hold_expiry(&self) -> Option<UnixTime> {
        self.holds()
            .keys()
            .next()
            .map(|(until, _)| UnixTime(*until))
    }

    /// Lapses every hold due by `now`, freeing its slot; returns the bookings changed.
    pub async fn expire_holds(&self, now: UnixTime) -> Result<Vec<Booking>, LedgerError> {
        let due: Vec<(Vec<u8>, String)> = self
            .holds()
            .iter()
            .take_while(|((until, _), _)| *until <= now.0)
            .map(|((_, key), local_id)| (key.clone(), local_id.clone()))
            .collect();
        let mut expired = Vec::new();
        for (key, local_id) in due {
            let calendar = self.calendar(&local_id);
            let mut calendar = calendar.lock().await;
            calendar.settle().await?;
            let Some(mut booking) = self
                .inner
                .store
                .get_json::<Booking>(Space::Bookings, &key)?
            else {
                continue;
            };
            if booking.state != BookingState::Held
                || booking.hold_until.is_none_or(|until| until.0 > now.0)
            {
                continue;
            }
            booking.transition(BookingState::Cancelled, "system", "hold expired", now);
            self.store_change(&key, &booking, &mut calendar, None)
                .await?;
            expired.push(booking);
        }
        Ok(expired)
    }
}
