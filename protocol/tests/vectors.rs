//! Golden test vectors: fixed keys and payloads whose encodings and signatures are committed
//! under `tests/vectors/`, so that any implementation of the protocol can check itself.
//!
//! Regenerate (only when the wire format changes on purpose) with
//! `ALLIANCE_WRITE_VECTORS=1 cargo test -p alliance-protocol --test vectors`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, path::PathBuf};

use alliance_protocol::{
    MembershipCertificate, NodeAnnouncement, Role, Roster, SecretKey, SignedCertificate,
    SignedEnvelope, SignedRoster, UnixTime,
    booking::BookingCancel,
    envelope::{Domain, signing_input},
    record::{
        Contact, FeeComponents, FeeItem, FeeUnit, InstrumentRecord, InstrumentStatus, Location,
        ServiceMode, SharingScope,
    },
    rpc::{Hello, Request},
};

fn seed(byte: u8) -> SecretKey {
    SecretKey::from_seed(&[byte; 32]).unwrap()
}

fn certificate(root: &SecretKey, node: &SecretKey) -> SignedCertificate {
    MembershipCertificate {
        institution_id: "dlut".parse().unwrap(),
        name_zh: "大连理工大学".into(),
        name_en: "Dalian University of Technology".into(),
        region: "辽宁省大连市".into(),
        node_public_key: node.public(),
        role: Role::Member,
        serial: 2,
        not_before: UnixTime(1_767_225_600),
        not_after: UnixTime(1_830_297_600),
    }
    .sign(root)
}

/// Every vector, as name → fields (all hex unless the name says otherwise).
fn vectors() -> BTreeMap<&'static str, BTreeMap<&'static str, String>> {
    let root = seed(0x11);
    let node = seed(0x22);
    let mut all = BTreeMap::new();

    let payload = "辽宁 alliance payload".as_bytes().to_vec();
    let env = SignedEnvelope::seal(&node, Domain("alliance/test/v1"), payload.clone());
    all.insert(
        "envelope",
        BTreeMap::from([
            ("secret_seed", hex::encode(node.seed())),
            ("public_key", node.public().to_string()),
            ("domain_text", "alliance/test/v1".to_owned()),
            ("payload", hex::encode(&payload)),
            (
                "signing_input",
                hex::encode(signing_input("alliance/test/v1", &payload)),
            ),
            ("signature", hex::encode(env.signature())),
            ("envelope", hex::encode(env.encode())),
        ]),
    );

    let cert = certificate(&root, &node);
    all.insert(
        "certificate",
        BTreeMap::from([
            ("root_secret_seed", hex::encode(root.seed())),
            ("root_public_key", root.public().to_string()),
            ("node_public_key", node.public().to_string()),
            ("signed_certificate", hex::encode(cert.encode())),
        ]),
    );

    let roster = Roster {
        version: 3,
        issued_at: UnixTime(1_767_312_000),
        certificates: vec![cert.clone()],
        revoked_serials: [9].into(),
    }
    .sign(&root);
    all.insert(
        "roster",
        BTreeMap::from([
            ("root_public_key", root.public().to_string()),
            ("signed_roster", hex::encode(roster.encode())),
        ]),
    );

    let hello = Request::Hello(Hello {
        certificate: cert.encode(),
        roster_version: 3,
        head: Vec::new(),
    });
    all.insert(
        "rpc_hello_request",
        BTreeMap::from([("frame_body", hex::encode(hello.encode()))]),
    );

    // Mail: a home's cancel to the owner, its kind being its signing domain.
    let cancel = BookingCancel {
        booking_id: "b-20260105-0001".into(),
        institution_id: "dlut".parse().unwrap(),
        local_id: "NMR-600".into(),
        user_id: "wang".into(),
        reason: "计划有变".into(),
        sent_at: UnixTime(1_767_312_400),
    }
    .seal(&node);
    all.insert(
        "rpc_mail_request",
        BTreeMap::from([
            ("kind_text", Domain::BOOKING_CANCEL.0.to_owned()),
            ("message", hex::encode(&cancel)),
            ("frame_body", hex::encode(Request::Mail(cancel).encode())),
        ]),
    );

    let announcement = NodeAnnouncement {
        institution_id: "dlut".parse().unwrap(),
        sent_at: UnixTime(1_767_312_345),
        roster_version: 3,
        listen_addrs: vec!["/ip4/10.0.0.1/tcp/4100".into()],
        agent: "alliance/0.1.0".into(),
    };
    let record = InstrumentRecord {
        institution_id: "dlut".parse().unwrap(),
        local_id: "NMR-600".into(),
        revision: 7,
        deleted: false,
        name_zh: "核磁共振波谱仪".into(),
        name_en: "NMR spectrometer".into(),
        model: "AVANCE NEO 600".into(),
        specification: "600 MHz".into(),
        original_value_fen: 650_000_000,
        country_of_origin: "瑞士".into(),
        manufacturer: "Bruker".into(),
        manufacture_date: "2021-06-01".into(),
        purchase_date: "2021-07-15".into(),
        acceptance_date: "2021-11-30".into(),
        networked_date: "2021-12-20".into(),
        asset_number: "DUT2021NMR".into(),
        classification_code: "0106".into(),
        location: Location {
            city: "大连".into(),
            campus: "凌工路校区".into(),
            building: "西部校区分析测试中心".into(),
            room: "101".into(),
        },
        main_specifications: "1H 600 MHz".into(),
        main_functions: "结构鉴定".into(),
        accessories: "低温探头".into(),
        contact: Contact {
            person_in_charge: "张教授".into(),
            contact_name: "刘工".into(),
            phone: "0411-84700001".into(),
            email: "nmr@dlut.example.cn".into(),
        },
        fees: vec![FeeItem {
            item_zh: "一维氢谱".into(),
            item_en: "1D proton".into(),
            unit: FeeUnit::Sample,
            own_institution: fee(1_000, 2_000, 3_000),
            alliance_member: fee(1_000, 2_000, 5_000),
            outside_academic: fee(1_000, 3_000, 8_000),
            enterprise: fee(2_000, 4_000, 14_000),
        }],
        opening_hours: "周一至周五 8:00–20:00".into(),
        service_modes: vec![ServiceMode::StaffRun],
        required_training: String::new(),
        certification: "CNAS".into(),
        status: InstrumentStatus::InService,
        sharing_scope: SharingScope::OpenToSociety,
        photos: Vec::new(),
    };
    all.insert(
        "instrument_record",
        BTreeMap::from([
            ("owner_public_key", node.public().to_string()),
            ("signed_record", hex::encode(record.seal(&node))),
        ]),
    );

    all.insert(
        "announcement",
        BTreeMap::from([("signed_announcement", hex::encode(announcement.seal(&node)))]),
    );
    all
}

