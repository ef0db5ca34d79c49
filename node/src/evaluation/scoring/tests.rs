//! A hand-computed fixture: one instrument of dlut (general, 1,400 rated hours a year)
//! over 2026, three confirmed uses in the year, one before it, and two that count for
//! nothing: one its home never confirmed and one it disputed.
//!
//! | use | user (home, tier)        | effective min | fees (fen) | home's answer |
//! |-----|--------------------------|---------------|------------|---------------|
//! | 1   | u1 (dlut, own)           | 600           | 10,000     | 3 stars       |
//! | 2   | u2 (neu, member)         | 1,200         | 50,000     | 4 stars       |
//! | 3   | u3 (imr, enterprise)     | 1,800         | 90,000     | 5 stars       |
//! | 4   | u4 (neu), December 2025  | 6,000         | 1,000      | 1 star        |
//! | 5   | u5 (sy, enterprise)      | 6,000         | 500,000    | none          |
//! | 6   | u6 (neu, member)         | 6,000         | 500,000    | disputed      |
//!
//! Effective 3,600 min = 60 h; external 3,000 min = 50 h; sharing 50/60; utilisation
//! 60/1,400; revenue 10,000 internal, 140,000 external; 3 users; 2 other institutions;
//! rating 4. Facts: 1 publication, uptime 0.9, responses 2 + 4 + 6 h (mean 4),
//! 1 refusal in 10 requests, reported on time.
//!
//! Scores: reporting 10 × 1 = 10; uptime 10 × (0.9 − 0.5)/0.45 = 8.8889; utilisation
//! 30 × 0 (below 0.1) = 0; publications 10 × 1/3 = 3.3333; sharing 15 × 1 (above 0.5) =
//! 15; rating 10 × 1/2 = 5; response 5 × 1 (at 4 h) = 5; refusals 5 × 0.4/0.5 = 4;
//! institutions 5 × 2/10 = 1. Groups 18.8889, 3.3333, 30; total 52.2222: 较差.

#![allow(clippy::unwrap_used)]

use alliance_protocol::{FeeComponents, UnixTime, UserTier, receipt::UsageReceipt};

use super::*;
use crate::evaluation::config::DEFAULT;
use crate::evaluation::metrics::{Countersign, InstrumentFacts, Period, Use};

/// 2026-01-01 00:00 in Shanghai.
const YEAR_2026: i64 = 1_767_196_800;

fn receipt(
    n: u32,
    user: &str,
    home: &str,
    tier: UserTier,
    minutes: u32,
    fen: i64,
    at: i64,
) -> UsageReceipt {
    UsageReceipt {
        receipt_id: format!("r{n}"),
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
        ..alliance_protocol::fixtures::receipt()
    }
}

