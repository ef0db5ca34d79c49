use super::*;
use crate::{
    availability::{DIGEST_HOURS, HourState},
    keys::SecretKey,
    record::tests::sample,
    review::ReviewVerdict,
    time::UnixTime,
};

fn open(bytes: &[u8], key: &PublicKey) -> Result<Entry, RecordError> {
    UnverifiedEntry::decode(bytes)?.verify(key)
}

#[test]
fn an_instrument_record_opens_with_its_signer_and_names_its_slot() {
    let owner = SecretKey::generate();
    let record = sample();
    let bytes = record.seal(&owner);
    let unverified = UnverifiedEntry::decode(&bytes).unwrap();
    assert_eq!(unverified.signer_bytes(), owner.public().to_bytes());
    let entry = unverified.verify(&owner.public()).unwrap();
    assert_eq!(entry.bytes, bytes);
    assert_eq!(entry.body, EntryBody::Instrument(Box::new(record.clone())));
    assert_eq!(entry.body.origin().as_str(), "dlut");
    assert_eq!(entry.body.revision(), 12);
    assert_eq!(entry.body.slot(), "i/LCMS-2019-003");
    assert_eq!(entry.body.subject(), "dlut/LCMS-2019-003");
}

#[test]
fn another_key_or_a_flipped_byte_is_refused() {
    let owner = SecretKey::generate();
    let bytes = sample().seal(&owner);
    let other = SecretKey::generate();
    assert!(matches!(
        open(&bytes, &other.public()),
        Err(RecordError::Envelope(_))
    ));
    let mut forged = bytes.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(open(&forged, &owner.public()).is_err());
}

#[test]
fn reviews_round_trip_with_the_province_as_origin() {
    let province = SecretKey::generate();
    let review = crate::ReviewAttestation {
        province_id: "lnsti".parse().unwrap(),
        revision: 3,
        institution_id: "dlut".parse().unwrap(),
        local_id: "LCMS-2019-003".into(),
        record_revision: 12,
        verdict: ReviewVerdict::NeedsCorrection,
        comment: "请补充验收日期".into(),
        reviewer: "省科技厅 张审核".into(),
        reviewed_at: UnixTime(1_790_000_000),
    };
    let entry = open(&review.seal(&province), &province.public()).unwrap();
    assert_eq!(entry.body.origin().as_str(), "lnsti");
    assert_eq!(entry.body.slot(), "r/dlut/LCMS-2019-003");
    assert_eq!(entry.body.subject(), "dlut/LCMS-2019-003");
    assert_eq!(entry.body, EntryBody::Review(review));
}

#[test]
fn availability_hours_survive_packing() {
    let owner = SecretKey::generate();
    let states = [
        HourState::Closed,
        HourState::Free,
        HourState::Booked,
        HourState::Maintenance,
    ];
    let digest = crate::AvailabilityDigest {
        institution_id: "neu".parse().unwrap(),
        local_id: "XRD-01".into(),
        revision: 40,
        first_day: "2026-11-23".into(),
        hours: (0..DIGEST_HOURS).map(|i| states[(i * 7) % 4]).collect(),
        window: Some(crate::BookingWindow {
            granularity_minutes: 30,
            min_lead_minutes: 60,
            horizon_days: 90,
            max_duration_minutes: 480,
        }),
        holiday_days: 0b1010,
    };
    let bytes = digest.seal(&owner);
    let entry = open(&bytes, &owner.public()).unwrap();
    let EntryBody::Availability(opened) = &entry.body else {
        panic!("not a digest: {:?}", entry.body);
    };
    assert_eq!(opened, &digest);
    assert_eq!(opened.state(0, 0), Some(HourState::Closed));
    assert_eq!(opened.state(0, 1), Some(HourState::Maintenance));
    assert_eq!(opened.state(56, 0), None);
    assert_eq!(entry.body.slot(), "a/XRD-01");

    // A window no manager could set is refused, named.
    let odd = crate::AvailabilityDigest {
        window: Some(crate::BookingWindow {
            granularity_minutes: 0,
            ..digest.window.unwrap()
        }),
        ..digest
    };
    assert!(matches!(
        open(&odd.seal(&owner), &owner.public()),
        Err(RecordError::Field {
            field: "window.granularity_minutes",
            ..
        })
    ));
}

#[test]
fn revision_zero_foreign_domains_and_oversized_entries_are_refused() {
    let owner = SecretKey::generate();
    let mut record = sample();
    record.revision = 0;
    assert!(matches!(
        open(&record.seal(&owner), &owner.public()),
        Err(RecordError::Field {
            field: "revision",
            ..
        })
    ));

    let announcement = crate::SignedEnvelope::seal(
        &owner,
        crate::Domain::ANNOUNCE,
        b"not a catalogue entry".to_vec(),
    )
    .encode();
    assert!(matches!(
        UnverifiedEntry::decode(&announcement),
        Err(RecordError::Envelope(EnvelopeError::WrongDomain { .. }))
    ));

    let mut big = sample();
    big.main_functions = "x".repeat(8 * 1024);
    big.main_specifications = "x".repeat(8 * 1024);
    big.accessories = "x".repeat(8 * 1024);
    big.opening_hours = "x".repeat(8 * 1024);
    big.required_training = "x".repeat(8 * 1024);
    big.certification = "x".repeat(8 * 1024);
    big.specification = "y".repeat(200);
    big.fees = (0..32).map(|_| sample().fees[0].clone()).collect();
    for f in &mut big.fees {
        f.item_zh = "z".repeat(256);
        f.item_en = "z".repeat(256);
    }
    let mut bytes = big.seal(&owner);
    bytes.extend(std::iter::repeat_n(0u8, MAX_GOSSIP_BYTES));
    assert!(matches!(
        UnverifiedEntry::decode(&bytes),
        Err(RecordError::TooLarge(_))
    ));
}

#[test]
fn a_tombstone_keeps_only_ids_and_revision() {
    let owner = SecretKey::generate();
    let dead = sample().tombstone(13);
    let entry = open(&dead.seal(&owner), &owner.public()).unwrap();
    let EntryBody::Instrument(record) = entry.body else {
        panic!("not a record");
    };
    assert!(record.deleted);
    assert_eq!(record.revision, 13);
    assert_eq!(record.local_id, "LCMS-2019-003");
    assert!(record.name_zh.is_empty());
}
