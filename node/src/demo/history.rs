//! A year of plausible use for the demo, recorded the way managers record sessions, so
//! the province's log, its published results and every receipt page have something to
//! show: per instrument, 40 to 80 sessions over the past 365 days adding up to 45 % to
//! 95 % of its rated hours, by the institution's own researchers, by outside users
//! registered at it, and a few by other members' researchers (whose homes confirm them).
//! Deterministic per instrument, so every first start shows the same history. Sessions
//! of one instrument never overlap, and each receipt is issued an hour after its session
//! ended, as a manager would have recorded it then.

use std::time::Duration;

use alliance_protocol::{
    InstitutionId, InstrumentStatus, ServiceMode, UnixTime, UserTier, receipt::Verdict,
};
use futures::{StreamExt, stream};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use sha2::{Digest, Sha256};

use crate::{
    booking::service::{Bookings, SessionFacts, WalkIn},
    catalogue::Catalogue,
    evaluation::config::EvaluationConfig,
    receipts::Receipts,
};

/// A member as the history seeding sees it.
#[derive(Debug, Clone)]
pub(super) struct Member {
    pub own: InstitutionId,
    pub bookings: Bookings,
    pub receipts: Receipts,
    pub catalogue: Catalogue,
}

/// Receipts issued at once per member (they share the store's fsyncs).
const CONCURRENCY: usize = 32;
/// The home's users confirm other members' receipts once none has arrived for this long…
const QUIET: Duration = Duration::from_secs(10);
/// …or after this long at most: on a loaded host receipts and proofs trickle in without
/// pause, and the story must go on (those not in yet stay unanswered, as in life).
const MOST_QUIET_WAIT: Duration = Duration::from_secs(120);

fn rng_for(key: &str) -> StdRng {
    let digest = Sha256::digest(key.as_bytes());
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&digest[..8]);
    StdRng::seed_from_u64(u64::from_be_bytes(seed))
}

/// The sessions of one instrument of `owner` over the year before `now`.
fn sessions(
    owner: &str,
    local_id: &str,
    rated_hours: f64,
    (modes, fees): (&[ServiceMode], &[alliance_protocol::FeeItem]),
    others: &[&str],
    now: UnixTime,
) -> Vec<WalkIn> {
    let mut rng = rng_for(&format!("{owner}/{local_id}"));
    let count = rng.random_range(40..=80u32);
    let utilisation = rng.random_range(0.45..0.95);
    let minutes_each = (rated_hours * utilisation * 60.0 / f64::from(count)) as u32;
    let mode = if modes.contains(&ServiceMode::StaffRun) {
        ServiceMode::StaffRun
    } else {
        ServiceMode::SelfOperated
    };
    // The instrument's first service item for the mode.
    let item = alliance_protocol::quote::service_items(fees, mode)
        .first()
        .map(|f| f.item_zh.clone())
        .unwrap_or_default();
    let Ok(home_of_owner) = owner.parse::<InstitutionId>() else {
        return Vec::new();
    };
    // The end of the previous session: the next starts at least an hour later.
    let mut free_from = i64::MIN;
    (0..count)
        .filter_map(|n| {
            // Spread over the year, starting 08:00–16:00 Shanghai time.
            let day = i64::from(n) * 360 / i64::from(count) + rng.random_range(0..4i64);
            let planned = now.0 - (365 - day) * 86_400 - (now.0 + 8 * 3600).rem_euclid(86_400)
                + rng.random_range(8..16i64) * 3600;
            let start = planned.max(free_from);
            let minutes = (minutes_each as f64 * rng.random_range(0.7..1.3)) as u32;
            let (preparation, post) = (minutes / 10, minutes / 10);
            let test = minutes.saturating_sub(preparation + post).max(1);
            let span = i64::from(minutes) * 60;
            let who = rng.random_range(0..100u32);
            let (user_id, user_name, home, tier) = match who {
                0..55 => {
                    let k = rng.random_range(1..=12u32);
                    (
                        format!("{owner}-staff{k:02}"),
                        format!("课题组成员{k:02}"),
                        home_of_owner.clone(),
                        UserTier::OwnInstitution,
                    )
                }
                55..88 => {
                    let k = rng.random_range(1..=5u32);
                    let (name, tier) = if k <= 2 {
                        ("校外科研用户", UserTier::OutsideAcademic)
                    } else {
                        ("企业用户", UserTier::Enterprise)
                    };
                    (
                        format!("{owner}-guest{k}"),
                        format!("{name}{k}"),
                        home_of_owner.clone(),
                        tier,
                    )
                }
                _ => match others.get(rng.random_range(0..others.len().max(1))) {
                    Some(other) => (
                        format!("{other}-researcher"),
                        "联盟成员科研人员".to_owned(),
                        other.parse().unwrap_or_else(|_| home_of_owner.clone()),
                        UserTier::AllianceMember,
                    ),
                    None => (
                        format!("{owner}-staff01"),
                        "课题组成员01".to_owned(),
                        home_of_owner.clone(),
                        UserTier::OwnInstitution,
                    ),
                },
            };
            let end = start + span.max(600);
            free_from = end + 3_600;
            // Only sessions over (and recorded) before now.
            if end + 3_600 > now.0 {
                return None;
            }
            Some(WalkIn {
                local_id: local_id.to_owned(),
                user_id,
                user_name,
                home,
                tier,
                mode,
                service_item: item.clone(),
                facts: SessionFacts {
                    start: UnixTime(start),
                    end: UnixTime(end),
                    preparation_minutes: preparation,
                    test_minutes: test,
                    post_processing_minutes: post,
                    samples: rng.random_range(1..8u32),
                    note: String::new(),
                },
            })
        })
        .collect()
}