fn fixture() -> Metrics {
    let day = 86_400;
    let receipts = [
        (
            receipt(
                1,
                "u1",
                "dlut",
                UserTier::OwnInstitution,
                600,
                10_000,
                YEAR_2026 + 10 * day,
            ),
            Countersign::Confirmed { rating: 3 },
        ),
        (
            receipt(
                2,
                "u2",
                "neu",
                UserTier::AllianceMember,
                1_200,
                50_000,
                YEAR_2026 + 100 * day,
            ),
            Countersign::Confirmed { rating: 4 },
        ),
        (
            receipt(
                3,
                "u3",
                "imr",
                UserTier::Enterprise,
                1_800,
                90_000,
                YEAR_2026 + 200 * day,
            ),
            Countersign::Confirmed { rating: 5 },
        ),
        (
            receipt(
                4,
                "u4",
                "neu",
                UserTier::AllianceMember,
                6_000,
                1_000,
                YEAR_2026 - 20 * day,
            ),
            Countersign::Confirmed { rating: 1 },
        ),
        (
            receipt(
                5,
                "u5",
                "sy",
                UserTier::Enterprise,
                6_000,
                500_000,
                YEAR_2026 + 30 * day,
            ),
            Countersign::Missing,
        ),
        (
            receipt(
                6,
                "u6",
                "neu",
                UserTier::AllianceMember,
                6_000,
                500_000,
                YEAR_2026 + 40 * day,
            ),
            Countersign::Disputed,
        ),
    ];
    let facts = InstrumentFacts {
        rated_hours_year: 1_400.0,
        publications: 1,
        uptime: Some(0.9),
        response_hours_sum: 2.0 + 4.0 + 6.0,
        responses: 3,
        requests: 10,
        rejections: 1,
        offers: 2,
        offers_accepted: 1,
        reporting_required: true,
        reported_on_time: true,
    };
    let year = Period {
        from: UnixTime(YEAR_2026),
        to: UnixTime(YEAR_2026 + 365 * day),
    };
    Metrics::of_instrument(
        &facts,
        receipts.iter().map(|(r, countersign)| Use {
            receipt: r,
            countersign: *countersign,
        }),
        &year,
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-4
}

#[test]
fn metrics_equal_the_hand_computed_fixture() {
    let m = fixture();
    assert_eq!(m.effective_hours(), 60.0);
    assert_eq!(m.external_hours(), 50.0);
    assert!(close(m.value(Metric::SharingRate).unwrap(), 50.0 / 60.0));
    assert!(close(m.value(Metric::Utilisation).unwrap(), 60.0 / 1_400.0));
    assert_eq!(
        (m.revenue_internal_fen, m.revenue_external_fen),
        (10_000, 140_000)
    );
    assert_eq!(m.value(Metric::UsersServed), Some(3.0));
    assert_eq!(m.value(Metric::InstitutionsServed), Some(2.0));
    assert_eq!(m.value(Metric::AverageRating), Some(4.0));
    // The unconfirmed and the disputed receipt are counted apart and move nothing.
    assert_eq!((m.unconfirmed, m.disputed), (1, 1));
    assert_eq!(m.value(Metric::ResponseHours), Some(4.0));
    assert_eq!(m.value(Metric::RejectionRate), Some(0.1));
    assert_eq!(m.value(Metric::ReportingOnTime), Some(1.0));
}

#[test]
fn scores_and_grade_follow_the_configured_tree() {
    let config = EvaluationConfig::builtin();
    let e = evaluate(&config, &fixture());
    let groups: Vec<f64> = e.groups.iter().map(|g| g.score).collect();
    assert!(close(groups[0], 18.8889), "{groups:?}");
    assert!(close(groups[1], 3.3333), "{groups:?}");
    assert!(close(groups[2], 30.0), "{groups:?}");
    assert!(close(e.total, 52.2222), "{}", e.total);
    assert_eq!(e.grade, Grade::Poor);
    assert_eq!(e.grade.zh(), "较差");
    // Three times the use lifts utilisation past its floor: (180/1400 − 0.1)/0.7 × 30.
    let mut busier = fixture();
    busier.effective_minutes *= 3;
    busier.external_minutes *= 3;
    let e = evaluate(&config, &busier);
    let utilisation = e.groups[1].indicators[0].score;
    assert!(
        close(utilisation, (180.0 / 1_400.0 - 0.1) / 0.7 * 30.0),
        "{utilisation}"
    );
}

#[test]
fn an_indicator_without_data_scores_nothing_and_withholding_never_pays() {
    let config = EvaluationConfig::builtin();
    // No booking requests: response time and refusals score nothing, and the rest is
    // not scaled up: 52.2222 − 5 − 4.
    let mut quiet = fixture();
    quiet.requests = 0;
    quiet.rejections = 0;
    quiet.responses = 0;
    quiet.response_hours_sum = 0.0;
    let e = evaluate(&config, &quiet);
    assert!(close(e.total, 43.2222), "{}", e.total);
    // A member with the worst ratings and uptime is not better off sending none.
    let mut bad = fixture();
    bad.rating_sum = u64::from(bad.ratings);
    bad.uptime_sum = 0.1;
    let mut withheld = bad.clone();
    withheld.rating_sum = 0;
    withheld.ratings = 0;
    withheld.uptime_sum = 0.0;
    withheld.monitored = 0;
    let (bad, withheld) = (evaluate(&config, &bad), evaluate(&config, &withheld));
    assert!(
        withheld.total <= bad.total,
        "{} > {}",
        withheld.total,
        bad.total
    );
    // Only by configuration does an indicator without data earn anything.
    let lenient = DEFAULT.replace("full_at = 4\n", "full_at = 4\nwithout_data = 1.0\n");
    let lenient = EvaluationConfig::parse(&lenient).unwrap();
    assert!(close(evaluate(&lenient, &quiet).total, 43.2222 + 5.0));
}

#[test]
fn grades_follow_the_thresholds_and_missing_data_scores_nothing() {
    let config = EvaluationConfig::builtin();
    let empty = evaluate(&config, &Metrics::default());
    assert_eq!(empty.total, 0.0);
    assert_eq!(empty.grade, Grade::Poor);
    assert!(
        empty.groups[2]
            .indicators
            .iter()
            .find(|i| i.metric == Metric::AverageRating)
            .unwrap()
            .value
            .is_none()
    );
    // An institution is the sum of its instruments.
    let mut institution = fixture();
    institution.add(&fixture());
    assert_eq!(institution.instruments, 2);
    assert_eq!(institution.effective_hours(), 120.0);
    assert_eq!(institution.value(Metric::UsersServed), Some(3.0));
    assert!(close(
        institution.value(Metric::Utilisation).unwrap(),
        120.0 / 2_800.0
    ));
}
