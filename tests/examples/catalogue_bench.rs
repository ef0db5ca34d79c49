//! Catalogue benchmark over a synthetic alliance: real nodes on loopback, real signatures.
//!
//! ```text
//! cargo run --release -p alliance-tests --example catalogue_bench -- [--mode all] [flags]
//! ```
//!
//! Modes:
//! - `sync`: a province node holds `--instruments` signed records of `--institutions`
//!   certified institutions, each with its availability digest (unless
//!   `--without-digests`); a fresh member bootstraps from it. Prints the time until the
//!   member holds every record and the bytes of entries it received.
//! - `search`: on that fresh member, a set of Chinese and English queries (some with
//!   filters), each `--repeat` times: p50 and p99 latency of the catalogue's search.
//! - `memory`: the same fresh member as its own process (`alliance run`, release build
//!   next to this example); its resident memory once it holds every record.
//! - `propagation`: `--nodes` nodes (a province and members); one member updates a record
//!   `--updates` times; for each update, the time until every other node holds it.
//!   With `--flood-every-ms N`, a further certified member floods every node meanwhile
//!   (new records of its own past its quota and padded roster replays, alternating).
//!   With `--needs`, the member posts a need each time instead (the board's entries
//!   travel the same way): the time until every other node holds it.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alliance_node::{
    NodeHandle,
    catalogue::{SearchRequest, search::IndexQuery},
    net::gossip_params::GRAYLIST_THRESHOLD,
    province::IssueRequest,
};
use alliance_protocol::{
    AvailabilityDigest, Entry, EntryBody, FeeComponents, FeeItem, FeeUnit, InstrumentRecord, Role,
    SecretKey, ServiceMode,
};
use alliance_tests::{
    bootstrap_of, certified_member, rogue::Flood, sample_record, start_member, start_member_with,
    start_province, start_province_with,
};
use anyhow::Context;
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    All,
    Sync,
    Search,
    Memory,
    Propagation,
}

/// Catalogue benchmark.
#[derive(Debug, Parser)]
struct Args {
    #[arg(long, value_enum, default_value_t = Mode::All)]
    mode: Mode,
    /// Records in the synthetic alliance.
    #[arg(long, default_value_t = 100_000)]
    instruments: usize,
    /// Institutions they belong to.
    #[arg(long, default_value_t = 200)]
    institutions: usize,
    /// Repetitions of each search query.
    #[arg(long, default_value_t = 50)]
    repeat: usize,
    /// Leave out the availability digests (one per record otherwise, as owners publish).
    #[arg(long)]
    without_digests: bool,
    /// Nodes in the propagation run (a province and members).
    #[arg(long, default_value_t = 20)]
    nodes: usize,
    /// Updates timed in the propagation run.
    #[arg(long, default_value_t = 200)]
    updates: usize,
    /// In the propagation run, post needs instead of updating a record.
    #[arg(long)]
    needs: bool,
    /// In the propagation run, one more certified member floods gossip on every node,
    /// a message every this many milliseconds, from just before the first update to
    /// the last.
    #[arg(long)]
    flood_every_ms: Option<u64>,
}