/// Records a year of sessions on every in-service instrument of `member`, and confirms
/// (with a rating) most receipts of its own users. Returns how many it issued.
pub(super) async fn seed_member(member: &Member, others: &[&str]) -> usize {
    let own = member.own.clone();
    let rated = EvaluationConfig::builtin().rated_hours;
    let now = UnixTime::now();
    let walk_ins: Vec<WalkIn> = member
        .catalogue
        .institution_views(&own)
        .iter()
        .filter(|v| v.record.status == InstrumentStatus::InService)
        .flat_map(|v| {
            sessions(
                own.as_str(),
                &v.record.local_id,
                rated.of(&v.record.classification_code),
                (&v.record.service_modes, &v.record.fees),
                others,
                now,
            )
        })
        .collect();
    let bookings = member.bookings.clone();
    let issued: Vec<_> = stream::iter(walk_ins)
        .map(|walk_in| {
            let bookings = bookings.clone();
            // Recorded an hour after the session, as its manager would have.
            let issued_at = UnixTime(walk_in.facts.end.0 + 3_600);
            async move { bookings.record_session_issued_at(walk_in, issued_at).await }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let made = issued.iter().filter(|r| r.is_ok()).count();
    if let Some(Err(e)) = issued.iter().find(|r| r.is_err()) {
        tracing::warn!(error = %e, "some demo sessions not recorded");
    }
    confirm_own(member).await;
    made
}

/// The demo's users confirm four in five receipts of theirs at this node, rating 3–5.
async fn confirm_own(member: &Member) {
    let receipts = member.receipts.clone();
    let Ok(issued) = receipts.issued() else {
        return;
    };
    let own = member.own.clone();
    let answers: Vec<_> = issued
        .into_iter()
        .filter(|v| v.issued.receipt.home_institution == own)
        .map(|v| v.issued.receipt)
        .filter_map(|r| {
            let mut rng = rng_for(&r.receipt_id);
            (rng.random_range(0..5u32) < 4).then(|| (r, rng.random_range(3..=5u8)))
        })
        .collect();
    stream::iter(answers)
        .map(|(r, rating)| {
            let receipts = receipts.clone();
            async move {
                let verdict = Verdict::Confirmed {
                    rating,
                    comment: String::new(),
                };
                let _ = receipts
                    .confirm(&r.user_id, &r.institution_id, &r.receipt_id, verdict)
                    .await;
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

/// The home's demo researcher confirms about two in three receipts other members sent
/// for them and disputes one in twelve, once the receipts have stopped arriving.
pub(super) async fn confirm_from_others(home: &Member) {
    let receipts = home.receipts.clone();
    let user = format!("{}-researcher", home.own);
    let mut changes = receipts.changes();
    // Wait until nothing has changed for a while: the owners have sent what they issued.
    let quiet =
        async { while let Ok(Ok(())) = tokio::time::timeout(QUIET, changes.changed()).await {} };
    let _ = tokio::time::timeout(MOST_QUIET_WAIT, quiet).await;
    for received in receipts.of_user(&user).unwrap_or_default() {
        let r = received.receipt;
        let mut rng = rng_for(&r.receipt_id);
        if received.answer.is_some() {
            continue;
        }
        let verdict = match rng.random_range(0..12u32) {
            0 => Verdict::Disputed {
                reason: "凭证所列机时多于实际使用".into(),
            },
            1..8 => Verdict::Confirmed {
                rating: rng.random_range(4..=5u8),
                comment: "服务专业，数据可靠".into(),
            },
            _ => continue,
        };
        let _ = receipts
            .confirm(&user, &r.institution_id, &r.receipt_id, verdict)
            .await;
    }
}
