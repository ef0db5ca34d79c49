//! Bookings the demo starts with, negotiated over the network like any other: each
//! member's researcher books staff-run sessions on two instruments of every other member
//! (confirmed at once, as alliance members are by default), and its firm books one
//! (held for the owner's manager to approve). So "my bookings", the approval queues and
//! every node's calendar have something to show on first start.

use std::time::Duration;

use alliance_protocol::{
    InstitutionId, InstrumentRecord, InstrumentStatus, ServiceMode, UnixTime, UserTier,
    booking::{BookingRules, Outcome, Slot},
};

use crate::{
    booking::{
        rules::{InstrumentFacts, Proposal, RulesCheck},
        service::{BookError, BookingAsk, Bookings, HomeUser},
    },
    catalogue::{Catalogue, schedule},
};

/// How long to wait for an owner's node to be reachable before giving up on its bookings.
const REACH_TIMEOUT: Duration = Duration::from_secs(60);

/// A member as the seeding sees it.
#[derive(Debug, Clone)]
pub(super) struct Member {
    pub id: &'static str,
    pub name_zh: &'static str,
    pub bookings: Bookings,
    pub catalogue: Catalogue,
}

/// Books across every pair of members; logs what it did. Runs in the background.
pub(super) async fn seed(members: Vec<Member>) {
    let mut made = 0;
    for (h, home) in members.iter().enumerate() {
        for owner in members.iter().filter(|o| o.id != home.id) {
            made += seed_pair(home, owner, h).await;
        }
    }
    tracing::info!(bookings = made, "demo bookings made");
}

/// The owner's instruments a user of `tier` may book for staff-run testing.
fn bookable(owner: &Member, tier: UserTier) -> Vec<std::sync::Arc<InstrumentRecord>> {
    let Ok(id) = owner.id.parse::<InstitutionId>() else {
        return Vec::new();
    };
    owner
        .catalogue
        .institution_views(&id)
        .into_iter()
        .map(|v| v.record)
        .filter(|r| {
            r.status == InstrumentStatus::InService
                && r.service_modes.contains(&ServiceMode::StaffRun)
                && r.sharing_scope.admits(tier)
        })
        .collect()
}

/// The first two-hour slot from `spread` days ahead, at 09:00, 14:00 or 10:00 Shanghai
/// time, that the owner's rules accept for `tier` (opening hours, blackouts, lead time).
fn free_slot(
    owner: &Member,
    record: &InstrumentRecord,
    tier: UserTier,
    spread: i64,
) -> Option<Slot> {
    let rules = owner.bookings.rules(&record.local_id).ok()?;
    let open = schedule::parse(&record.opening_hours);
    let facts = InstrumentFacts {
        status: record.status,
        scope: record.sharing_scope,
        modes: &record.service_modes,
        open: &open,
    };
    let now = UnixTime::now();
    let today = now.0 - (now.0 + 8 * 3600).rem_euclid(86_400);
    (2..16i64)
        .flat_map(|day| [9, 14, 10].map(|hour| today + (day + spread) * 86_400 + hour * 3600))
        .map(|start| Slot {
            start: UnixTime(start),
            end: UnixTime(start + 2 * 3600),
        })
        .find(|&slot| {
            let proposal = Proposal {
                slot,
                tier,
                mode: ServiceMode::StaffRun,
                trained: false,
                now,
            };
            rules.check(&facts, &proposal).is_ok()
        })
}

async fn seed_pair(home: &Member, owner: &Member, h: usize) -> usize {
    let researcher = HomeUser {
        user_id: format!("{}-researcher", home.id),
        display_name: format!("{}科研人员", home.name_zh),
        tier: UserTier::OwnInstitution,
    };
    let firm = HomeUser {
        user_id: format!("{}-firm", home.id),
        display_name: format!("{}企业用户", home.name_zh),
        tier: UserTier::Enterprise,
    };
    // Homes book on different days, so that they do not ask for the same slots.
    let spread = 3 * h as i64;
    let mut made = 0;
    let member_instruments = bookable(owner, UserTier::AllianceMember);
    for (n, record) in member_instruments.iter().take(2).enumerate() {
        // Fair use shows on the first: one active booking per user there, so the demo's
        // researcher, who holds it, sees the quota refusal on booking it again.
        if n == 0
            && let Ok(rules) = owner.bookings.rules(&record.local_id)
        {
            let strict = BookingRules {
                max_active_per_user: 1,
                ..rules
            };
            if let Err(e) = owner.bookings.set_rules(&record.local_id, &strict).await {
                tracing::warn!(error = %e, "demo fair-use rule not set");
            }
        }
        let id = format!("demo-{}-{}-{n}", home.id, owner.id);
        if let Some(slot) = free_slot(owner, record, UserTier::AllianceMember, spread) {
            made += usize::from(book(home, &researcher, record, slot, &id).await);
        }
    }
    if let Some(record) = bookable(owner, UserTier::Enterprise).last() {
        let id = format!("demo-{}-{}-firm", home.id, owner.id);
        if let Some(slot) = free_slot(owner, record, UserTier::Enterprise, spread + 1) {
            made += usize::from(book(home, &firm, record, slot, &id).await);
        }
    }
    made
}

/// Books `slot` of the instrument for `user`, waiting for the owner's node while it is
/// not yet reachable. Whether the owner took the booking.
async fn book(
    home: &Member,
    user: &HomeUser,
    record: &InstrumentRecord,
    slot: Slot,
    booking_id: &str,
) -> bool {
    let ask = BookingAsk {
        instrument_id: format!("{}/{}", record.institution_id, record.local_id),
        start: slot.start,
        end: slot.end,
        mode: ServiceMode::StaffRun,
        samples: 3,
        purpose: "样品表征（演示预约）".into(),
        // The instrument's first service item for staff-run testing.
        service_item: alliance_protocol::quote::service_items(&record.fees, ServiceMode::StaffRun)
            .first()
            .map(|f| f.item_zh.clone())
            .unwrap_or_default(),
    };
    let deadline = tokio::time::Instant::now() + REACH_TIMEOUT;
    loop {
        match home.bookings.book(user, &ask, booking_id.to_owned()).await {
            Ok(answer) => {
                return matches!(answer.outcome, Outcome::Confirmed | Outcome::Held { .. });
            }
            Err(e) if still_starting(&e) && tokio::time::Instant::now() < deadline => {
                // The members are still finding each other.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => {
                tracing::debug!(booking_id, error = %e, "demo booking not made");
                return false;
            }
        }
    }
}

/// Whether a failure means the members have not found each other yet.
fn still_starting(e: &BookError) -> bool {
    match e {
        BookError::Unreachable(_) => true,
        BookError::Refused(refusal) => matches!(refusal, crate::net::Refusal::NotAMember(_)),
        _ => false,
    }
}