/// Instrument names as Chinese platforms list them, with English names and makers.
const KINDS: &[(&str, &str, &str, &str)] = &[
    (
        "液相色谱-质谱联用仪",
        "Liquid chromatograph-mass spectrometer",
        "Waters",
        "0102",
    ),
    (
        "气相色谱-质谱联用仪",
        "Gas chromatograph-mass spectrometer",
        "Agilent",
        "0102",
    ),
    (
        "电感耦合等离子体质谱仪",
        "Inductively coupled plasma mass spectrometer",
        "Thermo Fisher",
        "0102",
    ),
    (
        "场发射扫描电子显微镜",
        "Field emission scanning electron microscope",
        "Zeiss",
        "0101",
    ),
    (
        "透射电子显微镜",
        "Transmission electron microscope",
        "JEOL",
        "0101",
    ),
    ("X射线衍射仪", "X-ray diffractometer", "Bruker", "0103"),
    (
        "X射线光电子能谱仪",
        "X-ray photoelectron spectrometer",
        "Kratos",
        "0104",
    ),
    (
        "傅里叶变换红外光谱仪",
        "Fourier transform infrared spectrometer",
        "PerkinElmer",
        "0104",
    ),
    (
        "激光共聚焦显微拉曼光谱仪",
        "Confocal Raman microscope",
        "Horiba",
        "0104",
    ),
    (
        "核磁共振波谱仪",
        "Nuclear magnetic resonance spectrometer",
        "Bruker",
        "0106",
    ),
    (
        "高效液相色谱仪",
        "High performance liquid chromatograph",
        "Shimadzu",
        "0105",
    ),
    (
        "同步热分析仪",
        "Simultaneous thermal analyzer",
        "Netzsch",
        "0109",
    ),
    (
        "电化学工作站",
        "Electrochemical workstation",
        "Gamry",
        "0107",
    ),
    (
        "万能材料试验机",
        "Universal testing machine",
        "Instron",
        "02",
    ),
    (
        "比表面及孔隙度分析仪",
        "Surface area and porosity analyzer",
        "Micromeritics",
        "0111",
    ),
    (
        "激光粒度分析仪",
        "Laser particle size analyzer",
        "Malvern",
        "0111",
    ),
];

