//! Starting and stopping a node: [`Node::start`] turns a [`Config`] into a running
//! [`NodeHandle`] with bound addresses; [`NodeHandle::shutdown`] stops every task.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use alliance_protocol::{
    MembershipCertificate, SecretKey, SignedCertificate, SignedRoster, UnixTime, armor,
};
use libp2p::{Multiaddr, PeerId, multiaddr::Protocol};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    accounts::Accounts,
    board::Board,
    booking::service::Bookings,
    catalogue::{self, Catalogue, CatalogueError, CatalogueOptions},
    config::Config,
    control,
    evaluation::config::EvaluationConfig,
    events::Events,
    health::Health,
    help::HelpDesk,
    http_server,
    keyfile::{self, KeyFileError},
    mail::{self, Mail},
    membership::Membership,
    metrics::{self, MetricSources, Metrics},
    monitoring::Monitoring,
    net::{self, NetClient, NetConfig, NetError, ROSTER_KEY},
    notify::{Delivery, Notices, Preferences, Smtp, Webhook},
    orders::Orders,
    photos::Photos,
    province::{
        ProvinceAuthority,
        publication::Publication,
        receipt_log::{LogRules, ReceiptLog},
        role::{ProvinceInputs, ProvinceRole},
    },
    receipts::Receipts,
    store::{Space, Store, StoreError},
    supervisor::{StoppedTask, Supervisor},
    web::{WebBackend, WebParts},
};

/// The software name and version peers see.
pub(crate) fn agent() -> String {
    format!("alliance/{}", env!("CARGO_PKG_VERSION"))
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Key(#[from] KeyFileError),
    #[error(
        "no membership certificate at {path}.\nSend this node's public key {public_key} to the province; place the certificate it issues at that path"
    )]
    NoCertificate { path: PathBuf, public_key: String },
    #[error("membership certificate {path} is not usable: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("the root key in {path} does not match alliance.root_public_key in the config")]
    RootKeyMismatch { path: PathBuf },
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot load the catalogue: {0}")]
    Catalogue(#[from] CatalogueError),
    #[error("stored roster is unreadable: {0}")]
    Roster(String),
    #[error("bad network address {addr:?}: {reason}")]
    Address { addr: String, reason: String },
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("cannot serve HTTP on {addr}: {source}")]
    Http {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("evaluation config {path}: {reason}")]
    Evaluation { path: PathBuf, reason: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A running node.
#[derive(Debug)]
pub struct NodeHandle {
    config: Config,
    certificate: MembershipCertificate,
    http_addr: SocketAddr,
    net: NetClient,
    accounts: Accounts,
    catalogue: Catalogue,
    bookings: Bookings,
    mail: Mail,
    /// What only the province's node runs.
    province: Option<ProvinceRole>,
    receipts: Receipts,
    monitoring: Monitoring,
    notices: Notices,
    board: Board,
    orders: Orders,
    help: HelpDesk,
    events: Events,
    photos: Photos,
    cancel: CancellationToken,
    supervisor: Supervisor,
    tasks: Vec<JoinHandle<()>>,
}

/// Entry point.
#[derive(Debug)]
pub struct Node;

fn parse_addrs(addrs: &[String]) -> Result<Vec<Multiaddr>, StartError> {
    addrs
        .iter()
        .map(|a| {
            a.parse()
                .map_err(|e: libp2p::multiaddr::Error| StartError::Address {
                    addr: a.clone(),
                    reason: e.to_string(),
                })
        })
        .collect()
}

/// Reads and verifies this node's own certificate.
pub(crate) fn load_certificate(
    config: &Config,
    public_key: &alliance_protocol::PublicKey,
) -> Result<SignedCertificate, StartError> {
    let path = config.certificate_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StartError::NoCertificate {
                path,
                public_key: public_key.to_string(),
            });
        }
        Err(e) => {
            return Err(StartError::Certificate {
                path,
                reason: e.to_string(),
            });
        }
    };
    let bad = |reason: String| StartError::Certificate {
        path: path.clone(),
        reason,
    };
    let bytes = armor::decode(armor::CERTIFICATE_LABEL, &text).map_err(|e| bad(e.to_string()))?;
    let cert = SignedCertificate::verify(
        &bytes,
        &config.alliance.root_public_key,
        UnixTime::now(),
        Some(config.node.role),
    )
    .map_err(|e| bad(e.to_string()))?;
    cert.check_node_key(public_key)
        .map_err(|e| bad(e.to_string()))?;
    if cert.certificate().institution_id != config.node.institution_id {
        return Err(bad(format!(
            "it certifies institution {}, the config says {}",
            cert.certificate().institution_id,
            config.node.institution_id
        )));
    }
    Ok(cert)
}

