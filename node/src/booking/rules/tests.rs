#![allow(clippy::unwrap_used)]

use super::*;
use crate::catalogue::schedule;

/// 2026-12-01 (a Tuesday) at `hh:mm` Shanghai time.
fn tue(hh: i64, mm: i64) -> UnixTime {
    // 2026-12-01 00:00 +08:00 = 2026-11-30 16:00 UTC.
    UnixTime(1_796_054_400 + hh * 3600 + mm * 60)
}

fn slot(start: UnixTime, end: UnixTime) -> Slot {
    Slot { start, end }
}

fn proposal(start: UnixTime, end: UnixTime) -> Proposal {
    Proposal {
        slot: slot(start, end),
        tier: UserTier::AllianceMember,
        mode: ServiceMode::StaffRun,
        trained: false,
        // The day before, at noon.
        now: UnixTime(tue(12, 0).0 - 86_400),
    }
}

const MODES: &[ServiceMode] = &[ServiceMode::SelfOperated, ServiceMode::StaffRun];

fn check(rules: &BookingRules, p: &Proposal) -> Result<(), &'static str> {
    let open = schedule::parse("周一至周五 8:30–11:30，13:30–17:30");
    let facts = InstrumentFacts {
        status: InstrumentStatus::InService,
        scope: SharingScope::OpenToSociety,
        modes: MODES,
        open: &open,
    };
    rules.check(&facts, p).map_err(|r| r.code)
}

#[test]
fn the_shanghai_clock_is_the_one_used() {
    assert_eq!(local(tue(9, 0)), "2026-12-01 09:00");
}

#[test]
fn a_slot_inside_the_rules_passes() {
    assert_eq!(
        check(&BookingRules::default(), &proposal(tue(9, 0), tue(10, 30))),
        Ok(())
    );
}

#[test]
fn each_rule_refuses_with_its_own_reason() {
    let rules = BookingRules::default();
    // Opening hours: lunch break and evening.
    assert_eq!(
        check(&rules, &proposal(tue(11, 0), tue(14, 0))),
        Err("outside_opening_hours")
    );
    assert_eq!(
        check(&rules, &proposal(tue(18, 0), tue(19, 0))),
        Err("outside_opening_hours")
    );
    // Saturday.
    let sat = UnixTime(tue(9, 0).0 + 4 * 86_400);
    assert_eq!(
        check(&rules, &proposal(sat, UnixTime(sat.0 + 3600))),
        Err("outside_opening_hours")
    );
    // Lead time: 30 minutes ahead when an hour is needed.
    let mut soon = proposal(tue(9, 0), tue(10, 0));
    soon.now = UnixTime(tue(8, 30).0);
    assert_eq!(check(&rules, &soon), Err("too_soon"));
    // Duration and granularity.
    let long = BookingRules {
        max_duration_minutes: 60,
        ..BookingRules::default()
    };
    assert_eq!(
        check(&long, &proposal(tue(9, 0), tue(10, 30))),
        Err("too_long")
    );
    assert_eq!(
        check(&rules, &proposal(tue(9, 10), tue(10, 0))),
        Err("not_aligned")
    );
    // Blackout.
    let maintenance = BookingRules {
        blackouts: vec![Blackout {
            start: tue(10, 0),
            end: tue(12, 0),
            kind: BlackoutKind::Maintenance,
            reason: "更换离子源".into(),
        }],
        ..BookingRules::default()
    };
    let refusal = maintenance
        .check(
            &InstrumentFacts {
                status: InstrumentStatus::InService,
                scope: SharingScope::OpenToSociety,
                modes: MODES,
                open: &schedule::parse("每天 8:00-22:00"),
            },
            &proposal(tue(9, 0), tue(10, 30)),
        )
        .unwrap_err();
    assert_eq!(refusal.code, "blackout");
    assert!(refusal.reason.contains("更换离子源"));
    assert!(refusal.reason.contains("2026-12-01 10:00"));
    // A blackout that ends when the slot starts does not touch it.
    assert_eq!(
        check(&maintenance, &proposal(tue(13, 30), tue(14, 30))),
        Ok(())
    );
    // Training for self-operated use only.
    let mut own_hands = proposal(tue(9, 0), tue(10, 0));
    own_hands.mode = ServiceMode::SelfOperated;
    assert_eq!(check(&rules, &own_hands), Err("training_required"));
    own_hands.trained = true;
    assert_eq!(check(&rules, &own_hands), Ok(()));
}

