//! Command-line interface of the `alliance` binary.

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf};

use alliance_node::{
    Config, Node,
    accounts::Accounts,
    control::{self, IssuedResponse, RevokeRequest, RevokedResponse},
    demo, init, keyfile,
    province::{IssueRequest, ProvinceAuthority},
    store::Store,
};
use alliance_protocol::{InstitutionId, PublicKey, Role, armor};
use alliance_web::backend::{AccountRole, NewAccount};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

/// 辽宁省大型科研仪器开放共享联盟 — a node of the instrument sharing alliance.
#[derive(Debug, Parser)]
#[command(name = "alliance", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum InitRole {
    /// The province's aggregator node (creates the alliance's root key).
    Province,
    /// A member institution's node.
    Member,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set up a node: key (mode 0600), documented config file, first administrator.
    Init {
        #[arg(long, value_enum)]
        role: InitRole,
        #[arg(long)]
        institution_id: InstitutionId,
        #[arg(long)]
        name_zh: String,
        #[arg(long)]
        name_en: String,
        #[arg(long, default_value = "")]
        region: String,
        #[arg(long)]
        data_dir: PathBuf,
        /// Members: the province's root public key (64 hex digits).
        #[arg(long)]
        root_public_key: Option<PublicKey>,
        /// P2P listen addresses.
        #[arg(long, default_values_t = ["/ip4/0.0.0.0/tcp/4100".to_owned(), "/ip4/0.0.0.0/udp/4100/quic-v1".to_owned()])]
        listen: Vec<String>,
        /// Peers to contact at start (usually the province), with `/p2p/<peer id>`.
        #[arg(long)]
        bootstrap: Vec<String>,
        /// Where the web UI listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        http_listen: SocketAddr,
        /// The first administrator's username. Its password is read from
        /// ALLIANCE_ADMIN_PASSWORD, or generated and printed once.
        #[arg(long, default_value = "admin")]
        admin_username: String,
    },
    /// The province's certificate authority.
    Province {
        #[command(subcommand)]
        command: ProvinceCommand,
    },
    /// Run a node until interrupted.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Show a running node's status.
    Status {
        #[arg(long)]
        config: PathBuf,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check a period's published results from public data: download the province's
    /// signed statement, its evidence and the log's entries, verify every signature and
    /// the log's root, recompute every score and grade, and print any difference.
    VerifyResults {
        /// The province node's web address, e.g. `http://127.0.0.1:8080`.
        #[arg(long)]
        from: String,
        /// `2026` or `2026-Q3`; empty: the current year (provisional until published).
        #[arg(long, default_value = "")]
        period: String,
        /// The province's root public key (64 hex digits) as you hold it; without it the
        /// key the server gives is used, and the output says so.
        #[arg(long)]
        root_public_key: Option<PublicKey>,
    },
    /// Start a province node and three member institutions on loopback.
    Demo {
        /// Where the demo keeps its data (kept between runs); default: a new temp dir.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum ProvinceCommand {
    /// Issue a membership certificate for a node key; the roster includes it at once.
    IssueCert {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        node_public_key: PublicKey,
        #[arg(long)]
        institution_id: InstitutionId,
        #[arg(long)]
        name_zh: String,
        #[arg(long)]
        name_en: String,
        #[arg(long, default_value = "")]
        region: String,
        #[arg(long, value_enum, default_value = "member")]
        role: CertRole,
        #[arg(long, default_value_t = 730)]
        valid_days: u32,
        /// Write the certificate here (default: print it).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Revoke a certificate by serial; members disconnect the node at once.
    Revoke {
        #[arg(long)]
        config: PathBuf,
        serial: u64,
    },
    /// List issued certificates.
    List {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CertRole {
    Member,
    Aggregator,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add an active account. The password is read from ALLIANCE_PASSWORD, or generated
    /// and printed once.
    Add {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: AccountRole,
        #[arg(long)]
        display_name: String,
        #[arg(long, default_value = "")]
        organization: String,
        #[arg(long, default_value = "")]
        email: String,
    },
}

/// Runs one command.
pub(crate) async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init {
            role,
            institution_id,
            name_zh,
            name_en,
            region,
            data_dir,
            root_public_key,
            listen,
            bootstrap,
            http_listen,
            admin_username,
        } => {
            let (password, generated) = password_from_env("ALLIANCE_ADMIN_PASSWORD");
            let done = init::init(init::InitOptions {
                role: match role {
                    InitRole::Province => Role::Aggregator,
                    InitRole::Member => Role::Member,
                },
                institution_id,
                name_zh,
                name_en,
                region,
                data_dir,
                root_public_key,
                p2p_listen: listen,
                bootstrap,
                http_listen,
                admin_username: admin_username.clone(),
                admin_password: password.clone(),
            })
            .await?;
            say(&format!("config:          {}", done.config_path.display()));
            say(&format!("node public key: {}", done.node_public_key));
            say(&format!("root public key: {}", done.root_public_key));
            if generated {
                say(&format!(
                    "administrator:   {admin_username} / {password}  (shown once; change it after signing in)"
                ));
            }
            if matches!(role, InitRole::Member) {
                say(
                    "\nNext: send the node public key to the province, which runs\n  alliance province issue-cert --node-public-key <key> --institution-id <id> ...\nand place the certificate it returns at <data dir>/node.cert, then `alliance run`.",
                );
            }
            Ok(())
        }
        Command::Province { command } => province(command).await,
        Command::Run { config } => {
            let config = Config::load(&config)?;
            let node = Node::start(config).await?;
            say(&format!("node running; UI at {}", node.url()));
            let stopping = node.cancellation();
            tokio::select! {
                () = wait_for_signal() => {}
                // A background task died: stop, so the service manager restarts the node.
                () = stopping.cancelled() => {}
            }
            let stopped = node.stopped_tasks();
            node.shutdown().await;
            match stopped.first() {
                None => Ok(()),
                Some(task) => anyhow::bail!(
                    "the node stopped because its {} task stopped ({})",
                    task.name,
                    task.reason
                ),
            }
        }
        Command::Status { config } => {
            let config = Config::load(&config)?;
            let url = format!("http://{}/api/v1/status", local_http(&config));
            let status: serde_json::Value = reqwest::get(&url)
                .await
                .with_context(|| format!("is the node running? cannot reach {url}"))?
                .json()
                .await?;
            say(&serde_json::to_string_pretty(&status)?);
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    config,
                    username,
                    role,
                    display_name,
                    organization,
                    email,
                },
        } => {
            let config = Config::load(&config)?;
            let (password, generated) = password_from_env("ALLIANCE_PASSWORD");
            let account = NewAccount {
                username: username.clone(),
                password: password.clone(),
                display_name,
                role,
                organization,
                email,
                phone: String::new(),
            };
            if node_is_running(&config).await {
                let _: serde_json::Value =
                    control_post(&config, "/control/v1/accounts", &account).await?;
            } else {
                Accounts::new(Store::open(&config.store_path())?)
                    .create(account)
                    .await?;
            }
            say(&format!("account {username} created ({})", role.as_str()));
            if generated {
                say(&format!("password: {password}  (shown once)"));
            }
            Ok(())
        }
        Command::VerifyResults {
            from,
            period,
            root_public_key,
        } => verify_results(&from, &period, root_public_key).await,
        Command::Demo { data_dir } => {
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => std::env::temp_dir().join(format!(
                    "alliance-demo-{}",
                    chrono::Utc::now().format("%Y%m%d-%H%M%S")
                )),
            };
            let running = demo::start(&data_dir).await?;
            say(&running.banner());
            // The year of history fills in behind the running nodes: say how far it is.
            let mut history = running.history();
            tokio::spawn(async move {
                loop {
                    let stage = history.borrow_and_update().clone();
                    let line = match &stage {
                        demo::HistoryStage::Waiting => "history: waiting for the catalogue…",
                        demo::HistoryStage::Recording => "history: recording a year of use…",
                        demo::HistoryStage::Confirming => "history: users confirming receipts…",
                        demo::HistoryStage::Publishing => "history: publishing the last quarter…",
                        demo::HistoryStage::Done => "history: ready",
                        demo::HistoryStage::Failed(why) => {
                            say(&format!("history: stopped short: {why}"));
                            return;
                        }
                    };
                    say(line);
                    if stage == demo::HistoryStage::Done || history.changed().await.is_err() {
                        return;
                    }
                }
            });
            wait_for_signal().await;
            say("stopping…");
            running.shutdown().await;
            Ok(())
        }
    }
}