impl Node {
    /// Starts every part of the node and returns once its addresses are bound.
    pub async fn start(config: Config) -> Result<NodeHandle, StartError> {
        config.check_runnable().map_err(StartError::Config)?;
        let key = keyfile::read(&config.node_key_path())?;
        let own = load_certificate(&config, &key.public())?;
        let root = read_root_key(&config)?;
        let store = Store::open(&config.store_path())?;
        let membership = Membership::new(
            config.alliance.root_public_key,
            own.clone(),
            stored_roster(&config, &store)?,
        );
        let certificate = own.certificate().clone();
        let cancel = CancellationToken::new();
        let supervisor = Supervisor::new(cancel.clone());

        // The parts, each opened over the store.
        let (outgoing_tx, outgoing) = tokio::sync::mpsc::channel(catalogue::OUTGOING_QUEUE);
        let catalogue = Catalogue::open(
            store.clone(),
            certificate.clone(),
            key.clone(),
            outgoing_tx,
            CatalogueOptions {
                confirm_revision: !config.network.bootstrap.is_empty(),
                revision_wait: config.catalogue.revision_wait,
                index_dir: Some(config.node.data_dir.join("search-index")),
            },
        )?;
        let province = match root {
            Some(root) => Some(ProvinceRole::open(
                root,
                &store,
                &catalogue,
                evaluation_config(&config)?,
                log_rules(&config),
            )?),
            None => None,
        };
        let (mail_tx, mail_rx) = tokio::sync::mpsc::channel(net::MAIL_QUEUE);
        let (log_tx, log_rx) = tokio::sync::mpsc::channel(net::LOG_QUEUE);
        let network = net::start(
            net_config(&config, &key)?,
            membership,
            store.clone(),
            catalogue.clone(),
            outgoing,
            net::Inbound {
                mail: mail_tx,
                log: province.is_some().then_some(log_tx),
            },
            cancel.clone(),
        )
        .await?;
        let net = network.client.clone();
        let mail = Mail::new(
            store.clone(),
            net.clone(),
            catalogue.clone(),
            config.booking.retry_interval,
        );
        let notices = Notices::new(store.clone(), config.notify.enabled());
        let receipts = Receipts::open(
            store.clone(),
            certificate.clone(),
            key.clone(),
            config.alliance.root_public_key,
            net.clone(),
            mail.clone(),
            notices.clone(),
            &config.receipts,
        )?;
        let monitoring = Monitoring::open(
            store.clone(),
            certificate.institution_id.clone(),
            key.clone(),
            net.clone(),
            &config.monitoring,
            province.is_some(),
        );
        let bookings = Bookings::open(
            store.clone(),
            certificate.clone(),
            key.clone(),
            catalogue.clone(),
            net.clone(),
            mail.clone(),
            receipts.clone(),
            notices.clone(),
            &config.booking,
            supervisor.short_tasks(),
        )?;
        let accounts = Accounts::new(store.clone()).with_limits(&config.sign_in);
        let board = Board::new(
            catalogue.clone(),
            store.clone(),
            notices.clone(),
            net.clone(),
        );
        let help = HelpDesk::new(store.clone(), board.clone(), notices.clone());
        let events = Events::new(
            (certificate.clone(), key.clone()),
            catalogue.clone(),
            store.clone(),
            net.clone(),
        );
        let orders = Orders::new(
            (certificate.clone(), key),
            store.clone(),
            mail.clone(),
            net.clone(),
            bookings.clone(),
            notices.clone(),
            board.clone(),
        );

        let photos = Photos::new(catalogue.clone(), store.clone(), net.clone());

        // Their work, watched by the supervisor.
        let mut tasks = vec![supervisor.watch("network", network.task)];
        let handlers = mail::Handlers::new(vec![
            Arc::new(bookings.clone()) as Arc<dyn mail::Handler>,
            Arc::new(receipts.clone()),
            Arc::new(orders.clone()),
            Arc::new(events.clone()),
            Arc::new(board.clone()),
            Arc::new(photos.clone()),
        ]);
        tasks.extend(mail.start(handlers, mail_rx, &supervisor, &cancel));
        tasks.extend(bookings.start(&supervisor, &cancel));
        tasks.extend(receipts.start(&supervisor, &cancel));
        tasks.push(supervisor.spawn(
            "heartbeats",
            monitoring.clone().run_heartbeats(cancel.clone()),
        ));
        tasks.push(supervisor.spawn("session purge", accounts.clone().run_purge(cancel.clone())));
        tasks.push(supervisor.spawn("board news", board.start(cancel.clone())));
        tasks.push(supervisor.spawn(
            "digest refresh",
            refresh_digests(catalogue.clone(), cancel.clone()),
        ));
        if let Some(role) = &province {
            let inputs = ProvinceInputs {
                net: net.clone(),
                monitoring: monitoring.clone(),
                receipts: receipts.clone(),
                inbox: log_rx,
            };
            tasks.extend(role.start(&supervisor, &catalogue, inputs, cancel.clone()));
            tasks.push(supervisor.spawn(
                "monitoring samples",
                crate::monitoring::run_samples(
                    monitoring.clone(),
                    catalogue.clone(),
                    cancel.clone(),
                ),
            ));
        }

        // The pages, the API, the control API and the metrics.
        let parts = WebParts {
            net: net.clone(),
            accounts: accounts.clone(),
            catalogue: catalogue.clone(),
            bookings: bookings.clone(),
            receipts: receipts.clone(),
            monitoring: monitoring.clone(),
            mail: mail.clone(),
            publication: province.as_ref().map(|p| p.publication.clone()),
            certificate: certificate.clone(),
            health: Health::new(store.clone(), supervisor.clone()),
            notice_prefs: Preferences::new(store.clone()),
            board: board.clone(),
            orders: orders.clone(),
            help: help.clone(),
            events: events.clone(),
            photos: photos.clone(),
            import_history: crate::catalogue::import::history::ImportHistory::new(store.clone()),
        };
        let (http_addr, http) = serve_http(
            &config,
            parts,
            province.as_ref(),
            &store,
            &supervisor,
            &cancel,
        )
        .await?;
        tasks.push(http);
        if config.notify.enabled() {
            let delivery = notice_delivery(
                &config,
                notices.clone(),
                &store,
                accounts.clone(),
                http_addr,
            )?;
            tasks.push(supervisor.spawn("notices", delivery.run(cancel.clone())));
            tasks.push(
                supervisor.spawn(
                    "reminders",
                    bookings
                        .clone()
                        .remind(config.notify.reminder_interval, cancel.clone()),
                ),
            );
        }
        tracing::info!(
            institution = %config.node.institution_id,
            role = %config.node.role,
            peer = %net.peer_id(),
            http = %http_addr,
            "node started"
        );
        Ok(NodeHandle {
            config,
            certificate,
            http_addr,
            net,
            accounts,
            catalogue,
            bookings,
            mail,
            province,
            cancel,
            supervisor,
            receipts,
            monitoring,
            notices,
            board,
            orders,
            help,
            events,
            photos,
            tasks,
        })
    }
}

