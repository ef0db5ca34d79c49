//! The receipts side of [`Backend`](super::Backend): after a use, the instrument's
//! manager completes the booking (or records a walk-in session) with what actually
//! happened, which issues the owner's signed usage receipt; the user confirms and rates
//! it at their home node; the institution follows its receipts to the province's log.

use std::future::Future;

use alliance_protocol::{
    FeeComponents, UserTier,
    receipt::{SessionFacts, Verdict, WalkIn},
};
use serde::{Deserialize, Serialize};

use super::{Account, ActionFailure, ListPage, ManagedBooking, StartSpan};

/// A message this node gave up delivering: refused for good by its recipient, or
/// addressed to an institution that is no longer a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadLetterView {
    /// The recipient institution's id.
    pub to: String,
    /// The message's kind: its signing domain, e.g. `alliance/receipt/v1`.
    pub kind: String,
    /// The recipient's refusal code (`not_a_member` for one that left the alliance).
    pub code: String,
    pub reason: String,
    /// When it was given up, Unix seconds.
    pub at: i64,
}

/// One page of dead letters, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadLetterPage {
    /// How many this node keeps in all (at most 10,000, the oldest going first).
    pub total: usize,
    pub offset: usize,
    pub letters: Vec<DeadLetterView>,
}

/// A usage receipt as pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReceiptView {
    pub receipt_id: String,
    /// The owner institution's id and names.
    pub owner: String,
    pub owner_name_zh: String,
    pub owner_name_en: String,
    /// `institution/local_id`.
    pub instrument_id: String,
    pub instrument_name_zh: String,
    pub instrument_name_en: String,
    /// Empty for a walk-in session.
    pub booking_id: String,
    pub user_id: String,
    pub user_name: String,
    pub home: String,
    pub tier: UserTier,
    /// Unix seconds, UTC.
    pub start: i64,
    pub end: i64,
    pub preparation_minutes: u32,
    pub test_minutes: u32,
    pub post_processing_minutes: u32,
    pub samples: u32,
    pub fees: FeeComponents,
    /// Whether the user came from outside the owning institution.
    pub external: bool,
    pub issued_at: i64,
}

/// A receipt of the signed-in user, with their answer once given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MyReceipt {
    pub receipt: ReceiptView,
    /// 1–5, once confirmed.
    pub rating: Option<u8>,
    pub comment: String,
    /// When the user answered: confirmed, or disputed.
    pub confirmed_at: Option<i64>,
    /// The reason, if the user disputed the receipt instead (it then counts for nothing).
    pub dispute: Option<String>,
}

/// Which of the user's receipts a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MyReceiptList {
    All,
    /// Waiting for the user's answer.
    ToConfirm,
    /// Confirmed and rated, or disputed.
    Answered,
}

impl MyReceiptList {
    pub fn holds(self, r: &MyReceipt) -> bool {
        match self {
            MyReceiptList::All => true,
            MyReceiptList::ToConfirm => r.confirmed_at.is_none(),
            MyReceiptList::Answered => r.confirmed_at.is_some(),
        }
    }
}

/// What one instrument's receipts of one month add up to, as its owner issued them
/// (disputed receipts count for nothing). A month is the one (Asia/Shanghai) the use
/// started in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MonthlyUsage {
    /// `YYYY-MM`.
    pub month: String,
    pub local_id: String,
    pub instrument_name_zh: String,
    pub instrument_name_en: String,
    pub receipts: u32,
    /// Effective machine time (有效机时).
    pub effective_minutes: u64,
    /// Of which for users from outside the institution.
    pub external_minutes: u64,
    pub samples: u64,
    /// Fees charged, in fen.
    pub revenue_fen: i64,
    /// Of which charged to users from outside the institution.
    pub external_revenue_fen: i64,
}

/// A page of the receipts this institution issued.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IssuedReceiptPage {
    /// How many there are of the standing asked for.
    pub total: usize,
    pub offset: usize,
    pub items: Vec<IssuedReceipt>,
    /// How many there are of each standing: awaiting, confirmed, single-signed, disputed.
    pub counts: [usize; 4],
}

