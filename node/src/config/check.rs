//! Whether a config can run, and may: every value bounded, checked whole at start, each
//! refusal naming its field.

use super::*;

impl Config {
    /// Every check of a config file: what [`Config::check_runnable`] checks, and the
    /// floors that protect the alliance's rules (a confirmation grace shorter than
    /// `MIN_CONFIRMATION_GRACE` would send receipts single-signed before anyone could
    /// confirm them). The message names the field.
    pub fn check(&self) -> Result<(), String> {
        self.check_runnable()?;
        if self.receipts.confirmation_grace < MIN_CONFIRMATION_GRACE {
            return Err(format!(
                "receipts.confirmation_grace must be at least {}: users need time to confirm \
                 and rate a receipt before it goes to the province single-signed",
                humantime::format_duration(MIN_CONFIRMATION_GRACE)
            ));
        }
        Ok(())
    }

    /// What a node cannot run without: the role and its sections, addresses, every
    /// interval within its bounds (a zero interval would stop a background task, a huge
    /// one overflow a timer), and cookies marked `Secure` whenever the web UI is served
    /// beyond loopback. [`Node::start`](crate::Node::start) checks this much of any
    /// config, including one built in code.
    pub fn check_runnable(&self) -> Result<(), String> {
        match (self.node.role, &self.province) {
            (Role::Aggregator, None) => {
                return Err(
                    "role = \"aggregator\" needs a [province] section with the root key".into(),
                );
            }
            (Role::Member, Some(_)) => {
                return Err("a member node must not have a [province] section".into());
            }
            _ => {}
        }
        if self.network.listen.is_empty() {
            return Err("network.listen needs at least one address".into());
        }
        for (field, value, (min, max)) in self.intervals() {
            if value < min || value > max {
                return Err(format!(
                    "{field} must be between {} and {} (it is {})",
                    humantime::format_duration(min),
                    humantime::format_duration(max),
                    humantime::format_duration(value)
                ));
            }
        }
        if let Some(province) = &self.province
            && !(1..=MAX_VALID_DAYS).contains(&province.default_valid_days)
        {
            return Err(format!(
                "province.default_valid_days must be between 1 and {MAX_VALID_DAYS}"
            ));
        }
        for (field, value) in [
            ("http.max_connections", self.http.max_connections as u64),
            (
                "http.max_connections_per_address",
                self.http.max_connections_per_address as u64,
            ),
            (
                "http.expensive_per_minute",
                u64::from(self.http.expensive_per_minute),
            ),
        ] {
            let value = usize::try_from(value).unwrap_or(usize::MAX);
            if !(1..=MAX_HTTP_CONNECTIONS).contains(&value) {
                return Err(format!(
                    "{field} must be between 1 and {MAX_HTTP_CONNECTIONS}"
                ));
            }
        }
        if !self.http.listen.ip().is_loopback() && !self.http.secure_cookies {
            return Err(format!(
                "http.listen {} is not a loopback address, so http.secure_cookies must be true \
                 (serve the UI over HTTPS, e.g. behind a TLS-terminating reverse proxy)",
                self.http.listen
            ));
        }
        self.sign_in.check()?;
        self.notify.check()?;
        self.check_network_limits()
    }

    /// The limits against peers: each at least 1 (0 would refuse everything), and the
    /// per-address and per-peer limits within the total.
    pub fn check_network_limits(&self) -> Result<(), String> {
        let n = &self.network;
        let fields = [
            ("network.max_connections", n.max_connections),
            ("network.max_pending_connections", n.max_pending_connections),
            ("network.max_connections_per_ip", n.max_connections_per_ip),
            (
                "network.max_connections_per_peer",
                n.max_connections_per_peer,
            ),
            (
                "catalogue.gossip_records_per_hour",
                self.catalogue.gossip_records_per_hour,
            ),
            (
                "catalogue.gossip_digests_per_hour",
                self.catalogue.gossip_digests_per_hour,
            ),
            (
                "booking.remembered_cancels_per_home",
                self.booking.remembered_cancels_per_home,
            ),
        ];
        if let Some((field, _)) = fields.iter().find(|(_, value)| *value == 0) {
            return Err(format!("{field} must be at least 1"));
        }
        for (field, value) in [
            ("network.max_pending_connections", n.max_pending_connections),
            ("network.max_connections_per_ip", n.max_connections_per_ip),
            (
                "network.max_connections_per_peer",
                n.max_connections_per_peer,
            ),
        ] {
            if value > n.max_connections {
                return Err(format!(
                    "{field} ({value}) must not exceed network.max_connections ({})",
                    n.max_connections
                ));
            }
        }
        Ok(())
    }

    /// Every interval of the config with its name and bounds.
    fn intervals(&self) -> [(&'static str, Duration, (Duration, Duration)); 15] {
        let ms = Duration::from_millis;
        let secs = Duration::from_secs;
        const HOUR: u64 = 3600;
        const DAY: u64 = 24 * HOUR;
        [
            (
                "alliance.handshake_grace",
                self.alliance.handshake_grace,
                (secs(1), secs(300)),
            ),
            (
                "network.idle_connection_timeout",
                self.network.idle_connection_timeout,
                (secs(5), secs(DAY)),
            ),
            (
                "network.redial_interval",
                self.network.redial_interval,
                (ms(100), secs(DAY)),
            ),
            (
                "network.announce_interval",
                self.network.announce_interval,
                (ms(100), secs(HOUR)),
            ),
            (
                "catalogue.sync_interval",
                self.catalogue.sync_interval,
                (ms(100), secs(DAY)),
            ),
            (
                "catalogue.revision_wait",
                self.catalogue.revision_wait,
                (ms(100), secs(600)),
            ),
            (
                "booking.retry_interval",
                self.booking.retry_interval,
                (ms(100), secs(HOUR)),
            ),
            // The floor of the grace is a rule of the alliance, checked in `check`.
            (
                "receipts.confirmation_grace",
                self.receipts.confirmation_grace,
                (Duration::ZERO, secs(90 * DAY)),
            ),
            (
                "receipts.log_check_interval",
                self.receipts.log_check_interval,
                (ms(100), secs(DAY)),
            ),
            (
                "receipts.max_head_age",
                self.receipts.max_head_age,
                (secs(1), secs(DAY)),
            ),
            (
                "monitoring.heartbeat_interval",
                self.monitoring.heartbeat_interval,
                (ms(100), secs(DAY)),
            ),
            (
                "monitoring.silent_after",
                self.monitoring.silent_after,
                (secs(1), secs(7 * DAY)),
            ),
            (
                "http.header_read_timeout",
                self.http.header_read_timeout,
                (ms(100), secs(300)),
            ),
            (
                "http.request_timeout",
                self.http.request_timeout,
                (ms(100), secs(HOUR)),
            ),
            (
                "http.body_timeout",
                self.http.body_timeout,
                (ms(100), secs(300)),
            ),
        ]
    }
}