/// The root key on the province's node (checked against the alliance's); `None` on a
/// member's.
fn read_root_key(config: &Config) -> Result<Option<SecretKey>, StartError> {
    let Some(path) = config.root_key_path() else {
        return Ok(None);
    };
    let root = keyfile::read(&path)?;
    if root.public() != config.alliance.root_public_key {
        return Err(StartError::RootKeyMismatch { path });
    }
    Ok(Some(root))
}

/// The newest roster this node held when it stopped.
fn stored_roster(config: &Config, store: &Store) -> Result<Option<SignedRoster>, StartError> {
    store
        .get(Space::Roster, ROSTER_KEY)?
        .map(|bytes| {
            SignedRoster::decode(&bytes, &config.alliance.root_public_key)
                .map_err(|e| StartError::Roster(e.to_string()))
        })
        .transpose()
}

/// The network task's settings, from the config.
fn net_config(config: &Config, key: &SecretKey) -> Result<NetConfig, StartError> {
    Ok(NetConfig {
        key: key.clone(),
        listen: parse_addrs(&config.network.listen)?,
        bootstrap: parse_addrs(&config.network.bootstrap)?,
        external: parse_addrs(&config.network.external_addresses)?,
        idle_timeout: config.network.idle_connection_timeout,
        handshake_grace: config.alliance.handshake_grace,
        announce_interval: config.network.announce_interval,
        redial_interval: config.network.redial_interval,
        sync_interval: config.catalogue.sync_interval,
        agent: agent(),
        limits: net::PeerLimits {
            max_connections: config.network.max_connections,
            max_pending: config.network.max_pending_connections,
            max_per_ip: config.network.max_connections_per_ip,
            max_per_peer: config.network.max_connections_per_peer,
        },
        quotas: net::GossipQuotas {
            records_per_hour: config.catalogue.gossip_records_per_hour,
            digests_per_hour: config.catalogue.gossip_digests_per_hour,
        },
    })
}

