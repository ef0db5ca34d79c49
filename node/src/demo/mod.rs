//! `alliance demo`: a province node and three member institutions of Liaoning on loopback,
//! with certificates, demo accounts for every role, and the UI addresses printed.
//!
//! Each member starts with 30–60 real instruments of its field (`demo/seed.rs`, data in
//! `demo/instruments.toml`); those under 300,000 RMB wait in the province's review queue.
//! On first start, each member's researcher and firm book other members' instruments
//! over the network (`demo/bookings.rs`), some confirmed, some awaiting approval, and a
//! year of sessions is recorded with their receipts (`demo/history.rs`), so the
//! province's log and published results have a year to show. Simulated agents report
//! most instruments' states every 20 seconds (`demo/agents.rs`). The nodes' e-mail
//! notices go to the demo's own mail server, whose page shows them
//! (`demo/mail_catcher.rs`); every demo account has an address there.
//!
//! The data dir is kept: running the demo again with the same `--data-dir` restarts the
//! same alliance with its keys, accounts, roster and catalogue.

mod agents;
mod board;
mod bookings;
mod history;
mod mail_catcher;
mod publish;
mod seed;

use std::path::{Path, PathBuf};

use alliance_protocol::{InstitutionId, Role, armor};
use alliance_web::backend::{AccountError, AccountRole, NewAccount};

use crate::{
    config::Config,
    init::{self, CONFIG_FILE, InitError, InitOptions},
    node::{Node, NodeHandle, StartError},
    province::{IssueRequest, ProvinceError},
};

/// The password of every demo account. The demo binds to loopback only.
pub const DEMO_PASSWORD: &str = "alliance-demo-2026";

/// An institution of the demo.
#[derive(Debug, Clone, Copy)]
pub struct DemoInstitution {
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub region: &'static str,
    pub role: Role,
}

/// The province and three members.
pub const INSTITUTIONS: [DemoInstitution; 4] = [
    DemoInstitution {
        id: "lnsti",
        name_zh: "辽宁省科学技术厅",
        name_en: "Liaoning Provincial Department of Science and Technology",
        region: "辽宁省沈阳市",
        role: Role::Aggregator,
    },
    DemoInstitution {
        id: "dlut",
        name_zh: "大连理工大学",
        name_en: "Dalian University of Technology",
        region: "辽宁省大连市",
        role: Role::Member,
    },
    DemoInstitution {
        id: "neu",
        name_zh: "东北大学",
        name_en: "Northeastern University",
        region: "辽宁省沈阳市",
        role: Role::Member,
    },
    DemoInstitution {
        id: "imr",
        name_zh: "中国科学院金属研究所",
        name_en: "Institute of Metal Research, Chinese Academy of Sciences",
        region: "辽宁省沈阳市",
        role: Role::Member,
    },
];

