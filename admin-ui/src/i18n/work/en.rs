//! English strings of the work page.

use super::WorkStrings;

pub(crate) static EN: WorkStrings = WorkStrings {
    nav_work: "My work",
    title: "My work",
    upcoming: "Upcoming bookings",
    upcoming_none: "No bookings coming up.",
    all_bookings: "All bookings",
    to_confirm: "Usage records waiting for your confirmation and rating",
    open_needs: "Your needs still taking offers",
    offers_received: "offers received",
    orders_open: "Testing orders in progress",
    to_approve: "Booking requests waiting for approval",
    to_approve_none: "No booking requests to decide.",
    manage_queue: "Decide",
    orders_to_act: "Testing orders of this institution in progress",
    own_instruments: "This institution's instruments",
    awaiting_review: "awaiting the province's review",
    accounts_pending: "Registrations waiting for approval",
    review_queue: "Instrument records to review",
    help_open: "Requests for help waiting for an expert",
};