/// Binds the HTTP listener and serves the pages and JSON API, the local control API and
/// the metrics on it; returns its address and task.
async fn serve_http(
    config: &Config,
    parts: WebParts,
    province: Option<&ProvinceRole>,
    store: &Store,
    supervisor: &Supervisor,
    cancel: &CancellationToken,
) -> Result<(SocketAddr, JoinHandle<()>), StartError> {
    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .map_err(|source| StartError::Http {
            addr: config.http.listen,
            source,
        })?;
    let http_addr = listener.local_addr().map_err(|source| StartError::Http {
        addr: config.http.listen,
        source,
    })?;
    let metrics = Metrics::new(MetricSources {
        net: parts.net.clone(),
        catalogue: parts.catalogue.clone(),
        bookings: parts.bookings.clone(),
        receipts: parts.receipts.clone(),
        store: store.clone(),
        supervisor: supervisor.clone(),
        receipt_log: province.map(|p| p.log.clone()),
    });
    let metrics_token =
        metrics::ensure_token(&config.node.data_dir).map_err(|source| StartError::Io {
            path: metrics::token_path(&config.node.data_dir),
            source,
        })?;
    let control_token =
        control::write_token(&config.node.data_dir).map_err(|source| StartError::Io {
            path: control::token_path(&config.node.data_dir),
            source,
        })?;
    let control = control::ControlState {
        token: control_token,
        accounts: parts.accounts.clone(),
        province: province.map(|p| p.authority.clone()),
        net: parts.net.clone(),
    };
    let app = alliance_web::router(
        WebBackend::new(parts),
        alliance_web::WebOptions {
            secure_cookies: config.http.secure_cookies,
            trusted_proxies: config.http.trusted_proxies.clone(),
            sign_in: config.sign_in.web(),
            expensive_per_minute: Some(config.http.expensive_per_minute),
        },
    )
    .merge(control::router(control))
    .merge(metrics::router(metrics.clone(), metrics_token))
    .layer(axum::middleware::from_fn_with_state(
        metrics,
        Metrics::track,
    ))
    // A span per request (method, path, status, latency) in the node's log.
    .layer(tower_http::trace::TraceLayer::new_for_http());
    let http = supervisor.spawn(
        "http",
        http_server::serve(listener, app, server_limits(config), cancel.clone()),
    );
    Ok((http_addr, http))
}

/// What the HTTP server allows, from the config's `[http]`.
fn server_limits(config: &Config) -> http_server::ServerLimits {
    let http = &config.http;
    http_server::ServerLimits {
        header_read_timeout: http.header_read_timeout,
        request_timeout: http.request_timeout,
        body_timeout: http.body_timeout,
        max_connections: http.max_connections,
        max_connections_per_address: http.max_connections_per_address,
        trusted_proxies: http.trusted_proxies.clone(),
    }
}

/// The time rules the province's log holds receipts to.
fn log_rules(config: &Config) -> LogRules {
    let window = config
        .province
        .as_ref()
        .map_or(Duration::from_secs(45 * 86_400), |p| p.late_receipt_window);
    LogRules {
        effective_allowance_minutes: config.receipts.effective_allowance_minutes(),
        late_window_seconds: i64::try_from(window.as_secs()).unwrap_or(i64::MAX),
    }
}

/// The province's evaluation config: the file the config names, or the built-in one.
fn evaluation_config(config: &Config) -> Result<EvaluationConfig, StartError> {
    let Some(path) = config.evaluation_path() else {
        return Ok(EvaluationConfig::builtin());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| StartError::Evaluation {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    EvaluationConfig::parse(&text).map_err(|e| StartError::Evaluation {
        path,
        reason: e.to_string(),
    })
}

/// Keeps this institution's availability digests current: at start, then every hour (a
/// new week starts on Monday in Asia/Shanghai).
async fn refresh_digests(catalogue: Catalogue, cancel: CancellationToken) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = every_hour.tick() => {
                match catalogue.refresh_digests(chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(digests = n, "availability digests republished"),
                    Err(e) => tracing::warn!(error = %e, "cannot refresh availability digests"),
                }
            }
        }
    }
}

