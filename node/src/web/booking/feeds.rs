//! Calendar feeds: a private token per user for their bookings, and a public feed per
//! instrument of this institution (who booked stays private), both iCalendar.

use alliance_protocol::InstitutionId;
use alliance_web::backend::Account;

use crate::{
    booking::{
        ics::{self, FeedEvent, FeedStatus},
        state::BookingState,
    },
    store::{Batch, Space},
    web::WebBackend,
};

/// How far back a user's calendar feed reaches, in days.
const FEED_DAYS_BACK: i64 = 183;
/// Most bookings one user's feed holds.
const FEED_MAX: usize = 1_000;

impl WebBackend {
    pub(super) async fn feed_token_of(&self, account: &Account) -> String {
        let store = self.bookings.store();
        let user_key = format!("user:{}", account.username).into_bytes();
        if let Ok(Some(token)) = store.get(Space::FeedTokens, &user_key) {
            return String::from_utf8_lossy(&token).into_owned();
        }
        let mut bytes = [0u8; 24];
        rand::fill(&mut bytes);
        let token = hex::encode(bytes);
        let mut batch = Batch::new();
        batch.put(Space::FeedTokens, user_key, token.clone().into_bytes());
        batch.put(
            Space::FeedTokens,
            format!("token:{token}").into_bytes(),
            account.username.clone().into_bytes(),
        );
        if let Err(e) = store.commit(batch).await {
            tracing::error!(error = %e, "cannot store a feed token");
        }
        token
    }

    /// A user's feed: their bookings starting this many days back on, at most
    /// [`FEED_MAX`] of them (latest start first).
    pub(super) async fn user_feed_of(&self, token: &str) -> Option<String> {
        let store = self.bookings.store();
        let username = store
            .get(Space::FeedTokens, format!("token:{token}").as_bytes())
            .ok()
            .flatten()
            .map(|u| String::from_utf8_lossy(&u).into_owned())?;
        let own = &self.certificate.institution_id;
        // The user's bookings starting from half a year back: what a calendar shows.
        let since = alliance_protocol::UnixTime::now().0 - FEED_DAYS_BACK * 86_400;
        let events: Vec<FeedEvent> = self
            .bookings
            .home()
            .page_of(
                &username,
                (Some(alliance_protocol::UnixTime(since)), None),
                0,
                FEED_MAX,
            )
            .ok()?
            .iter()
            .map(|b| {
                let (name_zh, _, inst_zh, _) = self.names_of(&b.instrument_id(), &b.owner);
                self.feed_event(
                    own,
                    &b.booking_id,
                    FeedParts {
                        state: b.state,
                        version: b.version,
                        start: b.start.0,
                        end: b.end.0,
                        stamp: b.updated_at.0,
                        summary: name_zh,
                        description: format!("{}\n{}", b.purpose, b.note),
                        location: inst_zh,
                    },
                )
            })
            .collect();
        Some(ics::calendar("我的仪器预约", &events))
    }

    pub(super) async fn instrument_feed_of(&self, local_id: &str) -> Option<String> {
        let id = format!("{}/{local_id}", self.certificate.institution_id);
        let view = self.catalogue.instrument(&id)?;
        let events: Vec<FeedEvent> = self
            .bookings
            .ledger()
            .taken(local_id)
            .await
            .ok()?
            .iter()
            .map(|b| {
                // Who booked stays private: the feed is public like the calendar.
                self.feed_event(
                    &b.home,
                    &b.booking_id,
                    FeedParts {
                        state: b.state,
                        version: b.version,
                        start: b.start.0,
                        end: b.end.0,
                        stamp: b.history.last().map_or(b.start.0, |e| e.at.0),
                        summary: format!("已预约 · {}", view.record.name_zh),
                        description: String::new(),
                        location: view.record.location.building.clone(),
                    },
                )
            })
            .collect();
        Some(ics::calendar(&view.record.name_zh, &events))
    }

    fn feed_event(&self, uid_home: &InstitutionId, booking_id: &str, b: FeedParts) -> FeedEvent {
        let to_utc = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        FeedEvent {
            uid: format!("{booking_id}.{uid_home}@alliance"),
            sequence: u32::try_from(b.version).unwrap_or(u32::MAX),
            status: match b.state {
                BookingState::Requested | BookingState::Held => FeedStatus::Tentative,
                BookingState::Confirmed | BookingState::InUse | BookingState::Completed => {
                    FeedStatus::Confirmed
                }
                BookingState::Rejected | BookingState::Cancelled | BookingState::NoShow => {
                    FeedStatus::Cancelled
                }
            },
            start: to_utc(b.start),
            end: to_utc(b.end),
            stamp: to_utc(b.stamp),
            summary: b.summary,
            description: b.description,
            location: b.location,
            url: None,
        }
    }
}

/// What a feed event is made of.
struct FeedParts {
    state: BookingState,
    version: u64,
    start: i64,
    end: i64,
    stamp: i64,
    summary: String,
    description: String,
    location: String,
}
