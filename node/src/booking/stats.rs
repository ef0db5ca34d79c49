//! This institution's booking service statistics per month and instrument, from the
//! owner's ledger, for the province's evaluation (R14: response time and refusals).
//!
//! - A request counts in the month (Asia/Shanghai) it arrived.
//! - Its response is the time to the owner's decision: nothing for one answered at once
//!   (confirmed, or refused by the rules or a conflict), the wait for a manager for one
//!   held for approval. A held request still undecided, or cancelled before a decision,
//!   has no response yet.
//! - A rejection is a manager's refusal of a held request. Automatic answers (a rule, a
//!   taken slot) tell the user at once what to change; they are not refusals of service.

use std::collections::BTreeMap;

use alliance_protocol::{
    InstitutionId, UnixTime,
    stats::{InstrumentStatistics, MonthStatistics, ServiceStatistics},
};
use chrono::{DateTime, Datelike};
use chrono_tz::Asia::Shanghai;

use super::state::{Booking, BookingState};

fn month_of(t: UnixTime) -> Option<(i32, u32)> {
    let local = DateTime::from_timestamp(t.0, 0)?.with_timezone(&Shanghai);
    Some((local.year(), local.month()))
}

/// The statistics of the `months` months up to `now`'s, from every booking of the ledger.
pub fn monthly(
    bookings: &[Booking],
    institution: &InstitutionId,
    now: UnixTime,
    months: u32,
) -> ServiceStatistics {
    let (year, month) = month_of(now).unwrap_or((1970, 1));
    let current = year * 12 + i32::try_from(month).unwrap_or(1) - 1;
    let oldest = current - i32::try_from(months).unwrap_or(0) + 1;
    let mut table: BTreeMap<(i32, u32), BTreeMap<String, InstrumentStatistics>> = BTreeMap::new();
    for booking in bookings {
        let Some(first) = booking.history.first() else {
            continue;
        };
        let Some((y, m)) = month_of(first.at) else {
            continue;
        };
        if y * 12 + i32::try_from(m).unwrap_or(1) - 1 < oldest {
            continue;
        }
        // Refused at once (a rule, a quota, a taken slot): the user was told what to
        // change, and nothing was asked of the owner. Not counted at all, so that a
        // flood of such requests (a friend's, say) cannot water down the owner's
        // refusal rate or response time.
        if booking.refused_at_once() {
            continue;
        }
        let entry = table
            .entry((y, m))
            .or_default()
            .entry(booking.local_id.clone())
            .or_insert_with(|| InstrumentStatistics {
                local_id: booking.local_id.clone(),
                ..InstrumentStatistics::default()
            });
        entry.requests += 1;
        let decided = match first.to {
            BookingState::Held => booking.history.iter().skip(1).find(|e| {
                e.from == Some(BookingState::Held)
                    && matches!(e.to, BookingState::Confirmed | BookingState::Rejected)
            }),
            _ => Some(first),
        };
        if let Some(decision) = decided {
            entry.responses += 1;
            entry.response_seconds += u64::try_from(decision.at.0 - first.at.0).unwrap_or(0);
            if decision.from == Some(BookingState::Held) && decision.to == BookingState::Rejected {
                entry.rejections += 1;
            }
        }
    }
    ServiceStatistics {
        institution_id: institution.clone(),
        computed_at: now,
        months: table
            .into_iter()
            .map(|((y, m), instruments)| MonthStatistics {
                month: format!("{y:04}-{m:02}"),
                instruments: instruments.into_values().collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alliance_protocol::{ServiceMode, UserTier};

    use super::*;
    use crate::booking::state::AuditEvent;

    /// 2026-11-02 10:00 in Shanghai.
    const NOV: i64 = 1_793_584_800;

    fn booking(local_id: &str, events: &[(i64, Option<BookingState>, BookingState)]) -> Booking {
        Booking {
            booking_id: format!("b{}", events[0].0),
            home: "neu".parse().unwrap(),
            local_id: local_id.into(),
            start: UnixTime(NOV + 86_400),
            end: UnixTime(NOV + 90_000),
            user_id: "u".into(),
            user_name: String::new(),
            tier: UserTier::AllianceMember,
            mode: ServiceMode::StaffRun,
            samples: 1,
            purpose: String::new(),
            service_item: String::new(),
            state: events.last().unwrap().2,
            version: 1,
            hold_until: None,
            answer: Vec::new(),
            history: events
                .iter()
                .map(|&(at, from, to)| AuditEvent {
                    at: UnixTime(at),
                    by: "x".into(),
                    from,
                    to,
                    note: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn requests_responses_and_managers_refusals_count_in_the_month_they_arrived() {
        use BookingState::*;
        let bookings = [
            // Confirmed at once: a response of 0 s.
            booking("XPS-1", &[(NOV, None, Confirmed)]),
            // Held, approved 2 h later.
            booking(
                "XPS-1",
                &[(NOV + 10, None, Held), (NOV + 7_210, Some(Held), Confirmed)],
            ),
            // Held, rejected 4 h later: a refusal.
            booking(
                "XPS-1",
                &[(NOV + 20, None, Held), (NOV + 14_420, Some(Held), Rejected)],
            ),
            // Refused at once (rules, quota, a taken slot): not a request of service,
            // neither counted nor a refusal.
            booking("XPS-1", &[(NOV + 30, None, Rejected)]),
            // Held and still waiting: no response yet.
            booking("XPS-1", &[(NOV + 40, None, Held)]),
            // Another instrument, in October.
            booking("NMR-1", &[(NOV - 5 * 86_400, None, Confirmed)]),
            // Too old for the window.
            booking("NMR-1", &[(NOV - 400 * 86_400, None, Confirmed)]),
        ];
        let stats = monthly(
            &bookings,
            &"dlut".parse().unwrap(),
            UnixTime(NOV + 86_400),
            12,
        );
        let months: Vec<&str> = stats.months.iter().map(|m| m.month.as_str()).collect();
        assert_eq!(months, ["2026-10", "2026-11"]);
        assert_eq!(
            stats.months[1].instruments,
            [InstrumentStatistics {
                local_id: "XPS-1".into(),
                requests: 4,
                rejections: 1,
                responses: 3,
                response_seconds: 7_200 + 14_400,
            }]
        );
        assert_eq!(stats.months[0].instruments[0].requests, 1);
    }
}
