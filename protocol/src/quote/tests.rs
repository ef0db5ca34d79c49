//! Quotes against a fee schedule whose figures were worked out by hand.

use super::*;

fn components(materials: i64, operating: i64, labour: i64) -> FeeComponents {
    FeeComponents {
        materials_fen: materials,
        operating_fen: operating,
        labour_fen: labour,
    }
}

/// An XPS: machine time by the hour, testing by the sample, and a start-up fee by the session.
fn schedule() -> Vec<FeeItem> {
    vec![
        FeeItem {
            item_zh: "上机测试".into(),
            item_en: "Machine time".into(),
            unit: FeeUnit::Hour,
            own_institution: components(0, 5_000, 3_000),
            alliance_member: components(0, 6_000, 4_000),
            outside_academic: components(1_000, 8_000, 6_000),
            enterprise: components(2_000, 12_000, 10_000),
        },
        FeeItem {
            item_zh: "样品测试".into(),
            item_en: "Sample test".into(),
            unit: FeeUnit::Sample,
            own_institution: components(2_000, 1_000, 3_000),
            alliance_member: components(2_000, 1_500, 4_500),
            outside_academic: components(3_000, 2_000, 7_000),
            enterprise: components(4_000, 3_000, 11_000),
        },
        FeeItem {
            item_zh: "开机费".into(),
            item_en: "Start-up".into(),
            unit: FeeUnit::Session,
            own_institution: components(0, 0, 0),
            alliance_member: components(0, 2_000, 0),
            outside_academic: components(0, 3_000, 0),
            enterprise: components(0, 5_000, 0),
        },
    ]
}

fn usage(mode: ServiceMode, minutes: u32, samples: u32) -> Usage {
    Usage {
        mode,
        minutes,
        samples,
    }
}

#[test]
fn self_operated_is_charged_by_the_minute_plus_the_session() {
    // 90 min at 60 + 40 yuan/h for a member: 90 + 60 yuan, plus 20 yuan start-up.
    let q = quote(
        &schedule(),
        UserTier::AllianceMember,
        &usage(ServiceMode::SelfOperated, 90, 0),
    );
    assert_eq!(q.lines.len(), 2);
    assert_eq!(q.lines[0].quantity, Quantity::Minutes(90));
    assert_eq!(q.lines[0].amount, components(0, 9_000, 6_000));
    assert_eq!(q.lines[1].quantity, Quantity::Sessions(1));
    assert_eq!(q.lines[1].amount, components(0, 2_000, 0));
    assert_eq!(q.total, components(0, 11_000, 6_000));
    assert_eq!(q.total.total_fen(), 17_000);
}

#[test]
fn staff_run_testing_is_charged_by_the_sample_not_by_the_hour() {
    // 3 samples at 40 + 30 + 110 yuan for a firm, plus 50 yuan start-up.
    let q = quote(
        &schedule(),
        UserTier::Enterprise,
        &usage(ServiceMode::StaffRun, 120, 3),
    );
    let items: Vec<&str> = q.lines.iter().map(|l| l.item_en.as_str()).collect();
    assert_eq!(items, ["Sample test", "Start-up"]);
    assert_eq!(q.lines[0].quantity, Quantity::Samples(3));
    assert_eq!(q.lines[0].amount, components(12_000, 9_000, 33_000));
    assert_eq!(q.total, components(12_000, 14_000, 33_000));
    assert_eq!(q.total.total_fen(), 59_000);
}

#[test]
fn each_component_is_rounded_half_up_to_the_fen() {
    // 50 min for an outside academic: 10 × 50/60 = 8.333 → 8.33 yuan, 80 × 50/60 =
    // 66.667 → 66.67, 60 × 50/60 = 50.00; plus 30 yuan start-up.
    let q = quote(
        &schedule(),
        UserTier::OutsideAcademic,
        &usage(ServiceMode::SelfOperated, 50, 0),
    );
    assert_eq!(q.lines[0].amount, components(833, 6_667, 5_000));
    assert_eq!(q.total, components(833, 9_667, 5_000));
    assert_eq!(q.total.total_fen(), 15_500);
    // Exactly half a fen goes up: 1 fen/h for 30 min, 2 fen/h for 45 min.
    assert_eq!(per_minutes(1, 30), 1);
    assert_eq!(per_minutes(2, 45), 2);
    assert_eq!(per_minutes(1, 29), 0);
}

