//! The ledger's bookings by section and start — waiting for a manager and coming or in
//! use soonest first, ended ones latest first — so a manager's lists page and filter by
//! date from keys (`store::time_index`) instead of reading every booking ever made.
//!
//! A booking is filed in the batch that writes it (moved when its state changes
//! section); requests refused at once are never listed, so never filed. Bookings kept
//! before the index existed are filed once, when the ledger opens.

use super::*;
use crate::store::time_index::{Order, Span, TimeIndex};

/// Set once every booking kept before the index is filed.
const INDEXED: &[u8] = b"bookings_by_section_indexed";

/// Where a booking stands for a manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Asked for and waiting for a manager's decision.
    Waiting,
    /// Confirmed or in use.
    Active,
    /// Over: completed, cancelled, rejected, not shown.
    Closed,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Waiting, Section::Active, Section::Closed];

    pub fn of(state: BookingState) -> Section {
        match state {
            BookingState::Requested | BookingState::Held => Section::Waiting,
            BookingState::Confirmed | BookingState::InUse => Section::Active,
            BookingState::Rejected
            | BookingState::Cancelled
            | BookingState::NoShow
            | BookingState::Completed => Section::Closed,
        }
    }

    fn group(self) -> &'static [u8] {
        match self {
            Section::Waiting => b"w",
            Section::Active => b"a",
            Section::Closed => b"c",
        }
    }

    fn index(self) -> TimeIndex {
        TimeIndex {
            space: Space::BookingsBySection,
            order: match self {
                Section::Closed => Order::NewestFirst,
                Section::Waiting | Section::Active => Order::OldestFirst,
            },
        }
    }
}

/// Files `booking` (keyed `key`) under its section and out of the others, in `batch`.
pub(super) fn file(batch: &mut Batch, key: &[u8], booking: &Booking) {
    let now_in = Section::of(booking.state);
    for section in Section::ALL {
        let index = section.index();
        if section == now_in && !booking.refused_at_once() {
            index.put(batch, section.group(), booking.start, key);
        } else {
            index.delete(batch, section.group(), booking.start, key);
        }
    }
}

/// Files every booking kept before the index existed (once; a crash before the end
/// files them all again).
pub(super) fn index_once(store: &Store) -> Result<(), StoreError> {
    if store.get(Space::Meta, INDEXED)?.is_some() {
        return Ok(());
    }
    let mut batch = Batch::new();
    for (key, booking) in store.scan_prefix_json::<Booking>(Space::Bookings, b"")? {
        file(&mut batch, &key, &booking);
    }
    batch.put(Space::Meta, INDEXED.to_vec(), Vec::new());
    store.commit_blocking(batch)
}

impl Ledger {
    /// How many bookings of `section` start within `span`.
    pub fn section_count(&self, section: Section, span: Span) -> Result<usize, StoreError> {
        section
            .index()
            .count(&self.inner.store, section.group(), span)
    }

    /// `limit` bookings of `section` starting within `span`, in the section's order,
    /// after skipping `offset`.
    pub fn section_page(
        &self,
        section: Section,
        span: Span,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Booking>, StoreError> {
        let store = &self.inner.store;
        let mut bookings = Vec::new();
        for key in section
            .index()
            .page(store, section.group(), span, offset, limit)?
        {
            if let Some(booking) = store.get_json::<Booking>(Space::Bookings, &key)? {
                bookings.push(booking);
            }
        }
        Ok(bookings)
    }
}
