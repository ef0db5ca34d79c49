//! The free slots a conflict answer offers instead: of the asked length, on the rules'
//! grid, nearest the asked start (earlier first on a tie), at most [`ALTERNATIVES`].
//!
//! Each direction walks the grid away from the asked start and, where a candidate meets a
//! slot already taken, jumps past that slot rather than trying every step inside it, so
//! a busy calendar costs a few lookups, not one per step of the search window.

use alliance_protocol::{UnixTime, booking::Slot};

use super::{Calendar, RequestContext};
use crate::booking::rules::{Proposal, RulesCheck};

/// Alternatives a conflict answer offers.
const ALTERNATIVES: usize = 3;
/// How far from the asked start alternatives are looked for.
const SEARCH_SECONDS: i64 = 14 * 86_400;

/// Free slots of the asked length nearest the asked start that the rules allow, nearest
/// first, at most [`ALTERNATIVES`].
pub(super) fn nearest_free(
    context: &RequestContext<'_>,
    calendar: &Calendar,
    asked: &Proposal,
) -> Vec<Slot> {
    let walk = |direction| Walk {
        context,
        calendar,
        asked,
        step: i64::from(context.rules.granularity_minutes.max(1)) * 60,
        direction,
        offset: 0,
    };
    let mut earlier = walk(Direction::Earlier).peekable();
    let mut later = walk(Direction::Later).peekable();
    let distance = |slot: &Slot| (slot.start.0 - asked.slot.start.0).abs();
    let mut found = Vec::with_capacity(ALTERNATIVES);
    while found.len() < ALTERNATIVES {
        let next = match (earlier.peek(), later.peek()) {
            (Some(e), Some(l)) if distance(l) < distance(e) => later.next(),
            (Some(_), _) => earlier.next(),
            (None, _) => later.next(),
        };
        match next {
            Some(slot) => found.push(slot),
            None => break,
        }
    }
    found
}

#[derive(Debug, Clone, Copy)]
enum Direction {
    Earlier,
    Later,
}

/// The free slots on one side of the asked start, nearest first.
struct Walk<'a, 'c> {
    context: &'a RequestContext<'c>,
    calendar: &'a Calendar,
    asked: &'a Proposal,
    step: i64,
    direction: Direction,
    /// Distance of the last candidate from the asked start, in seconds.
    offset: i64,
}

impl Walk<'_, '_> {
    /// The smallest whole number of steps that is at least `distance`.
    fn steps_up(&self, distance: i64) -> i64 {
        distance.div_euclid(self.step) * self.step
            + if distance.rem_euclid(self.step) == 0 {
                0
            } else {
                self.step
            }
    }
}

impl Iterator for Walk<'_, '_> {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        let asked = self.asked.slot.start.0;
        let length = self.asked.slot.end.0 - asked;
        // Earlier than this, every candidate is too soon.
        let earliest = self.context.rules.earliest_start(self.asked.now).0;
        let mut offset = self.offset + self.step;
        while offset <= SEARCH_SECONDS {
            let start = match self.direction {
                Direction::Earlier if asked - offset < earliest => break,
                Direction::Earlier => asked - offset,
                Direction::Later => asked + offset,
            };
            let slot = Slot {
                start: UnixTime(start),
                end: UnixTime(start + length),
            };
            // The last slot taken that starts before the candidate ends: the only one
            // that can reach into it (taken slots never overlap each other).
            let blocking = self
                .calendar
                .taken
                .range(..slot.end.0)
                .next_back()
                .filter(|(_, taken)| taken.end > slot.start.0)
                .map(|(taken_start, taken)| (*taken_start, taken.end));
            if let Some((taken_start, taken_end)) = blocking {
                // Jump to the first candidate that clears it.
                let clear = match self.direction {
                    Direction::Later => self.steps_up(taken_end - asked),
                    Direction::Earlier => self.steps_up(asked - (taken_start - length)),
                };
                offset = clear.max(offset + self.step);
                continue;
            }
            let proposal = Proposal {
                slot,
                ..*self.asked
            };
            if self
                .context
                .rules
                .check(&self.context.facts, &proposal)
                .is_ok()
            {
                self.offset = offset;
                return Some(slot);
            }
            offset += self.step;
        }
        self.offset = offset;
        None
    }
}
