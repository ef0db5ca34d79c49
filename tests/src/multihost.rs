//! An alliance across real hosts ([`crate::hosts`]): a province and members, each an
//! `alliance` process in its own namespace, set up the way an institution sets one up —
//! `alliance init`, the province's `alliance province issue-cert`, `alliance run` — with the
//! tests' fast timers written into each config.

use std::path::{Path, PathBuf};

use alliance_protocol::PublicKey;

use crate::{
    PASSWORD, fast_timers,
    hosts::{Hosts, NodeProcess, alliance_binary, run},
};

/// Member institutions, in host order after the province; past these, `inst09`, ….
pub const MEMBERS: [&str; 8] = ["dlut", "neu", "imr", "sut", "lnu", "dlmu", "syu", "lnpu"];

/// The id of the `n`th member institution (from 0).
pub fn member_id(n: usize) -> String {
    MEMBERS
        .get(n)
        .map_or_else(|| format!("inst{:02}", n + 1), |id| (*id).to_owned())
}

/// A province (host 0) and members (hosts 1…), set up and running; spare institutions
/// (the hosts after) are set up but neither certified nor started.
#[derive(Debug)]
pub struct Alliance {
    pub province: NodeProcess,
    pub members: Vec<NodeProcess>,
    pub spares: Vec<NodeProcess>,
    /// Node public keys (hex) of members, then spares.
    keys: Vec<String>,
    pub root_public_key: PublicKey,
    /// Dropped after the processes (fields drop in order), before the directory.
    pub hosts: Hosts,
    pub dir: tempfile::TempDir,
}