/// `alliance verify-results`: prints what was checked and every figure that differs;
/// fails if anything does not check or differs.
async fn verify_results(from: &str, period: &str, root: Option<PublicKey>) -> Result<()> {
    let started = std::time::Instant::now();
    let progress = |line: &str| eprintln!("{line}");
    let fetched = alliance_node::verify::fetch(from, period, root, &progress).await?;
    if fetched.root_from_server {
        say(&format!(
            "note: using the root key the server gave ({}); pass --root-public-key with the one you hold to check it",
            fetched.root
        ));
    }
    let report = tokio::task::spawn_blocking(move || {
        alliance_node::verify::check(
            &fetched.root,
            &fetched.signed_statement,
            &fetched.figures,
            &fetched.evidence,
            &fetched.entries,
        )
    })
    .await??;
    let s = &report.statement;
    say(&format!(
        "{} {}: statement signed by the province at {} ({}), {} log entries (root {}), {} evidence items: every signature checks",
        if s.published {
            "published"
        } else {
            "provisional"
        },
        s.period,
        s.issued_at.0,
        s.judged_on,
        report.entries,
        hex::encode(s.log_root),
        report.evidence_items,
    ));
    for d in &report.differences {
        let at = if d.instrument.is_empty() {
            &d.institution
        } else {
            &d.instrument
        };
        say(&format!(
            "DIFFERS {at} {}: stated {} recomputed {}",
            d.figure, d.first, d.second
        ));
    }
    for (institution, stated, recomputed) in &report.sanctions {
        say(&format!(
            "DIFFERS {institution} sanctions: stated {stated:?} recomputed {recomputed:?}"
        ));
    }
    say(&format!(
        "checked in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    if report.agrees() {
        say("every figure agrees");
        Ok(())
    } else {
        anyhow::bail!(
            "{} figures and {} sanctions differ",
            report.differences.len(),
            report.sanctions.len()
        )
    }
}

async fn province(command: ProvinceCommand) -> Result<()> {
    match command {
        ProvinceCommand::IssueCert {
            config,
            node_public_key,
            institution_id,
            name_zh,
            name_en,
            region,
            role,
            valid_days,
            out,
        } => {
            let config = Config::load(&config)?;
            let request = IssueRequest {
                institution_id,
                name_zh,
                name_en,
                region,
                node_public_key,
                role: match role {
                    CertRole::Member => Role::Member,
                    CertRole::Aggregator => Role::Aggregator,
                },
                valid_days,
                member_since: None,
            };
            let issued: IssuedResponse = if node_is_running(&config).await {
                control_post(&config, "/control/v1/certificates", &request).await?
            } else {
                let (cert, roster) = authority(&config)?.issue(request).await?;
                IssuedResponse {
                    serial: cert.certificate().serial,
                    certificate: armor::encode(armor::CERTIFICATE_LABEL, &cert.encode()),
                    roster_version: roster.roster().version,
                }
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, &issued.certificate)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    say(&format!(
                        "certificate serial {} written to {} (roster version {})",
                        issued.serial,
                        path.display(),
                        issued.roster_version
                    ));
                }
                None => say(&issued.certificate),
            }
            Ok(())
        }
        ProvinceCommand::Revoke { config, serial } => {
            let config = Config::load(&config)?;
            let version = if node_is_running(&config).await {
                let r: RevokedResponse = control_post(
                    &config,
                    "/control/v1/revocations",
                    &RevokeRequest { serial },
                )
                .await?;
                r.roster_version
            } else {
                authority(&config)?.revoke(serial).await?.roster().version
            };
            say(&format!(
                "serial {serial} revoked; roster version {version}"
            ));
            Ok(())
        }
        ProvinceCommand::List { config } => {
            let config = Config::load(&config)?;
            if node_is_running(&config).await {
                bail!("stop the node first, or see the certificates in the web UI");
            }
            for cert in authority(&config)?.issued()? {
                say(&format!(
                    "{:>5}  {:<12} {:<10} {}  until {}{}",
                    cert.serial,
                    cert.institution_id,
                    cert.role,
                    cert.node_public_key.short(),
                    chrono::DateTime::from_timestamp(cert.not_after.0, 0)
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                    if cert.revoked { "  REVOKED" } else { "" }
                ));
            }
            Ok(())
        }
    }
}