/// A demo account.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub institution: &'static str,
    pub username: String,
    pub role: AccountRole,
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Init(#[from] InitError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Province(#[from] ProvinceError),
    #[error("config: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("demo account: {0}")]
    Account(AccountError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Id(#[from] alliance_protocol::IdError),
    #[error("the province node has no listen address")]
    NoProvinceAddress,
    #[error(transparent)]
    Seed(#[from] seed::SeedError),
    #[error("demo instrument: {0}")]
    Catalogue(#[from] crate::catalogue::CatalogueError),
}

/// The running demo.
#[derive(Debug)]
pub struct Demo {
    pub data_dir: PathBuf,
    pub nodes: Vec<NodeHandle>,
    pub logins: Vec<DemoLogin>,
    /// Where the mail the demo sent is shown.
    pub mail_page: String,
    /// Stops the demo's mail server.
    stop_mail: tokio_util::sync::CancellationToken,
    /// How far the seeding of the year of history has got.
    history: tokio::sync::watch::Receiver<HistoryStage>,
}

/// How far the demo's year of history has got on a first start (a restart finds it
/// done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryStage {
    /// Until the province holds every member's instruments.
    Waiting,
    /// Managers record the year's sessions; receipts go to the log.
    Recording,
    /// Users' homes confirm or dispute other members' receipts.
    Confirming,
    /// The province publishes the last ended quarter; a paper registered after it.
    Publishing,
    Done,
    /// The story stopped short, and why.
    Failed(String),
}

/// Sends the node's notices to the demo's mail server (every start: the server's port
/// is new each time).
fn with_demo_mail(mut config: Config, mail: &mail_catcher::MailCatcher) -> Config {
    config.notify.smtp_url = Some(mail.smtp_url.clone());
    config.notify.from = Some("辽宁省大型科研仪器开放共享联盟 <noreply@alliance.demo>".into());
    config
}

fn options(
    inst: &DemoInstitution,
    dir: &Path,
    bootstrap: Vec<String>,
) -> Result<InitOptions, DemoError> {
    Ok(InitOptions {
        role: inst.role,
        institution_id: parse_id(inst.id)?,
        name_zh: inst.name_zh.into(),
        name_en: inst.name_en.into(),
        region: inst.region.into(),
        data_dir: dir.to_owned(),
        root_public_key: None,
        p2p_listen: vec![
            "/ip4/127.0.0.1/tcp/0".into(),
            "/ip4/127.0.0.1/udp/0/quic-v1".into(),
        ],
        bootstrap,
        http_listen: ([127, 0, 0, 1], 0).into(),
        admin_username: "admin".into(),
        admin_password: DEMO_PASSWORD.into(),
    })
}

fn parse_id(id: &str) -> Result<InstitutionId, DemoError> {
    Ok(id.parse()?)
}

/// The accounts each demo institution gets besides `admin`.
fn demo_accounts(inst: &DemoInstitution) -> Vec<(String, AccountRole, String)> {
    match inst.role {
        Role::Aggregator => vec![],
        Role::Member => vec![
            (
                format!("{}-manager", inst.id),
                AccountRole::InstrumentManager,
                "仪器管理员".into(),
            ),
            (
                format!("{}-researcher", inst.id),
                AccountRole::Researcher,
                "科研人员".into(),
            ),
            (
                format!("{}-firm", inst.id),
                AccountRole::ExternalUser,
                "企业用户".into(),
            ),
            (
                format!("{}-expert", inst.id),
                AccountRole::ServiceExpert,
                "服务专家".into(),
            ),
        ],
    }
}

/// Loads the config of an already set-up node, or sets it up.
async fn config_for(
    inst: &DemoInstitution,
    dir: &Path,
    bootstrap: Vec<String>,
    root: Option<alliance_protocol::PublicKey>,
) -> Result<(Config, bool), DemoError> {
    let path = dir.join(CONFIG_FILE);
    if path.exists() {
        let mut config = Config::load(&path)?;
        config.network.bootstrap = bootstrap;
        return Ok((config, false));
    }
    let mut opts = options(inst, dir, bootstrap)?;
    opts.root_public_key = root;
    Ok((init::init(opts).await?.config, true))
}

/// Starts the demo alliance in `data_dir`.
pub async fn start(data_dir: &Path) -> Result<Demo, DemoError> {
    let stop_mail = tokio_util::sync::CancellationToken::new();
    let mail = mail_catcher::start(stop_mail.clone())
        .await
        .map_err(|source| DemoError::Io {
            path: PathBuf::from("127.0.0.1"),
            source,
        })?;
    let mut nodes = Vec::new();
    let mut logins = Vec::new();
    // Members set up by this run, whose users get a few bookings to start with.
    let mut fresh_members = Vec::new();
    let mut history_members = Vec::new();
    let mut board_members = Vec::new();
    let province_inst = &INSTITUTIONS[0];
    let (mut config, _) = config_for(
        province_inst,
        &data_dir.join(province_inst.id),
        vec![],
        None,
    )
    .await?;
    // The demo records a year of use at its first start, so its province takes receipts
    // of uses up to that long ago (a real one refuses them after 45 days).
    if let Some(province) = config.province.as_mut() {
        province.late_receipt_window = std::time::Duration::from_secs(400 * 86_400);
    }
    let root = config.alliance.root_public_key;
    let province = Node::start(with_demo_mail(config, &mail)).await?;
    logins.push(DemoLogin {
        institution: province_inst.id,
        username: "admin".into(),
        role: AccountRole::ProvinceAdmin,
    });
    let bootstrap: Vec<String> = province
        .p2p_addrs()
        .into_iter()
        .filter(|a| a.to_string().contains("/tcp/"))
        .map(|a| a.to_string())
        .collect();
    if bootstrap.is_empty() {
        return Err(DemoError::NoProvinceAddress);
    }
    for inst in &INSTITUTIONS[1..] {
        let dir = data_dir.join(inst.id);
        let (config, fresh) = config_for(inst, &dir, bootstrap.clone(), Some(root)).await?;
        if !config.certificate_path().exists() {
            let node_key = crate::keyfile::read(&config.node_key_path())
                .map_err(|e| DemoError::Start(e.into()))?;
            let authority = province.province().ok_or(DemoError::NoProvinceAddress)?;
            let (cert, roster) = authority
                .issue(IssueRequest {
                    institution_id: parse_id(inst.id)?,
                    name_zh: inst.name_zh.into(),
                    name_en: inst.name_en.into(),
                    region: inst.region.into(),
                    node_public_key: node_key.public(),
                    role: Role::Member,
                    valid_days: 365,
                    // Members since before the year of history the demo shows.
                    member_since: Some(alliance_protocol::UnixTime(
                        alliance_protocol::UnixTime::now().0 - 400 * 86_400,
                    )),
                })
                .await?;
            let path = config.certificate_path();
            std::fs::write(
                &path,
                armor::encode(armor::CERTIFICATE_LABEL, &cert.encode()),
            )
            .map_err(|source| DemoError::Io { path, source })?;
            if let Err(e) = province.net().offer_roster(roster.encode()).await {
                tracing::warn!(error = %e, "roster not published");
            }
        }
        let node = Node::start(with_demo_mail(config, &mail)).await?;
        if fresh {
            for record in seed::instruments_of(inst.id)? {
                node.catalogue().save_record(record).await?;
            }
            fresh_members.push(bookings::Member {
                id: inst.id,
                name_zh: inst.name_zh,
                bookings: node.bookings().clone(),
                catalogue: node.catalogue().clone(),
            });
            board_members.push(board::Member {
                id: inst.id,
                catalogue: node.catalogue().clone(),
                net: node.net().clone(),
                board: node.board().clone(),
                orders: node.orders().clone(),
                help: node.help().clone(),
                events: node.events().clone(),
                firm: alliance_protocol::order::OrderContact {
                    user_id: format!("{}-firm", inst.id),
                    name: format!("{}企业用户", inst.name_zh),
                    organization: "大连华信新材料有限公司".into(),
                    email: format!("{}-firm@{}.alliance.demo", inst.id, inst.id),
                    phone: String::new(),
                },
            });
            history_members.push(history::Member {
                own: node.certificate().institution_id.clone(),
                bookings: node.bookings().clone(),
                receipts: node.receipts().clone(),
                catalogue: node.catalogue().clone(),
            });
        }
        tokio::spawn(agents::run(
            node.monitoring().clone(),
            node.catalogue().clone(),
            node.cancellation(),
        ));
        logins.push(DemoLogin {
            institution: inst.id,
            username: "admin".into(),
            role: AccountRole::InstitutionAdmin,
        });
        for (username, role, label) in demo_accounts(inst) {
            if fresh {
                node.accounts()
                    .create(NewAccount {
                        username: username.clone(),
                        password: DEMO_PASSWORD.into(),
                        display_name: format!("{}{}", inst.name_zh, label),
                        role,
                        organization: if role == AccountRole::ExternalUser {
                            "大连华信新材料有限公司".into()
                        } else {
                            inst.name_zh.into()
                        },
                        email: format!("{username}@{}.alliance.demo", inst.id),
                        phone: String::new(),
                    })
                    .await
                    .map_err(DemoError::Account)?;
                // The demo's firm, as its approving administrator set it: a firm, with
                // its unified social credit code.
                if role == AccountRole::ExternalUser {
                    node.accounts()
                        .set_price_category(
                            &username,
                            alliance_web::backend::PriceCategory::Enterprise {
                                credit_code: "91210200MA0QC8XK1J".into(),
                            },
                        )
                        .await
                        .map_err(DemoError::Account)?;
                }
            }
            logins.push(DemoLogin {
                institution: inst.id,
                username,
                role,
            });
        }
        nodes.push(node);
    }
    let (history_stage, history) = tokio::sync::watch::channel(if fresh_members.is_empty() {
        HistoryStage::Done
    } else {
        HistoryStage::Waiting
    });
    if !fresh_members.is_empty() {
        tokio::spawn(bookings::seed(fresh_members));
        tokio::spawn(board::seed(board_members, province.events().clone()));
        tokio::spawn(seed_history(
            province.catalogue().clone(),
            province.publication().cloned(),
            history_members,
            history_stage,
        ));
    }
    nodes.insert(0, province);
    Ok(Demo {
        data_dir: data_dir.to_owned(),
        nodes,
        logins,
        mail_page: mail.page_url,
        stop_mail,
        history,
    })
}

/// Seeds a year of history once the province's catalogue holds every member's
/// instruments (receipts of instruments it does not know yet would be refused for now).
async fn seed_history(
    province: crate::catalogue::Catalogue,
    publication: Option<crate::province::publication::Publication>,
    members: Vec<history::Member>,
    stage: tokio::sync::watch::Sender<HistoryStage>,
) {
    let expected: usize = members
        .iter()
        .map(|m| m.catalogue.institution_views(&m.own).len())
        .sum();
    let mut changes = province.changes();
    let known = |c: &crate::catalogue::Catalogue| {
        members
            .iter()
            .map(|m| c.institution_views(&m.own).len())
            .sum::<usize>()
    };
    let synced = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        while known(&province) < expected {
            if changes.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    if synced.is_err() {
        tracing::warn!("the province has not seen every demo instrument; seeding history anyway");
    }
    stage.send_replace(HistoryStage::Recording);
    let ids: Vec<String> = members.iter().map(|m| m.own.to_string()).collect();
    let mut issued = 0;
    for member in &members {
        let others: Vec<&str> = ids
            .iter()
            .map(String::as_str)
            .filter(|id| *id != member.own.as_str())
            .collect();
        issued += history::seed_member(member, &others).await;
    }
    tracing::info!(receipts = issued, "demo history recorded");
    stage.send_replace(HistoryStage::Confirming);
    futures::future::join_all(members.iter().map(history::confirm_from_others)).await;
    let Some(publication) = publication else {
        stage.send_replace(HistoryStage::Done);
        return;
    };
    stage.send_replace(HistoryStage::Publishing);
    let outcome = publish::publish_then_correct(publication, &members).await;
    stage.send_replace(match outcome {
        Ok(()) => HistoryStage::Done,
        Err(why) => HistoryStage::Failed(why),
    });
}

impl Demo {
    /// The text printed for the person who started the demo.
    pub fn banner(&self) -> String {
        let mut out = String::from("辽宁省大型科研仪器开放共享联盟 — demo alliance is running\n\n");
        for (node, inst) in self.nodes.iter().zip(INSTITUTIONS.iter()) {
            out.push_str(&format!(
                "  {:<6} {} ({})\n         UI: {}\n",
                inst.id,
                inst.name_zh,
                inst.role,
                node.url()
            ));
        }
        out.push_str(&format!(
            "\nDemo logins (password for all: {DEMO_PASSWORD}):\n"
        ));
        for login in &self.logins {
            out.push_str(&format!(
                "  {:<6} {:<18} {}\n",
                login.institution,
                login.username,
                login.role.as_str()
            ));
        }
        out.push_str(&format!(
            "\nMail the demo sent (notices to its accounts):\n         Mail: {}\n",
            self.mail_page
        ));
        out.push_str(&format!(
            "\nData: {}\nPress Ctrl-C to stop.\n",
            self.data_dir.display()
        ));
        out
    }

    /// Stops every node.
    /// Follows the seeding of the year of history.
    pub fn history(&self) -> tokio::sync::watch::Receiver<HistoryStage> {
        self.history.clone()
    }

    pub async fn shutdown(self) {
        for node in self.nodes.into_iter().rev() {
            node.shutdown().await;
        }
        self.stop_mail.cancel();
    }
}
