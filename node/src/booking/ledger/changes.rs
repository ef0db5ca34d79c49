//! The ledger's changes after the answer: a user's cancel, a manager's decision, holds
//! that lapse. Each waits for the instrument's queued writes, then commits the booking,
//! its freed slot and the update to the home (mail) in one batch.

use alliance_protocol::{UnixTime, booking::BookingUpdate};

use super::*;

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
        booking.transition(BookingState::Cancelled, by, "", now);
        self.store_change(&key, &booking, &mut calendar).await?;
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
        let key = booking_key(home, booking_id);
        let Some(found) = self
            .inner
            .store
            .get_json::<Booking>(Space::Bookings, &key)?
        else {
            return Err(LedgerError::NotFound(booking_id.to_owned()));
        };
        let calendar = self.calendar(&found.local_id);
        let mut calendar = calendar.lock().await;
        calendar.settle().await?;
        // Read again under the instrument's lock: it may have changed meanwhile.
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
        self.store_change(&key, &booking, &mut calendar).await?;
        Ok(booking)
    }

    /// Writes a changed booking; frees its slot if it no longer takes one.
    async fn store_change(
        &self,
        key: &[u8],
        booking: &Booking,
        calendar: &mut Calendar,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.put_json(Space::Bookings, key.to_vec(), booking)?;
        // The home hears of every change, from the outbox, in the same commit.
        outbox::enqueue(
            &mut batch,
            outbox::key(&booking.home, &booking.booking_id, booking.version),
            self.update_of(booking).seal(&self.inner.key),
        );
        let frees = !booking.state.occupies_slot();
        if frees {
            batch.delete(
                Space::BookingSlots,
                slot_key(&booking.local_id, booking.start.0),
            );
        }
        self.inner.store.commit(batch).await?;
        if frees
            && calendar
                .taken
                .get(&booking.start.0)
                .is_some_and(|(_, k)| k == key)
        {
            calendar.taken.remove(&booking.start.0);
        }
        if booking.state != BookingState::Held {
            self.holds().retain(|(_, k), _| k != key);
        }
        Ok(())
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
            self.store_change(&key, &booking, &mut calendar).await?;
            expired.push(booking);
        }
        Ok(expired)
    }
}
