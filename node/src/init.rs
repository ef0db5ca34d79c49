//! `alliance init`: creates a node's key, its documented config file, its first
//! administrator and — on the province node — the root key and the province's own
//! certificate.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use alliance_protocol::{InstitutionId, PublicKey, Role, SecretKey, armor};
use alliance_web::backend::{AccountError, AccountRole, NewAccount};

use crate::{
    accounts::Accounts,
    config::{Config, ConfigError, NODE_KEY_FILE},
    keyfile::{self, KeyFileError},
    province::{IssueRequest, ProvinceAuthority, ProvinceError},
    store::{Store, StoreError},
};

/// The config file `init` writes inside the data dir.
pub const CONFIG_FILE: &str = "alliance.toml";

/// What to set up.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub role: Role,
    pub institution_id: InstitutionId,
    pub name_zh: String,
    pub name_en: String,
    pub region: String,
    pub data_dir: PathBuf,
    /// Members: the province's root public key. Ignored for the province (it makes one).
    pub root_public_key: Option<PublicKey>,
    pub p2p_listen: Vec<String>,
    pub bootstrap: Vec<String>,
    pub http_listen: SocketAddr,
    /// The first administrator.
    pub admin_username: String,
    pub admin_password: String,
}

/// What was set up.
#[derive(Debug)]
pub struct Initialized {
    pub config_path: PathBuf,
    pub config: Config,
    pub node_public_key: PublicKey,
    pub root_public_key: PublicKey,
}

