//! Each user's bookings by start, newest first, so a user's list pages and filters by
//! date from keys (`store::time_index`) instead of reading every user's bookings.
//!
//! A booking is filed in the batch that writes it; a request the owner refused at once
//! is an attempt, not a booking, and is taken out. Bookings kept before the index
//! existed are filed once, when the ledger opens.

use super::*;
use crate::store::time_index::{Order, Span, TimeIndex};

/// Set once every booking kept before the index is filed.
const INDEXED: &[u8] = b"home_bookings_by_user_indexed";

const INDEX: TimeIndex = TimeIndex {
    space: Space::HomeBookingsByUser,
    order: Order::NewestFirst,
};

/// Files `booking` under its user, or takes it out if it is not listed, in `batch`.
pub(super) fn file(batch: &mut Batch, booking: &HomeBooking) {
    let (user, id) = (booking.user_id.as_bytes(), booking.booking_id.as_bytes());
    if booking.refused_at_once() {
        INDEX.delete(batch, user, booking.start, id);
    } else {
        INDEX.put(batch, user, booking.start, id);
    }
}

/// Takes `booking` out of its user's list, in `batch`.
pub(super) fn unfile(batch: &mut Batch, booking: &HomeBooking) {
    INDEX.delete(
        batch,
        booking.user_id.as_bytes(),
        booking.start,
        booking.booking_id.as_bytes(),
    );
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
    /// How many bookings of `user_id` start within `span`.
    pub fn count_of(&self, user_id: &str, span: Span) -> Result<usize, StoreError> {
        INDEX.count(&self.store, user_id.as_bytes(), span)
    }

    /// `limit` bookings of `user_id` starting within `span`, newest start first, after
    /// skipping `offset`.
    pub fn page_of(
        &self,
        user_id: &str,
        span: Span,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<HomeBooking>, StoreError> {
        let mut bookings = Vec::new();
        for id in INDEX.page(&self.store, user_id.as_bytes(), span, offset, limit)? {
            if let Some(booking) = self.store.get_json(Space::HomeBookings, &id)? {
                bookings.push(booking);
            }
        }
        Ok(bookings)
    }
}