fn synthetic(institution: &str, i: usize) -> InstrumentRecord {
    let (zh, en, maker, code) = KINDS[i % KINDS.len()];
    let mut r = InstrumentRecord::new(
        institution.parse().unwrap(),
        format!("SYN-{i:06}"),
        format!("{zh}（{}号机）", i % 97),
    );
    r.name_en = format!("{en} No. {}", i % 97);
    r.manufacturer = maker.into();
    r.model = format!("M-{}", i % 1000);
    r.classification_code = code.into();
    r.original_value_fen = 30_000_000 + (i as i64 % 500) * 1_000_000;
    r.location.city = ["沈阳市", "大连市", "鞍山市", "锦州市"][i % 4].into();
    r.location.campus = "主校区".into();
    r.location.building = "分析测试中心".into();
    r.main_specifications = format!(
        "{zh}主要技术指标：分辨率优于 {} nm，检测限 {} ppb，配套自动进样器与数据处理工作站。",
        1 + i % 9,
        1 + i % 50
    );
    r.main_functions =
        format!("用于材料、化学、生命科学等领域的{zh}分析测试服务，可开展定性与定量分析。");
    r.opening_hours = "周一至周五 8:30–11:30，13:30–17:30".into();
    r.service_modes = vec![ServiceMode::StaffRun, ServiceMode::SelfOperated];
    let price = |m: i64, o: i64, l: i64| FeeComponents {
        materials_fen: m * 100,
        operating_fen: o * 100,
        labour_fen: l * 100,
    };
    r.fees = vec![FeeItem {
        item_zh: "样品测试".into(),
        item_en: "Sample test".into(),
        unit: FeeUnit::Sample,
        own_institution: price(20, 20, 40),
        alliance_member: price(20, 20, 80),
        outside_academic: price(20, 20, 120),
        enterprise: price(20, 30, 180),
    }];
    r.revision = (i / 1000) as u64 + 1;
    r
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A province holding the synthetic alliance's records.
async fn synthetic_province(dir: &Path, args: &Args) -> anyhow::Result<NodeHandle> {
    let province = start_province(dir, "lnsti").await;
    let authority = province.province().context("province")?;
    let mut keys = Vec::new();
    let mut roster = None;
    for n in 0..args.institutions {
        let key = SecretKey::generate();
        let (_, r) = authority
            .issue(IssueRequest {
                institution_id: format!("inst{n:03}").parse()?,
                name_zh: format!("第{n}研究所"),
                name_en: format!("Institute {n}"),
                region: "辽宁省".into(),
                node_public_key: key.public(),
                role: Role::Member,
                valid_days: 30,
                member_since: None,
            })
            .await?;
        roster = Some(r);
        keys.push(key);
    }
    if let Some(roster) = roster {
        province.net().offer_roster(roster.encode()).await?;
    }
    let started = Instant::now();
    let monday = alliance_node::catalogue::digest::this_monday(chrono::Utc::now())
        .format("%Y-%m-%d")
        .to_string();
    let per_institution = args.instruments.div_ceil(args.institutions);
    let mut batch = Vec::new();
    let mut loaded = 0;
    for (n, key) in keys.iter().enumerate() {
        for j in 0..per_institution {
            if loaded == args.instruments {
                break;
            }
            let mut record = synthetic(&format!("inst{n:03}"), n * per_institution + j);
            // Each digest comes just before its record: once a member holds every record
            // (what the runs wait for), it holds every digest too.
            record.revision = if args.without_digests {
                j as u64 + 1
            } else {
                2 * j as u64 + 2
            };
            if !args.without_digests {
                let digest = AvailabilityDigest {
                    institution_id: record.institution_id.clone(),
                    local_id: record.local_id.clone(),
                    revision: record.revision - 1,
                    first_day: monday.clone(),
                    hours: alliance_node::catalogue::digest::hours(&record),
                    window: None,
                    holiday_days: 0,
                };
                batch.push(Entry {
                    bytes: digest.seal(key),
                    body: EntryBody::Availability(digest),
                });
            }
            batch.push(Entry {
                bytes: record.seal(key),
                body: EntryBody::Instrument(Box::new(record)),
            });
            loaded += 1;
            if batch.len() >= 2_000 {
                province
                    .catalogue()
                    .receive(std::mem::take(&mut batch))
                    .await?;
            }
        }
    }
    province.catalogue().receive(batch).await?;
    println!(
        "loaded {} signed records of {} institutions{} into the province in {:.1} s",
        province.catalogue().record_count(),
        args.institutions,
        if args.without_digests {
            ""
        } else {
            " with their digests"
        },
        started.elapsed().as_secs_f64()
    );
    Ok(province)
}

async fn wait_records(node: &NodeHandle, count: usize) {
    let catalogue = node.catalogue().clone();
    let mut changes = catalogue.changes();
    while catalogue.record_count() < count {
        changes.changed().await.unwrap();
    }
}

async fn sync_and_search(dir: &Path, args: &Args, province: &NodeHandle) -> anyhow::Result<()> {
    let started = Instant::now();
    let member = start_member(dir, province, "fresh").await;
    let connected = Instant::now();
    tokio::time::timeout(
        Duration::from_secs(600),
        wait_records(&member, args.instruments),
    )
    .await
    .context("sync did not finish in 10 minutes")?;
    let stats = member.catalogue().stats();
    println!(
        "sync: {} records in {:.2} s from start ({:.2} s after the node was up), {} pages, {:.1} MiB of entries",
        member.catalogue().record_count(),
        started.elapsed().as_secs_f64(),
        connected.elapsed().as_secs_f64(),
        stats.sync_pages,
        stats.sync_bytes as f64 / (1024.0 * 1024.0),
    );
    if matches!(args.mode, Mode::All | Mode::Search) {
        search(&member, args)?;
    }
    member.shutdown().await;
    Ok(())
}

fn search(node: &NodeHandle, args: &Args) -> anyhow::Result<()> {
    let text = |q: &str| IndexQuery {
        text: q.into(),
        ..IndexQuery::default()
    };
    let queries: Vec<(&str, IndexQuery)> = vec![
        ("质谱", text("质谱")),
        ("电子显微镜", text("电子显微镜")),
        ("色谱", text("色谱")),
        ("核磁共振", text("核磁共振")),
        ("拉曼", text("拉曼")),
        ("mass spectrometer", text("mass spectrometer")),
        ("electron microscope", text("electron microscope")),
        ("diffractometer", text("diffractometer")),
        ("Bruker", text("Bruker")),
        (
            "质谱 + 沈阳市",
            IndexQuery {
                city: Some("沈阳市".into()),
                ..text("质谱")
            },
        ),
        (
            "category 0101",
            IndexQuery {
                category: Some("0101".into()),
                ..IndexQuery::default()
            },
        ),
        (
            "色谱 + value 100–300 万元",
            IndexQuery {
                min_value_fen: Some(100_000_000),
                max_value_fen: Some(300_000_000),
                ..text("色谱")
            },
        ),
        ("(all)", IndexQuery::default()),
    ];
    let mut all = Vec::new();
    for (label, query) in &queries {
        let request = SearchRequest {
            query: query.clone(),
            free_between: None,
            offset: 0,
            limit: 20,
        };
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..args.repeat {
            let started = Instant::now();
            total = node.catalogue().search(&request)?.total;
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "search {label:<28} {total:>7} hits  p50 {}  p99 {}",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "search, all queries: p50 {}  p99 {}  ({} searches)",
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        all.len()
    );
    Ok(())
}

/// The fresh member as its own process: its memory once it holds every record.
async fn memory(dir: &Path, args: &Args, province: &NodeHandle) -> anyhow::Result<()> {
    let binary = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("alliance"))
        .context("no target dir")?;
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: cargo build --release -p alliance-node --bin alliance first",
        binary.display()
    );
    let config = certified_member(dir, province, "solo", bootstrap_of(province)).await;
    let config_path: PathBuf = config.node.data_dir.join(alliance_node::init::CONFIG_FILE);
    let mut child = tokio::process::Command::new(&binary)
        .arg("run")
        .arg("--config")
        .arg(&config_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().context("child pid")?;
    let status_file = format!("/proc/{pid}/status");
    // "node running; UI at http://127.0.0.1:PORT/"
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let base = loop {
        let line = lines.next_line().await?.context("child exited")?;
        if let Some(url) = line.split("UI at ").nth(1) {
            break url.trim().to_owned();
        }
    };
    let url = format!("{base}api/v1/catalogue/overview");
    let started = Instant::now();
    // The child's own API says when it holds everything; ask it every 200 ms.
    loop {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "child never caught up"
        );
        if let Ok(reply) = reqwest::get(&url).await
            && let Ok(json) = reply.json::<serde_json::Value>().await
            && json["instruments"].as_u64() == Some(args.instruments as u64)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = std::fs::read_to_string(&status_file)?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.trim_start_matches(name).trim().to_owned())
            .unwrap_or_default()
    };
    println!(
        "memory: a node process holding {} records: VmRSS {} (anonymous {}, file-backed {}), VmHWM {} (caught up in {:.1} s)",
        args.instruments,
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:"),
        field("VmHWM:"),
        started.elapsed().as_secs_f64()
    );
    child.kill().await?;
    Ok(())
}