#[test]
fn the_instrument_itself_can_refuse() {
    let open = schedule::parse("每天 全天");
    let p = proposal(tue(9, 0), tue(10, 0));
    let rules = BookingRules::default();
    let facts = |status, scope, modes| InstrumentFacts {
        status,
        scope,
        modes,
        open: &open,
    };
    let code = |f: InstrumentFacts<'_>| rules.check(&f, &p).map_err(|r| r.code);
    assert_eq!(
        code(facts(
            InstrumentStatus::UnderMaintenance,
            SharingScope::OpenToSociety,
            MODES
        )),
        Err("not_in_service")
    );
    let mut firm = p;
    firm.tier = UserTier::Enterprise;
    assert_eq!(
        rules
            .check(
                &facts(
                    InstrumentStatus::InService,
                    SharingScope::AllianceOnly,
                    MODES
                ),
                &firm
            )
            .map_err(|r| r.code),
        Err("not_shared")
    );
    assert_eq!(
        code(facts(
            InstrumentStatus::InService,
            SharingScope::OpenToSociety,
            &[ServiceMode::SelfOperated]
        )),
        Err("mode_not_offered")
    );
}

#[test]
fn approval_cancellation_and_holds_follow_the_rules() {
    let rules = BookingRules::default();
    assert!(rules.needs_approval(UserTier::Enterprise));
    assert!(!rules.needs_approval(UserTier::AllianceMember));
    let start = tue(9, 0);
    assert!(rules.may_cancel(start, UnixTime(start.0 - 24 * 3600)));
    assert!(!rules.may_cancel(start, UnixTime(start.0 - 24 * 3600 + 1)));
    assert_eq!(rules.hold_until(start).0, start.0 + 48 * 3600);
}

#[test]
fn a_manager_cannot_save_rules_that_make_no_sense() {
    let bad = BookingRules {
        granularity_minutes: 0,
        ..BookingRules::default()
    };
    assert_eq!(bad.validate().unwrap_err().code, "granularity_minutes");
    let backwards = BookingRules {
        blackouts: vec![Blackout {
            start: tue(10, 0),
            end: tue(9, 0),
            kind: BlackoutKind::Holiday,
            reason: "元旦".into(),
        }],
        ..BookingRules::default()
    };
    assert_eq!(backwards.validate().unwrap_err().code, "blackouts");
    assert!(BookingRules::default().validate().is_ok());
    // Nothing beyond a year (or 31 days for one booking), however the API is asked.
    let code = |rules: BookingRules| rules.validate().unwrap_err().code;
    let d = BookingRules::default;
    assert_eq!(
        code(BookingRules {
            cancel_deadline_hours: 2_147_483_648,
            ..d()
        }),
        "cancel_deadline_hours"
    );
    assert_eq!(
        code(BookingRules {
            hold_hours: 8761,
            ..d()
        }),
        "hold_hours"
    );
    assert_eq!(
        code(BookingRules {
            min_lead_minutes: 525_601,
            ..d()
        }),
        "min_lead_minutes"
    );
    assert_eq!(
        code(BookingRules {
            max_duration_minutes: 44_641,
            ..d()
        }),
        "max_duration_minutes"
    );
    assert_eq!(
        code(BookingRules {
            approval_tiers: vec![UserTier::Enterprise; 5],
            ..d()
        }),
        "approval_tiers"
    );
    let long_reason = BookingRules {
        blackouts: vec![Blackout {
            start: tue(9, 0),
            end: tue(10, 0),
            kind: BlackoutKind::Holiday,
            reason: "长".repeat(100),
        }],
        ..d()
    };
    assert_eq!(code(long_reason), "blackouts");
    let forever = BookingRules {
        blackouts: vec![Blackout {
            start: UnixTime(i64::MIN),
            end: UnixTime(i64::MAX),
            kind: BlackoutKind::Maintenance,
            reason: "永远".into(),
        }],
        ..d()
    };
    assert_eq!(code(forever), "blackouts");
    assert!(
        BookingRules {
            cancel_deadline_hours: 8760,
            hold_hours: 8760,
            min_lead_minutes: 525_600,
            max_duration_minutes: 44_640,
            ..d()
        }
        .validate()
        .is_ok()
    );
}

