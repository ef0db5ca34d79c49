#![allow(clippy::unwrap_used)]

use super::*;
use crate::{
    quote::{Usage, quote},
    record::{FeeComponents, FeeItem},
};

fn request() -> BookingRequest {
    BookingRequest {
        booking_id: "b-0001".into(),
        institution_id: "dlut".parse().unwrap(),
        local_id: "XPS-1".into(),
        start: UnixTime(1_790_000_000),
        end: UnixTime(1_790_000_000 + 5_400),
        user: BookingUser {
            user_id: "u42".into(),
            display_name: "王小明".into(),
            home_institution: "neu".parse().unwrap(),
            tier: UserTier::AllianceMember,
            email: "wxm@neu.edu.cn".into(),
        },
        mode: ServiceMode::SelfOperated,
        samples: 0,
        purpose: "催化剂表面元素价态分析".into(),
        service_item: String::new(),
        sent_at: UnixTime(1_789_990_000),
    }
}

fn fees() -> Vec<FeeItem> {
    let c = |m, o, l| FeeComponents {
        materials_fen: m,
        operating_fen: o,
        labour_fen: l,
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

fn answer(outcome: Outcome) -> BookingAnswer {
    let usage = Usage {
        mode: ServiceMode::SelfOperated,
        minutes: 90,
        samples: 0,
    };
    BookingAnswer {
        booking_id: "b-0001".into(),
        outcome,
        quote: quote(&fees(), UserTier::AllianceMember, &usage),
        answered_at: UnixTime(1_789_990_001),
    }
}

#[test]
fn a_request_round_trips_under_the_home_nodes_signature() {
    let home = SecretKey::generate();
    let sealed = request().seal(&home);
    assert_eq!(
        BookingRequest::open(&sealed, &home.public()).unwrap(),
        request()
    );
}

#[test]
fn a_request_signed_by_another_key_is_refused() {
    let home = SecretKey::generate();
    let other = SecretKey::generate();
    let sealed = request().seal(&other);
    assert!(matches!(
        BookingRequest::open(&sealed, &home.public()),
        Err(BookingError::Envelope(_))
    ));
}

#[test]
fn a_message_of_another_domain_is_not_a_booking() {
    let home = SecretKey::generate();
    let review = SignedEnvelope::seal(
        &home,
        Domain::REVIEW,
        proto::BookingRequest::from(&request()).encode_to_vec(),
    )
    .encode();
    assert!(BookingRequest::open(&review, &home.public()).is_err());
}

/// Seals a request after `edit` changed its raw form, and returns why it was refused.
fn refused(edit: impl FnOnce(&mut proto::BookingRequest)) -> String {
    let home = SecretKey::generate();
    let mut raw = proto::BookingRequest::from(&request());
    edit(&mut raw);
    let sealed = seal(&home, raw.encode_to_vec());
    BookingRequest::open(&sealed, &home.public())
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_requests_are_refused_with_the_field_named() {
    assert!(refused(|r| r.end = r.start).contains("slot"));
    assert!(refused(|r| r.end = r.start + MAX_BOOKING_SECONDS + 1).contains("31 days"));
    assert!(refused(|r| r.booking_id = "no spaces".into()).contains("booking_id"));
    assert!(refused(|r| r.booking_id = String::new()).contains("booking_id"));
    assert!(refused(|r| r.mode = 0).contains("mode"));
    assert!(refused(|r| r.mode = 9).contains("mode"));
    assert!(refused(|r| r.samples = MAX_SAMPLES + 1).contains("samples"));
    assert!(refused(|r| r.user = None).contains("user"));
    assert!(refused(|r| r.user.as_mut().unwrap().tier = 0).contains("tier"));
    assert!(refused(|r| r.user.as_mut().unwrap().tier = 7).contains("tier"));
    assert!(refused(|r| r.user.as_mut().unwrap().user_id = String::new()).contains("user_id"));
    assert!(refused(|r| r.institution_id = "Not An Id".into()).contains("institution_id"));
    assert!(refused(|r| r.purpose = "长".repeat(4_000)).contains("purpose"));
}

#[test]
fn validate_refuses_what_the_owner_would_refuse() {
    assert!(request().validate().is_ok());
    let mut too_long = request();
    too_long.end = UnixTime(too_long.start.0 + MAX_BOOKING_SECONDS + 1);
    assert!(
        too_long
            .validate()
            .unwrap_err()
            .to_string()
            .contains("31 days")
    );
    let mut bad_id = request();
    bad_id.booking_id = "no spaces".into();
    assert!(
        bad_id
            .validate()
            .unwrap_err()
            .to_string()
            .contains("booking_id")
    );
}

#[test]
fn every_answer_round_trips_with_its_quote() {
    let owner = SecretKey::generate();
    let slot = |start: i64| Slot {
        start: UnixTime(start),
        end: UnixTime(start + 5_400),
    };
    for outcome in [
        Outcome::Held {
            until: UnixTime(1_790_086_400),
        },
        Outcome::Confirmed,
        Outcome::Rejected {
            code: "outside_opening_hours".into(),
            reason: "开放机时为周一至周五 8:30–17:30".into(),
        },
        Outcome::Conflict {
            nearest_free: vec![slot(1_790_007_200), slot(1_790_093_600)],
        },
    ] {
        let sent = answer(outcome);
        let read = BookingAnswer::open(&sent.seal(&owner), &owner.public()).unwrap();
        assert_eq!(read, sent);
        // 90 min at 60 + 40 yuan/h for a member.
        assert_eq!(read.quote.total.total_fen(), 15_000);
    }
}

#[test]
fn an_answer_with_a_negative_amount_or_no_outcome_is_refused() {
    let owner = SecretKey::generate();
    let mut raw = proto::BookingAnswer::from(&answer(Outcome::Confirmed));
    if let Some(total) = raw.quote.as_mut().and_then(|q| q.total.as_mut()) {
        total.labour_fen = -1;
    }
    let sealed = seal(&owner, raw.encode_to_vec());
    assert!(
        BookingAnswer::open(&sealed, &owner.public())
            .unwrap_err()
            .to_string()
            .contains("negative")
    );
    let mut raw = proto::BookingAnswer::from(&answer(Outcome::Confirmed));
    raw.outcome = None;
    let sealed = seal(&owner, raw.encode_to_vec());
    assert!(BookingAnswer::open(&sealed, &owner.public()).is_err());
}