impl NodeHandle {
    /// Where the web UI and API are served.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The UI's address as a URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.http_addr)
    }

    /// This node's PeerId.
    pub fn peer_id(&self) -> PeerId {
        self.net.peer_id()
    }

    /// Addresses others can dial, each ending in `/p2p/<peer id>`.
    pub fn p2p_addrs(&self) -> Vec<Multiaddr> {
        let peer = self.peer_id();
        self.net
            .state()
            .listen_addrs
            .into_iter()
            .map(|a| a.with(Protocol::P2p(peer)))
            .collect()
    }

    /// The network client.
    pub fn net(&self) -> &NetClient {
        &self.net
    }

    /// This node's accounts.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The board of needs and offers.
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// Entrusted-testing orders.
    pub fn orders(&self) -> &Orders {
        &self.orders
    }

    /// Photos of instruments.
    pub fn photos(&self) -> &Photos {
        &self.photos
    }

    /// Matching events: announced, registered for.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// The help desk: firms' requests and the service experts who answer them.
    pub fn help(&self) -> &HelpDesk {
        &self.help
    }

    /// Notices waiting to go out by e-mail and webhook.
    pub fn notices(&self) -> &Notices {
        &self.notices
    }

    /// Booking: the owner's ledger and requests to other owners.
    pub fn bookings(&self) -> &Bookings {
        &self.bookings
    }

    /// Mail to and from other members' nodes: the outbox, deliveries and dead letters.
    pub fn mail(&self) -> &Mail {
        &self.mail
    }

    /// The replicated catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Usage receipts: issued, received, submitted, and the province's log as watched.
    pub fn receipts(&self) -> &Receipts {
        &self.receipts
    }

    /// The receipt log, on the province node.
    pub fn receipt_log(&self) -> Option<&ReceiptLog> {
        self.province.as_ref().map(|p| &p.log)
    }

    /// Remote monitoring: agents' reports, heartbeats, and the province's board.
    pub fn monitoring(&self) -> &Monitoring {
        &self.monitoring
    }

    /// What the province publishes, on the province node.
    pub fn publication(&self) -> Option<&Publication> {
        self.province.as_ref().map(|p| &p.publication)
    }

    /// The certificate authority, on the province node.
    pub fn province(&self) -> Option<&ProvinceAuthority> {
        self.province.as_ref().map(|p| p.authority.as_ref())
    }

    /// This node's certificate.
    pub fn certificate(&self) -> &MembershipCertificate {
        &self.certificate
    }

    /// The config it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A token that is cancelled when the node shuts down.
    pub fn cancellation(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Background tasks that stopped while the node ran; any stops the node (its
    /// [`NodeHandle::cancellation`] fires), and `alliance run` then exits with an error.
    pub fn stopped_tasks(&self) -> Vec<StoppedTask> {
        self.supervisor.stopped()
    }

    /// Stops every task and waits for them.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "task ended abnormally");
            }
        }
        self.supervisor.finish_short_tasks().await;
        tracing::info!(institution = %self.config.node.institution_id, "node stopped");
    }
}

/// The delivery of notices over the channels `[notify]` configures, with their secrets
/// read from their files; links point at `notify.site_url`, or the address the web UI
/// listens on.
fn notice_delivery(
    config: &Config,
    notices: Notices,
    store: &Store,
    accounts: Accounts,
    http_addr: SocketAddr,
) -> Result<Delivery, StartError> {
    let notify = &config.notify;
    let secret = |file: &Option<std::path::PathBuf>| {
        file.as_ref()
            .map(|f| keyfile::read_private(&config.node.data_dir.join(f)))
            .transpose()
    };
    let password = secret(&notify.smtp_password_file)?;
    let webhook_secret = secret(&notify.webhook_secret_file)?;
    let bad = |e: crate::notify::ChannelError| StartError::Config(e.to_string());
    let site = notify
        .site_url
        .clone()
        .unwrap_or_else(|| format!("http://{http_addr}/"));
    Ok(Delivery {
        notices,
        prefs: Preferences::new(store.clone()),
        accounts,
        smtp: Smtp::from_config(notify, password).map_err(bad)?,
        webhook: Webhook::from_config(notify, webhook_secret.map(String::into_bytes))
            .map_err(bad)?,
        site: if site.ends_with('/') {
            site
        } else {
            format!("{site}/")
        },
    })
}