#[test]
fn requests_beyond_the_horizon_are_refused() {
    let rules = BookingRules::default();
    let now = UnixTime(1_796_054_400);
    let open = crate::catalogue::schedule::parse("每天 全天");
    let facts = InstrumentFacts {
        status: InstrumentStatus::InService,
        scope: alliance_protocol::SharingScope::OpenToSociety,
        modes: &[ServiceMode::StaffRun],
        open: &open,
    };
    let ask = |start: i64| Proposal {
        slot: Slot {
            start: UnixTime(start),
            end: UnixTime(start + 3_600),
        },
        tier: UserTier::AllianceMember,
        mode: ServiceMode::StaffRun,
        trained: false,
        now,
    };
    // 90 days ahead is fine; a day more, or the year 9999, is not.
    assert!(rules.check(&facts, &ask(now.0 + 90 * 86_400)).is_ok());
    for start in [now.0 + 91 * 86_400, 253_402_300_800 - 7_200] {
        let refusal = rules.check(&facts, &ask(start)).unwrap_err();
        assert_eq!(refusal.code, "beyond_horizon");
        assert!(refusal.reason.contains("90 天"), "{}", refusal.reason);
    }
    // A manager cannot set a horizon of none or beyond two years.
    for horizon_days in [0, 731] {
        let odd = BookingRules {
            horizon_days,
            ..BookingRules::default()
        };
        assert_eq!(odd.validate().unwrap_err().code, "horizon_days");
    }
}

#[test]
fn public_holidays_are_closed_unless_the_owner_opens_them() {
    // Thursday 1 October 2026 (National Day) 09:00–10:00 Shanghai, asked a week before.
    let holiday = 1_790_816_400;
    let ask = Proposal {
        now: UnixTime(holiday - 7 * 86_400),
        ..proposal(UnixTime(holiday), UnixTime(holiday + 3600))
    };
    let open = schedule::parse("每天 全天");
    let facts = InstrumentFacts {
        status: InstrumentStatus::InService,
        scope: SharingScope::OpenToSociety,
        modes: MODES,
        open: &open,
    };
    let refusal = BookingRules::default().check(&facts, &ask).unwrap_err();
    assert_eq!(refusal.code, "public_holiday");
    assert!(refusal.reason.contains("2026-10-01"), "{}", refusal.reason);
    // A slot from the day before into the holiday touches it too.
    let across = Proposal {
        slot: slot(UnixTime(holiday - 86_400), UnixTime(holiday + 3600)),
        ..ask
    };
    let long = BookingRules {
        max_duration_minutes: 44_640,
        granularity_minutes: 60,
        ..BookingRules::default()
    };
    assert_eq!(
        long.check(&facts, &across).unwrap_err().code,
        "public_holiday"
    );
    let opened = BookingRules {
        open_on_holidays: true,
        ..BookingRules::default()
    };
    assert!(opened.check(&facts, &ask).is_ok());
    // The make-up Saturday 10 October is an ordinary day.
    let make_up = holiday + 9 * 86_400;
    let saturday = Proposal {
        slot: slot(UnixTime(make_up), UnixTime(make_up + 3600)),
        ..ask
    };
    assert!(BookingRules::default().check(&facts, &saturday).is_ok());
}
