//! The booking half of [`MemoryBackend`]: bookings in a list with real rules — overlaps
//! on the same instrument are conflicts with the nearest free slots, outside users are held
//! for approval, cancellations and managers' decisions change the status, and every change
//! is a notification. Quotes follow the record's fees. The owner's node, signing and the
//! store are tested in the node.

use alliance_protocol::booking::ManagerDecision;
use alliance_protocol::booking::{BookingAsk, BookingRules, BookingState, Training};
use alliance_protocol::{FeeComponents, FeeUnit, HourState, InstrumentRecord, UserTier};
use alliance_web::backend::{
    Account, ActionFailure, AvailabilityDay, BookingBackend, BookingOutcome, ManagedBooking,
    MyBooking, NotificationView, QuoteLineView, QuoteView,
};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Asia::Shanghai;

use super::MemoryBackend;

/// The home institution of every account of the memory backend.
pub(crate) const HOME: &str = "dlut";
/// The first day of the availability week the instrument pages show (a Monday).
pub(crate) const WEEK_START: &str = "2030-12-02";
/// How long an outside user's booking is held for approval.
const HOLD_SECONDS: i64 = 48 * 3600;
/// Alternatives offered after a conflict.
const ALTERNATIVES: usize = 3;

/// A calendar of two weeks from last Monday (Shanghai), every hour free but on the
/// holiday, with the owner's window — to test what the page makes of time passing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LiveCalendar {
    pub window: alliance_protocol::BookingWindow,
    /// The day (0 = last Monday) kept closed for a holiday.
    pub holiday: usize,
}

/// Last Monday in Shanghai: the first day of a [`LiveCalendar`].
pub(crate) fn last_monday() -> NaiveDate {
    use chrono::Datelike;
    let today = chrono::Utc::now().with_timezone(&Shanghai).date_naive();
    today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()) + 7)
}

/// A booking as the memory backend keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub username: String,
    pub user_name: String,
    pub tier: UserTier,
    pub purpose: String,
    pub booking: MyBooking,
    pub history: Vec<(i64, String, BookingState, String)>,
}

fn active(status: BookingState) -> bool {
    matches!(
        status,
        BookingState::Requested
            | BookingState::Held
            | BookingState::Confirmed
            | BookingState::InUse
    )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn parse_start(start: &str) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(start, "%Y-%m-%dT%H:%M").ok()?;
    Shanghai
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.timestamp())
}

fn tier_of(account: &Account) -> UserTier {
    account.price_tier().unwrap_or(UserTier::Enterprise)
}

fn name_of(account: &Account) -> String {
    if account.display_name.is_empty() {
        account.username.clone()
    } else {
        account.display_name.clone()
    }
}

/// Prices the record's fees for `tier`: hours by the minute, samples, one session.
fn quote(record: &InstrumentRecord, tier: UserTier, minutes: u32, samples: u32) -> QuoteView {
    let mut total = FeeComponents::default();
    let lines = record
        .fees
        .iter()
        .map(|fee| {
            let price = fee.price(tier);
            // Hours are priced by the minute.
            let (unit, quantity, per) = match fee.unit {
                FeeUnit::Hour => ("hour", minutes, 60),
                FeeUnit::Sample => ("sample", samples, 1),
                _ => ("session", 1, 1),
            };
            let scale = |fen: i64| fen * i64::from(quantity) / per;
            let amount = FeeComponents {
                materials_fen: scale(price.materials_fen),
                operating_fen: scale(price.operating_fen),
                labour_fen: scale(price.labour_fen),
            };
            total.materials_fen += amount.materials_fen;
            total.operating_fen += amount.operating_fen;
            total.labour_fen += amount.labour_fen;
            QuoteLineView {
                item_zh: fee.item_zh.clone(),
                item_en: fee.item_en.clone(),
                unit: unit.to_owned(),
                quantity,
                amount,
            }
        })
        .collect();
    QuoteView { tier, lines, total }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

fn ics_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

fn calendar(name: &str, bookings: &[&Stored]) -> String {
    let mut out = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//alliance//memory//EN\r\nX-WR-CALNAME:{}\r\n",
        escape(name)
    );
    for s in bookings {
        let b = &s.booking;
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{}@{HOME}\r\nDTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:{}\r\nEND:VEVENT\r\n",
            b.booking_id,
            ics_time(b.start),
            ics_time(b.start),
            ics_time(b.end),
            escape(&b.instrument_name_zh),
        ));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn managed(s: &Stored) -> ManagedBooking {
    let b = &s.booking;
    ManagedBooking {
        home: HOME.to_owned(),
        home_name_zh: "大连理工大学".to_owned(),
        home_name_en: "Dalian University of Technology".to_owned(),
        booking_id: b.booking_id.clone(),
        local_id: b
            .instrument_id
            .split_once('/')
            .map_or(b.instrument_id.clone(), |(_, l)| l.to_owned()),
        instrument_name_zh: b.instrument_name_zh.clone(),
        instrument_name_en: b.instrument_name_en.clone(),
        user_id: s.username.clone(),
        user_name: s.user_name.clone(),
        tier: s.tier,
        start: b.start,
        end: b.end,
        mode: b.mode,
        samples: b.samples,
        purpose: s.purpose.clone(),
        status: b.status,
        hold_until: b.hold_until,
        history: s.history.clone(),
    }
}