fn init(
    hosts: &Hosts,
    host: usize,
    dir: &Path,
    id: &str,
    extra: &[String],
    tweak: &dyn Fn(&mut alliance_node::Config),
) -> (PathBuf, String) {
    let data_dir = dir.join(id);
    let addr = hosts.hosts[host].addr;
    let mut args: Vec<String> = [
        "init",
        "--institution-id",
        id,
        "--name-zh",
        &format!("{id} 单位"),
        "--name-en",
        &format!("Institution {id}"),
        "--data-dir",
        &data_dir.display().to_string(),
        "--listen",
        &format!("/ip4/{addr}/tcp/4100"),
        "--http-listen",
        &format!("{addr}:8080"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend_from_slice(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = std::process::Command::new(alliance_binary())
        .args(&args)
        .env("ALLIANCE_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "init {id}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The tests' fast timers, written into the config `alliance run` reads.
    let config_path = data_dir.join(alliance_node::init::CONFIG_FILE);
    let mut config = alliance_node::Config::load(&config_path).unwrap();
    fast_timers(&mut config);
    tweak(&mut config);
    std::fs::write(&config_path, config.to_toml()).unwrap();
    (
        data_dir,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn line_value(output: &str, label: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no {label:?} in:\n{output}"))
}

/// `alliance …` with `args`: its output, or its error output.
fn alliance(args: &[&str]) -> Result<String, String> {
    let output = std::process::Command::new(alliance_binary())
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

impl Alliance {
    /// A province and `members` members, started and answering.
    pub async fn start(members: usize) -> Alliance {
        Self::start_with(members, 0).await
    }

    /// A province, `members` members started and answering, and `spares` set up only
    /// (named by [`member_id`]).
    pub async fn start_with(members: usize, spares: usize) -> Alliance {
        Self::start_tweaked(members, spares, |_| {}).await
    }

    /// [`Alliance::start_with`], with `tweak` applied to each member's config.
    pub async fn start_tweaked(
        members: usize,
        spares: usize,
        tweak: impl Fn(&mut alliance_node::Config),
    ) -> Alliance {
        let hosts = Hosts::new(members + spares + 1);
        let dir = tempfile::tempdir().unwrap();
        let (province_dir, out) = init(
            &hosts,
            0,
            dir.path(),
            "lnsti",
            &["--role".into(), "province".into()],
            &|_| {},
        );
        let root: PublicKey = line_value(&out, "root public key:").parse().unwrap();
        let province_key: PublicKey = line_value(&out, "node public key:").parse().unwrap();
        let peer = alliance_node::identity::peer_id(&province_key).unwrap();
        let bootstrap = format!("/ip4/{}/tcp/4100/p2p/{peer}", hosts.hosts[0].addr);
        let province_config = province_dir.join(alliance_node::init::CONFIG_FILE);
        let mut nodes = Vec::new();
        let mut keys = Vec::new();
        for n in 0..members + spares {
            let id = &member_id(n);
            let (data_dir, out) = init(
                &hosts,
                n + 1,
                dir.path(),
                id,
                &[
                    "--role".into(),
                    "member".into(),
                    "--root-public-key".into(),
                    root.to_string(),
                    "--bootstrap".into(),
                    bootstrap.clone(),
                ],
                &tweak,
            );
            let key = line_value(&out, "node public key:");
            keys.push(key.clone());
            nodes.push(NodeProcess::new(
                id,
                n + 1,
                hosts.hosts[n + 1].addr,
                data_dir.clone(),
            ));
            if n >= members {
                continue;
            }
            let cert = data_dir.join("node.cert");
            let binary = alliance_binary();
            run(
                &binary.display().to_string(),
                &[
                    "province",
                    "issue-cert",
                    "--config",
                    &province_config.display().to_string(),
                    "--node-public-key",
                    &key,
                    "--institution-id",
                    id,
                    "--name-zh",
                    &format!("{id} 单位"),
                    "--name-en",
                    &format!("Institution {id}"),
                    "--out",
                    &cert.display().to_string(),
                ],
            );
        }
        let spare_nodes = nodes.split_off(members);
        let mut province = NodeProcess::new("lnsti", 0, hosts.hosts[0].addr, province_dir);
        province.start(&hosts);
        province.wait_ready().await;
        for node in &mut nodes {
            node.start(&hosts);
        }
        for node in &nodes {
            node.wait_ready().await;
        }
        Alliance {
            province,
            members: nodes,
            spares: spare_nodes,
            keys,
            root_public_key: root,
            hosts,
            dir,
        }
    }

    fn province_config(&self) -> String {
        self.province
            .data_dir
            .join(alliance_node::init::CONFIG_FILE)
            .display()
            .to_string()
    }

    /// Has the province certify spare `n` (`alliance province issue-cert`, through the
    /// running node's control API, or its files when stopped): the serial, or why not.
    pub fn certify_spare(&self, n: usize) -> Result<u64, String> {
        let spare = &self.spares[n];
        let cert = spare.data_dir.join("node.cert");
        let out = alliance(&[
            "province",
            "issue-cert",
            "--config",
            &self.province_config(),
            "--node-public-key",
            &self.keys[self.members.len() + n],
            "--institution-id",
            &spare.name,
            "--name-zh",
            &format!("{} 单位", spare.name),
            "--name-en",
            &format!("Institution {}", spare.name),
            "--out",
            &cert.display().to_string(),
        ])?;
        // "certificate serial N written to …"
        out.split_whitespace()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("no serial in {out:?}"))
    }

    /// Adds an active account with [`PASSWORD`] at `node` (`alliance user add`).
    pub fn add_user(&self, node: &NodeProcess, username: &str, role: &str) {
        let config = node.data_dir.join(alliance_node::init::CONFIG_FILE);
        let output = std::process::Command::new(alliance_binary())
            .args([
                "user",
                "add",
                "--config",
                &config.display().to_string(),
                "--username",
                username,
                "--role",
                role,
                "--display-name",
                username,
            ])
            .env("ALLIANCE_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "user add at {}: {}",
            node.name,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Has the province revoke `serial` (`alliance province revoke`): its output, or why not.
    pub fn revoke(&self, serial: u64) -> Result<String, String> {
        alliance(&[
            "province",
            "revoke",
            "--config",
            &self.province_config(),
            &serial.to_string(),
        ])
    }
}
