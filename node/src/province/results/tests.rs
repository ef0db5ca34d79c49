//! Two institutions over 2026: dlut's XPS-1 (reported on time in 2025) with three uses in
//! the year, one in 2025 and a use of an instrument not in the catalogue, and OLD-1
//! (reported late, in 2024), unused; neu's NMR-1,
//! accepted 2026-03-02 and put on the network 2026-06-01 (late), with one use.
//!
//! | log | instrument  | user (home)   | effective min | fees (fen) | rating |
//! |-----|-------------|---------------|---------------|------------|--------|
//! | 0   | dlut/XPS-1  | u1 (dlut)     | 600           | 10,000     | —      |
//! | 1   | dlut/XPS-1  | u2 (neu)      | 1,200         | 50,000     | 4      |
//! | 2   | dlut/XPS-1  | u3 (imr)      | 1,800         | 90,000     | 5      |
//! | 3   | dlut/XPS-1  | u4 (neu) 2025 | 6,000         | 1,000      | 1      |
//! | 4   | dlut/GONE-1 | u5 (neu)      | 60            | 100        | —      |
//! | 5   | neu/NMR-1   | u2 (neu)      | 120           | 2,000      | —      |
//!
//! dlut: 60 h effective, 50 h external, 100 元 internal and 1,400 元 external revenue,
//! from entries 0, 1, 2. neu: 2 h, internal. neu is named for reporting late.

#![allow(clippy::unwrap_used)]

use alliance_protocol::{
    FeeComponents, SecretKey, UnixTime, UserTier,
    receipt::{ReceiptConfirmation, ReceiptSubmission, UsageReceipt, receipt_hash},
};

use super::*;
use alliance_protocol::publication::Publication;

use crate::evaluation::{awards::SanctionReason, metrics::Countersign};

/// 2026-01-01 00:00 in Shanghai.
const YEAR_2026: i64 = 1_767_196_800;

fn use_of(
    index: u64,
    instrument: &str,
    (user, home): (&str, &str),
    minutes: u32,
    fen: i64,
    rating: Option<u8>,
    at: i64,
) -> LoggedUse {
    let (owner, local_id) = instrument.split_once('/').unwrap();
    let tier = if home == owner {
        UserTier::OwnInstitution
    } else {
        UserTier::AllianceMember
    };
    LoggedUse {
        index,
        receipt: UsageReceipt {
            receipt_id: format!("r{index}"),
            institution_id: owner.parse().unwrap(),
            local_id: local_id.into(),
            booking_id: String::new(),
            user_id: user.into(),
            user_name: String::new(),
            home_institution: home.parse().unwrap(),
            tier,
            start: UnixTime(at),
            end: UnixTime(at + 3_600),
            preparation_minutes: 0,
            test_minutes: minutes,
            post_processing_minutes: 0,
            samples: 1,
            fees: FeeComponents {
                materials_fen: 0,
                operating_fen: fen,
                labour_fen: 0,
            },
            issued_at: UnixTime(at + 3_600),
            report_sha256: None,
        },
        countersign: rating.map_or(Countersign::Missing, |rating| Countersign::Confirmed {
            rating,
        }),
        dispute: None,
    }
}

fn record(institution: &str, local_id: &str, accepted: &str, networked: &str) -> InstrumentRecord {
    let mut r = InstrumentRecord::new(
        institution.parse().unwrap(),
        local_id.into(),
        format!("{local_id} 仪器"),
    );
    r.classification_code = "0102".into();
    r.original_value_fen = 50_000_000;
    r.acceptance_date = accepted.into();
    r.networked_date = networked.into();
    r
}

fn results() -> Results {
    results_with(&[])
}

