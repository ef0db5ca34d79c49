//! Writes the seed inputs of the fuzz targets in `fuzz/` (see `scripts/fuzz.sh`): a valid
//! example of every message kind, envelopes, and the import templates.
//!
//! ```text
//! cargo run -p alliance-node --example fuzz_seeds -- fuzz/corpus
//! ```
//!
//! Signed messages are sealed with the key the `messages` target uses (seed `0x5e` × 32),
//! so the seeds pass its signature checks and reach the payload decoders.

use std::{collections::BTreeSet, fs, path::Path};

use alliance_node::catalogue::import;
use alliance_protocol::{
    AvailabilityDigest, Domain, HourState, InstrumentRecord, NodeAnnouncement, ReviewAttestation,
    ReviewVerdict, Role, Roster, ServiceMode, SignedEnvelope, UnixTime, UserTier, armor,
    availability::DIGEST_HOURS,
    booking::{
        BookingAnswer, BookingCancel, BookingRequest, BookingStatus, BookingStatusQuery,
        BookingUpdate, BookingUser, Outcome, Slot, encode_updates,
    },
    certificate::MembershipCertificate,
    fuzzing::MESSAGE_KINDS,
    heartbeat::{InstrumentState, InstrumentStatusReport, StatusHeartbeat},
    keys::SecretKey,
    publication::{Publication, PublicationKind},
    quote::{Usage, quote},
    receipt::{ReceiptConfirmation, ReceiptSubmission, UsageReceipt, receipt_hash},
    record::{FeeComponents, FeeItem, FeeUnit},
    rpc::{Hello, LogAnswer, OriginRevision, Request, Response, RpcError, SyncRequest},
    stats::{InstrumentStatistics, MonthStatistics, ServiceStatistics},
    transparency::MerkleLog,
};
use anyhow::Context;

struct Seeds<'a> {
    dir: &'a Path,
}

impl Seeds<'_> {
    fn write(&self, target: &str, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let dir = self.dir.join(target);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(name), bytes).with_context(|| format!("{target}/{name}"))
    }

    /// A `messages` seed: the kind's selector byte, then `body`.
    fn message(&self, kind: &str, n: usize, body: &[u8]) -> anyhow::Result<()> {
        let selector = MESSAGE_KINDS
            .iter()
            .position(|k| *k == kind)
            .with_context(|| format!("no kind {kind}"))?;
        let mut bytes = vec![u8::try_from(selector)?];
        bytes.extend_from_slice(body);
        self.write("messages", &format!("{kind}-{n}"), &bytes)
    }

    /// A `messages` seed of a signed kind: the payload of the sealed envelope.
    fn payload(&self, kind: &str, n: usize, sealed: &[u8]) -> anyhow::Result<()> {
        let envelope = SignedEnvelope::decode(sealed)?;
        self.message(kind, n, envelope.payload_unverified())
    }
}

fn at(secs: i64) -> UnixTime {
    UnixTime(secs)
}

fn fees() -> Vec<FeeItem> {
    let c = |materials_fen, operating_fen, labour_fen| FeeComponents {
        materials_fen,
        operating_fen,
        labour_fen,
    };
    vec![FeeItem {
        item_zh: "上机测试".into(),
        item_en: "Machine time".into(),
        unit: FeeUnit::Hour,
        own_institution: c(0, 5_000, 3_000),
        alliance_member: c(0, 6_000, 4_000),
        outside_academic: c(1_000, 8_000, 6_000),
        enterprise: c(2_000, 12_000, 10_000),
    }]
}