/// Why set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} already holds a node (config or key present); refusing to overwrite it")]
    AlreadyInitialised(PathBuf),
    #[error("a member needs --root-public-key: the province's root public key")]
    NoRootKey,
    #[error(transparent)]
    Key(#[from] KeyFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Province(#[from] ProvinceError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("first administrator: {0}")]
    Admin(AccountError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn write_file(path: &Path, text: &str) -> Result<(), InitError> {
    std::fs::write(path, text).map_err(|source| InitError::Io {
        path: path.to_owned(),
        source,
    })
}

fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The documented config file text.
fn config_text(opts: &InitOptions, root: &PublicKey) -> String {
    let province = if opts.role == Role::Aggregator {
        "\n# Only on the province's node: the root key that signs certificates and rosters.\n\
         # Keep a backup of it offline; whoever holds it controls alliance membership.\n\
         [province]\nroot_key = \"root.key\"\n# Validity of certificates issued when none is asked for.\ndefault_valid_days = 730\n"
    } else {
        ""
    };
    format!(
        r#"# Configuration of an instrument sharing alliance node.
# Relative paths are relative to this file's directory. Unknown fields are refused.

[node]
# The institution's short id: lowercase letters, digits and '-'.
institution_id = "{id}"
# The institution's names, as shown to users.
name_zh = {name_zh:?}
name_en = {name_en:?}
# Administrative region.
region = {region:?}
# "member" for an institution, "aggregator" for the province.
role = "{role}"
# Keys, certificate and database live here.
data_dir = "."

[alliance]
# The province root public key: the alliance's trust anchor.
root_public_key = "{root}"
# This node's membership certificate, issued by the province (relative to data_dir).
certificate = "node.cert"
# How long a newly connected peer has to prove membership.
handshake_grace = "5s"

[network]
# Where to listen for peers (TCP and QUIC). Open these ports in the firewall.
listen = {listen}
# Peers to contact at start, usually the province: "/ip4/<ip>/tcp/<port>/p2p/<peer id>".
bootstrap = {bootstrap}
# Addresses at which peers can reach this node from outside, if it is behind NAT.
external_addresses = []
# Close a connection after this long without use.
idle_connection_timeout = "5m"
# How often to re-dial bootstrap peers that are not connected.
redial_interval = "15s"
# How often to gossip this node's signed "I am here" (shown on other nodes' status pages).
announce_interval = "30s"

[http]
# The web UI and API. Loopback by default: put an HTTPS reverse proxy in front to publish it.
listen = "{http}"
# Set to true when users reach the node over HTTPS (required when listen is not loopback).
secure_cookies = {secure}
{province}"#,
        id = opts.institution_id,
        name_zh = opts.name_zh,
        name_en = opts.name_en,
        region = opts.region,
        role = opts.role,
        root = root,
        listen = toml_list(&opts.p2p_listen),
        bootstrap = toml_list(&opts.bootstrap),
        http = opts.http_listen,
        // A UI served beyond loopback is reached through HTTPS: cookies must say so.
        secure = !opts.http_listen.ip().is_loopback(),
    )
}

/// Sets up a node in `opts.data_dir`.
pub async fn init(opts: InitOptions) -> Result<Initialized, InitError> {
    let config_path = opts.data_dir.join(CONFIG_FILE);
    let key_path = opts.data_dir.join(NODE_KEY_FILE);
    if config_path.exists() || key_path.exists() {
        return Err(InitError::AlreadyInitialised(opts.data_dir.clone()));
    }
    if opts.role == Role::Member && opts.root_public_key.is_none() {
        return Err(InitError::NoRootKey);
    }
    crate::private_dir::create(&opts.data_dir).map_err(|source| InitError::Io {
        path: opts.data_dir.clone(),
        source,
    })?;
    let node_key = SecretKey::generate();
    keyfile::write_new(&key_path, &node_key)?;
    let root_key = match opts.role {
        Role::Aggregator => {
            let root = SecretKey::generate();
            keyfile::write_new(&opts.data_dir.join("root.key"), &root)?;
            Some(root)
        }
        Role::Member => None,
    };
    let root_public = match (&root_key, opts.root_public_key) {
        (Some(root), _) => root.public(),
        (None, Some(public)) => public,
        (None, None) => return Err(InitError::NoRootKey),
    };
    write_file(&config_path, &config_text(&opts, &root_public))?;
    let config = Config::load(&config_path)?;
    let store = Store::open(&config.store_path())?;
    if let Some(root) = root_key {
        let authority = ProvinceAuthority::new(root, store.clone());
        let (cert, _) = authority
            .issue(IssueRequest {
                institution_id: opts.institution_id.clone(),
                name_zh: opts.name_zh.clone(),
                name_en: opts.name_en.clone(),
                region: opts.region.clone(),
                node_public_key: node_key.public(),
                role: Role::Aggregator,
                valid_days: 3650,
                member_since: None,
            })
            .await?;
        write_file(
            &config.certificate_path(),
            &armor::encode(armor::CERTIFICATE_LABEL, &cert.encode()),
        )?;
    }
    let admin_role = match opts.role {
        Role::Aggregator => AccountRole::ProvinceAdmin,
        Role::Member => AccountRole::InstitutionAdmin,
    };
    Accounts::new(store)
        .create(NewAccount {
            username: opts.admin_username.clone(),
            password: opts.admin_password.clone(),
            display_name: format!("{} 管理员", opts.name_zh),
            role: admin_role,
            organization: opts.name_zh.clone(),
            email: String::new(),
            phone: String::new(),
        })
        .await
        .map_err(InitError::Admin)?;
    Ok(Initialized {
        config_path,
        config,
        node_public_key: node_key.public(),
        root_public_key: root_public,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn options(dir: &Path, role: Role, root: Option<PublicKey>) -> InitOptions {
        InitOptions {
            role,
            institution_id: "lnst".parse().unwrap(),
            name_zh: "辽宁省科学技术厅".into(),
            name_en: "Liaoning Department of Science and Technology".into(),
            region: "辽宁省沈阳市".into(),
            data_dir: dir.to_owned(),
            root_public_key: root,
            p2p_listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            bootstrap: vec![],
            http_listen: "127.0.0.1:0".parse().unwrap(),
            admin_username: "admin".into(),
            admin_password: "a long admin password".into(),
        }
    }

    #[tokio::test]
    async fn province_init_makes_a_loadable_config_and_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let done = init(options(dir.path(), Role::Aggregator, None))
            .await
            .unwrap();
        let config = Config::load(&done.config_path).unwrap();
        assert_eq!(config.alliance.root_public_key, done.root_public_key);
        let cert = crate::node::load_certificate(&config, &done.node_public_key).unwrap();
        assert_eq!(cert.certificate().role, Role::Aggregator);
        assert!(matches!(
            init(options(dir.path(), Role::Aggregator, None)).await,
            Err(InitError::AlreadyInitialised(_))
        ));
    }

    #[tokio::test]
    async fn member_init_needs_the_root_key() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            init(options(dir.path(), Role::Member, None)).await,
            Err(InitError::NoRootKey)
        ));
    }
}