/// Which issued receipts a page lists: of one standing (all if `None`), issued from
/// `from` to `to` (Unix seconds, inclusive; either open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IssuedFilter {
    pub standing: Option<IssuedStanding>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl IssuedReceiptPage {
    /// The page of `all` (newest first) that `filter`, `offset` and `limit` ask for; the
    /// counts are of the filter's span.
    pub fn of(
        all: Vec<IssuedReceipt>,
        filter: IssuedFilter,
        offset: usize,
        limit: usize,
    ) -> IssuedReceiptPage {
        let in_span: Vec<IssuedReceipt> = all
            .into_iter()
            .filter(|r| {
                filter.from.is_none_or(|f| r.receipt.issued_at >= f)
                    && filter.to.is_none_or(|t| r.receipt.issued_at <= t)
            })
            .collect();
        let mut counts = [0; 4];
        for r in &in_span {
            counts[r.standing.index()] += 1;
        }
        let kept: Vec<IssuedReceipt> = in_span
            .into_iter()
            .filter(|r| filter.standing.is_none_or(|s| r.standing == s))
            .collect();
        IssuedReceiptPage {
            total: kept.len(),
            offset,
            items: kept.into_iter().skip(offset).take(limit).collect(),
            counts,
        }
    }
}

/// Where a receipt this institution issued stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IssuedStanding {
    /// Waiting for the user's confirmation until `awaiting_until`.
    AwaitingConfirmation,
    /// Confirmed and rated by the user; submitted countersigned.
    Confirmed,
    /// Not confirmed in time; submitted single-signed (counts for nothing).
    SingleSigned,
    /// Disputed by the user's home; submitted with the dispute (counts for nothing).
    Disputed,
}

impl IssuedStanding {
    /// Every standing, in the order of [`IssuedReceiptPage::counts`].
    pub const ALL: [IssuedStanding; 4] = [
        IssuedStanding::AwaitingConfirmation,
        IssuedStanding::Confirmed,
        IssuedStanding::SingleSigned,
        IssuedStanding::Disputed,
    ];

    /// Its place in [`IssuedStanding::ALL`].
    pub fn index(self) -> usize {
        match self {
            IssuedStanding::AwaitingConfirmation => 0,
            IssuedStanding::Confirmed => 1,
            IssuedStanding::SingleSigned => 2,
            IssuedStanding::Disputed => 3,
        }
    }

    /// Its name in queries and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            IssuedStanding::AwaitingConfirmation => "awaiting_confirmation",
            IssuedStanding::Confirmed => "confirmed",
            IssuedStanding::SingleSigned => "single_signed",
            IssuedStanding::Disputed => "disputed",
        }
    }

    /// The standing named `name`, if any.
    pub fn parse(name: &str) -> Option<IssuedStanding> {
        IssuedStanding::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A receipt this institution issued, and its way to the province's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IssuedReceipt {
    pub receipt: ReceiptView,
    pub standing: IssuedStanding,
    pub awaiting_until: Option<i64>,
    pub rating: Option<u8>,
    /// The home's reason, if it disputed the receipt.
    pub dispute: Option<String>,
    /// Waiting in the outbox for a proof of inclusion.
    pub in_outbox: bool,
    /// Failed attempts so far, and why the last one failed.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Its index in the province's log, once this node verified the proof.
    pub log_index: Option<u64>,
}

/// The province's log as this node checked it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LogWatchView {
    /// Receipts waiting for a proof of inclusion.
    pub waiting: usize,
    /// Receipts whose inclusion this node verified.
    pub proven: usize,
    /// Size and time (unix seconds) of the latest tree head verified.
    pub head_size: Option<u64>,
    pub head_at: Option<i64>,
    /// Set if the province ever showed two inconsistent histories.
    pub alarm: Option<LogAlarmView>,
}

/// The evidence of an inconsistent log: both signed heads are kept on the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogAlarmView {
    pub seen_size: u64,
    pub shown_size: u64,
    pub detected_at: i64,
    /// Receipts submitted again because the province showed a log contradicting the one
    /// that held them.
    pub resubmitted: u64,
}

