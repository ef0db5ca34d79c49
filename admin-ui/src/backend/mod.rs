//! The narrow handle the web layer needs from a node. The node implements [`Backend`];
//! this crate never touches the swarm or the store directly.

mod board;
mod booking;
mod catalogue;
mod events;
mod help;
mod monitoring;
mod notices;
mod orders;
mod price_category;
mod publications;
mod receipts;
mod results;

use std::future::Future;

use serde::{Deserialize, Serialize};

pub use board::*;
pub use booking::*;
pub use catalogue::*;
pub use events::*;
pub use help::*;
pub use monitoring::*;
pub use notices::*;
pub use orders::*;
pub use price_category::*;
pub use publications::*;
pub use receipts::*;
pub use results::*;

/// One page of a long list, and how many the whole list holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    pub total: usize,
    pub items: Vec<T>,
}

impl<T> ListPage<T> {
    /// The page of `all` (already in the list's order) that `offset` and `limit` ask for.
    pub fn of(all: Vec<T>, offset: usize, limit: usize) -> ListPage<T> {
        ListPage {
            total: all.len(),
            items: all.into_iter().skip(offset).take(limit).collect(),
        }
    }
}

/// A user's role at their home node. Checked on every page and API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    /// A researcher of this institution.
    Researcher,
    /// An outside user (firm, individual, other organisation) registered at this node.
    ExternalUser,
    /// Manages and operates instruments of this institution.
    InstrumentManager,
    /// Administers this institution's node: accounts, catalogue.
    InstitutionAdmin,
    /// The province's administrator (on the province node).
    ProvinceAdmin,
    /// A service expert (R18): answers firms' requests for help and posts needs for
    /// them.
    ServiceExpert,
}

impl AccountRole {
    /// Whether this role decides on the bookings of its institution's instruments, records
    /// their use and manages their monitoring agents: instrument managers and institution
    /// admins.
    pub fn manages_instruments(self) -> bool {
        matches!(
            self,
            AccountRole::InstrumentManager | AccountRole::InstitutionAdmin
        )
    }

    /// Every role, in display order.
    pub const ALL: [AccountRole; 6] = [
        AccountRole::Researcher,
        AccountRole::ExternalUser,
        AccountRole::InstrumentManager,
        AccountRole::InstitutionAdmin,
        AccountRole::ProvinceAdmin,
        AccountRole::ServiceExpert,
    ];

    /// Stable snake_case name, as in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::Researcher => "researcher",
            AccountRole::ExternalUser => "external_user",
            AccountRole::InstrumentManager => "instrument_manager",
            AccountRole::InstitutionAdmin => "institution_admin",
            AccountRole::ProvinceAdmin => "province_admin",
            AccountRole::ServiceExpert => "service_expert",
        }
    }

    /// Whether this role may administer accounts at its node.
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            AccountRole::InstitutionAdmin | AccountRole::ProvinceAdmin
        )
    }
}

impl std::str::FromStr for AccountRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = AccountRole::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {s:?}; one of: {}", names.join(", "))
            })
    }
}

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Active,
    /// Self-registered, waiting for an institution admin's approval.
    Pending,
    Disabled,
}

/// An account as the web layer sees it (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub role: AccountRole,
    pub state: AccountState,
    /// Employer or organisation; for outside users, the firm or "individual".
    pub organization: String,
    pub email: String,
    pub phone: String,
    /// Unix seconds, UTC.
    pub created_at: i64,
    /// What an outside user pays, as the administrator who approved the account set it
    /// (none for the institution's own people, and before approval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_category: Option<PriceCategory>,
}

impl Account {
    /// The tier this account's bookings are priced at: the institution's own, or what the
    /// approving administrator set for an outside user; `None` for an outside user
    /// without one (who may not book until an administrator sets it).
    pub fn price_tier(&self) -> Option<alliance_protocol::UserTier> {
        if self.role == AccountRole::ExternalUser {
            self.price_category.as_ref().map(PriceCategory::tier)
        } else {
            Some(alliance_protocol::UserTier::OwnInstitution)
        }
    }
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Secret bearer token carried in the session cookie.
    pub token: String,
    /// Per-session CSRF token every state-changing request must echo.
    pub csrf_token: String,
    pub account: Account,
    /// Unix seconds, UTC.
    pub expires_at: i64,
}

/// A self-registration by an outside user; the account starts pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub organization: String,
    pub email: String,
    pub phone: String,
}

/// An account created by an administrator (active at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub role: AccountRole,
    pub organization: String,
    pub email: String,
    pub phone: String,
}

/// Why an account operation failed. The web layer maps each to a status and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("the account is waiting for approval")]
    Pending,
    #[error("the account is disabled")]
    Disabled,
    #[error("the username is taken")]
    UsernameTaken,
    #[error("no such account")]
    NotFound,
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Too many password checks are already waiting; nothing was done, try again shortly.
    #[error("too many password checks are waiting; try again shortly")]
    Busy,
    /// The queue of registrations waiting for approval is full.
    #[error("the queue of registrations waiting for approval is full")]
    RegistrationsClosed,
    #[error("internal error")]
    Internal(String),
}

