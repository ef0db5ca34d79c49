#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_protocol::stats::MonthStatistics;
use alliance_protocol::{MembershipCertificate, Role, SecretKey, stats::InstrumentStatistics};

use super::*;

fn certificate(root: &SecretKey, key: &SecretKey, id: &str) -> Vec<u8> {
    let signed = MembershipCertificate {
        institution_id: id.parse().unwrap(),
        name_zh: id.into(),
        name_en: id.into(),
        region: String::new(),
        node_public_key: key.public(),
        role: Role::Member,
        serial: 1,
        not_before: UnixTime(1_700_000_000),
        not_after: UnixTime(1_900_000_000),
    }
    .sign(root);
    EvidenceItem::Certificate {
        signed: hex::encode(signed.encode()),
    }
    .to_bytes()
}

fn record(id: &str, local_id: &str) -> InstrumentRecord {
    let mut record = InstrumentRecord::new(id.parse().unwrap(), local_id.into(), "XPS".into());
    record.name_en = "XPS".into();
    record.classification_code = "0102".into();
    record.location.city = "大连市".into();
    record.original_value_fen = 50_000_000;
    record.revision = 1;
    record
}

fn q4() -> Period {
    Period::parse(
        "2026-Q4",
        chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
    )
    .unwrap()
    .0
}

#[test]
fn members_signed_evidence_reads_into_the_inputs_of_the_results() {
    let (root, dlut) = (SecretKey::generate(), SecretKey::generate());
    let statistics = ServiceStatistics {
        institution_id: "dlut".parse().unwrap(),
        computed_at: UnixTime(1_797_000_000),
        months: vec![MonthStatistics {
            month: "2026-11".into(),
            instruments: vec![InstrumentStatistics {
                local_id: "XPS-1".into(),
                requests: 10,
                rejections: 2,
                responses: 10,
                response_seconds: 36_000,
            }],
        }],
    };
    let items = vec![
        certificate(&root, &dlut, "dlut"),
        EvidenceItem::Record {
            signed: hex::encode(record("dlut", "XPS-1").seal(&dlut)),
        }
        .to_bytes(),
        EvidenceItem::FirstSeen {
            instrument: "dlut/XPS-1".into(),
            at: 1_790_000_000,
        }
        .to_bytes(),
        EvidenceItem::Statistics {
            signed: hex::encode(statistics.seal(&dlut)),
        }
        .to_bytes(),
        EvidenceItem::Name {
            institution: "dlut".parse().unwrap(),
            name_zh: "大连理工大学".into(),
        }
        .to_bytes(),
        // Offered on neu's need four hours after the province first held it.
        EvidenceItem::Answer(Answer {
            need: "neu/n1".into(),
            institution: "dlut".parse().unwrap(),
            instrument: "dlut/XPS-1".into(),
            need_seen: 1_797_000_000,
            offer_seen: 1_797_014_400,
            accepted: true,
        })
        .to_bytes(),
    ];
    let inputs = open(&items, &root.public(), &q4()).unwrap();
    assert_eq!(inputs.records.len(), 1);
    assert_eq!(
        inputs.records[0].networked_date,
        networked_date(UnixTime(1_790_000_000))
    );
    let facts = &inputs.facts["dlut/XPS-1"];
    assert_eq!((facts.requests, facts.rejections), (10, 2));
    // Ten booking responses over 10 hours, and the offer's 4 hours.
    assert_eq!((facts.responses, facts.response_hours_sum), (11, 14.0));
    assert_eq!((facts.offers, facts.offers_accepted), (1, 1));
    assert_eq!(facts.uptime, None);
    assert_eq!(
        inputs.names[&"dlut".parse::<InstitutionId>().unwrap()],
        "大连理工大学"
    );
}

#[test]
fn evidence_signed_by_a_key_not_certified_for_it_is_refused() {
    let (root, dlut, neu) = (
        SecretKey::generate(),
        SecretKey::generate(),
        SecretKey::generate(),
    );
    let certificates = vec![
        certificate(&root, &dlut, "dlut"),
        certificate(&root, &neu, "neu"),
    ];
    // neu's key signing dlut's record.
    let mut items = certificates.clone();
    items.push(
        EvidenceItem::Record {
            signed: hex::encode(record("dlut", "XPS-1").seal(&neu)),
        }
        .to_bytes(),
    );
    let refused = open(&items, &root.public(), &q4()).unwrap_err();
    assert_eq!(refused.index, 2);
    assert!(refused.problem.contains("another institution"), "{refused}");
    // A certificate under another root.
    let forged = vec![certificate(&SecretKey::generate(), &dlut, "dlut")];
    assert_eq!(open(&forged, &root.public(), &q4()).unwrap_err().index, 0);
    // An uptime outside 0–1.
    let mut items = certificates;
    items.push(
        EvidenceItem::Uptime {
            instrument: "dlut/XPS-1".into(),
            uptime: 3.0,
        }
        .to_bytes(),
    );
    assert!(open(&items, &root.public(), &q4()).is_err());
}