/// What a node warns everyone about besides the log alarm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrustWarnings {
    /// Minutes since the newest verified head of the province's log was signed, when
    /// longer than the node's `receipts.max_head_age`.
    pub log_stale_minutes: Option<u64>,
    /// Certificates naming this node's institution with another node's key.
    pub impostors: usize,
}

/// Receipt operations. `account` is the signed-in user (roles are checked by the caller,
/// and again by the node where it matters).
pub trait ReceiptBackend: Clone + Send + Sync + 'static {
    /// Completes a booking of one of this institution's instruments with what actually
    /// happened, issuing its receipt; the booking afterwards.
    fn complete_booking(
        &self,
        account: &Account,
        home: &str,
        booking_id: &str,
        facts: SessionFacts,
    ) -> impl Future<Output = Result<ManagedBooking, ActionFailure>> + Send;
    /// Records a walk-in or internal session and issues its receipt.
    fn record_session(
        &self,
        account: &Account,
        session: WalkIn,
    ) -> impl Future<Output = Result<ReceiptView, ActionFailure>> + Send;
    /// The signed-in user's receipts from every owner, newest use first: the whole list
    /// (pages use [`ReceiptBackend::my_receipts_page`]).
    fn my_receipts(&self, account: &Account) -> impl Future<Output = Vec<MyReceipt>> + Send;
    /// A page of one of the user's lists of receipts, those of uses starting within
    /// `span`, newest use first. (A node answers from an index; this one pages the whole
    /// list.)
    fn my_receipts_page(
        &self,
        account: &Account,
        list: MyReceiptList,
        span: StartSpan,
        offset: usize,
        limit: usize,
    ) -> impl Future<Output = ListPage<MyReceipt>> + Send {
        async move {
            let mut all = self.my_receipts(account).await;
            all.retain(|r| list.holds(r) && span.holds(r.receipt.start));
            ListPage::of(all, offset, limit)
        }
    }
    /// The user confirms one and rates the service (1–5, a comment), or disputes it
    /// with a reason; either answer is final.
    fn confirm_receipt(
        &self,
        account: &Account,
        owner: &str,
        receipt_id: &str,
        verdict: Verdict,
    ) -> impl Future<Output = Result<MyReceipt, ActionFailure>> + Send;
    /// Receipts this institution issued, newest first.
    fn issued_receipts(&self) -> impl Future<Output = Vec<IssuedReceipt>> + Send;
    /// A page of them: those `filter` asks for, `limit` after `offset`, with how many
    /// there are of each standing in its span. (A node answers from an index; this one
    /// pages the whole list.)
    fn issued_receipts_page(
        &self,
        filter: IssuedFilter,
        offset: usize,
        limit: usize,
    ) -> impl Future<Output = IssuedReceiptPage> + Send {
        async move {
            let all = self.issued_receipts().await;
            IssuedReceiptPage::of(all, filter, offset, limit)
        }
    }
    /// What this institution's receipts add up to per month and instrument, for the
    /// months `from` to `to` (`YYYY-MM`, inclusive), by month then instrument.
    fn monthly_usage(
        &self,
        from: &str,
        to: &str,
    ) -> impl Future<Output = Result<Vec<MonthlyUsage>, ActionFailure>> + Send;
    /// The province's log as this node checked it.
    fn log_watch(&self) -> impl Future<Output = LogWatchView> + Send;
    /// Only the alarm, for the banner on every page: a node answers it cheaply.
    fn log_alarm(&self) -> impl Future<Output = Option<LogAlarmView>> + Send {
        async move { self.log_watch().await.alarm }
    }
    /// Warnings about the alliance's trust this node holds besides the log alarm, for a
    /// banner on every page: a node answers them cheaply.
    fn trust_warnings(&self) -> impl Future<Output = TrustWarnings> + Send {
        async { TrustWarnings::default() }
    }
    /// Up to `limit` of the messages this node gave up delivering (receipts, statistics,
    /// booking messages), newest first, after skipping `offset`.
    fn dead_letters(
        &self,
        offset: usize,
        limit: usize,
    ) -> impl Future<Output = Result<DeadLetterPage, ActionFailure>> + Send;
}
