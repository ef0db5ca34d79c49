//! Real hosts on one machine, for faults that cross a network: each host is a Linux network
//! namespace with a veth link to a bridge in the test's own namespace (so the test reaches
//! every host's web API, and the hosts reach each other only through the bridge), and runs
//! a real `alliance` process.
//!
//! The harness makes and removes everything itself (on drop, even after a failed
//! assertion): namespaces, links, routes and processes. It needs root and `ip` (iproute2);
//! dropping a share of packets needs `nft` (nftables). Faults it makes:
//! - [`Hosts::cut`] / [`Hosts::heal`]: a host's link down or up;
//! - [`Hosts::partition`] / [`Hosts::heal_partition`]: hosts of two groups cannot reach
//!   each other (blackhole routes inside each host), while each group works on;
//! - [`Hosts::lose`]: a share of the packets a host receives is dropped (nftables
//!   `numgen random`);
//! - [`NodeProcess::kill`] and [`NodeProcess::start`]: SIGKILL and restart;
//!   [`NodeProcess::snapshot`] and [`NodeProcess::restore`]: its data directory copied
//!   while it is stopped, and put back.

use std::{
    fs,
    net::Ipv4Addr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

/// Harnesses made by this process so far: names and subnets differ between them.
static MADE: AtomicU32 = AtomicU32::new(0);

/// Runs `program args`, panicking with its output if it fails.
pub fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} {args:?}: {e} (the harness needs root and iproute2)")
        });
    assert!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One host: a namespace, its address on the bridge, and the bridge's end of its link.
#[derive(Debug, Clone)]
pub struct Host {
    pub namespace: String,
    pub addr: Ipv4Addr,
    link: String,
}

/// Hosts on a bridge. Dropping it removes them.
#[derive(Debug)]
pub struct Hosts {
    bridge: String,
    pub hosts: Vec<Host>,
}

impl Hosts {
    /// `count` hosts on a new bridge, each with an address in a /24 of their own.
    pub fn new(count: usize) -> Hosts {
        assert!(count < 250);
        let made = MADE.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id() % 100_000;
        let tag = format!("{pid}x{made}");
        // 10.(100..199).(0..249).0/24: distinct per harness of this process; processes
        // differ in their pid's part.
        let (b, c) = (100 + made % 100, pid % 250);
        let bridge = format!("ab{tag}");
        let mut hosts = Hosts {
            bridge: bridge.clone(),
            hosts: Vec::new(),
        };
        run("ip", &["link", "add", &bridge, "type", "bridge"]);
        run(
            "ip",
            &["addr", "add", &format!("10.{b}.{c}.254/24"), "dev", &bridge],
        );
        run("ip", &["link", "set", &bridge, "up"]);
        for i in 0..count {
            let namespace = format!("ah{tag}n{i}");
            let link = format!("av{tag}n{i}");
            let addr = Ipv4Addr::new(10, b as u8, c as u8, i as u8 + 1);
            run("ip", &["netns", "add", &namespace]);
            hosts.hosts.push(Host {
                namespace: namespace.clone(),
                addr,
                link: link.clone(),
            });
            run(
                "ip",
                &[
                    "link", "add", &link, "type", "veth", "peer", "name", "eth0", "netns",
                    &namespace,
                ],
            );
            run("ip", &["link", "set", &link, "master", &bridge]);
            run("ip", &["link", "set", &link, "up"]);
            let inside = |args: &[&str]| {
                let mut all = vec!["-n", namespace.as_str()];
                all.extend_from_slice(args);
                run("ip", &all);
            };
            inside(&["addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
            inside(&["link", "set", "eth0", "up"]);
            inside(&["link", "set", "lo", "up"]);
        }
        hosts
    }

    /// Host `i`'s link goes down: it reaches no one, and no one reaches it.
    pub fn cut(&self, i: usize) {
        run("ip", &["link", "set", &self.hosts[i].link, "down"]);
    }

    /// Host `i`'s link comes back.
    pub fn heal(&self, i: usize) {
        run("ip", &["link", "set", &self.hosts[i].link, "up"]);
    }

    fn blackhole(&self, from: usize, to: usize, add: bool) {
        let target = format!("{}/32", self.hosts[to].addr);
        run(
            "ip",
            &[
                "-n",
                &self.hosts[from].namespace,
                "route",
                if add { "add" } else { "del" },
                "blackhole",
                &target,
            ],
        );
    }

    /// No host of `a` reaches any host of `b`, nor the other way round.
    pub fn partition(&self, a: &[usize], b: &[usize]) {
        for &x in a {
            for &y in b {
                self.blackhole(x, y, true);
                self.blackhole(y, x, true);
            }
        }
    }

    /// Undoes [`Hosts::partition`] of the same groups.
    pub fn heal_partition(&self, a: &[usize], b: &[usize]) {
        for &x in a {
            for &y in b {
                self.blackhole(x, y, false);
                self.blackhole(y, x, false);
            }
        }
    }

    /// Host `i` drops `percent` % of the packets it receives, at random.
    pub fn lose(&self, i: usize, percent: u32) {
        let ns = &self.hosts[i].namespace;
        let nft = |rule: &str| run("ip", &["netns", "exec", ns, "nft", rule]);
        nft("add table inet harness");
        nft("add chain inet harness input { type filter hook input priority 0 ; }");
        nft(&format!(
            "add rule inet harness input numgen random mod 100 < {percent} drop"
        ));
    }

    /// Host `i` stops dropping packets.
    pub fn heal_loss(&self, i: usize) {
        let ns = &self.hosts[i].namespace;
        run(
            "ip",
            &["netns", "exec", ns, "nft", "delete table inet harness"],
        );
    }

    /// A command run inside host `i`.
    pub fn command(&self, i: usize, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.hosts[i].namespace])
            .arg(program);
        command
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for host in &self.hosts {
            let _ = Command::new("ip")
                .args(["netns", "del", &host.namespace])
                .status();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .status();
    }
}

/// The `alliance` binary of this build (`target/<profile>/alliance`, beside the test's
/// `deps` directory); CI builds it before the tests.
pub fn alliance_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps");
    let binary = profile_dir.join("alliance");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --workspace` first (a workspace build has the crash hooks)",
        binary.display()
    );
    binary
}

/// A node: its data directory, its host, and its `alliance run` process when running.
#[derive(Debug)]
pub struct NodeProcess {
    pub name: String,
    pub host: usize,
    pub data_dir: PathBuf,
    /// `http://addr:8080/`.
    pub url: String,
    child: Option<Child>,
}

