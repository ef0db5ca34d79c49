//! The node's configuration file: one serde tree, every field documented, unknown fields
//! refused so a typo never silently falls back to a default.
//!
//! Relative paths are resolved against the directory of the config file.

use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    time::Duration,
};

use alliance_protocol::{InstitutionId, PublicKey, Role};
use serde::{Deserialize, Serialize};

use crate::accounts::SignInLimits;

mod check;

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The whole config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Who this node is.
    pub node: NodeSection,
    /// The alliance this node belongs to.
    pub alliance: AllianceSection,
    /// Peer-to-peer networking.
    #[serde(default)]
    pub network: NetworkSection,
    /// The web UI and JSON API.
    #[serde(default)]
    pub http: HttpSection,
    /// Sign-in lock-out, registration limits, session idle timeout.
    #[serde(default)]
    pub sign_in: SignInLimits,
    /// Catalogue replication.
    #[serde(default)]
    pub catalogue: CatalogueSection,
    /// Booking between institutions.
    #[serde(default)]
    pub booking: BookingSection,
    /// Usage receipts and the province's log.
    #[serde(default)]
    pub receipts: ReceiptsSection,
    /// Remote monitoring of instruments.
    #[serde(default)]
    pub monitoring: MonitoringSection,
    /// E-mail and webhook notices to this node's people.
    #[serde(default)]
    pub notify: crate::notify::NotifySection,
    /// Only on the province's node: the root key that signs certificates and rosters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<ProvinceSection>,
}

/// Who this node is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// The institution's short id, e.g. `dlut` (lowercase letters, digits, '-').
    pub institution_id: InstitutionId,
    /// The institution's name in Chinese, e.g. `大连理工大学`.
    pub name_zh: String,
    /// The institution's name in English.
    pub name_en: String,
    /// Administrative region, e.g. `辽宁省大连市`.
    #[serde(default)]
    pub region: String,
    /// `member` for an institution, `aggregator` for the province.
    pub role: Role,
    /// Where keys, the certificate and the database live.
    pub data_dir: PathBuf,
}

/// The alliance this node belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllianceSection {
    /// The province root public key (64 hex digits): the alliance's trust anchor.
    pub root_public_key: PublicKey,
    /// This node's membership certificate file (armored), issued by the province.
    /// Relative to `data_dir`.
    #[serde(default = "default_certificate")]
    pub certificate: PathBuf,
    /// How long a newly connected peer has to prove membership before it is disconnected.
    #[serde(default = "default_grace", with = "humantime_serde")]
    pub handshake_grace: Duration,
}

/// Peer-to-peer networking.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// Multiaddresses to listen on, e.g. `/ip4/0.0.0.0/tcp/4100` and
    /// `/ip4/0.0.0.0/udp/4100/quic-v1`. Port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub listen: Vec<String>,
    /// Peers to contact at start, with their `/p2p/<peer id>` suffix (usually the province).
    #[serde(default)]
    pub bootstrap: Vec<String>,
    /// Addresses other peers should use to reach this node (e.g. behind NAT).
    #[serde(default)]
    pub external_addresses: Vec<String>,
    /// Close a connection after this long without any protocol using it.
    #[serde(default = "default_idle", with = "humantime_serde")]
    pub idle_connection_timeout: Duration,
    /// How often to re-dial bootstrap peers that are not connected.
    #[serde(default = "default_redial", with = "humantime_serde")]
    pub redial_interval: Duration,
    /// How often to gossip this node's signed "I am here".
    #[serde(default = "default_announce", with = "humantime_serde")]
    pub announce_interval: Duration,
    /// Most established connections, inbound and outbound; more are refused as they
    /// are set up. Raise it on a province with more members.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Most inbound connections at once still in their transport handshake, and most
    /// peers at once connected but not yet proven members; more are refused at once.
    #[serde(default = "default_max_pending_connections")]
    pub max_pending_connections: u32,
    /// Most inbound connections from one IP address.
    #[serde(default = "default_max_connections_per_ip")]
    pub max_connections_per_ip: u32,
    /// Most connections with one peer.
    #[serde(default = "default_max_connections_per_peer")]
    pub max_connections_per_peer: u32,
}