async fn propagation(dir: &Path, args: &Args) -> anyhow::Result<()> {
    // Every node is on 127.0.0.1: lift the inbound connections one address may hold.
    let one_host = |c: &mut alliance_node::Config| c.network.max_connections_per_ip = 256;
    let province = start_province_with(dir, "lnsti", one_host).await;
    let mut members = Vec::new();
    for n in 1..args.nodes {
        members.push(start_member_with(dir, &province, &format!("m{n:02}"), one_host).await);
    }
    let mut all: Vec<&NodeHandle> = members.iter().collect();
    all.push(&province);
    let publisher = &members[0];
    // Wait for a full mesh of verified members.
    for node in &all {
        let mut state = node.net().watch();
        tokio::time::timeout(
            Duration::from_secs(120),
            state.wait_for(|s| s.members.len() + 1 >= args.nodes),
        )
        .await
        .context("mesh did not form")??;
    }
    let flood = match args.flood_every_ms {
        Some(every) => Some(Flood::start(&province, &all, Duration::from_millis(every)).await),
        None => None,
    };
    // A person keeps at most 20 needs open: ten posters take turns.
    if args.needs && args.updates > 10 * alliance_node::board::MAX_OPEN_NEEDS_PER_USER {
        anyhow::bail!("--needs posts at most 200");
    }
    let mut times = Vec::new();
    for u in 0..args.updates {
        let started = Instant::now();
        // What every other node must come to hold: the record's revision, or the need.
        let arrived: Box<dyn Fn(&NodeHandle) -> bool> = if args.needs {
            let need = publisher
                .board()
                .post(
                    &format!("user{}", u % 10),
                    alliance_protocol::UserTier::Enterprise,
                    alliance_node::board::NeedDraft {
                        title: format!("检测需求 {u}"),
                        modes: vec![alliance_protocol::ServiceMode::StaffRun],
                        keywords: vec!["XRD".into()],
                        sample_count: 3,
                        deadline: "2099-12-31".into(),
                        ..Default::default()
                    },
                )
                .await?;
            let id = need.id();
            Box::new(move |node: &NodeHandle| node.catalogue().board().need(&id).is_some())
        } else {
            let mut record = sample_record("m01", "PROP", &format!("更新 {u}"));
            record.opening_hours = String::new();
            let saved = publisher.catalogue().save_record(record).await?;
            Box::new(move |node: &NodeHandle| {
                node.catalogue()
                    .instrument("m01/PROP")
                    .is_some_and(|v| v.record.revision >= saved.revision)
            })
        };
        for node in all.iter().skip(1) {
            let mut changes = node.catalogue().changes();
            tokio::time::timeout(Duration::from_secs(30), async {
                while !arrived(node) {
                    changes.changed().await.unwrap();
                }
            })
            .await
            .context("an entry did not arrive")?;
        }
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "propagation of {} to all {} other nodes: p50 {}  p99 {}  max {} ({} of them)",
        if args.needs {
            "needs"
        } else {
            "record updates"
        },
        args.nodes - 1,
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap()),
        times.len()
    );

    if let Some(flood) = flood {
        report_flood(&flood, &all).await?;
        flood.stop();
    }
    for node in members {
        node.shutdown().await;
    }
    province.shutdown().await;
    Ok(())
}

