//! The demo alliance: `alliance demo` sets up a province and three members with
//! instruments, accounts and, on first start, bookings made over the network.

use alliance_node::{
    booking::state::BookingState,
    demo::{self, HistoryStage},
};
use alliance_protocol::order::OrderState;
use std::time::Duration;

use alliance_tests::{DEADLINE, trace};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_starts_with_bookings_across_institutions_some_awaiting_approval() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let demo = demo::start(dir.path()).await.unwrap();
    let members = &demo.nodes[1..];
    assert_eq!(members.len(), 3);

    // Each member's researcher books two instruments of each other member and its firm
    // one: 3 × 2 × 3 = 18 bookings, each answered by its owner.
    let answered = |node: &alliance_node::NodeHandle| {
        node.bookings()
            .home()
            .all()
            .unwrap()
            .into_iter()
            .filter(|b| b.state != BookingState::Requested)
            .count()
    };
    let mut changes: Vec<_> = members
        .iter()
        .map(|n| n.bookings().home().changes())
        .collect();
    let seeded = tokio::time::timeout(DEADLINE * 3, async {
        loop {
            if members.iter().all(|n| answered(n) == 6) {
                return;
            }
            let (changed, _, _) =
                futures::future::select_all(changes.iter_mut().map(|c| Box::pin(c.changed())))
                    .await;
            if changed.is_err() {
                // A member stopped: the counts below say how far it got.
                return;
            }
        }
    })
    .await;
    let counts: Vec<usize> = members.iter().map(answered).collect();
    assert!(seeded.is_ok(), "answered bookings per member: {counts:?}");

    for node in members {
        let own = &node.config().node.institution_id;
        let bookings = node.bookings().home().all().unwrap();
        // Every booking is of another member's instrument.
        assert!(bookings.iter().all(|b| &b.owner != own), "{bookings:?}");
        let researcher = format!("{own}-researcher");
        assert_eq!(
            bookings
                .iter()
                .filter(|b| b.user_id == researcher && b.state == BookingState::Confirmed)
                .count(),
            4
        );
        // The owners hold the firms' requests for their managers' approval.
        let held = node
            .bookings()
            .ledger()
            .all()
            .unwrap()
            .into_iter()
            .filter(|b| b.state == BookingState::Held)
            .count();
        assert_eq!(held, 2, "held at {own}");
    }

    // The board: every member holds each firm's need and the one waiting for offers;
    // the first firm's order is in testing, the second's closed with its report, which
    // its home holds and its receipt vouches for.
    // (Gossip sent while the nodes were still meeting is pulled by anti-entropy: slower
    // on a loaded machine.)
    alliance_tests::node_api::until("the demo's needs on every member", DEADLINE * 8, || async {
        members.iter().all(|n| {
            n.catalogue()
                .board()
                .needs(&Default::default(), &|_| false, 0, 10)
                .total
                == 4
        })
    })
    .await;
    alliance_tests::node_api::until("the demo's order in testing", DEADLINE * 4, || async {
        members[0]
            .orders()
            .orders_of("dlut-firm")
            .unwrap()
            .iter()
            .any(|o| o.state == OrderState::Testing)
    })
    .await;
    alliance_tests::node_api::until(
        "the demo's order closed with its report",
        DEADLINE * 4,
        || async {
            members[1]
                .orders()
                .orders_of(&format!("{}-firm", members[1].config().node.institution_id))
                .unwrap()
                .iter()
                .any(|o| o.state == OrderState::Closed && o.report_held)
        },
    )
    .await;
    // The province's matching event: every member holds it, and the second member's
    // firm has registered with the province.
    let province = &demo.nodes[0];
    alliance_tests::node_api::until("the demo's event", DEADLINE * 8, || async {
        let Some(event) = province.events().all().first().cloned() else {
            return false;
        };
        members
            .iter()
            .all(|n| n.catalogue().board().event(&event.id()).is_some())
            && province
                .events()
                .registrations(&event.local_id)
                .unwrap()
                .len()
                == 1
    })
    .await;
    // The help desk: each member's firm has asked in plain words; at the first, its
    // service expert took the request and wrote back.
    alliance_tests::node_api::until("the demo's help desk", DEADLINE * 4, || async {
        members.iter().enumerate().all(|(i, n)| {
            let firm = format!("{}-firm", n.config().node.institution_id);
            n.help().of_asker(&firm).unwrap().first().is_some_and(|r| {
                if i == 0 {
                    r.state == alliance_node::help::HelpState::Taken && r.steps.len() == 3
                } else {
                    r.state == alliance_node::help::HelpState::Open
                }
            })
        })
    })
    .await;
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_a_year_of_use_the_provinces_results_and_live_monitoring() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let demo = demo::start(dir.path()).await.unwrap();
    let province = &demo.nodes[0];
    let members = &demo.nodes[1..];

    // Every member's year of sessions reaches the province's log, proven.
    for member in members {
        let receipts = member.receipts().clone();
        let mut changes = receipts.changes();
        let proven = tokio::time::timeout(DEADLINE * 10, async {
            while receipts.proven().unwrap() < 500 {
                changes.changed().await.unwrap();
            }
        })
        .await;
        assert!(
            proven.is_ok(),
            "{} proved {:?} receipts",
            member.certificate().institution_id,
            receipts.proven()
        );
    }
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let published = province
        .publication()
        .unwrap()
        .results("", today)
        .await
        .unwrap();
    assert_eq!(published.results.institutions.len(), 3);
    for institution in &published.results.institutions {
        let m = &institution.metrics;
        assert!(m.effective_hours() > 1_000.0, "{}: {m:?}", institution.id);
        assert!(
            m.external_hours() > 0.0 && m.ratings > 0,
            "{}",
            institution.id
        );
        assert!(institution.evaluation.total > 0.0);
    }

    // Some of the year's receipts were disputed by the user's home: they reach the log
    // and are shown beside the figures, counted for nothing.
    let mut changes: Vec<_> = members.iter().map(|m| m.receipts().changes()).collect();
    let disputed = tokio::time::timeout(DEADLINE * 5, async {
        loop {
            let published = province
                .publication()
                .unwrap()
                .results("", today)
                .await
                .unwrap();
            let disputed: u32 = published
                .results
                .institutions
                .iter()
                .map(|i| i.metrics.disputed)
                .sum();
            if disputed > 0 {
                return disputed;
            }
            let waits = changes.iter_mut().map(|c| Box::pin(c.changed()));
            let _ = futures::future::select_all(waits).await;
        }
    })
    .await;
    assert!(
        disputed.is_ok(),
        "no dispute reached the province's results"
    );
    // Each with its home's reason, listed in pages beside the figures.
    let page: serde_json::Value =
        reqwest::get(format!("{}api/v1/results/disputes?limit=1", province.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert!(page["total"].as_u64().unwrap() > 0, "{page}");
    assert_eq!(page["disputes"].as_array().unwrap().len(), 1);
    assert!(!page["disputes"][0]["reason"].as_str().unwrap().is_empty());

    // Simulated agents report most instruments; the board shows them live.
    let board = province.monitoring().board().unwrap().clone();
    let mut changes = province.monitoring().board_changes();
    let silent_after = province.monitoring().silent_after();
    let live = tokio::time::timeout(DEADLINE * 2, async {
        loop {
            let rows = board
                .live(alliance_protocol::UnixTime::now(), silent_after)
                .unwrap();
            if rows.len() >= 30 {
                return rows;
            }
            changes.changed().await.unwrap();
        }
    })
    .await
    .expect("instruments on the board");
    assert!(live.iter().all(|row| !row.silent));

    // Anyone recomputes the demo's year from public data, and it agrees.
    let root = province.config().alliance.root_public_key;
    let base = province.url().trim_end_matches('/').to_owned();
    let fetched = alliance_node::verify::fetch(&base, "", Some(root), &|_| {})
        .await
        .unwrap();
    let report = alliance_node::verify::check(
        &fetched.root,
        &fetched.signed_statement,
        &fetched.figures,
        &fetched.evidence,
        &fetched.entries,
    )
    .unwrap();
    assert!(report.agrees(), "{:?}", report.differences);
    assert!(report.entries > 1_000);

    // The province published the last quarter that ended; a paper registered after
    // that shows as a correction beside the frozen figures.
    let mut history = demo.history();
    let told = tokio::time::timeout(
        DEADLINE * 20,
        history.wait_for(|stage| matches!(stage, HistoryStage::Done | HistoryStage::Failed(_))),
    )
    .await;
    let stage = demo.history().borrow().clone();
    assert!(told.is_ok(), "the demo's history stopped at {stage:?}");
    assert_eq!(stage, HistoryStage::Done);
    let http = reqwest::Client::new();
    let last_view = std::sync::Mutex::new(serde_json::Value::Null);
    let corrected = tokio::time::timeout(DEADLINE * 10, async {
        let mut ticks = tokio::time::interval(Duration::from_secs(1));
        loop {
            ticks.tick().await;
            let view: serde_json::Value = http
                .get(format!(
                    "{}api/v1/results?period={}",
                    province.url(),
                    last_ended_quarter()
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let corrections = view["corrections"].as_array().cloned().unwrap_or_default();
            if view["published_at"].is_i64()
                && corrections.iter().any(|c| c["figure"] == "publications")
            {
                return corrections;
            }
            *last_view.lock().unwrap() = view;
        }
    })
    .await;
    if corrected.is_err() {
        // Where the paper got to: each member's waiting mail, and whether the province
        // took each researcher's papers.
        let members: Vec<String> = members
            .iter()
            .map(|m| {
                let own = m.config().node.institution_id.to_string();
                let papers = m
                    .receipts()
                    .publications()
                    .of_user(&format!("{own}-researcher"))
                    .unwrap_or_default();
                format!(
                    "{own}: mail waiting {:?}, dead letters {:?}, papers (taken by the province) {:?}",
                    m.mail().depth(),
                    m.mail().dead_letter_count(),
                    papers.iter().map(|(_, taken)| *taken).collect::<Vec<_>>()
                )
            })
            .collect();
        let view = last_view.lock().unwrap().clone();
        panic!(
            "no correction after publication\n{}\nlast results: published_at {} corrections {}\n{}",
            members.join("\n"),
            view["published_at"],
            view["corrections"],
            at_the_province(province).await
        );
    }

    // After a year of history every page of every role fits a phone (390 px): wide tables
    // scroll inside their frame, never the page.
    let browser = alliance_tests::browser::Browser::start(true).await;
    let c = &browser.client;
    let (dlut, neu) = (members[0].url(), members[1].url());
    let instrument = members[0]
        .catalogue()
        .institution_views(&"dlut".parse().unwrap())
        .first()
        .map(|v| v.record.id())
        .unwrap();
    let mut too_wide = Vec::new();
    let mut walk = async |base: &str, who: Option<&str>, pages: &[&str]| {
        if let Some(user) = who {
            alliance_tests::browser::sign_in(c, base, user, demo::DEMO_PASSWORD).await;
        }
        for page in pages {
            c.goto(&format!("{base}{page}")).await.unwrap();
            if !alliance_tests::browser::fits_the_screen(c).await {
                too_wide.push(format!("{} {base}{page}", who.unwrap_or("visitor")));
            }
        }
        // Signed out by forgetting the session (the menu's button is folded on a phone).
        c.delete_all_cookies().await.unwrap();
    };
    let detail = format!("instruments/{instrument}");
    walk(
        &dlut,
        None,
        &[
            "",
            "instruments",
            &detail,
            "overview",
            "needs",
            "events",
            "results",
            "guide",
            "status",
        ],
    )
    .await;
    walk(
        &neu,
        Some("neu-researcher"),
        &[
            "",
            "bookings",
            "receipts",
            "publications",
            "orders",
            "help",
            "me",
            &detail,
        ],
    )
    .await;
    walk(
        &dlut,
        Some("dlut-manager"),
        &[
            "",
            "manage/bookings",
            "manage/receipts",
            "manage/usage",
            "manage/orders",
            "manage/trainings",
            "manage/monitoring",
        ],
    )
    .await;
    walk(
        &dlut,
        Some("admin"),
        &[
            "admin/instruments",
            "admin/instruments/new",
            "admin/accounts",
        ],
    )
    .await;
    walk(
        &province.url(),
        Some("admin"),
        &[
            "",
            "province/reviews",
            "province/compliance",
            "province/monitoring",
            "results",
        ],
    )
    .await;
    assert!(
        too_wide.is_empty(),
        "pages wider than a phone: {too_wide:#?}"
    );
    browser.close().await;
    demo.shutdown().await;
}

/// What the province holds of the demo's late paper: the paper, the use it cites as the
/// log has it, and the cited instrument's publications as stated and as live.
#[allow(clippy::unwrap_used)]
async fn at_the_province(province: &alliance_node::NodeHandle) -> String {
    use alliance_node::evaluation::metrics::Period;
    let publication = province.publication().unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let (period, label) = Period::parse(&last_ended_quarter(), today).unwrap();
    let papers: Vec<_> = province
        .receipts()
        .publications()
        .in_period(&period)
        .unwrap()
        .into_iter()
        .filter(|p| p.publication_id.starts_with("demo-late-"))
        .collect();
    let mut out = format!("late papers in {label} at the province: {}\n", papers.len());
    let log = publication.log().clone();
    let size = log.tree_head().await.size;
    let uses = alliance_node::province::results::read_log(&log, 0, size).unwrap();
    let frozen = publication.results(&label, today).await.unwrap();
    let stated = frozen
        .statement
        .as_ref()
        .map(|s| s.figures().rows)
        .unwrap_or_default();
    let judged = frozen
        .statement
        .as_ref()
        .and_then(|s| alliance_node::province::statement::judged_on(&s.statement))
        .unwrap_or(today);
    let live = publication.live_results(&label, judged).await.unwrap();
    let live_rows = alliance_node::province::results::rows(&live.results);
    for paper in papers {
        let receipt_id = paper.publication_id.trim_start_matches("demo-late-");
        let cited: Vec<String> = uses
            .iter()
            .filter(|u| u.receipt.receipt_id == receipt_id)
            .map(|u| {
                format!(
                    "#{} {:?} user {} home {}",
                    u.index, u.countersign, u.receipt.user_id, u.receipt.home_institution
                )
            })
            .collect();
        let figure = |rows: &[alliance_protocol::results::ResultRow]| {
            rows.iter()
                .filter(|r| {
                    paper
                        .instruments
                        .iter()
                        .any(|i| i.ends_with(&format!("/{}", r.instrument)) || *i == r.instrument)
                })
                .map(|r| r.publications)
                .collect::<Vec<_>>()
        };
        out.push_str(&format!(
            "{} by {}/{} on {} for {:?}: cited use {:?}; publications stated {:?} live {:?} (live log size {})\n",
            paper.publication_id,
            paper.home_institution,
            paper.user_id,
            paper.published_on,
            paper.instruments,
            cited,
            figure(&stated),
            figure(&live_rows),
            live.results.log_size,
        ));
    }
    out
}

/// The quarter before today's (Asia/Shanghai).
fn last_ended_quarter() -> String {
    use chrono::Datelike;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    match today.month0() / 3 {
        0 => format!("{}-Q4", today.year() - 1),
        q => format!("{}-Q{q}", today.year()),
    }
}
