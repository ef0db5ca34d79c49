//! The node's side of the web layer: implements the admin UI's [`Backend`] over the
//! network client, the accounts, the catalogue (`catalogue.rs`, `import.rs`) and booking
//! (`booking.rs`), receipts (`receipts.rs`), monitoring (`monitoring.rs`) and the
//! province's results (`results.rs`).

use std::sync::Arc;

use alliance_protocol::{MembershipCertificate, UnixTime};
use alliance_web::backend::{
    Account, AccountError, AccountState, ActionFailure, Backend, ConnectedMember, NewAccount,
    NodeStatus, NoticePrefs, PriceCategory, Registration, Session,
};

use crate::{
    accounts::Accounts, booking::service::Bookings, catalogue::Catalogue, health::Health,
    mail::Mail, monitoring::Monitoring, net::NetClient, province::publication::Publication,
    receipts::Receipts,
};

mod board;
mod booking;
mod catalogue;
mod events;
mod help;
mod import;
mod monitoring;
mod orders;
mod publications;
mod receipts;
mod results;
mod search_cache;

/// The running node's parts the web layer uses.
#[derive(Debug, Clone)]
pub(crate) struct WebParts {
    pub net: NetClient,
    pub accounts: Accounts,
    pub catalogue: Catalogue,
    pub bookings: Bookings,
    pub receipts: Receipts,
    pub monitoring: Monitoring,
    pub mail: Mail,
    /// On the province's node.
    pub publication: Option<Publication>,
    pub certificate: MembershipCertificate,
    pub health: Health,
    pub notice_prefs: crate::notify::Preferences,
    pub board: crate::board::Board,
    pub orders: crate::orders::Orders,
    pub help: crate::help::HelpDesk,
    pub events: crate::events::Events,
    pub photos: crate::photos::Photos,
    pub import_history: crate::catalogue::import::history::ImportHistory,
}

/// What the web layer may ask of this node.
#[derive(Debug, Clone)]
pub(crate) struct WebBackend {
    net: NetClient,
    accounts: Accounts,
    catalogue: Catalogue,
    bookings: Bookings,
    receipts: Receipts,
    monitoring: Monitoring,
    mail: Mail,
    publication: Option<Publication>,
    certificate: MembershipCertificate,
    health: Health,
    notice_prefs: crate::notify::Preferences,
    board: crate::board::Board,
    orders: crate::orders::Orders,
    help: crate::help::HelpDesk,
    events: crate::events::Events,
    photos: crate::photos::Photos,
    import_history: crate::catalogue::import::history::ImportHistory,
    /// Recent searches by free time.
    search_cache: Arc<search_cache::SearchCache>,
    started_at: UnixTime,
}

/// Only instrument managers and institution admins manage this institution's instruments'
/// bookings, receipts and agents (the web layer checks first; this is the second check).
fn may_manage(account: &Account) -> Result<(), ActionFailure> {
    if account.role.manages_instruments() {
        Ok(())
    } else {
        Err(ActionFailure::Forbidden)
    }
}

impl WebBackend {
    /// A backend over a running node's parts.
    pub(crate) fn new(parts: WebParts) -> Self {
        let WebParts {
            net,
            accounts,
            catalogue,
            bookings,
            receipts,
            monitoring,
            mail,
            publication,
            certificate,
            health,
            notice_prefs,
            board,
            orders,
            help,
            events,
            photos,
            import_history,
        } = parts;
        WebBackend {
            net,
            accounts,
            catalogue,
            bookings,
            receipts,
            monitoring,
            mail,
            publication,
            certificate,
            health,
            notice_prefs,
            board,
            orders,
            help,
            events,
            photos,
            import_history,
            search_cache: Arc::default(),
            started_at: UnixTime::now(),
        }
    }

    /// The status as the API reports it.
    pub(crate) fn node_status(&self) -> NodeStatus {
        let state = self.net.state();
        let members: Vec<ConnectedMember> = state
            .members
            .iter()
            .map(|m| ConnectedMember {
                peer_id: m.peer_id.to_string(),
                institution_id: m.certificate.institution_id.to_string(),
                name_zh: m.certificate.name_zh.clone(),
                name_en: m.certificate.name_en.clone(),
                role: m.certificate.role.to_string(),
            })
            .collect();
        NodeStatus {
            peer_id: self.net.peer_id().to_string(),
            institution_id: self.certificate.institution_id.to_string(),
            name_zh: self.certificate.name_zh.clone(),
            name_en: self.certificate.name_en.clone(),
            role: self.certificate.role.to_string(),
            roster_version: state.roster_version,
            members_connected: members.len(),
            members,
            listen_addrs: state.listen_addrs.iter().map(ToString::to_string).collect(),
            started_at: self.started_at.0,
            log_alarm: self.current_alarm(),
            log_stale_seconds: self
                .receipts
                .log_staleness(alliance_protocol::UnixTime::now())
                .unwrap_or(None),
            impostors: state
                .impostors
                .iter()
                .map(|c| alliance_web::backend::ImpostorView {
                    serial: c.serial,
                    node_public_key: c.node_public_key.to_string(),
                    not_before: c.not_before.0,
                })
                .collect(),
        }
    }
}

impl Backend for WebBackend {
    async fn status(&self) -> NodeStatus {
        self.node_status()
    }

    async fn health_problems(&self) -> Vec<String> {
        self.health.problems()
    }

    async fn login(&self, username: &str, password: &str) -> Result<Session, AccountError> {
        self.accounts.login(username, password).await
    }

    async fn session(&self, token: &str) -> Option<Session> {
        self.accounts.session(token).await
    }

    async fn logout(&self, token: &str) {
        self.accounts.logout(token).await;
    }

    async fn register(&self, registration: Registration) -> Result<Account, AccountError> {
        self.accounts.register(registration).await
    }

    async fn create_account(&self, account: NewAccount) -> Result<Account, AccountError> {
        self.accounts.create(account).await
    }

    async fn accounts(&self) -> Result<Vec<Account>, AccountError> {
        self.accounts.list()
    }

    async fn set_price_category(
        &self,
        username: &str,
        category: PriceCategory,
    ) -> Result<Account, AccountError> {
        self.accounts.set_price_category(username, category).await
    }

    async fn set_account_state(
        &self,
        username: &str,
        state: AccountState,
    ) -> Result<Account, AccountError> {
        self.accounts.set_state(username, state).await
    }

    async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
    ) -> Result<(), AccountError> {
        self.accounts.change_password(token, current, new).await
    }

    async fn reset_password(&self, username: &str, new: &str) -> Result<(), AccountError> {
        self.accounts.reset_password(username, new).await
    }

    async fn notice_prefs(&self, username: &str) -> Result<NoticePrefs, AccountError> {
        self.notice_prefs
            .get(username)
            .map_err(|e| AccountError::Internal(e.to_string()))
    }

    async fn set_notice_prefs(
        &self,
        username: &str,
        prefs: NoticePrefs,
    ) -> Result<(), AccountError> {
        self.notice_prefs
            .set(username, &prefs)
            .await
            .map_err(|e| AccountError::Internal(e.to_string()))
    }
}
