#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn receipt() -> UsageReceipt {
    UsageReceipt {
        receipt_id: "r-2026-0001".into(),
        institution_id: "dlut".parse().unwrap(),
        local_id: "XPS-1".into(),
        booking_id: "b-17".into(),
        user_id: "neu-researcher".into(),
        user_name: "王小明".into(),
        home_institution: "neu".parse().unwrap(),
        tier: UserTier::AllianceMember,
        start: UnixTime(1_796_094_000),
        end: UnixTime(1_796_101_200),
        preparation_minutes: 20,
        test_minutes: 90,
        post_processing_minutes: 10,
        samples: 3,
        fees: FeeComponents {
            materials_fen: 3_000,
            operating_fen: 12_000,
            labour_fen: 8_000,
        },
        issued_at: UnixTime(1_796_102_000),
        report_sha256: None,
    }
}

fn confirmation(signed_receipt: &[u8], r: &UsageReceipt) -> ReceiptConfirmation {
    ReceiptConfirmation {
        receipt_hash: receipt_hash(signed_receipt),
        receipt_id: r.receipt_id.clone(),
        institution_id: r.institution_id.clone(),
        user_id: r.user_id.clone(),
        verdict: Verdict::Confirmed {
            rating: 5,
            comment: "数据质量很好".into(),
        },
        confirmed_at: UnixTime(1_796_200_000),
    }
}

#[test]
fn a_receipt_round_trips_and_states_effective_time_and_external_use() {
    let owner = SecretKey::generate();
    let r = receipt();
    let sealed = r.seal(&owner);
    let read = UsageReceipt::open(&sealed, &owner.public()).unwrap();
    assert_eq!(read, r);
    assert_eq!(read.effective_minutes(), 120);
    assert!(read.is_external());
    assert_eq!(read.instrument_id(), "dlut/XPS-1");
    assert_eq!(
        UsageReceipt::claimed_signer(&sealed).unwrap(),
        owner.public()
    );
    // Walk-in and internal use: no booking.
    let walk_in = UsageReceipt {
        booking_id: String::new(),
        tier: UserTier::OwnInstitution,
        ..receipt()
    };
    let read = UsageReceipt::open(&walk_in.seal(&owner), &owner.public()).unwrap();
    assert!(!read.is_external());
}

#[test]
fn a_receipt_signed_by_another_node_or_altered_is_refused() {
    let owner = SecretKey::generate();
    let sealed = receipt().seal(&owner);
    assert!(UsageReceipt::open(&sealed, &SecretKey::generate().public()).is_err());
    let mut altered = sealed.clone();
    // Flip a byte of the payload (the envelope's fields precede the signature).
    let at = altered.len() / 2;
    altered[at] ^= 1;
    assert!(UsageReceipt::open(&altered, &owner.public()).is_err());
    // A confirmation envelope is not a receipt.
    let c = confirmation(&sealed, &receipt()).seal(&owner);
    assert!(UsageReceipt::open(&c, &owner.public()).is_err());
}

#[test]
fn bad_receipts_are_refused_with_the_field_named() {
    let owner = SecretKey::generate();
    let refused = |edit: fn(&mut UsageReceipt)| {
        let mut r = receipt();
        edit(&mut r);
        assert!(r.validate().is_err());
        UsageReceipt::open(&r.seal(&owner), &owner.public())
            .unwrap_err()
            .to_string()
    };
    assert!(refused(|r| r.receipt_id = "has space".into()).contains("receipt_id"));
    assert!(refused(|r| r.booking_id = "bad id!".into()).contains("booking_id"));
    assert!(refused(|r| r.user_id = String::new()).contains("user_id"));
    assert!(refused(|r| r.end = r.start).contains("end"));
    assert!(refused(|r| r.test_minutes = 31 * 24 * 60 + 1).contains("test_minutes"));
    assert!(refused(|r| r.samples = MAX_SAMPLES + 1).contains("samples"));
    assert!(refused(|r| r.fees.labour_fen = -1).contains("fees"));
    assert!(refused(|r| r.local_id = String::new()).contains("local_id"));
    // Issued before the use began (a completion ahead of time), or back-dated use
    // issued more than a week after it ended.
    assert!(refused(|r| r.issued_at = UnixTime(r.start.0 - 1)).contains("issued_at"));
    assert!(
        refused(|r| r.issued_at = UnixTime(r.end.0 + MAX_ISSUE_DELAY_SECONDS + 1))
            .contains("issued_at")
    );
    let mut late_but_allowed = receipt();
    late_but_allowed.issued_at = UnixTime(late_but_allowed.end.0 + MAX_ISSUE_DELAY_SECONDS);
    assert!(late_but_allowed.validate().is_ok());
    assert!(receipt().validate().is_ok());
}

#[test]
fn effective_time_is_held_to_the_sessions_wall_time_and_the_allowance() {
    // Two hours of use stating 120 minutes: within any allowance.
    let r = receipt();
    assert!(!r.exceeds_wall_time(0));
    // 44,640 minutes in a 30-minute session.
    let inflated = UsageReceipt {
        end: UnixTime(r.start.0 + 1_800),
        test_minutes: 44_640 - 30,
        ..receipt()
    };
    assert!(inflated.exceeds_wall_time(60));
    // 150 minutes in two hours: only with an allowance of at least 30.
    let over = UsageReceipt {
        test_minutes: 120,
        ..receipt()
    };
    assert!(over.exceeds_wall_time(29));
    assert!(!over.exceeds_wall_time(30));
}

