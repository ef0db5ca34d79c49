//! The home's bookings that are not over, by state and start — sent and unanswered,
//! held, confirmed, in use — so the rounds that look after them (asking owners again,
//! reminding users the day before, catching up after a reconnect) read those few and
//! not every booking ever made. Over ones (completed, cancelled, rejected, not shown)
//! leave the index.
//!
//! A booking is filed in the batch that writes it; bookings kept before the index existed
//! are filed once, when the ledger opens.

use super::*;
use crate::store::time_index::{Order, Span, TimeIndex};

/// Set once every booking kept before the index is filed.
const INDEXED: &[u8] = b"home_bookings_by_state_indexed";

const INDEX: TimeIndex = TimeIndex {
    space: Space::HomeBookingsByState,
    order: Order::OldestFirst,
};

/// The groups of the states not over, in the order [`open`] reads them.
const OPEN: [&[u8]; 4] = [b"r", b"h", b"c", b"u"];

fn group(state: BookingState) -> Option<&'static [u8]> {
    match state {
        BookingState::Requested => Some(OPEN[0]),
        BookingState::Held => Some(OPEN[1]),
        BookingState::Confirmed => Some(OPEN[2]),
        BookingState::InUse => Some(OPEN[3]),
        BookingState::Rejected
        | BookingState::Cancelled
        | BookingState::NoShow
        | BookingState::Completed => None,
    }
}

/// Files `booking` under its state and out of the others (out of all once it is over),
/// in `batch`.
pub(super) fn file(batch: &mut Batch, booking: &HomeBooking) {
    let now_in = group(booking.state);
    let id = booking.booking_id.as_bytes();
    for g in OPEN {
        if Some(g) == now_in {
            INDEX.put(batch, g, booking.start, id);
        } else {
            INDEX.delete(batch, g, booking.start, id);
        }
    }
}

/// Takes `booking` out of the index, in `batch`.
pub(super) fn unfile(batch: &mut Batch, booking: &HomeBooking) {
    for g in OPEN {
        INDEX.delete(batch, g, booking.start, booking.booking_id.as_bytes());
    }
}

/// Files every booking kept before the index existed (once).
pub(super) fn index_once(store: &Store) -> Result<(), StoreError> {
    if store.get(Space::Meta, INDEXED)?.is_some() {
        return Ok(());
    }
    let mut batch = Batch::new();
    for (_, booking) in store.scan_prefix_json::<HomeBooking>(Space::HomeBookings, b"")? {
        file(&mut batch, &booking);
    }
    batch.put(Space::Meta, INDEXED.to_vec(), Vec::new());
    store.commit_blocking(batch)
}

impl HomeLedger {
    /// At most `limit` bookings in `state` (one not over) starting within `span`, soonest
    /// first; none for a state that is over.
    pub fn in_state(
        &self,
        state: BookingState,
        span: Span,
        limit: usize,
    ) -> Result<Vec<HomeBooking>, StoreError> {
        let Some(g) = group(state) else {
            return Ok(Vec::new());
        };
        let mut bookings = Vec::new();
        for id in INDEX.page(&self.store, g, span, 0, limit)? {
            if let Some(booking) = self.store.get_json(Space::HomeBookings, &id)? {
                bookings.push(booking);
            }
        }
        Ok(bookings)
    }

    /// Every booking not over: sent, held, confirmed or in use (at most `limit` of each).
    pub fn not_over(&self, limit: usize) -> Result<Vec<HomeBooking>, StoreError> {
        let mut open = Vec::new();
        for state in [
            BookingState::Requested,
            BookingState::Held,
            BookingState::Confirmed,
            BookingState::InUse,
        ] {
            open.extend(self.in_state(state, (None, None), limit)?);
        }
        Ok(open)
    }
}