fn results_with(publications: &[Publication]) -> Results {
    let day = 86_400;
    let uses = vec![
        use_of(
            0,
            "dlut/XPS-1",
            ("u1", "dlut"),
            600,
            10_000,
            Some(3),
            YEAR_2026 + 10 * day,
        ),
        use_of(
            1,
            "dlut/XPS-1",
            ("u2", "neu"),
            1_200,
            50_000,
            Some(4),
            YEAR_2026 + 40 * day,
        ),
        use_of(
            2,
            "dlut/XPS-1",
            ("u3", "imr"),
            1_800,
            90_000,
            Some(5),
            YEAR_2026 + 200 * day,
        ),
        use_of(
            3,
            "dlut/XPS-1",
            ("u4", "neu"),
            6_000,
            1_000,
            Some(1),
            YEAR_2026 - 20 * day,
        ),
        use_of(
            4,
            "dlut/GONE-1",
            ("u5", "neu"),
            60,
            100,
            None,
            YEAR_2026 + 50 * day,
        ),
        use_of(
            5,
            "neu/NMR-1",
            ("u2", "neu"),
            120,
            2_000,
            Some(4),
            YEAR_2026 + 90 * day,
        ),
        // Never confirmed by its home: shown, counted apart, moves no figure.
        use_of(
            6,
            "dlut/XPS-1",
            ("u6", "sy"),
            9_000,
            900_000,
            None,
            YEAR_2026 + 60 * day,
        ),
    ];
    let records = vec![
        record("dlut", "XPS-1", "2025-03-02", "2025-03-20"),
        record("dlut", "OLD-1", "2024-01-02", "2024-06-03"),
        record("neu", "NMR-1", "2026-03-02", "2026-06-01"),
        // 500,000 yuan, no acceptance date: flagged, not exempt.
        record("neu", "NOACC-1", "", "2026-05-01"),
    ];
    let names = BTreeMap::from([("dlut".parse().unwrap(), "大连理工大学".to_owned())]);
    let config = EvaluationConfig::builtin();
    let other = |_: &str| OtherFacts::default();
    compute(&ResultsInput {
        config: &config,
        period: Period {
            from: UnixTime(YEAR_2026),
            to: UnixTime(YEAR_2026 + 365 * day),
        },
        today: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        uses: &uses,
        records: &records,
        names: &names,
        publications,
        other: &other,
    })
}

/// A paper naming `instruments`, registered by `user` of `home`.
fn paper(id: &str, (user, home): (&str, &str), doi: &str, instruments: &[&str]) -> Publication {
    Publication {
        publication_id: id.into(),
        home_institution: home.parse().unwrap(),
        user_id: user.into(),
        kind: alliance_protocol::publication::PublicationKind::Paper,
        title: "XPS study".into(),
        authors: "王小明".into(),
        identifier: doi.into(),
        acknowledgement: "感谢".into(),
        instruments: instruments.iter().map(|i| (*i).to_owned()).collect(),
        published_on: "2026-09-01".into(),
        registered_at: UnixTime(YEAR_2026 + 250 * 86_400),
    }
}

#[test]
fn a_work_counts_once_per_instrument_and_only_from_a_user_who_used_it() {
    // u2 of neu used XPS-1 (log entry 1, confirmed) and registers one DOI twenty times,
    // however written, naming OLD-1 too, which nobody used; u1 (dlut, confirmed)
    // registers another; u6 (sy) only has a receipt its home never confirmed; u9 never
    // used XPS-1. u2 also used neu's NMR-1 and registers a paper of it.
    let mut papers: Vec<Publication> = (0..20)
        .map(|n| {
            let doi = if n % 2 == 0 {
                "10.1000/xps.1"
            } else {
                "https://doi.org/10.1000/XPS.1"
            };
            paper(
                &format!("p{n}"),
                ("u2", "neu"),
                doi,
                &["dlut/XPS-1", "dlut/OLD-1"],
            )
        })
        .collect();
    papers.push(paper(
        "q1",
        ("u1", "dlut"),
        "10.1000/xps.2",
        &["dlut/XPS-1"],
    ));
    papers.push(paper("q2", ("u6", "sy"), "10.1000/xps.3", &["dlut/XPS-1"]));
    papers.push(paper("q3", ("u9", "neu"), "10.1000/xps.4", &["dlut/XPS-1"]));
    papers.push(paper("q4", ("u2", "neu"), "10.1000/nmr.1", &["neu/NMR-1"]));
    let results = results_with(&papers);
    let figure = |id: &str| {
        results
            .institutions
            .iter()
            .flat_map(|i| &i.instruments)
            .find(|i| i.id == id)
            .unwrap()
            .metrics
            .publications
    };
    assert_eq!(figure("dlut/XPS-1"), 2);
    assert_eq!(figure("dlut/OLD-1"), 0, "named, never used");
    assert_eq!(figure("neu/NMR-1"), 1);
}

