//! Fair shares of the owner's attention between member institutions: each home may have
//! a few requests in the owner's hands at once and so many a minute. A home past either
//! is answered `busy` at once — its node keeps the request and sends it again later — so
//! a flooding home waits on itself, never in front of another home's requests at an
//! instrument's calendar lock, and the owner's inbound capacity is never filled by one
//! member.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alliance_protocol::InstitutionId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::net::Refusal;

const MINUTE: Duration = Duration::from_secs(60);

/// One home's share.
struct Share {
    gate: Arc<Semaphore>,
    /// When its requests of the last minute arrived (at most the per-minute limit).
    recent: VecDeque<Instant>,
}

/// The shares of every home that sent requests. Cheap to clone.
#[derive(Clone)]
pub(crate) struct FairShare {
    shares: Arc<Mutex<HashMap<InstitutionId, Share>>>,
    concurrent: usize,
    per_minute: u32,
}

impl std::fmt::Debug for FairShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FairShare")
            .field("concurrent", &self.concurrent)
            .field("per_minute", &self.per_minute)
            .finish_non_exhaustive()
    }
}

impl FairShare {
    pub(crate) fn new(concurrent: usize, per_minute: u32) -> Self {
        FairShare {
            shares: Arc::default(),
            concurrent: concurrent.max(1),
            per_minute: per_minute.max(1),
        }
    }

    /// A turn for a request of `home`, held while it is answered; `busy` if the home
    /// has its share in hand or sent its minute's worth.
    pub(crate) fn enter(
        &self,
        home: &InstitutionId,
        now: Instant,
    ) -> Result<OwnedSemaphorePermit, Refusal> {
        // Only members send requests, so the map holds one share per member at most.
        let mut shares = self
            .shares
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let share = shares.entry(home.clone()).or_insert_with(|| Share {
            gate: Arc::new(Semaphore::new(self.concurrent)),
            recent: VecDeque::new(),
        });
        while share
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= MINUTE)
        {
            share.recent.pop_front();
        }
        if share.recent.len() >= self.per_minute as usize {
            return Err(Refusal::Busy(format!(
                "{home} sent {} booking requests in the last minute; send again later",
                self.per_minute
            )));
        }
        let permit = share.gate.clone().try_acquire_owned().map_err(|_| {
            Refusal::Busy(format!(
                "{home} has {} booking requests being answered; send again later",
                self.concurrent
            ))
        })?;
        share.recent.push_back(now);
        Ok(permit)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn id(s: &str) -> InstitutionId {
        s.parse().unwrap()
    }

    #[test]
    fn a_flooding_home_is_turned_away_while_another_gets_its_turn() {
        let fair = FairShare::new(2, 5);
        let now = Instant::now();
        let a1 = fair.enter(&id("neu"), now).unwrap();
        let _a2 = fair.enter(&id("neu"), now).unwrap();
        // neu has its two in hand: its third is busy, imr's first is not.
        assert_eq!(fair.enter(&id("neu"), now).unwrap_err().code(), "busy");
        let _b1 = fair.enter(&id("imr"), now).unwrap();
        // One answered: neu has a turn again.
        drop(a1);
        let _a3 = fair.enter(&id("neu"), now).unwrap();
    }

    #[test]
    fn a_home_gets_so_many_requests_a_minute() {
        let fair = FairShare::new(100, 3);
        let start = Instant::now();
        for _ in 0..3 {
            drop(fair.enter(&id("neu"), start).unwrap());
        }
        let refused = fair.enter(&id("neu"), start).unwrap_err();
        assert!(refused.reason().contains("last minute"), "{refused}");
        assert!(refused.is_transient(), "the home sends it again later");
        assert!(fair.enter(&id("imr"), start).is_ok());
        // A minute later the window has moved on.
        assert!(fair.enter(&id("neu"), start + MINUTE).is_ok());
    }
}