fn fee(materials_fen: i64, operating_fen: i64, labour_fen: i64) -> FeeComponents {
    FeeComponents {
        materials_fen,
        operating_fen,
        labour_fen,
    }
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn load(name: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir().join(format!("{name}.json")))
        .unwrap_or_else(|e| panic!("vector {name}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn encodings_and_signatures_match_the_committed_vectors() {
    let computed = vectors();
    if std::env::var_os("ALLIANCE_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        for (name, fields) in &computed {
            let text = serde_json::to_string_pretty(fields).unwrap() + "\n";
            std::fs::write(dir().join(format!("{name}.json")), text).unwrap();
        }
    }
    for (name, fields) in computed {
        let committed = load(name);
        for (field, value) in fields {
            assert_eq!(
                committed.get(field),
                Some(&value),
                "vector {name}, field {field}"
            );
        }
    }
}

#[test]
fn committed_vectors_decode_and_verify() {
    let env = load("envelope");
    let bytes = hex::decode(&env["envelope"]).unwrap();
    let decoded = SignedEnvelope::decode(&bytes).unwrap();
    let payload = decoded.open(Domain("alliance/test/v1")).unwrap();
    assert_eq!(hex::encode(payload), env["payload"]);

    let cert = load("certificate");
    let root: alliance_protocol::PublicKey = cert["root_public_key"].parse().unwrap();
    let signed = SignedCertificate::verify(
        &hex::decode(&cert["signed_certificate"]).unwrap(),
        &root,
        UnixTime(1_800_000_000),
        Some(Role::Member),
    )
    .unwrap();
    assert_eq!(
        signed.certificate().node_public_key.to_string(),
        cert["node_public_key"]
    );

    let roster = load("roster");
    let decoded =
        SignedRoster::decode(&hex::decode(&roster["signed_roster"]).unwrap(), &root).unwrap();
    assert_eq!(decoded.roster().version, 3);
    assert!(decoded.roster().is_revoked(9));

    let record = load("instrument_record");
    let owner: alliance_protocol::PublicKey = record["owner_public_key"].parse().unwrap();
    let decoded =
        InstrumentRecord::open(&hex::decode(&record["signed_record"]).unwrap(), &owner).unwrap();
    assert_eq!(decoded.id(), "dlut/NMR-600");
    assert_eq!(decoded.fees[0].enterprise.total_fen(), 20_000);

    let mail = load("rpc_mail_request");
    let Ok(Request::Mail(message)) = Request::decode(&hex::decode(&mail["frame_body"]).unwrap())
    else {
        panic!("the mail vector is not mail");
    };
    assert_eq!(
        alliance_protocol::mail::kind_of(&message).unwrap(),
        mail["kind_text"]
    );
    let cancel = BookingCancel::open(&message, &seed(0x22).public()).unwrap();
    assert_eq!(cancel.booking_id, "b-20260105-0001");

    let announcement = load("announcement");
    let (signer, a) =
        NodeAnnouncement::open(&hex::decode(&announcement["signed_announcement"]).unwrap())
            .unwrap();
    assert_eq!(signer.to_string(), env["public_key"]);
    assert_eq!(a.institution_id.as_str(), "dlut");
}

#[test]
fn a_flipped_bit_anywhere_in_a_vector_envelope_is_rejected() {
    let env = load("envelope");
    let bytes = hex::decode(&env["envelope"]).unwrap();
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let opened = SignedEnvelope::decode(&tampered)
            .ok()
            .and_then(|e| e.open(Domain("alliance/test/v1")).ok().map(<[u8]>::to_vec));
        assert!(opened.is_none(), "bit flip at byte {i} went unnoticed");
    }
}