fn record() -> anyhow::Result<InstrumentRecord> {
    let mut r = InstrumentRecord::new("dlut".parse()?, "XPS-1".into(), "X射线光电子能谱仪".into());
    r.revision = 3;
    r.name_en = "X-ray photoelectron spectrometer".into();
    r.model = "ESCALAB 250Xi".into();
    r.original_value_fen = 4_200_000_000;
    r.classification_code = "0102".into();
    r.purchase_date = "2019-05-20".into();
    r.location.city = "大连市".into();
    r.contact.email = "xps@dlut.example.cn".into();
    r.fees = fees();
    r.service_modes = vec![ServiceMode::SelfOperated, ServiceMode::StaffRun];
    r.opening_hours = "周一至周五 8:30–17:00".into();
    Ok(r)
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .context("usage: fuzz_seeds <corpus directory>")?;
    let seeds = Seeds {
        dir: Path::new(&dir),
    };
    let key = SecretKey::from_seed(&[0x5e; 32])?;
    let other = SecretKey::from_seed(&[0x07; 32])?;
    let dlut = "dlut".parse()?;
    let neu = "neu".parse()?;

    // Catalogue entries.
    let record = record()?;
    seeds.payload("instrument", 0, &record.seal(&key))?;
    seeds.payload("entry-instrument", 0, &record.seal(&key))?;
    let tombstone = record.tombstone(4);
    seeds.payload("entry-instrument", 1, &tombstone.seal(&key))?;
    let review = ReviewAttestation {
        province_id: "prov".parse()?,
        revision: 9,
        institution_id: "dlut".parse()?,
        local_id: "XPS-1".into(),
        record_revision: 3,
        verdict: ReviewVerdict::Approved,
        comment: "信息完整".into(),
        reviewer: "省平台".into(),
        reviewed_at: at(1_796_000_000),
    };
    seeds.payload("entry-review", 0, &review.seal(&key))?;
    let mut hours = vec![HourState::Closed; DIGEST_HOURS];
    for (i, hour) in hours.iter_mut().enumerate() {
        *hour = match i % 24 {
            9..=11 => HourState::Booked,
            12..=17 => HourState::Free,
            18 => HourState::Maintenance,
            _ => HourState::Closed,
        };
    }
    let digest = AvailabilityDigest {
        institution_id: "dlut".parse()?,
        local_id: "XPS-1".into(),
        revision: 5,
        first_day: "2026-11-30".into(),
        hours,
        window: Some(alliance_protocol::BookingWindow::from(
            &alliance_protocol::booking::BookingRules::default(),
        )),
        holiday_days: 1 << 3,
    };
    seeds.payload("entry-availability", 0, &digest.seal(&key))?;

    // Membership.
    let certificate = |serial, role| -> anyhow::Result<_> {
        Ok(MembershipCertificate {
            institution_id: "dlut".parse()?,
            name_zh: "大连理工大学".into(),
            name_en: "Dalian University of Technology".into(),
            region: "辽宁省大连市".into(),
            node_public_key: other.public(),
            role,
            serial,
            not_before: at(1_700_000_000),
            not_after: at(1_900_000_000),
        }
        .sign(&key))
    };
    let cert = certificate(7, Role::Member)?;
    seeds.payload("certificate", 0, &cert.encode())?;
    let roster = Roster {
        version: 3,
        issued_at: at(1_796_000_000),
        certificates: vec![cert.clone(), certificate(1, Role::Aggregator)?],
        revoked_serials: BTreeSet::from([2, 5]),
    }
    .sign(&key);
    seeds.payload("roster", 0, &roster.encode())?;
    let announcement = NodeAnnouncement {
        institution_id: "dlut".parse()?,
        sent_at: at(1_796_000_000),
        roster_version: 3,
        listen_addrs: vec![
            "/ip4/127.0.0.1/tcp/4001".into(),
            "/ip6/::1/udp/4001/quic-v1".into(),
        ],
        agent: "alliance/0.1.0".into(),
    };
    seeds.payload("announce", 0, &announcement.seal(&key))?;

    // Monitoring and statistics.
    let mut fault = InstrumentStatusReport {
        local_id: "NMR-600".into(),
        state: InstrumentState::Fault,
        reported_at: at(1_800_000_000),
        note: "真空泵报警 E42".into(),
    };
    let running = InstrumentStatusReport {
        local_id: "XPS-1".into(),
        state: InstrumentState::Running,
        note: String::new(),
        ..fault.clone()
    };
    fault.reported_at = at(1_800_000_010);
    let heartbeat = StatusHeartbeat {
        institution_id: "dlut".parse()?,
        sent_at: at(1_800_000_030),
        instruments: vec![running, fault],
    };
    seeds.payload("heartbeat", 0, &heartbeat.seal(&key))?;
    let statistics = ServiceStatistics {
        institution_id: "dlut".parse()?,
        computed_at: at(1_800_000_000),
        months: vec![MonthStatistics {
            month: "2026-11".into(),
            instruments: vec![InstrumentStatistics {
                local_id: "XPS-1".into(),
                requests: 12,
                rejections: 1,
                responses: 11,
                response_seconds: 36_000,
            }],
        }],
    };
    seeds.payload("statistics", 0, &statistics.seal(&key))?;

    // Bookings.
    let request = BookingRequest {
        booking_id: "b-0001".into(),
        institution_id: "dlut".parse()?,
        local_id: "XPS-1".into(),
        start: at(1_790_000_000),
        end: at(1_790_005_400),
        user: BookingUser {
            user_id: "u42".into(),
            display_name: "王小明".into(),
            home_institution: "neu".parse()?,
            tier: UserTier::AllianceMember,
            email: "wxm@neu.example.cn".into(),
        },
        mode: ServiceMode::SelfOperated,
        samples: 2,
        purpose: "催化剂表面元素价态分析".into(),
        service_item: String::new(),
        sent_at: at(1_789_990_000),
    };
    let sealed_request = request.seal(&key);
    seeds.payload("booking-request", 0, &sealed_request)?;
    let usage = Usage {
        mode: ServiceMode::SelfOperated,
        minutes: 90,
        samples: 2,
    };
    let answers = [
        Outcome::Confirmed,
        Outcome::Held {
            until: at(1_789_999_000),
        },
        Outcome::Rejected {
            code: "too_late".into(),
            reason: "需提前一天预约".into(),
        },
        Outcome::Conflict {
            nearest_free: vec![Slot {
                start: at(1_790_010_000),
                end: at(1_790_015_400),
            }],
        },
    ];
    for (n, outcome) in answers.into_iter().enumerate() {
        let answer = BookingAnswer {
            booking_id: "b-0001".into(),
            outcome,
            quote: quote(&fees(), UserTier::AllianceMember, &usage),
            answered_at: at(1_789_990_001),
        };
        seeds.payload("booking-answer", n, &answer.seal(&key))?;
        seeds.message("booking-answer-unsigned", n, &answer.encode_unsigned())?;
    }
    let cancel = BookingCancel {
        booking_id: "b-0001".into(),
        institution_id: "dlut".parse()?,
        local_id: "XPS-1".into(),
        user_id: "u42".into(),
        reason: "样品未到".into(),
        sent_at: at(1_789_995_000),
    };
    seeds.payload("booking-cancel", 0, &cancel.seal(&key))?;
    let update = BookingUpdate {
        booking_id: "b-0001".into(),
        home_institution: neu,
        institution_id: dlut,
        local_id: "XPS-1".into(),
        status: BookingStatus::Confirmed,
        version: 2,
        by: "李老师".into(),
        note: "已确认".into(),
        at: at(1_789_996_000),
    };
    let sealed_update = update.seal(&key);
    seeds.payload("booking-update", 0, &sealed_update)?;
    let status = BookingStatusQuery {
        home_institution: "neu".parse()?,
        booking_ids: vec!["b-0001".into(), "b-0002".into()],
        sent_at: at(1_789_997_000),
    };
    seeds.payload("booking-status", 0, &status.seal(&key))?;
    seeds.message(
        "booking-updates",
        0,
        &encode_updates(vec![sealed_update.clone(), sealed_update]),
    )?;
    seeds.message("booking-message-kind", 0, &sealed_request)?;

    // Receipts, publications, the province's log.
    let receipt = UsageReceipt {
        receipt_id: "r-2026-0001".into(),
        institution_id: "dlut".parse()?,
        local_id: "XPS-1".into(),
        booking_id: "b-0001".into(),
        user_id: "u42".into(),
        user_name: "王小明".into(),
        home_institution: "neu".parse()?,
        tier: UserTier::AllianceMember,
        start: at(1_796_094_000),
        end: at(1_796_101_200),
        preparation_minutes: 20,
        test_minutes: 90,
        post_processing_minutes: 10,
        samples: 3,
        fees: FeeComponents {
            materials_fen: 3_000,
            operating_fen: 12_000,
            labour_fen: 8_000,
        },
        issued_at: at(1_796_102_000),
        report_sha256: None,
    };
    let sealed_receipt = receipt.seal(&key);
    seeds.payload("receipt", 0, &sealed_receipt)?;
    let confirmation = ReceiptConfirmation {
        receipt_hash: receipt_hash(&sealed_receipt),
        receipt_id: receipt.receipt_id.clone(),
        institution_id: receipt.institution_id.clone(),
        user_id: receipt.user_id.clone(),
        verdict: alliance_protocol::receipt::Verdict::Confirmed {
            rating: 5,
            comment: "数据质量很好".into(),
        },
        confirmed_at: at(1_796_200_000),
    };
    let sealed_confirmation = confirmation.seal(&key);
    seeds.payload("receipt-confirmation", 0, &sealed_confirmation)?;
    let submission = ReceiptSubmission {
        receipt: sealed_receipt.clone(),
        confirmation: Some(sealed_confirmation),
    };
    seeds.message("receipt-submission", 0, &submission.encode())?;
    let publication = Publication {
        publication_id: "p-1".into(),
        home_institution: "neu".parse()?,
        user_id: "u42".into(),
        kind: PublicationKind::Paper,
        title: "Surface oxidation of Ti-6Al-4V studied by XPS".into(),
        authors: "王小明, 李华".into(),
        identifier: "10.1016/j.apsusc.2026.160001".into(),
        acknowledgement: "感谢大连理工大学分析测试中心 XPS 测试支持".into(),
        instruments: vec!["dlut/XPS-1".into()],
        published_on: "2026-09-01".into(),
        registered_at: at(1_796_000_000),
    };
    seeds.payload("publication", 0, &publication.seal(&key))?;
    let mut log = MerkleLog::new();
    for entry in [&b"first"[..], b"entry", b"third", b"fourth", b"fifth"] {
        log.push(entry);
    }
    let head = log.head(at(1_796_300_000));
    seeds.payload("tree-head", 0, &head.seal(&key))?;
    let log_seed = |old_size: u64, index: u64, proof: Vec<u8>| {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&head.size.to_le_bytes());
        bytes.extend_from_slice(&head.root);
        bytes.extend_from_slice(&old_size.to_le_bytes());
        bytes.extend_from_slice(&index.to_le_bytes());
        bytes.extend_from_slice(&proof);
        bytes
    };
    let inclusion = log.prove_inclusion(1).context("an inclusion proof")?;
    seeds.message("log-proofs", 0, &log_seed(3, 1, inclusion))?;
    let consistency = log.prove_consistency(3).context("a consistency proof")?;
    seeds.message("log-proofs", 1, &log_seed(3, 1, consistency))?;

    // Rpc frames.
    let origin = |revision| -> anyhow::Result<_> {
        Ok(OriginRevision {
            origin: "dlut".parse()?,
            revision,
        })
    };
    let requests = [
        Request::Hello(Hello {
            certificate: cert.encode(),
            roster_version: 3,
            head: Vec::new(),
        }),
        Request::Roster,
        Request::Sync(SyncRequest {
            have: vec![origin(2)?],
            after: Some(origin(1)?),
            limit: 100,
        }),
        Request::Mail(sealed_request.clone()),
        Request::Receipts(vec![submission.encode()]),
        Request::LogHead { since: 3 },
        Request::LogConsistency {
            first: 3,
            second: 5,
        },
        Request::Heartbeat(heartbeat.seal(&key)),
    ];
    for (n, request) in requests.iter().enumerate() {
        seeds.message("rpc-request", n, &request.encode())?;
    }
    let responses = [
        Response::Hello(Hello {
            certificate: cert.encode(),
            roster_version: 3,
            head: Vec::new(),
        }),
        Response::Roster(Some(roster.encode())),
        Response::Sync(alliance_protocol::rpc::SyncResponse {
            entries: vec![record.seal(&key), digest.seal(&key)],
            next: Some(origin(3)?),
            checkpoints: vec![
                alliance_protocol::checkpoint::Checkpoint {
                    origin: origin(3)?.origin,
                    revision: 3,
                    slots: 2,
                    digest: [7; 32],
                }
                .seal(&key),
            ],
        }),
        Response::Mail(sealed_receipt),
        Response::Receipts(vec![
            LogAnswer::Logged {
                index: 1,
                head: head.seal(&key),
                proof: log.prove_inclusion(1).context("an inclusion proof")?,
                already: false,
            },
            LogAnswer::Refused(RpcError {
                code: "bad_signature".into(),
                message: "the receipt does not verify".into(),
            }),
        ]),
        Response::LogHead {
            head: head.seal(&key),
            consistency: log.prove_consistency(3).context("a consistency proof")?,
        },
        Response::LogConsistency(log.prove_consistency(2).context("a consistency proof")?),
        Response::Ack,
        Response::error("busy", "try again later"),
    ];
    for (n, response) in responses.iter().enumerate() {
        seeds.message("rpc-response", n, &response.encode())?;
    }
    let armored = armor::encode(armor::CERTIFICATE_LABEL, &cert.encode());
    seeds.message("armor", 0, armored.as_bytes())?;

    // Envelopes as received.
    seeds.write("envelope", "certificate", &cert.encode())?;
    seeds.write("envelope", "booking-request", &sealed_request)?;
    seeds.write("envelope", "tree-head", &head.seal(&key))?;
    let empty = SignedEnvelope::seal(&other, Domain::ANNOUNCE, Vec::new()).encode();
    seeds.write("envelope", "empty-payload", &empty)?;

    // Catalogue import: the templates and an export (an XLSX seed starts with its mode
    // byte, 0: the file as uploaded).
    seeds.write("import_csv", "template", &import::template_csv())?;
    let mut second = record.clone();
    second.local_id = "NMR-600".into();
    second.fees.extend(fees());
    seeds.write(
        "import_csv",
        "export",
        &import::export_csv(std::slice::from_ref(&record)),
    )?;
    let mut xlsx = vec![0];
    xlsx.extend(import::template_xlsx()?);
    seeds.write("import_xlsx", "template", &xlsx)?;
    let mut xlsx = vec![0];
    xlsx.extend(import::export_xlsx(&[record, second])?);
    seeds.write("import_xlsx", "export", &xlsx)?;
    Ok(())
}