impl Default for NetworkSection {
    fn default() -> Self {
        NetworkSection {
            listen: default_listen(),
            bootstrap: Vec::new(),
            external_addresses: Vec::new(),
            idle_connection_timeout: default_idle(),
            redial_interval: default_redial(),
            announce_interval: default_announce(),
            max_connections: default_max_connections(),
            max_pending_connections: default_max_pending_connections(),
            max_connections_per_ip: default_max_connections_per_ip(),
            max_connections_per_peer: default_max_connections_per_peer(),
        }
    }
}

fn default_max_connections() -> u32 {
    crate::net::PeerLimits::default().max_connections
}
fn default_max_pending_connections() -> u32 {
    crate::net::PeerLimits::default().max_pending
}
fn default_max_connections_per_ip() -> u32 {
    crate::net::PeerLimits::default().max_per_ip
}
fn default_max_connections_per_peer() -> u32 {
    crate::net::PeerLimits::default().max_per_peer
}

/// The web UI and JSON API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// Socket address to serve on. Loopback by default; put a TLS-terminating reverse proxy
    /// in front before exposing it.
    #[serde(default = "default_http_listen")]
    pub listen: SocketAddr,
    /// Mark cookies `Secure` (set this when users reach the node over HTTPS).
    #[serde(default)]
    pub secure_cookies: bool,
    /// Reverse proxies in front of the node: only for connections from these addresses
    /// is the client's address taken from `X-Forwarded-For`, and they are not held to
    /// the per-address connection cap.
    #[serde(default)]
    pub trusted_proxies: Vec<IpAddr>,
    /// A client must send a request's headers within this time.
    #[serde(default = "default_header_read_timeout", with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// A request must be answered within this time (`408` otherwise).
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// A request's body must keep arriving: at most this long between two pieces.
    #[serde(default = "default_body_timeout", with = "humantime_serde")]
    pub body_timeout: Duration,
    /// Open connections in all; more are closed at once.
    #[serde(default = "default_http_max_connections")]
    pub max_connections: usize,
    /// Open connections from one client address (IPv6 by /64).
    #[serde(default = "default_max_connections_per_address")]
    pub max_connections_per_address: usize,
    /// Expensive anonymous answers (the province's results, searches by free time) one
    /// client address may ask for a minute; `429` beyond.
    #[serde(default = "default_expensive_per_minute")]
    pub expensive_per_minute: u32,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            listen: default_http_listen(),
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            header_read_timeout: default_header_read_timeout(),
            request_timeout: default_request_timeout(),
            body_timeout: default_body_timeout(),
            max_connections: default_http_max_connections(),
            max_connections_per_address: default_max_connections_per_address(),
            expensive_per_minute: default_expensive_per_minute(),
        }
    }
}

fn default_header_read_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_body_timeout() -> Duration {
    Duration::from_secs(20)
}
fn default_expensive_per_minute() -> u32 {
    alliance_web::DEFAULT_EXPENSIVE_PER_MINUTE
}
fn default_http_max_connections() -> usize {
    1024
}
fn default_max_connections_per_address() -> usize {
    128
}

/// Booking between institutions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingSection {
    /// How often messages not yet acknowledged (decisions to homes, cancels to owners)
    /// and requests not yet answered are tried again; also on every new outbox entry.
    #[serde(default = "default_retry_interval", with = "humantime_serde")]
    pub retry_interval: Duration,
    /// Cancels of bookings not (yet) requested that are remembered per home institution,
    /// so a request that arrives after its cancel is refused. Past this, the oldest is
    /// forgotten: a member cannot make this node store more.
    #[serde(default = "default_remembered_cancels")]
    pub remembered_cancels_per_home: u32,
    /// Booking requests of one home institution this node answers at once; more are
    /// answered `busy` (and sent again by the home), so no member fills the owner's
    /// attention and every member's requests are answered in turn.
    #[serde(default = "default_concurrent_per_home")]
    pub concurrent_requests_per_home: u32,
    /// Booking requests one home institution may send a minute; more are answered `busy`.
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_home_per_minute: u32,
    /// Whether this institution's instruments close on mainland China's public holidays
    /// (unless an instrument's rules open them). Off only for a node the official
    /// calendar does not apply to.
    #[serde(default = "default_true")]
    pub close_on_public_holidays: bool,
}