impl MemoryBackend {
    /// Every booking kept, in the order made.
    pub(crate) fn bookings(&self) -> Vec<Stored> {
        self.lock().bookings.clone()
    }

    /// Makes every booking fail as if the owner's node were offline.
    pub(crate) fn owner_offline(&self) {
        self.lock().owner_offline = true;
    }

    /// Shows instrument pages a [`LiveCalendar`] instead of the fixed week.
    pub(crate) fn live_calendar(&self, calendar: LiveCalendar) {
        self.lock().live_calendar = Some(calendar);
    }

    /// The owner's window the instrument pages show (only with a live calendar).
    pub(crate) fn window(&self) -> Option<alliance_protocol::BookingWindow> {
        self.lock().live_calendar.map(|c| c.window)
    }

    /// The days of hours an instrument page shows: the live calendar if set, else the
    /// fixed week — 08:00–18:00 free on weekdays, closed otherwise — booked where an
    /// active booking lies.
    pub(crate) fn availability(&self, instrument_id: &str) -> Vec<AvailabilityDay> {
        let live = self.lock().live_calendar;
        let Ok(fixed) = NaiveDate::parse_from_str(WEEK_START, "%Y-%m-%d") else {
            return Vec::new();
        };
        let first = if live.is_some() { last_monday() } else { fixed };
        let days = if live.is_some() { 14 } else { 7 };
        let bookings = self.bookings();
        first
            .iter_days()
            .take(days)
            .enumerate()
            .map(|(i, day)| {
                let holiday = live.is_some_and(|c| c.holiday == i);
                let date = day.format("%Y-%m-%d").to_string();
                let hours = (0..24)
                    .map(|h| {
                        let start = parse_start(&format!("{date}T{h:02}:00")).unwrap_or(0);
                        let booked = bookings.iter().any(|s| {
                            s.booking.instrument_id == instrument_id
                                && active(s.booking.status)
                                && s.booking.start < start + 3600
                                && start < s.booking.end
                        });
                        if booked {
                            HourState::Booked
                        } else if live.is_some() {
                            if holiday {
                                HourState::Closed
                            } else {
                                HourState::Free
                            }
                        } else if i < 5 && (8..18).contains(&h) {
                            HourState::Free
                        } else {
                            HourState::Closed
                        }
                    })
                    .collect();
                AvailabilityDay {
                    date,
                    hours,
                    holiday,
                }
            })
            .collect()
    }

    fn notify(&self, username: &str, b: &MyBooking) {
        let notification = NotificationView {
            at: now(),
            booking_id: b.booking_id.clone(),
            instrument_id: b.instrument_id.clone(),
            status: b.status,
            note: b.note.clone(),
        };
        self.lock()
            .notifications
            .push((username.to_owned(), notification));
    }

    /// Whether `[start, end)` on the instrument is free of active bookings.
    fn is_free(&self, instrument_id: &str, start: i64, end: i64) -> bool {
        !self.lock().bookings.iter().any(|s| {
            s.booking.instrument_id == instrument_id
                && active(s.booking.status)
                && s.booking.start < end
                && start < s.booking.end
        })
    }

    /// The free slots of the same length nearest to `start`, in half-hour steps.
    fn nearest_free(&self, instrument_id: &str, start: i64, length: i64) -> Vec<(i64, i64)> {
        let mut found = Vec::new();
        for step in 1..=96 {
            for sign in [1, -1] {
                let s = start + sign * step * 1800;
                if self.is_free(instrument_id, s, s + length) && found.len() < ALTERNATIVES {
                    found.push((s, s + length));
                }
            }
        }
        found
    }
}

