//! The booking side of [`Backend`](super::Backend): a signed-in user books an instrument of
//! any institution, follows and cancels their bookings, reads their notifications and
//! subscribes to a calendar feed; an instrument manager decides on the bookings of their
//! institution's instruments.

use std::future::Future;

use alliance_protocol::{
    FeeComponents, ServiceMode, UserTier,
    booking::{BookingAsk, BookingRules, BookingState, ManagerDecision, Training},
};
use serde::Serialize;

use super::{Account, ActionFailure, ListPage};

/// One fee line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuoteLineView {
    pub item_zh: String,
    pub item_en: String,
    /// `hour` (quantity in minutes), `sample` or `session`.
    pub unit: String,
    pub quantity: u32,
    pub amount: FeeComponents,
}

/// A fee quote for one user tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuoteView {
    pub tier: UserTier,
    pub lines: Vec<QuoteLineView>,
    pub total: FeeComponents,
}

/// A booking of the signed-in user (any institution's instrument).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MyBooking {
    pub booking_id: String,
    pub instrument_id: String,
    pub instrument_name_zh: String,
    pub instrument_name_en: String,
    pub institution_name_zh: String,
    pub institution_name_en: String,
    /// Unix seconds, UTC.
    pub start: i64,
    pub end: i64,
    pub mode: ServiceMode,
    pub samples: u32,
    pub status: BookingState,
    /// Unix seconds, UTC, while held.
    pub hold_until: Option<i64>,
    /// Quoted total in fen (0 until answered).
    pub quote_fen: i64,
    /// The owner's last reason or note.
    pub note: String,
}

/// The answer to a booking as the user sees it at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BookingOutcome {
    pub booking: MyBooking,
    pub quote: Option<QuoteView>,
    /// For a conflict: the nearest free slots, unix seconds (start, end).
    pub alternatives: Vec<(i64, i64)>,
    /// For a refusal: its stable code (e.g. `outside_opening_hours`); `conflict` when the
    /// slot is taken (then `alternatives` lists the nearest free slots, possibly none).
    pub code: Option<String>,
}

/// A booking of one of this institution's instruments, for its managers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ManagedBooking {
    pub home: String,
    pub home_name_zh: String,
    pub home_name_en: String,
    pub booking_id: String,
    pub local_id: String,
    pub instrument_name_zh: String,
    pub instrument_name_en: String,
    /// The home's id for the user.
    pub user_id: String,
    pub user_name: String,
    pub tier: UserTier,
    pub start: i64,
    pub end: i64,
    pub mode: ServiceMode,
    pub samples: u32,
    pub purpose: String,
    pub status: BookingState,
    pub hold_until: Option<i64>,
    /// Who changed what and when, oldest first: (unix seconds, by, status, note).
    pub history: Vec<(i64, String, BookingState, String)>,
}

/// Where a booking of this institution's instruments stands for its managers: each is
/// a list of its own on the managers' page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ManagedSection {
    /// Waiting for a manager's decision, soonest start first.
    Waiting,
    /// Confirmed or in use, soonest start first.
    Active,
    /// Over (completed, cancelled, rejected, not shown), latest start first.
    Closed,
}

impl ManagedSection {
    pub const ALL: [ManagedSection; 3] = [
        ManagedSection::Waiting,
        ManagedSection::Active,
        ManagedSection::Closed,
    ];

    /// The section of a booking in `status`.
    pub fn of(status: BookingState) -> ManagedSection {
        match status {
            BookingState::Requested | BookingState::Held => ManagedSection::Waiting,
            BookingState::Confirmed | BookingState::InUse => ManagedSection::Active,
            _ => ManagedSection::Closed,
        }
    }
}

/// Bookings whose use starts from `from` to `to` (Unix seconds, inclusive; either open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StartSpan {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl StartSpan {
    pub fn holds(&self, start: i64) -> bool {
        self.from.is_none_or(|f| start >= f) && self.to.is_none_or(|t| start <= t)
    }
}

/// A change a user is told about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub at: i64,
    pub booking_id: String,
    pub instrument_id: String,
    pub status: BookingState,
    pub note: String,
}