impl NodeProcess {
    pub fn new(name: &str, host: usize, addr: Ipv4Addr, data_dir: PathBuf) -> Self {
        NodeProcess {
            name: name.to_owned(),
            host,
            data_dir,
            url: format!("http://{addr}:8080/"),
            child: None,
        }
    }

    fn config(&self) -> PathBuf {
        self.data_dir.join(alliance_node::init::CONFIG_FILE)
    }

    /// Starts `alliance run` in its host; its output goes to `node.log` in the data dir.
    pub fn start(&mut self, hosts: &Hosts) {
        self.start_with_env(hosts, &[]);
    }

    /// [`NodeProcess::start`] with `env` set (say, `ALLIANCE_CRASH_AT`, which makes a
    /// test build of the node abort at that crash hook).
    pub fn start_with_env(&mut self, hosts: &Hosts, env: &[(&str, &str)]) {
        assert!(self.child.is_none(), "{} is running", self.name);
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("node.log"))
            .unwrap();
        let child = hosts
            .command(self.host, &alliance_binary())
            .arg("run")
            .arg("--config")
            .arg(self.config())
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// SIGKILL, and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits until the process ended by itself (a crash hook), or panics with its log.
    pub async fn wait_exit(&mut self) {
        let ended = tokio::time::timeout(crate::DEADLINE, async {
            let mut ticks = tokio::time::interval(Duration::from_millis(100));
            loop {
                ticks.tick().await;
                if let Some(child) = self.child.as_mut()
                    && child.try_wait().ok().flatten().is_some()
                {
                    return;
                }
            }
        })
        .await;
        if ended.is_err() {
            panic!("{} did not stop:\n{}", self.name, self.log());
        }
        self.child = None;
    }

    /// Waits until its web API answers, or panics with its log.
    pub async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let ready = tokio::time::timeout(crate::DEADLINE * 2, async {
            let mut ticks = tokio::time::interval(Duration::from_millis(200));
            loop {
                ticks.tick().await;
                if let Ok(answer) = client.get(format!("{}healthz", self.url)).send().await
                    && answer.status().is_success()
                {
                    return;
                }
            }
        })
        .await;
        if ready.is_err() {
            panic!("{} did not start:\n{}", self.name, self.log());
        }
    }

    /// Its node key, certificate (encoded) and where it listens for peers: what a
    /// hand-driven peer ([`crate::rogue::Rogue`]) needs to act as it, or to reach it.
    pub fn identity(
        &self,
    ) -> (
        alliance_protocol::SecretKey,
        Vec<u8>,
        libp2p::Multiaddr,
        libp2p::PeerId,
    ) {
        let config = alliance_node::Config::load(&self.config()).unwrap();
        let key = alliance_node::keyfile::read(&config.node_key_path()).unwrap();
        let armored = fs::read_to_string(config.certificate_path()).unwrap_or_default();
        let certificate =
            alliance_protocol::armor::decode(alliance_protocol::armor::CERTIFICATE_LABEL, &armored)
                .unwrap_or_default();
        let addr = config.network.listen[0].parse().unwrap();
        let peer = alliance_node::identity::peer_id(&key.public()).unwrap();
        (key, certificate, addr, peer)
    }

    /// Resident memory (KiB) and open files of its process, if it runs.
    pub fn footprint(&self) -> Option<(u64, usize)> {
        let pid = self.child.as_ref()?.id();
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        let files = fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
        Some((rss, files))
    }

    /// Whether its process is still running, and the warnings and errors of its log: what
    /// a failed request to it is explained by.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("panick"))
            .collect();
        let from = lines.len().saturating_sub(30);
        format!(
            "{} is {}; its last warnings and errors:\n{}",
            self.name,
            if self.child.is_some() {
                "started"
            } else {
                "stopped"
            },
            lines[from..].join("\n")
        )
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.data_dir.join("node.log")).unwrap_or_default()
    }

    /// A copy of its data directory (stopped: a running node's files are mid-write).
    pub fn snapshot(&self, to: &Path) {
        assert!(self.child.is_none(), "snapshot {} while it runs", self.name);
        run(
            "cp",
            &[
                "-a",
                &self.data_dir.display().to_string(),
                &to.display().to_string(),
            ],
        );
    }

    /// Puts a snapshot back in place of its data directory (stopped).
    pub fn restore(&self, from: &Path) {
        assert!(self.child.is_none(), "restore {} while it runs", self.name);
        fs::remove_dir_all(&self.data_dir).unwrap();
        run(
            "cp",
            &[
                "-a",
                &from.display().to_string(),
                &self.data_dir.display().to_string(),
            ],
        );
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