#[test]
fn staff_run_on_an_instrument_priced_only_by_the_hour_pays_machine_time() {
    let hourly: Vec<FeeItem> = schedule()
        .into_iter()
        .filter(|f| f.unit == FeeUnit::Hour)
        .collect();
    let q = quote(
        &hourly,
        UserTier::OwnInstitution,
        &usage(ServiceMode::StaffRun, 120, 5),
    );
    assert_eq!(q.lines.len(), 1);
    assert_eq!(q.lines[0].quantity, Quantity::Minutes(120));
    assert_eq!(q.total, components(0, 10_000, 6_000));
}

#[test]
fn every_tier_pays_its_own_price() {
    let totals: Vec<i64> = UserTier::ALL
        .iter()
        .map(|&tier| {
            quote(&schedule(), tier, &usage(ServiceMode::SelfOperated, 60, 0))
                .total
                .total_fen()
        })
        .collect();
    // One hour plus start-up: 80, 100 + 20, 150 + 30, 240 + 50 yuan.
    assert_eq!(totals, [8_000, 12_000, 18_000, 29_000]);
}

#[test]
fn no_fee_items_cost_nothing() {
    let q = quote(
        &[],
        UserTier::Enterprise,
        &usage(ServiceMode::SelfOperated, 60, 0),
    );
    assert!(q.lines.is_empty());
    assert_eq!(q.total.total_fen(), 0);
}

/// A firm's quote covers the service item it chose, not every item of the instrument.
///
/// | item            | unit    | enterprise price (yuan)      |
/// |-----------------|---------|------------------------------|
/// | XPS 全谱        | sample  | 300 (100 + 50 + 150)         |
/// | XPS 深度剖析    | sample  | 600 (200 + 100 + 300)        |
/// | 角分辨 XPS      | sample  | 1,284 (400 + 284 + 600)      |
///
/// One sample of 深度剖析: 600 yuan, where every item added up is 2,184.
#[test]
fn a_quote_covers_the_chosen_service_item_only() {
    let item = |zh: &str, fen: (i64, i64, i64)| FeeItem {
        item_zh: zh.into(),
        item_en: String::new(),
        unit: FeeUnit::Sample,
        own_institution: components(0, 0, 0),
        alliance_member: components(0, 0, 0),
        outside_academic: components(0, 0, 0),
        enterprise: components(fen.0, fen.1, fen.2),
    };
    let fees = vec![
        item("XPS 全谱", (10_000, 5_000, 15_000)),
        item("XPS 深度剖析", (20_000, 10_000, 30_000)),
        item("角分辨 XPS", (40_000, 28_400, 60_000)),
    ];
    let usage = Usage {
        mode: ServiceMode::StaffRun,
        minutes: 60,
        samples: 1,
    };
    assert_eq!(
        quote(&fees, UserTier::Enterprise, &usage).total.total_fen(),
        218_400,
        "all items added up"
    );
    let chosen = quote_item(&fees, UserTier::Enterprise, &usage, "XPS 深度剖析").unwrap();
    assert_eq!(chosen.total, components(20_000, 10_000, 30_000));
    assert_eq!(chosen.lines.len(), 1);
    assert_eq!(chosen.lines[0].item_zh, "XPS 深度剖析");
    // Several service items and none chosen: the user is asked to choose, by name.
    let required = quote_item(&fees, UserTier::Enterprise, &usage, "").unwrap_err();
    assert!(
        required
            .to_string()
            .contains("XPS 全谱、XPS 深度剖析、角分辨 XPS")
    );
    assert_eq!(
        quote_item(&fees, UserTier::Enterprise, &usage, "拉曼").unwrap_err(),
        ItemError::Unknown("拉曼".into())
    );
    // With the schedule above (one sample item, one hourly, a start-up fee), staff-run
    // testing needs no choice, and a chosen item keeps the per-session fee.
    let xps = schedule();
    let one = quote_item(&xps, UserTier::AllianceMember, &usage, "").unwrap();
    assert_eq!(one, quote(&xps, UserTier::AllianceMember, &usage));
    let named = quote_item(&xps, UserTier::AllianceMember, &usage, "样品测试").unwrap();
    assert_eq!(named, one);
}