/// What the flood cost the nodes: messages sent, refused, and where the flooder stands.
async fn report_flood(flood: &Flood, nodes: &[&NodeHandle]) -> anyhow::Result<()> {
    let (mut over_quota, mut rejected, mut graylisted) = (0, 0, 0);
    for node in nodes {
        let stats = node.catalogue().stats();
        over_quota += stats.over_quota;
        rejected += stats.rejected();
        let scores = node.net().peer_scores().await?;
        if scores
            .iter()
            .any(|(peer, score)| *peer == flood.peer_id && *score < GRAYLIST_THRESHOLD)
        {
            graylisted += 1;
        }
    }
    println!(
        "flood: {} messages published; records refused over quota {over_quota}, entries rejected {rejected} (all nodes); flooder graylisted by {graylisted} of {} nodes",
        flood.published(),
        nodes.len()
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    if matches!(
        args.mode,
        Mode::All | Mode::Sync | Mode::Search | Mode::Memory
    ) {
        let province = synthetic_province(&dir.path().join("synthetic"), &args).await?;
        if matches!(args.mode, Mode::All | Mode::Sync | Mode::Search) {
            sync_and_search(&dir.path().join("synthetic"), &args, &province).await?;
        }
        if matches!(args.mode, Mode::All | Mode::Memory) {
            memory(&dir.path().join("synthetic"), &args, &province).await?;
        }
        province.shutdown().await;
    }
    if matches!(args.mode, Mode::All | Mode::Propagation) {
        propagation(&dir.path().join("propagation"), &args).await?;
    }
    Ok(())
}
