#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_protocol::{
    InstrumentRecord, MembershipCertificate, Role, SecretKey, UnixTime, fixtures,
    receipt::{ReceiptConfirmation, ReceiptSubmission, UsageReceipt, Verdict, receipt_hash},
    statement::{ResultsStatement, StatedFigures, figures_digest},
    transparency::{MerkleLog, TreeHead},
};
use chrono::NaiveDate;

use super::*;
use crate::province::{
    evidence::EvidenceItem,
    statement::{Stated, Statement, state},
};

/// A province of two members (dlut owns XPS-1, neu's users use it) and a log of
/// `uses` receipts, each confirmed, an hour apart.
struct World {
    root: SecretKey,
    evidence: Vec<Vec<u8>>,
    entries: Vec<Vec<u8>>,
}

fn certificate(root: &SecretKey, key: &SecretKey, id: &str, serial: u64) -> EvidenceItem {
    let signed = MembershipCertificate {
        institution_id: id.parse().unwrap(),
        name_zh: format!("{id} 大学"),
        name_en: id.into(),
        region: String::new(),
        node_public_key: key.public(),
        role: Role::Member,
        serial,
        not_before: UnixTime(1_700_000_000),
        not_after: UnixTime(1_900_000_000),
    }
    .sign(root);
    EvidenceItem::Certificate {
        signed: hex::encode(signed.encode()),
    }
}

fn world(uses: usize) -> World {
    let (root, dlut, neu) = (
        SecretKey::generate(),
        SecretKey::generate(),
        SecretKey::generate(),
    );
    let mut record = InstrumentRecord::new("dlut".parse().unwrap(), "XPS-1".into(), "XPS".into());
    record.name_en = "XPS".into();
    record.classification_code = "0102".into();
    record.location.city = "大连市".into();
    record.original_value_fen = 50_000_000;
    record.revision = 1;
    let evidence = [
        certificate(&root, &dlut, "dlut", 1),
        certificate(&root, &neu, "neu", 2),
        EvidenceItem::Record {
            signed: hex::encode(record.seal(&dlut)),
        },
        EvidenceItem::FirstSeen {
            instrument: "dlut/XPS-1".into(),
            at: 1_790_000_000,
        },
        EvidenceItem::Uptime {
            instrument: "dlut/XPS-1".into(),
            uptime: 0.9,
        },
    ]
    .iter()
    .map(EvidenceItem::to_bytes)
    .collect();
    let entries = (0..uses)
        .map(|i| {
            let mut receipt: UsageReceipt = fixtures::receipt();
            receipt.receipt_id = format!("r-{i}");
            let shift = i as i64 * 3_600;
            receipt.start = UnixTime(receipt.start.0 + shift);
            receipt.end = UnixTime(receipt.start.0 + 1_800);
            receipt.issued_at = receipt.end;
            receipt.preparation_minutes = 0;
            receipt.test_minutes = 30;
            receipt.post_processing_minutes = 0;
            let sealed = receipt.seal(&dlut);
            let confirmation = ReceiptConfirmation {
                receipt_hash: receipt_hash(&sealed),
                receipt_id: receipt.receipt_id.clone(),
                institution_id: receipt.institution_id.clone(),
                user_id: receipt.user_id.clone(),
                verdict: Verdict::Confirmed {
                    rating: 5,
                    comment: String::new(),
                },
                confirmed_at: receipt.end,
            }
            .seal(&neu);
            ReceiptSubmission {
                receipt: sealed,
                confirmation: Some(confirmation),
            }
            .encode()
        })
        .collect();
    World {
        root,
        evidence,
        entries,
    }
}

/// The province's statement of 2026-Q4 over the world's log.
fn stated(world: &World) -> Stated {
    let today = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
    let (period, label) = Period::parse("2026-Q4", today).unwrap();
    let inputs = evidence::open(&world.evidence, &world.root.public(), &period).unwrap();
    let uses: Vec<LoggedUse> = world
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| verify_entry(i as u64, e, &inputs).unwrap())
        .collect();
    let mut log = MerkleLog::new();
    for entry in &world.entries {
        log.push(entry);
    }
    let config = EvaluationConfig::builtin();
    state(
        &world.root,
        Statement {
            label,
            period,
            judged_on: today,
            published: true,
            head: TreeHead {
                size: log.len(),
                root: log.root(),
                timestamp: UnixTime(1_798_000_000),
            },
            uses: &uses,
            evidence: world.evidence.clone(),
            config: &config,
            issued_at: UnixTime(1_798_000_000),
        },
    )
    .unwrap()
    .0
}

fn check_stated(world: &World, stated: &Stated) -> Result<Report, VerifyError> {
    check(
        &world.root.public(),
        &stated.signed,
        &stated.figures,
        &stated.evidence,
        &world.entries,
    )
}

#[test]
fn a_statement_checks_and_its_figures_are_recomputed_alike() {
    let world = world(3);
    let stated = stated(&world);
    let report = check_stated(&world, &stated).unwrap();
    assert!(report.agrees(), "{:?}", report.differences);
    assert_eq!(report.entries, 3);
    let figures: StatedFigures = serde_json::from_str(&stated.figures).unwrap();
    let xps = figures
        .rows
        .iter()
        .find(|r| r.instrument == "dlut/XPS-1")
        .unwrap();
    assert_eq!(xps.receipts, 3);
    assert_eq!(xps.monitoring_uptime, Some(0.9));
}