#[test]
fn figures_come_from_the_receipts_of_the_period_and_add_up_per_institution() {
    let results = results();
    assert_eq!(results.log_size, 7);
    let ids: Vec<&str> = results.institutions.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["dlut", "neu"]);
    let dlut = &results.institutions[0];
    assert_eq!(dlut.name_zh, "大连理工大学");
    assert_eq!(dlut.instruments.len(), 2);
    assert!(matches!(
        dlut.instruments[1].compliance,
        Standing::Late { .. }
    ));
    assert_eq!(dlut.instruments[0].entries, [0, 1, 2, 6]);
    assert_eq!(
        (
            dlut.metrics.receipts,
            dlut.metrics.unconfirmed,
            dlut.metrics.disputed
        ),
        (3, 1, 0)
    );
    assert_eq!(dlut.metrics.effective_hours(), 60.0);
    assert_eq!(dlut.metrics.external_hours(), 50.0);
    assert_eq!(dlut.metrics.revenue_internal_fen, 10_000);
    assert_eq!(dlut.metrics.revenue_external_fen, 140_000);
    assert_eq!(dlut.metrics.ratings, 3);
    let neu = &results.institutions[1];
    assert_eq!(neu.name_zh, "neu", "no name known: the id");
    assert_eq!(neu.metrics.effective_hours(), 2.0);
    assert_eq!(neu.metrics.external_hours(), 0.0);
    // NMR-1 reported late, and NOACC-1 (no acceptance date) flagged.
    assert_eq!(neu.late_or_missing, 2);
    assert!(matches!(
        neu.instruments[1].compliance,
        Standing::NoAcceptanceDate
    ));
    assert!(neu.instruments[1].compliance.needs_attention());
    // dlut's instruments were reported in 2024 (late) and 2025 (on time): neither is
    // 2026's business.
    assert_eq!(dlut.late_or_missing, 0);
    assert_eq!(dlut.metrics.reporting_required, 0);
    assert_eq!(neu.metrics.reporting_required, 2);
    assert_eq!(neu.metrics.reported_on_time, 0);
    assert!(matches!(
        neu.instruments[0].compliance,
        Standing::Late { .. }
    ));
    // The sanctions name neu for two instruments late or flagged (and each graded 较差 by the built-in
    // indicator tree with these few figures).
    let neu_reasons = &results
        .sanctions
        .iter()
        .find(|(id, _)| id.as_str() == "neu")
        .unwrap()
        .1;
    assert!(
        neu_reasons
            .iter()
            .any(|r| matches!(r, SanctionReason::ReportingLate { instruments: 2 }))
    );
}

#[test]
fn downloads_have_a_row_per_institution_and_instrument() {
    let results = results();
    let csv = to_csv(&rows(&results)).unwrap();
    assert!(
        csv.starts_with(&[0xEF, 0xBB, 0xBF]),
        "a BOM for spreadsheets"
    );
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 6);
    assert!(lines[0].starts_with("单位代码,单位名称,仪器编号"));
    assert!(lines[1].starts_with("dlut,大连理工大学,,,60,50,"));
    assert!(lines[2].starts_with("dlut,大连理工大学,dlut/XPS-1,XPS-1 仪器,60,50,"));
    assert!(
        lines[2].ends_with(",3,1,0"),
        "three receipts counted, one unconfirmed: {}",
        lines[2]
    );
    let json = to_json(&results);
    assert_eq!(json["rows"].as_array().unwrap().len(), 6);
    assert_eq!(json["rows"][1]["receipts"], 3);
    assert_eq!(json["rows"][1]["unconfirmed_receipts"], 1);
    assert_eq!(json["log_size"], 7);
}

#[test]
fn member_supplied_text_never_reaches_the_csv_as_a_formula() {
    let mut results = results();
    results.institutions[0].instruments[0].name_zh = "=HYPERLINK(\"http://x\",\"XPS\")".into();
    results.institutions[0].instruments[1].name_zh = "@SUM(1)".into();
    let csv = to_csv(&rows(&results)).unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(&csv[3..]);
    let names: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[3].to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    assert!(
        names.contains(&"'=HYPERLINK(\"http://x\",\"XPS\")".to_owned()),
        "{names:?}"
    );
    assert!(names.contains(&"'@SUM(1)".to_owned()), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| !crate::spreadsheet::looks_like_formula(n))
    );
}