/// Booking operations. `account` is the signed-in user (roles are checked by the caller).
pub trait BookingBackend: Clone + Send + Sync + 'static {
    /// Books for `account` under `booking_id` (the same id always gets the same answer);
    /// the owner's answer (confirmed, held, rejected, conflict).
    fn book(
        &self,
        account: &Account,
        ask: BookingAsk,
        booking_id: String,
    ) -> impl Future<Output = Result<BookingOutcome, ActionFailure>> + Send;
    /// The user's bookings, newest start first: the whole list (pages use
    /// [`BookingBackend::my_bookings_page`]).
    fn my_bookings(&self, account: &Account) -> impl Future<Output = Vec<MyBooking>> + Send;
    /// A page of the user's bookings starting within `span`, newest start first. (A node
    /// answers from an index; this one pages the whole list.)
    fn my_bookings_page(
        &self,
        account: &Account,
        span: StartSpan,
        offset: usize,
        limit: usize,
    ) -> impl Future<Output = ListPage<MyBooking>> + Send {
        async move {
            let mut all = self.my_bookings(account).await;
            all.retain(|b| span.holds(b.start));
            ListPage::of(all, offset, limit)
        }
    }
    /// The `limit` of the user's bookings starting within `span` that start soonest,
    /// soonest first (the end of the newest-first list).
    fn my_soonest_bookings(
        &self,
        account: &Account,
        span: StartSpan,
        limit: usize,
    ) -> impl Future<Output = Vec<MyBooking>> + Send {
        async move {
            let total = self.my_bookings_page(account, span, 0, 0).await.total;
            let from = total.saturating_sub(limit);
            let mut soonest = self
                .my_bookings_page(account, span, from, limit)
                .await
                .items;
            soonest.reverse();
            soonest
        }
    }
    /// One of the user's bookings.
    fn my_booking(
        &self,
        account: &Account,
        booking_id: &str,
    ) -> impl Future<Output = Option<MyBooking>> + Send {
        async move {
            self.my_bookings(account)
                .await
                .into_iter()
                .find(|b| b.booking_id == booking_id)
        }
    }
    /// Cancels one of the user's bookings.
    fn cancel_booking(
        &self,
        account: &Account,
        booking_id: &str,
        reason: &str,
    ) -> impl Future<Output = Result<MyBooking, ActionFailure>> + Send;
    /// The user's notifications, newest first: the whole list (pages use
    /// [`BookingBackend::notifications_page`]).
    fn notifications(
        &self,
        account: &Account,
    ) -> impl Future<Output = Vec<NotificationView>> + Send;
    /// `limit` of the user's notifications, newest first, after skipping the `offset`
    /// newest; with how many there are. (A node reads only those; this one pages the
    /// whole list.)
    fn notifications_page(
        &self,
        account: &Account,
        offset: usize,
        limit: usize,
    ) -> impl Future<Output = ListPage<NotificationView>> + Send {
        async move { ListPage::of(self.notifications(account).await, offset, limit) }
    }
    /// Bookings of this institution's instruments: held ones first, then by start; the
    /// whole list (pages use [`BookingBackend::managed_page`]).
    fn managed_bookings(&self) -> impl Future<Output = Vec<ManagedBooking>> + Send;
    /// A page of one section of them, bookings starting within `span`, in the section's
    /// order (see [`ManagedSection`]). (A node answers from an index; this one pages the
    /// whole list.)
    fn managed_page(
        &self,
        section: ManagedSection,
        span: StartSpan,
        offset: usize,
        limit: usize,
    ) -> impl Future<Output = ListPage<ManagedBooking>> + Send {
        async move {
            let mut all = self.managed_bookings().await;
            all.retain(|b| ManagedSection::of(b.status) == section && span.holds(b.start));
            match section {
                ManagedSection::Closed => all.sort_by_key(|b| std::cmp::Reverse(b.start)),
                _ => all.sort_by_key(|b| b.start),
            }
            ListPage::of(all, offset, limit)
        }
    }
    /// One booking of this institution's instruments, by its home and id.
    fn managed_booking(
        &self,
        home: &str,
        booking_id: &str,
    ) -> impl Future<Output = Option<ManagedBooking>> + Send {
        async move {
            self.managed_bookings()
                .await
                .into_iter()
                .find(|b| b.home == home && b.booking_id == booking_id)
        }
    }
    /// A manager's decision on one of them.
    fn decide_booking(
        &self,
        account: &Account,
        home: &str,
        booking_id: &str,
        decision: ManagerDecision,
        note: &str,
    ) -> impl Future<Output = Result<ManagedBooking, ActionFailure>> + Send;
    /// The private calendar feed token of `account` (stable until reset).
    fn feed_token(&self, account: &Account) -> impl Future<Output = String> + Send;
    /// The user's bookings as an RFC 5545 calendar, for a feed token.
    fn user_feed(&self, token: &str) -> impl Future<Output = Option<String>> + Send;
    /// One of this institution's instruments' bookings as an RFC 5545 calendar.
    fn instrument_feed(&self, local_id: &str) -> impl Future<Output = Option<String>> + Send;
    /// The booking rules of one of this institution's instruments (`None`: not one).
    fn booking_rules(&self, local_id: &str) -> impl Future<Output = Option<BookingRules>> + Send;
    /// Sets them (managers; the caller checks the role).
    fn set_booking_rules(
        &self,
        local_id: &str,
        rules: BookingRules,
    ) -> impl Future<Output = Result<BookingRules, ActionFailure>> + Send;
    /// The training certifications recorded for this institution's instruments.
    fn trainings(&self) -> impl Future<Output = Vec<Training>> + Send;
    /// Whether this node knows `account` to be trained on the instrument now (owners tell
    /// homes; the owner still checks every self-operated request).
    fn is_trained(
        &self,
        account: &Account,
        instrument_id: &str,
    ) -> impl Future<Output = bool> + Send;
    /// Records one (managers; the caller checks the role).
    fn record_training(
        &self,
        account: &Account,
        training: Training,
    ) -> impl Future<Output = Result<Training, ActionFailure>> + Send;
}