/// A member peer this node is connected to and has verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConnectedMember {
    pub peer_id: String,
    pub institution_id: String,
    pub name_zh: String,
    pub name_en: String,
    /// `member` or `aggregator`.
    pub role: String,
}

/// What the status page and `/api/v1/status` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NodeStatus {
    pub peer_id: String,
    pub institution_id: String,
    pub name_zh: String,
    pub name_en: String,
    /// `member` or `aggregator`.
    pub role: String,
    /// Version of the newest roster held; 0 when none.
    pub roster_version: u64,
    /// Number of connected peers whose membership was verified.
    pub members_connected: usize,
    pub members: Vec<ConnectedMember>,
    /// Addresses the p2p layer listens on.
    pub listen_addrs: Vec<String>,
    /// Unix seconds, UTC.
    pub started_at: i64,
    /// Set if the province ever showed this node two inconsistent histories of its
    /// receipt log (both signed heads are kept on the node as evidence).
    pub log_alarm: Option<LogAlarmView>,
    /// Certificates naming this node's institution with another node's key, in the
    /// roster or shown by a peer: unless the institution moved to a new node itself, the
    /// province's root key has been misused.
    #[serde(default)]
    pub impostors: Vec<ImpostorView>,
    /// Seconds since the newest head of the province's log this node verified was
    /// signed, when longer than its `receipts.max_head_age`: the province stopped
    /// answering it, or shows it nothing new while it may show others a log.
    #[serde(default)]
    pub log_stale_seconds: Option<u64>,
}

/// A certificate of this node's institution for a key this node does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImpostorView {
    pub serial: u64,
    /// Hex.
    pub node_public_key: String,
    /// Unix seconds.
    pub not_before: i64,
}

/// Everything the web layer asks of the node.
pub trait Backend:
    CatalogueBackend
    + BoardBackend
    + OrderBackend
    + HelpBackend
    + EventBackend
    + BookingBackend
    + ReceiptBackend
    + ResultsBackend
    + MonitoringBackend
    + PublicationBackend
    + Clone
    + Send
    + Sync
    + 'static
{
    /// The node's current status.
    fn status(&self) -> impl Future<Output = NodeStatus> + Send;
    /// What keeps the node from doing its work (a store refusing writes, a stopped
    /// background task), each a short phrase; empty when healthy. `/healthz` answers 503
    /// while there is any.
    fn health_problems(&self) -> impl Future<Output = Vec<String>> + Send;
    /// Checks credentials and opens a session.
    fn login(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Session, AccountError>> + Send;
    /// The live session for a token, if any (expired sessions are `None`).
    fn session(&self, token: &str) -> impl Future<Output = Option<Session>> + Send;
    /// Ends a session.
    fn logout(&self, token: &str) -> impl Future<Output = ()> + Send;
    /// Registers an outside user; the account is pending until approved. A taken username
    /// is [`AccountError::UsernameTaken`] only after the same password hashing as a new
    /// one, so the time taken does not tell the two apart.
    fn register(
        &self,
        registration: Registration,
    ) -> impl Future<Output = Result<Account, AccountError>> + Send;
    /// Creates an active account (administrators only; the caller checks the role).
    fn create_account(
        &self,
        account: NewAccount,
    ) -> impl Future<Output = Result<Account, AccountError>> + Send;
    /// All accounts at this node, pending first.
    fn accounts(&self) -> impl Future<Output = Result<Vec<Account>, AccountError>> + Send;
    /// Sets an outside user's price category (administrators; the caller checks).
    fn set_price_category(
        &self,
        username: &str,
        category: PriceCategory,
    ) -> impl Future<Output = Result<Account, AccountError>> + Send;
    /// Approves, disables or re-enables an account.
    fn set_account_state(
        &self,
        username: &str,
        state: AccountState,
    ) -> impl Future<Output = Result<Account, AccountError>> + Send;
    /// Changes the password of the session's account if `current` is its password
    /// ([`AccountError::InvalidCredentials`] otherwise), and ends every other session of
    /// the account; the session `token` stays.
    fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
    ) -> impl Future<Output = Result<(), AccountError>> + Send;
    /// Gives an account a new password and ends all its sessions (administrators; the
    /// caller checks the role).
    fn reset_password(
        &self,
        username: &str,
        new: &str,
    ) -> impl Future<Output = Result<(), AccountError>> + Send;
    /// Which notices an account receives, and in which language.
    fn notice_prefs(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<NoticePrefs, AccountError>> + Send;
    fn set_notice_prefs(
        &self,
        username: &str,
        prefs: NoticePrefs,
    ) -> impl Future<Output = Result<(), AccountError>> + Send;
}

/// Why an action a person asked of this node failed — booking, completing a use,
/// confirming a receipt, registering a publication, managing an agent — whether here or
/// at the other node it needed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionFailure {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("the other node is unreachable; nothing was done")]
    Unreachable,
    /// The owner refused the operation (e.g. `too_late` for a late cancel).
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("internal error")]
    Internal(String),
}