impl BookingBackend for MemoryBackend {
    async fn book(
        &self,
        account: &Account,
        ask: BookingAsk,
        booking_id: String,
    ) -> Result<BookingOutcome, ActionFailure> {
        if self.lock().owner_offline {
            return Err(ActionFailure::Unreachable);
        }
        let existing = self
            .lock()
            .bookings
            .iter()
            .find(|s| s.username == account.username && s.booking.booking_id == booking_id)
            .cloned();
        let record = self
            .records()
            .into_iter()
            .find(|r| r.id() == ask.instrument_id)
            .ok_or(ActionFailure::NotFound)?;
        let tier = tier_of(account);
        let length = ask.end.0 - ask.start.0;
        let minutes = u32::try_from(length / 60).unwrap_or(u32::MAX);
        let quote = quote(&record, tier, minutes, ask.samples);
        if let Some(s) = existing {
            // The same id always gets the same answer.
            return Ok(BookingOutcome {
                booking: s.booking,
                quote: Some(quote),
                alternatives: Vec::new(),
                code: None,
            });
        }
        let start = ask.start.0;
        let mut booking = MyBooking {
            booking_id,
            instrument_id: record.id(),
            instrument_name_zh: record.name_zh.clone(),
            instrument_name_en: record.name_en.clone(),
            institution_name_zh: "大连理工大学".into(),
            institution_name_en: "Dalian University of Technology".into(),
            start,
            end: start + length,
            mode: ask.mode,
            samples: ask.samples,
            status: BookingState::Rejected,
            hold_until: None,
            quote_fen: quote.total.total_fen(),
            note: String::new(),
        };
        if ask.mode == alliance_protocol::ServiceMode::SelfOperated
            && !self.is_trained(account, &booking.instrument_id).await
        {
            booking.note = "自主上机须先参加该仪器的培训并取得上机资格".into();
            return Ok(BookingOutcome {
                booking,
                quote: Some(quote),
                alternatives: Vec::new(),
                code: Some("training_required".into()),
            });
        }
        if !self.is_free(&booking.instrument_id, start, start + length) {
            booking.note = "该时段已被预约".into();
            return Ok(BookingOutcome {
                alternatives: self.nearest_free(&booking.instrument_id, start, length),
                booking,
                quote: Some(quote),
                code: Some("conflict".into()),
            });
        }
        if tier == UserTier::OwnInstitution {
            booking.status = BookingState::Confirmed;
        } else {
            booking.status = BookingState::Held;
            booking.hold_until = Some(now() + HOLD_SECONDS);
        }
        let stored = Stored {
            username: account.username.clone(),
            user_name: name_of(account),
            tier,
            purpose: ask.purpose.clone(),
            booking: booking.clone(),
            history: vec![(now(), name_of(account), booking.status, String::new())],
        };
        self.lock().bookings.push(stored);
        self.notify(&account.username, &booking);
        Ok(BookingOutcome {
            booking,
            quote: Some(quote),
            alternatives: Vec::new(),
            code: None,
        })
    }

    async fn my_bookings(&self, account: &Account) -> Vec<MyBooking> {
        let mut list: Vec<MyBooking> = self
            .bookings()
            .into_iter()
            .filter(|s| s.username == account.username)
            .map(|s| s.booking)
            .collect();
        list.sort_by_key(|b| std::cmp::Reverse(b.start));
        list
    }

    async fn cancel_booking(
        &self,
        account: &Account,
        booking_id: &str,
        reason: &str,
    ) -> Result<MyBooking, ActionFailure> {
        let booking = {
            let mut inner = self.lock();
            let stored = inner
                .bookings
                .iter_mut()
                .find(|s| s.username == account.username && s.booking.booking_id == booking_id)
                .ok_or(ActionFailure::NotFound)?;
            let b = &mut stored.booking;
            if !matches!(
                b.status,
                BookingState::Requested | BookingState::Held | BookingState::Confirmed
            ) || b.start <= now()
            {
                return Err(ActionFailure::Refused {
                    code: "too_late".into(),
                    message: "the booking can no longer be cancelled".into(),
                });
            }
            b.status = BookingState::Cancelled;
            b.hold_until = None;
            b.note = reason.to_owned();
            stored
                .history
                .push((now(), name_of(account), b.status, reason.to_owned()));
            b.clone()
        };
        self.notify(&account.username, &booking);
        Ok(booking)
    }

    async fn notifications(&self, account: &Account) -> Vec<NotificationView> {
        self.lock()
            .notifications
            .iter()
            .rev()
            .filter(|(user, _)| *user == account.username)
            .map(|(_, n)| n.clone())
            .collect()
    }