#[test]
fn an_altered_row_signed_again_shows_as_the_one_figure_that_differs() {
    let world = world(3);
    let stated = stated(&world);
    // A province that publishes one figure it did not compute, and signs it.
    let mut figures: StatedFigures = serde_json::from_str(&stated.figures).unwrap();
    let row = figures
        .rows
        .iter_mut()
        .find(|r| r.instrument == "dlut/XPS-1")
        .unwrap();
    row.receipts += 7;
    let altered = serde_json::to_string(&figures).unwrap();
    let mut statement = stated.statement.clone();
    statement.figures_digest = figures_digest(altered.as_bytes());
    let signed = statement.seal(&world.root);
    let report = check(
        &world.root.public(),
        &signed,
        &altered,
        &stated.evidence,
        &world.entries,
    )
    .unwrap();
    assert_eq!(report.differences.len(), 1, "{:?}", report.differences);
    let d = &report.differences[0];
    assert_eq!(
        (d.instrument.as_str(), d.figure.as_str()),
        ("dlut/XPS-1", "receipts")
    );
    assert_eq!((d.first.as_str(), d.second.as_str()), ("10", "3"));
}

#[test]
fn forged_or_altered_inputs_are_refused_before_anything_is_compared() {
    let world = world(2);
    let stated = stated(&world);
    // Figures changed without a new signature.
    let tampered = stated.figures.replace("\"receipts\":2", "\"receipts\":9");
    assert!(matches!(
        check(
            &world.root.public(),
            &stated.signed,
            &tampered,
            &stated.evidence,
            &world.entries
        ),
        Err(VerifyError::Figures(_))
    ));
    // A statement signed by another key.
    let forged = stated.statement.seal(&SecretKey::generate());
    assert!(matches!(
        check(
            &world.root.public(),
            &forged,
            &stated.figures,
            &stated.evidence,
            &world.entries
        ),
        Err(VerifyError::Statement(_))
    ));
    // An evidence item dropped.
    assert!(matches!(
        check(
            &world.root.public(),
            &stated.signed,
            &stated.figures,
            &stated.evidence[1..],
            &world.entries
        ),
        Err(VerifyError::EvidenceDigest(_))
    ));
    // A log entry swapped for another, or missing.
    let mut swapped = world.entries.clone();
    swapped.swap(0, 1);
    assert!(matches!(
        check(
            &world.root.public(),
            &stated.signed,
            &stated.figures,
            &stated.evidence,
            &swapped
        ),
        Err(VerifyError::LogRoot { .. })
    ));
    assert!(matches!(
        check(
            &world.root.public(),
            &stated.signed,
            &stated.figures,
            &stated.evidence,
            &world.entries[..1]
        ),
        Err(VerifyError::LogSize { .. })
    ));
}

#[test]
fn a_receipt_signed_by_a_key_not_certified_for_its_owner_is_refused() {
    let mut world = world(1);
    let impostor = SecretKey::generate();
    let receipt = fixtures::receipt();
    world.entries[0] = ReceiptSubmission {
        receipt: receipt.seal(&impostor),
        confirmation: None,
    }
    .encode();
    let stated = {
        // The province states it as it stands (its own log would have refused it).
        let today = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        let (period, label) = Period::parse("2026-Q4", today).unwrap();
        let mut log = MerkleLog::new();
        log.push(&world.entries[0]);
        let config = EvaluationConfig::builtin();
        state(
            &world.root,
            Statement {
                label,
                period,
                judged_on: today,
                published: true,
                head: TreeHead {
                    size: 1,
                    root: log.root(),
                    timestamp: UnixTime(1_798_000_000),
                },
                uses: &[],
                evidence: world.evidence.clone(),
                config: &config,
                issued_at: UnixTime(1_798_000_000),
            },
        )
        .unwrap()
        .0
    };
    let refused = check_stated(&world, &stated).unwrap_err();
    assert!(
        matches!(&refused, VerifyError::Entry { index: 0, problem } if problem.contains("no certified key of dlut")),
        "{refused}"
    );
    let statement: ResultsStatement = stated.statement;
    assert_eq!(statement.log_size, 1);
}

#[test]
fn a_receipt_logged_after_publication_moves_no_published_figure_and_shows_as_a_correction() {
    // Published when the log held two receipts of the period; a third, back-dated into
    // it, is logged later.
    let world = world(3);
    let today = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
    let (period, label) = Period::parse("2026-Q4", today).unwrap();
    let inputs = evidence::open(&world.evidence, &world.root.public(), &period).unwrap();
    let uses: Vec<LoggedUse> = world
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| verify_entry(i as u64, e, &inputs).unwrap())
        .collect();
    let mut first_two = MerkleLog::new();
    for entry in &world.entries[..2] {
        first_two.push(entry);
    }
    let config = EvaluationConfig::builtin();
    let (stated, _) = state(
        &world.root,
        Statement {
            label,
            period,
            judged_on: today,
            published: true,
            head: TreeHead {
                size: 2,
                root: first_two.root(),
                timestamp: UnixTime(1_798_000_000),
            },
            uses: &uses,
            evidence: world.evidence.clone(),
            config: &config,
            issued_at: UnixTime(1_798_000_000),
        },
    )
    .unwrap();
    // The whole log now: the statement still checks and agrees, on its two entries.
    let report = check_stated(&world, &stated).unwrap();
    assert!(report.agrees(), "{:?}", report.differences);
    assert_eq!(report.entries, 2);
    // The live figures count the third: the difference is the correction listed.
    let live = stated_figures(&compute_stated(&config, period, today, &uses, &inputs, 3));
    let corrections = differences(&stated.figures().rows, &live.rows);
    assert!(
        corrections.iter().any(|c| c.instrument == "dlut/XPS-1"
            && c.figure == "receipts"
            && c.first == "2"
            && c.second == "3"),
        "{corrections:?}"
    );
}
