//! Example values for tests and benchmarks (the `fixtures` feature): one valid value of
//! each kind that tests otherwise retype, to be adjusted with struct update syntax, e.g.
//! `UsageReceipt { test_minutes: 30, ..fixtures::receipt() }`.

// Testing support: a constant that does not parse is a bug in this file.
#![allow(clippy::unwrap_used)]

use crate::{
    FeeComponents, UnixTime, UserTier,
    board::{Need, NeedState, Offer},
    event::Event,
    receipt::UsageReceipt,
    record::ServiceMode,
};

/// A valid receipt: dlut's XPS-1, used by a researcher of neu for two hours (10 + 100 +
/// 10 minutes, two samples), issued right after.
pub fn receipt() -> UsageReceipt {
    UsageReceipt {
        receipt_id: "r-1".into(),
        institution_id: "dlut".parse().unwrap(),
        local_id: "XPS-1".into(),
        booking_id: "b-1".into(),
        user_id: "neu-researcher".into(),
        user_name: "王小明".into(),
        home_institution: "neu".parse().unwrap(),
        tier: UserTier::AllianceMember,
        start: UnixTime(1_796_094_000),
        end: UnixTime(1_796_101_200),
        preparation_minutes: 10,
        test_minutes: 100,
        post_processing_minutes: 10,
        samples: 2,
        fees: FeeComponents {
            materials_fen: 1_000,
            operating_fen: 6_000,
            labour_fen: 4_000,
        },
        issued_at: UnixTime(1_796_102_000),
        report_sha256: None,
    }
}

/// An open need of a firm registered at dlut: six powder samples for XRD.
pub fn need() -> Need {
    Need {
        home: "dlut".parse().unwrap(),
        local_id: "n_0001".into(),
        revision: 4,
        title: "锂电池正极材料的XRD物相分析".into(),
        description: "三元材料，需要精修晶胞参数".into(),
        categories: vec!["0303".into()],
        modes: vec![ServiceMode::StaffRun],
        keywords: vec!["XRD".into(), "物相".into()],
        sample_kind: "粉末".into(),
        sample_count: 6,
        deadline: "2099-12-31".into(),
        budget_min_fen: 0,
        budget_max_fen: 300_000,
        results_public: false,
        referred_to: None,
        attachments: Vec::new(),
        tier: UserTier::Enterprise,
        posted_at: UnixTime(1_796_000_000),
        state: NeedState::Open,
    }
}

/// neu's offer for [`need`]: its XRD-01, by the fee schedule.
pub fn offer() -> Offer {
    Offer {
        institution_id: "neu".parse().unwrap(),
        revision: 9,
        need_home: "dlut".parse().unwrap(),
        need_id: "n_0001".into(),
        instrument_local_id: "XRD-01".into(),
        mode: ServiceMode::StaffRun,
        service_item: "粉末衍射".into(),
        price_fen: 120_000,
        quoted: false,
        price_reason: String::new(),
        earliest_date: "2026-12-10".into(),
        turnaround_days: 5,
        conditions: "样品需干燥".into(),
        offered_at: UnixTime(1_796_000_600),
        withdrawn: false,
    }
}

/// The province's XRD matching event: a day in Shenyang, with a link to join online.
pub fn event() -> Event {
    Event {
        organiser: "lnsti".parse().unwrap(),
        local_id: "ev_2027_xrd".into(),
        revision: 3,
        title: "X射线衍射分析供需对接会".into(),
        description: "面向新材料企业，介绍联盟XRD设备与检测服务".into(),
        field: "0303".into(),
        starts_at: UnixTime(1_796_086_800),
        ends_at: UnixTime(1_796_115_600),
        place: "沈阳市和平区文化路3号巷11号".into(),
        link: "https://meeting.example.cn/xrd".into(),
        capacity: 120,
        announced_at: UnixTime(1_796_000_000),
        cancelled: None,
    }
}