fn authority(config: &Config) -> Result<ProvinceAuthority> {
    let path = config
        .root_key_path()
        .context("this config is not the province's: it has no [province] section")?;
    let root = keyfile::read(&path)?;
    Ok(ProvinceAuthority::new(
        root,
        Store::open(&config.store_path())?,
    ))
}

/// The node's HTTP address as reachable from this machine.
fn local_http(config: &Config) -> SocketAddr {
    let mut addr = config.http.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    addr
}

async fn node_is_running(config: &Config) -> bool {
    let url = format!("http://{}/healthz", local_http(config));
    reqwest::get(url)
        .await
        .is_ok_and(|r| r.status().is_success())
}

async fn control_post<T: serde::Serialize, R: serde::de::DeserializeOwned>(
    config: &Config,
    path: &str,
    body: &T,
) -> Result<R> {
    let token = control::read_token(&config.node.data_dir)
        .context("cannot read the node's control token (run this as the node's user)")?;
    let response = reqwest::Client::new()
        .post(format!("http://{}{path}", local_http(config)))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        bail!("the node refused ({status}): {text}");
    }
    Ok(response.json().await?)
}

fn password_from_env(var: &str) -> (String, bool) {
    match std::env::var(var) {
        Ok(password) if !password.is_empty() => (password, false),
        _ => {
            let mut bytes = [0u8; 12];
            rand::fill(&mut bytes);
            (hex::encode(bytes), true)
        }
    }
}

#[allow(clippy::print_stdout)]
fn say(text: &str) {
    println!("{text}");
    if std::io::stdout().is_terminal() {
        return;
    }
    // Piped output (scripts, tests) must not wait in a buffer.
    let _ = std::io::Write::flush(&mut std::io::stdout());
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}