impl Default for BookingSection {
    fn default() -> Self {
        BookingSection {
            retry_interval: default_retry_interval(),
            remembered_cancels_per_home: default_remembered_cancels(),
            concurrent_requests_per_home: default_concurrent_per_home(),
            requests_per_home_per_minute: default_requests_per_minute(),
            close_on_public_holidays: true,
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_concurrent_per_home() -> u32 {
    4
}

fn default_requests_per_minute() -> u32 {
    120
}

fn default_remembered_cancels() -> u32 {
    256
}

fn default_retry_interval() -> Duration {
    Duration::from_secs(10)
}

/// Usage receipts and the province's log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptsSection {
    /// How long a user has to confirm and rate a receipt before it goes to the province
    /// single-signed, marked so.
    #[serde(default = "default_confirmation_grace", with = "humantime_serde")]
    pub confirmation_grace: Duration,
    /// How often the province's latest tree head is fetched and checked (also on every
    /// head it gossips).
    #[serde(default = "default_log_check_interval", with = "humantime_serde")]
    pub log_check_interval: Duration,
    /// Effective time a receipt may state beyond the session's wall time (preparation
    /// before its start, data handling after its end). Owners refuse to issue, and the
    /// province to log, a receipt beyond it.
    #[serde(default = "default_effective_allowance", with = "humantime_serde")]
    pub effective_allowance: Duration,
    /// The province signs a fresh head at least every minute; when none newer than this
    /// has been verified, the node says the log is stale (a province that stopped
    /// answering, or shows this node nothing while it shows others a log).
    #[serde(default = "default_max_head_age", with = "humantime_serde")]
    pub max_head_age: Duration,
}

impl Default for ReceiptsSection {
    fn default() -> Self {
        ReceiptsSection {
            confirmation_grace: default_confirmation_grace(),
            log_check_interval: default_log_check_interval(),
            effective_allowance: default_effective_allowance(),
            max_head_age: default_max_head_age(),
        }
    }
}

impl ReceiptsSection {
    /// The effective allowance in whole minutes.
    pub fn effective_allowance_minutes(&self) -> u32 {
        u32::try_from(self.effective_allowance.as_secs() / 60).unwrap_or(u32::MAX)
    }
}

/// Remote monitoring of instruments (R6).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSection {
    /// How often the node sends its instruments' states to the province (also at once
    /// when an agent reports a change).
    #[serde(default = "default_heartbeat_interval", with = "humantime_serde")]
    pub heartbeat_interval: Duration,
    /// On the province: an instrument not heard of for this long is shown as silent.
    #[serde(default = "default_silent_after", with = "humantime_serde")]
    pub silent_after: Duration,
}

impl Default for MonitoringSection {
    fn default() -> Self {
        MonitoringSection {
            heartbeat_interval: default_heartbeat_interval(),
            silent_after: default_silent_after(),
        }
    }
}

fn default_heartbeat_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_silent_after() -> Duration {
    Duration::from_secs(300)
}

fn default_confirmation_grace() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

fn default_log_check_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_max_head_age() -> Duration {
    Duration::from_secs(10 * 60)
}

fn default_effective_allowance() -> Duration {
    Duration::from_secs(30 * 60)
}

fn default_late_receipt_window() -> Duration {
    Duration::from_secs(45 * 86_400)
}

/// Catalogue replication.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueSection {
    /// How often to run anti-entropy with a random connected member (also run on every
    /// new connection).
    #[serde(default = "default_sync_interval", with = "humantime_serde")]
    pub sync_interval: Duration,
    /// How long an edit waits, after a start, for a peer to confirm this institution's
    /// highest revision (so a node restored from an old backup never reuses a revision).
    /// After that the edit goes ahead with the local counter.
    #[serde(default = "default_revision_wait", with = "humantime_serde")]
    pub revision_wait: Duration,
    /// Instrument records and reviews of one institution taken from gossip per sliding
    /// hour; past it they are refused (and come later through anti-entropy), and a peer
    /// that pushes its own past it is penalised. A node gossips at most half of this of
    /// its own, so keep it the same across the alliance.
    #[serde(default = "default_records_per_hour")]
    pub gossip_records_per_hour: u32,
    /// The same for availability digests.
    #[serde(default = "default_digests_per_hour")]
    pub gossip_digests_per_hour: u32,
}