#[test]
fn a_submission_opens_only_with_a_confirmation_of_that_very_receipt() {
    let (owner, home) = (SecretKey::generate(), SecretKey::generate());
    let r = receipt();
    let sealed = r.seal(&owner);
    let confirmed = ReceiptSubmission {
        receipt: sealed.clone(),
        confirmation: Some(confirmation(&sealed, &r).seal(&home)),
    };
    let decoded = ReceiptSubmission::decode(&confirmed.encode()).unwrap();
    assert_eq!(decoded, confirmed);
    let (read, c) = decoded.open(&owner.public(), &home.public()).unwrap();
    assert_eq!(read, r);
    assert_eq!(c.unwrap().verdict.rating(), Some(5));

    // Single-signed after the grace period.
    let single = ReceiptSubmission {
        receipt: sealed.clone(),
        confirmation: None,
    };
    let decoded = ReceiptSubmission::decode(&single.encode()).unwrap();
    assert!(
        decoded
            .open(&owner.public(), &home.public())
            .unwrap()
            .1
            .is_none()
    );

    // A confirmation of another receipt, by another user, or by another node.
    let other = UsageReceipt {
        receipt_id: "r-2026-0002".into(),
        ..receipt()
    };
    let other_sealed = other.seal(&owner);
    let moved = ReceiptSubmission {
        receipt: sealed.clone(),
        confirmation: Some(confirmation(&other_sealed, &other).seal(&home)),
    };
    assert!(matches!(
        moved.open(&owner.public(), &home.public()),
        Err(ReceiptError::Mismatch(_))
    ));
    let mut wrong_user = confirmation(&sealed, &r);
    wrong_user.user_id = "someone-else".into();
    let forged = ReceiptSubmission {
        receipt: sealed.clone(),
        confirmation: Some(wrong_user.seal(&home)),
    };
    assert!(forged.open(&owner.public(), &home.public()).is_err());
    let by_stranger = ReceiptSubmission {
        confirmation: Some(confirmation(&sealed, &r).seal(&SecretKey::generate())),
        receipt: sealed,
    };
    assert!(by_stranger.open(&owner.public(), &home.public()).is_err());
}

#[test]
fn ratings_outside_one_to_five_and_oversized_submissions_are_refused() {
    let (owner, home) = (SecretKey::generate(), SecretKey::generate());
    let sealed = receipt().seal(&owner);
    for rating in [0, 6] {
        let mut c = confirmation(&sealed, &receipt());
        c.verdict = Verdict::Confirmed {
            rating,
            comment: String::new(),
        };
        let err = ReceiptConfirmation::open(&c.seal(&home), &home.public()).unwrap_err();
        assert!(err.to_string().contains("rating"), "{err}");
    }
    let huge = vec![0u8; MAX_SUBMISSION_BYTES + 1];
    assert!(matches!(
        ReceiptSubmission::decode(&huge),
        Err(ReceiptError::TooLarge(_))
    ));
    assert!(ReceiptSubmission::decode(&[0xff, 0xff, 0xff]).is_err());
}

#[test]
fn a_dispute_is_signed_with_its_reason_and_carries_no_rating() {
    let (owner, home) = (SecretKey::generate(), SecretKey::generate());
    let r = receipt();
    let sealed = r.seal(&owner);
    let mut c = confirmation(&sealed, &r);
    c.verdict = Verdict::Disputed {
        reason: "该时段本人未使用仪器".into(),
    };
    let read = ReceiptConfirmation::open(&c.seal(&home), &home.public()).unwrap();
    assert_eq!(read, c);
    assert_eq!(read.verdict.rating(), None);
    // A dispute that also rates is malformed: a home cannot both confirm and dispute.
    let raw = proto::ReceiptConfirmation {
        receipt_hash: receipt_hash(&sealed).to_vec(),
        receipt_id: r.receipt_id.clone(),
        institution_id: r.institution_id.to_string(),
        user_id: r.user_id.clone(),
        rating: 5,
        comment: String::new(),
        confirmed_at: 1_796_200_000,
        dispute: "not me".into(),
    };
    let both =
        SignedEnvelope::seal(&home, Domain::RECEIPT_CONFIRMATION, raw.encode_to_vec()).encode();
    let err = ReceiptConfirmation::open(&both, &home.public()).unwrap_err();
    assert!(err.to_string().contains("dispute"), "{err}");
}

#[test]
fn receipts_and_confirmations_travel_as_messages_between_owner_and_home() {
    use crate::mail::kind_of;
    let r = receipt();
    let signed = r.seal(&SecretKey::generate());
    assert_eq!(kind_of(&signed).unwrap(), Domain::RECEIPT.0);
    let confirmed = confirmation(&signed, &r).seal(&SecretKey::generate());
    assert_eq!(kind_of(&confirmed).unwrap(), Domain::RECEIPT_CONFIRMATION.0);
}