    async fn managed_bookings(&self) -> Vec<ManagedBooking> {
        let mut list: Vec<ManagedBooking> = self.bookings().iter().map(managed).collect();
        list.sort_by_key(|b| (b.status != BookingState::Held, b.start));
        list
    }

    async fn decide_booking(
        &self,
        account: &Account,
        home: &str,
        booking_id: &str,
        decision: ManagerDecision,
        note: &str,
    ) -> Result<ManagedBooking, ActionFailure> {
        use BookingState::*;
        let (username, decided) = {
            let mut inner = self.lock();
            let stored = inner
                .bookings
                .iter_mut()
                .find(|s| home == HOME && s.booking.booking_id == booking_id)
                .ok_or(ActionFailure::NotFound)?;
            let b = &mut stored.booking;
            let next = match (decision, b.status) {
                (ManagerDecision::Approve, Requested | Held) => Confirmed,
                (ManagerDecision::Reject, Requested | Held) => Rejected,
                (ManagerDecision::Start, Confirmed) => InUse,
                (ManagerDecision::NoShow, Confirmed) => NoShow,
                (ManagerDecision::Complete, Confirmed | InUse) => Completed,
                (ManagerDecision::CancelByOwner, Confirmed) => Cancelled,
                _ => {
                    return Err(ActionFailure::Refused {
                        code: "wrong_state".into(),
                        message: "not possible in the booking's current state".into(),
                    });
                }
            };
            b.status = next;
            b.hold_until = None;
            if !note.is_empty() {
                b.note = note.to_owned();
            }
            stored
                .history
                .push((now(), name_of(account), next, note.to_owned()));
            (stored.username.clone(), stored.clone())
        };
        self.notify(&username, &decided.booking);
        Ok(managed(&decided))
    }

    async fn feed_token(&self, account: &Account) -> String {
        let mut inner = self.lock();
        let next = inner.feed_tokens.len() + 1;
        inner
            .feed_tokens
            .entry(account.username.clone())
            .or_insert_with(|| format!("{next:032x}"))
            .clone()
    }

    async fn user_feed(&self, token: &str) -> Option<String> {
        let username = self
            .lock()
            .feed_tokens
            .iter()
            .find(|(_, t)| t.as_str() == token)
            .map(|(u, _)| u.clone())?;
        let bookings = self.bookings();
        let mine: Vec<&Stored> = bookings.iter().filter(|s| s.username == username).collect();
        Some(calendar(&username, &mine))
    }

    async fn instrument_feed(&self, local_id: &str) -> Option<String> {
        let record = self.lock().records.get(local_id).cloned()?;
        let bookings = self.bookings();
        let busy: Vec<&Stored> = bookings
            .iter()
            .filter(|s| s.booking.instrument_id == record.id() && active(s.booking.status))
            .collect();
        Some(calendar(&record.name_zh, &busy))
    }

    async fn booking_rules(&self, local_id: &str) -> Option<BookingRules> {
        let inner = self.lock();
        inner.records.get(local_id)?;
        Some(inner.rules.get(local_id).cloned().unwrap_or_default())
    }

    async fn set_booking_rules(
        &self,
        local_id: &str,
        rules: BookingRules,
    ) -> Result<BookingRules, ActionFailure> {
        let mut inner = self.lock();
        if !inner.records.contains_key(local_id) {
            return Err(ActionFailure::NotFound);
        }
        if rules.granularity_minutes == 0 {
            return Err(ActionFailure::Invalid {
                field: "granularity_minutes".into(),
                message: "1 to 1440 minutes".into(),
            });
        }
        inner.rules.insert(local_id.to_owned(), rules.clone());
        Ok(rules)
    }

    async fn trainings(&self) -> Vec<Training> {
        self.lock().trainings.clone()
    }

    async fn is_trained(&self, account: &Account, instrument_id: &str) -> bool {
        let now = alliance_protocol::UnixTime::now();
        self.lock().trainings.iter().any(|t| {
            t.user_id == account.username
                && t.home.as_str() == HOME
                && instrument_id == format!("{HOME}/{}", t.local_id)
                && t.trained_at <= now
                && now <= t.valid_until
        })
    }

    async fn record_training(
        &self,
        account: &Account,
        mut training: Training,
    ) -> Result<Training, ActionFailure> {
        if training.valid_until <= training.trained_at {
            return Err(ActionFailure::Invalid {
                field: "valid_until".into(),
                message: "must be after the training".into(),
            });
        }
        training.recorded_by = account.username.clone();
        self.lock().trainings.push(training.clone());
        Ok(training)
    }
}
