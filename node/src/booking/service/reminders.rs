//! Reminders, found by a periodic scan and told once each: to the owner's managers, a
//! held request that lapses within [`HOLD_WARNING`] unless decided; to a user at their
//! home, a confirmed booking that starts within [`AHEAD`].

use std::time::Duration;

use alliance_protocol::UnixTime;
use tokio_util::sync::CancellationToken;

use super::{Bookings, READ_PER_ROUND};
use crate::{
    booking::state::BookingState,
    notify::{Facts, Notice, NoticeKind, Recipients},
    store::{Batch, StoreError},
};

/// How long before a hold lapses its managers are reminded.
pub(super) const HOLD_WARNING: Duration = Duration::from_secs(12 * 3600);
/// How long before a booking starts its user is reminded.
pub(super) const AHEAD: Duration = Duration::from_secs(24 * 3600);
/// Marks of events told of are forgotten after this long (the events are long past).
const MARKS_KEPT: Duration = Duration::from_secs(60 * 24 * 3600);

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl Bookings {
    /// Scans for reminders every `every`, from start, until `cancel`.
    pub async fn remind(self, every: Duration, cancel: CancellationToken) {
        loop {
            match self.remind_now(UnixTime::now()).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "reminders queued"),
                Err(e) => tracing::error!(error = %e, "cannot scan for reminders"),
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Queues the reminders due at `now` not told before; how many.
    pub async fn remind_now(&self, now: UnixTime) -> Result<usize, StoreError> {
        let notices = &self.inner.notices;
        let mut batch = Batch::new();
        let mut queued = 0;
        let warn_until = UnixTime(now.0.saturating_add(secs(HOLD_WARNING)));
        for held in self.inner.ledger.lapsing_holds(warn_until)? {
            // Already lapsing (the hold task is about to lapse it): nothing to warn of.
            if held.hold_until.is_some_and(|until| until.0 <= now.0) {
                continue;
            }
            let instrument_id = format!("{}/{}", self.inner.own.institution_id, held.local_id);
            let (name_zh, name_en) = self.inner.catalogue.names_of(&instrument_id);
            let notice = Notice::new(
                format!("hold/{}/{}/v{}", held.home, held.booking_id, held.version),
                NoticeKind::HoldLapsing,
                Recipients::Managers,
                Facts {
                    instrument_id,
                    instrument_name: name_zh,
                    instrument_name_en: name_en,
                    booking_id: held.booking_id.clone(),
                    start: Some(held.start),
                    end: Some(held.end),
                    deadline: held.hold_until,
                    about_user: format!("{}（{}）", held.user_name, held.home),
                    ..Facts::default()
                },
            );
            queued += usize::from(notices.put_once(&mut batch, &notice)?);
        }
        let soon = now.0.saturating_add(secs(AHEAD));
        let coming = (
            Some(UnixTime(now.0.saturating_add(1))),
            Some(UnixTime(soon)),
        );
        let confirmed =
            self.inner
                .home
                .in_state(BookingState::Confirmed, coming, READ_PER_ROUND)?;
        for booking in confirmed {
            if booking.state != BookingState::Confirmed
                || booking.start.0 <= now.0
                || booking.start.0 > soon
            {
                continue;
            }
            let instrument_id = booking.instrument_id();
            let (name_zh, name_en) = self.inner.catalogue.names_of(&instrument_id);
            let notice = Notice::new(
                // A booking moved to another time is reminded of again.
                format!(
                    "tomorrow/{}/{}/{}",
                    booking.owner, booking.booking_id, booking.start.0
                ),
                NoticeKind::BookingTomorrow,
                Recipients::User(booking.user_id.clone()),
                Facts {
                    instrument_id,
                    instrument_name: name_zh,
                    instrument_name_en: name_en,
                    booking_id: booking.booking_id.clone(),
                    start: Some(booking.start),
                    end: Some(booking.end),
                    ..Facts::default()
                },
            );
            queued += usize::from(notices.put_once(&mut batch, &notice)?);
        }
        notices.commit(batch).await?;
        notices
            .forget_marks_before(UnixTime(now.0.saturating_sub(secs(MARKS_KEPT))))
            .await?;
        Ok(queued)
    }
}