impl Default for CatalogueSection {
    fn default() -> Self {
        CatalogueSection {
            sync_interval: default_sync_interval(),
            revision_wait: default_revision_wait(),
            gossip_records_per_hour: default_records_per_hour(),
            gossip_digests_per_hour: default_digests_per_hour(),
        }
    }
}

fn default_records_per_hour() -> u32 {
    crate::net::GossipQuotas::default().records_per_hour
}
fn default_digests_per_hour() -> u32 {
    crate::net::GossipQuotas::default().digests_per_hour
}

fn default_sync_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_revision_wait() -> Duration {
    Duration::from_secs(10)
}

/// Only on the province's node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceSection {
    /// The province root secret key file (mode 0600). Relative to `data_dir`.
    #[serde(default = "default_root_key")]
    pub root_key: PathBuf,
    /// Validity of certificates issued when no other is asked for.
    #[serde(default = "default_valid_days")]
    pub default_valid_days: u32,
    /// The evaluation's indicator tree, rated hours and thresholds (relative to
    /// `data_dir`); the built-in `configs/evaluation.toml` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<PathBuf>,
    /// Latest a receipt may reach the log after its use ended: a week to issue it, a
    /// week to confirm it and time to deliver it, but no evidence long after the figures
    /// it would change.
    #[serde(default = "default_late_receipt_window", with = "humantime_serde")]
    pub late_receipt_window: Duration,
}

fn default_certificate() -> PathBuf {
    PathBuf::from("node.cert")
}
fn default_grace() -> Duration {
    Duration::from_secs(5)
}
fn default_listen() -> Vec<String> {
    vec![
        "/ip4/0.0.0.0/tcp/4100".to_owned(),
        "/ip4/0.0.0.0/udp/4100/quic-v1".to_owned(),
    ]
}
fn default_idle() -> Duration {
    Duration::from_secs(300)
}
fn default_redial() -> Duration {
    Duration::from_secs(15)
}
fn default_announce() -> Duration {
    Duration::from_secs(30)
}
fn default_http_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_root_key() -> PathBuf {
    PathBuf::from("root.key")
}
fn default_valid_days() -> u32 {
    730
}

/// The shortest confirmation grace a config file may set.
pub(crate) const MIN_CONFIRMATION_GRACE: Duration = Duration::from_secs(24 * 3600);
/// The most HTTP connections a config may allow (each holds a file descriptor).
pub(crate) const MAX_HTTP_CONNECTIONS: usize = 65_536;
/// The longest certificate validity a province may default to (ten years).
pub(crate) const MAX_VALID_DAYS: u32 = 3650;

/// The node's own key file, inside the data dir.
pub(crate) const NODE_KEY_FILE: &str = "node.key";

impl Config {
    /// Reads, parses and checks a config file; relative paths become absolute.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.node.data_dir = base.join(&config.node.data_dir);
        config.check().map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        Ok(config)
    }

    /// Parses config text (paths left as written).
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The config as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Path of the node key.
    pub fn node_key_path(&self) -> PathBuf {
        self.node.data_dir.join(NODE_KEY_FILE)
    }

    /// Path of the certificate.
    pub fn certificate_path(&self) -> PathBuf {
        self.node.data_dir.join(&self.alliance.certificate)
    }

    /// Path of the province root key, on the province node.
    pub fn root_key_path(&self) -> Option<PathBuf> {
        self.province
            .as_ref()
            .map(|p| self.node.data_dir.join(&p.root_key))
    }

    /// Path of the evaluation config, if one is set (province only).
    pub fn evaluation_path(&self) -> Option<PathBuf> {
        self.province
            .as_ref()
            .and_then(|p| p.evaluation.as_ref())
            .map(|e| self.node.data_dir.join(e))
    }

    /// Path of the database directory.
    pub fn store_path(&self) -> PathBuf {
        self.node.data_dir.join("db")
    }
}

#[cfg(test)]
mod tests;