#[test]
fn a_logged_entry_reads_back_with_its_homes_answer() {
    let owner = SecretKey::generate();
    let home = SecretKey::generate();
    let receipt = use_of(0, "dlut/XPS-1", ("u2", "neu"), 60, 100, None, YEAR_2026).receipt;
    let signed = receipt.seal(&owner);
    let confirmation = ReceiptConfirmation {
        receipt_hash: receipt_hash(&signed),
        receipt_id: receipt.receipt_id.clone(),
        institution_id: receipt.institution_id.clone(),
        user_id: receipt.user_id.clone(),
        verdict: alliance_protocol::receipt::Verdict::Confirmed {
            rating: 3,
            comment: String::new(),
        },
        confirmed_at: UnixTime(YEAR_2026 + 10),
    }
    .seal(&home);
    let entry = ReceiptSubmission {
        receipt: signed.clone(),
        confirmation: Some(confirmation),
    }
    .encode();
    let read = logged::read_entry(7, &entry).unwrap();
    assert_eq!(
        (read.index, read.countersign),
        (7, Countersign::Confirmed { rating: 3 })
    );
    assert_eq!(read.receipt, receipt);
    let single = ReceiptSubmission {
        receipt: signed.clone(),
        confirmation: None,
    }
    .encode();
    assert_eq!(
        logged::read_entry(0, &single).unwrap().countersign,
        Countersign::Missing
    );
    // A dispute reads back with its reason, and counts for nothing.
    let disputed = ReceiptConfirmation {
        receipt_hash: receipt_hash(&signed),
        receipt_id: receipt.receipt_id.clone(),
        institution_id: receipt.institution_id.clone(),
        user_id: receipt.user_id.clone(),
        verdict: alliance_protocol::receipt::Verdict::Disputed {
            reason: "未使用".into(),
        },
        confirmed_at: UnixTime(YEAR_2026 + 10),
    }
    .seal(&home);
    let entry = ReceiptSubmission {
        receipt: signed,
        confirmation: Some(disputed),
    }
    .encode();
    let read = logged::read_entry(8, &entry).unwrap();
    assert_eq!(read.countersign, Countersign::Disputed);
    assert_eq!(read.dispute.as_deref(), Some("未使用"));
    assert!(logged::read_entry(0, b"junk").is_none());
}

#[test]
fn the_periods_disputed_receipts_are_listed_with_their_reasons() {
    let day = 86_400;
    let disputed = |index, at, reason: &str| LoggedUse {
        countersign: Countersign::Disputed,
        dispute: Some(reason.into()),
        ..use_of(index, "dlut/XPS-1", ("u2", "neu"), 60, 100, None, at)
    };
    let uses = vec![
        use_of(
            0,
            "dlut/XPS-1",
            ("u1", "neu"),
            60,
            100,
            Some(5),
            YEAR_2026 + day,
        ),
        disputed(1, YEAR_2026 + 2 * day, "未使用"),
        // Before the period: not listed.
        disputed(2, YEAR_2026 - 2 * day, "时间不符"),
    ];
    let records = vec![record("dlut", "XPS-1", "2025-03-02", "2025-03-20")];
    let config = EvaluationConfig::builtin();
    let other = |_: &str| OtherFacts::default();
    let results = compute(&ResultsInput {
        config: &config,
        period: Period {
            from: UnixTime(YEAR_2026),
            to: UnixTime(YEAR_2026 + 365 * day),
        },
        today: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        uses: &uses,
        records: &records,
        names: &BTreeMap::new(),
        publications: &[],
        other: &other,
    });
    assert_eq!(
        results.disputes,
        vec![Dispute {
            index: 1,
            instrument: "dlut/XPS-1".into(),
            receipt_id: "r1".into(),
            home: "neu".parse().unwrap(),
            reason: "未使用".into(),
        }]
    );
    assert_eq!(results.institutions[0].metrics.disputed, 1);
}
