//! Setups that multi-node tests share: the owner's instrument, a researcher, times every
//! booking rule allows, a node's key, and waiting for two nodes to see each other.

use alliance_node::{
    NodeHandle,
    booking::service::{BookingAsk, HomeUser},
};
use alliance_protocol::{SecretKey, ServiceMode, UnixTime, UserTier};

use crate::{connected_institutions, sample_record, wait_state};

/// The owner's instrument `dlut/XPS-1`: open around the clock, staff-run testing, shared
/// with all.
pub async fn owner_instrument(owner: &NodeHandle) {
    let mut record = sample_record("dlut", "XPS-1", "X射线光电子能谱仪");
    record.opening_hours = "每天 全天".into();
    record.service_modes = vec![ServiceMode::StaffRun];
    owner.catalogue().save_record(record).await.unwrap();
}

/// Researcher `r<n>` of a member, priced as an alliance member.
pub fn researcher(n: usize) -> HomeUser {
    HomeUser {
        user_id: format!("r{n}"),
        display_name: format!("研究员{n}"),
        tier: UserTier::AllianceMember,
    }
}

/// Midnight (Shanghai) `days` from today.
pub fn midnight_in(days: i64) -> i64 {
    let now = UnixTime::now().0;
    let local_midnight = now - (now + 8 * 3600).rem_euclid(86_400);
    local_midnight + days * 86_400
}

/// Staff-run testing of `dlut/XPS-1` for `hours` from `start`.
pub fn xps_ask(start: i64, hours: i64) -> BookingAsk {
    BookingAsk {
        instrument_id: "dlut/XPS-1".into(),
        start: UnixTime(start),
        end: UnixTime(start + hours * 3600),
        mode: ServiceMode::StaffRun,
        samples: 1,
        purpose: "表面分析".into(),
        service_item: String::new(),
    }
}

/// A node's secret key, from its key file.
pub fn node_key(node: &NodeHandle) -> SecretKey {
    alliance_node::keyfile::read(&node.config().node_key_path()).unwrap()
}

/// Waits until `node` is connected to a node of `to`.
pub async fn wait_connected(node: &NodeHandle, to: &str) {
    let label = format!("{} sees {to}", node.config().node.institution_id);
    wait_state(node, &label, |s| {
        connected_institutions(s).iter().any(|i| i == to)
    })
    .await;
}

/// Lets `dlut/XPS-1` be booked from the next minute on (no lead time, one-minute slots),
/// so a test can book a session, wait for it to begin and complete it.
pub async fn bookable_now(owner: &NodeHandle) {
    let rules = alliance_protocol::booking::BookingRules {
        min_lead_minutes: 0,
        granularity_minutes: 1,
        ..Default::default()
    };
    owner.bookings().set_rules("XPS-1", &rules).await.unwrap();
}

/// The next whole minute at least ten seconds away (a slot start under
/// [`bookable_now`]).
pub fn next_minute() -> i64 {
    let soon = UnixTime::now().0 + 10;
    soon + (60 - soon.rem_euclid(60)) % 60
}

/// Waits until the wall clock reaches `at`: a session is completed once it has begun.
pub async fn until(at: i64) {
    let wait = (at - UnixTime::now().0).max(0) as u64 + 1;
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
}

/// Creates an active account at `node` with [`crate::PASSWORD`].
pub async fn account(
    node: &NodeHandle,
    username: &str,
    role: alliance_web::backend::AccountRole,
    organization: &str,
) {
    node.accounts()
        .create(alliance_web::backend::NewAccount {
            username: username.into(),
            password: crate::PASSWORD.into(),
            display_name: format!("{username} 的名字"),
            role,
            organization: organization.into(),
            email: String::new(),
            phone: String::new(),
        })
        .await
        .unwrap();
}

/// Waits until `node`'s copy of `booking_id` is in `state`.
pub async fn wait_home_state(
    node: &NodeHandle,
    booking_id: &str,
    state: alliance_protocol::booking::BookingState,
) {
    let home = node.bookings().home().clone();
    let mut changes = home.changes();
    let reached = async {
        while home.get(booking_id).unwrap().map(|b| b.state) != Some(state) {
            changes.changed().await.unwrap();
        }
    };
    tokio::time::timeout(crate::DEADLINE, reached)
        .await
        .unwrap_or_else(|_| panic!("{booking_id} never reached {state:?}"));
}

/// An active account of `node`, with the shared test password.
pub async fn person(
    node: &NodeHandle,
    username: &str,
    role: alliance_web::backend::AccountRole,
    email: &str,
) {
    node.accounts()
        .create(alliance_web::backend::NewAccount {
            username: username.into(),
            password: crate::PASSWORD.into(),
            display_name: format!("{username} 的名字"),
            role,
            organization: "大连华信新材料有限公司".into(),
            email: email.into(),
            phone: "0411-0000000".into(),
        })
        .await
        .unwrap();
}

/// The day `days` from today in Beijing, `YYYY-MM-DD`.
pub fn in_days(days: u64) -> String {
    (chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        + chrono::Days::new(days))
    .format("%Y-%m-%d")
    .to_string()
}

/// `dlut/XPS-1` for staff-run testing, open around the clock, priced by the sample: 30
/// yuan of materials and 30 of running costs, and this labour per tier (own institution,
/// alliance member, outside academic, firm), in fen.
pub async fn xps_by_sample(owner: &NodeHandle, labour_fen: [i64; 4]) {
    let mut record = sample_record("dlut", "XPS-1", "X射线光电子能谱仪");
    record.opening_hours = "每天 全天".into();
    record.service_modes = vec![ServiceMode::StaffRun];
    let fee = |labour_fen| alliance_protocol::FeeComponents {
        materials_fen: 3_000,
        operating_fen: 3_000,
        labour_fen,
    };
    record.fees = vec![alliance_protocol::FeeItem {
        item_zh: "样品测试".into(),
        item_en: "Sample test".into(),
        unit: alliance_protocol::FeeUnit::Sample,
        own_institution: fee(labour_fen[0]),
        alliance_member: fee(labour_fen[1]),
        outside_academic: fee(labour_fen[2]),
        enterprise: fee(labour_fen[3]),
    }];
    owner.catalogue().save_record(record).await.unwrap();
}

/// `alliance verify-results` as a library: fetch from the province, check, recompute.
pub async fn verify_results(province: &NodeHandle, period: &str) -> alliance_node::verify::Report {
    let root = province.config().alliance.root_public_key;
    let base = province.url().trim_end_matches('/').to_owned();
    let fetched = alliance_node::verify::fetch(&base, period, Some(root), &|_| {})
        .await
        .unwrap();
    alliance_node::verify::check(
        &fetched.root,
        &fetched.signed_statement,
        &fetched.figures,
        &fetched.evidence,
        &fetched.entries,
    )
    .unwrap()
}
