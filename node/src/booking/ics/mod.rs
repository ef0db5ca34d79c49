//! iCalendar (RFC 5545) feeds of bookings: a private feed per user and one per
//! instrument, which people subscribe to from their own calendar applications.
//!
//! Only writing is done here, and only what a subscription feed needs: one `VEVENT`
//! per booking, published (`METHOD:PUBLISH`), with no recurrence and no `VTIMEZONE`.
//! Everything is a pure function of its input; fetching bookings and serving the feed
//! over HTTP belong to the callers.

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};

/// Names the producer, as §3.7.3 requires; clients show it when debugging imports.
pub const PRODID: &str = "-//Instrument Sharing Alliance//Booking Feed//ZH";

/// The zone clients should display the feed in. Times in the feed are UTC, so this is
/// a display hint only (the de-facto `X-WR-TIMEZONE` extension), not a `VTIMEZONE`.
pub const DISPLAY_TIMEZONE: &str = "Asia/Shanghai";

/// Longest physical line, in octets and without the CRLF (§3.1).
const MAX_LINE_OCTETS: usize = 75;

/// Where a booking stands, as the event's `STATUS` (§3.8.1.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedStatus {
    /// Requested, not yet accepted by the owning institution.
    Tentative,
    /// Accepted by the owning institution.
    Confirmed,
    /// Withdrawn or refused. Kept in the feed (with a higher `SEQUENCE`) so clients
    /// that already hold the event remove or strike it instead of keeping a stale copy.
    Cancelled,
}

impl FeedStatus {
    /// The RFC 5545 status word.
    fn as_ical(self) -> &'static str {
        match self {
            FeedStatus::Tentative => "TENTATIVE",
            FeedStatus::Confirmed => "CONFIRMED",
            FeedStatus::Cancelled => "CANCELLED",
        }
    }
}

/// One booking as it appears in a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// Stable for the booking's whole life, e.g. `"<booking id>@<institution id>.alliance"`:
    /// clients match updates to the event they already hold by it.
    pub uid: String,
    /// Bumped by the caller on every change, so clients take the newer version.
    pub sequence: u32,
    /// The booking's state.
    pub status: FeedStatus,
    /// Start of the booked slot.
    pub start: DateTime<Utc>,
    /// End of the booked slot (exclusive). The caller ensures it is after `start`.
    pub end: DateTime<Utc>,
    /// When the booking last changed (`DTSTAMP`).
    pub stamp: DateTime<Utc>,
    /// Short title, e.g. the instrument's name.
    pub summary: String,
    /// Free text; any characters, including newlines and Chinese.
    pub description: String,
    /// Where the instrument is.
    pub location: String,
    /// Link back to the booking's page, if there is one.
    pub url: Option<String>,
}

/// The whole feed named `name` holding `events`, as an RFC 5545 `VCALENDAR` with CRLF
/// line ends and lines folded at 75 octets. No events still gives a valid calendar.
pub fn calendar(name: &str, events: &[FeedEvent]) -> String {
    let mut out = String::with_capacity(256 + events.len() * 512);
    push_line(&mut out, "BEGIN:VCALENDAR");
    push_line(&mut out, "VERSION:2.0");
    push_line(&mut out, &format!("PRODID:{PRODID}"));
    push_line(&mut out, "CALSCALE:GREGORIAN");
    push_line(&mut out, "METHOD:PUBLISH");
    push_line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)));
    push_line(&mut out, &format!("X-WR-TIMEZONE:{DISPLAY_TIMEZONE}"));
    for event in events {
        push_event(&mut out, event);
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

/// Appends one `VEVENT`.
fn push_event(out: &mut String, event: &FeedEvent) {
    push_line(out, "BEGIN:VEVENT");
    push_line(out, &format!("UID:{}", escape_text(&event.uid)));
    push_line(out, &format!("DTSTAMP:{}", utc_date_time(event.stamp)));
    push_line(out, &format!("DTSTART:{}", utc_date_time(event.start)));
    push_line(out, &format!("DTEND:{}", utc_date_time(event.end)));
    push_line(out, &format!("SEQUENCE:{}", event.sequence));
    push_line(out, &format!("STATUS:{}", event.status.as_ical()));
    push_line(out, &format!("SUMMARY:{}", escape_text(&event.summary)));
    push_line(
        out,
        &format!("DESCRIPTION:{}", escape_text(&event.description)),
    );
    push_line(out, &format!("LOCATION:{}", escape_text(&event.location)));
    if let Some(url) = &event.url {
        // A URI value takes no TEXT escaping (§3.3.13), but a control character
        // (above all CR or LF) would still break the line, so those go.
        let url: String = url.chars().filter(|c| !c.is_control()).collect();
        push_line(out, &format!("URL:{url}"));
    }
    push_line(out, "END:VEVENT");
}

/// A DATE-TIME in UTC form (§3.3.5 form #2, `19970714T173000Z`). UTC is unambiguous
/// in every client and needs no `VTIMEZONE` component, unlike local time with `TZID`.
fn utc_date_time(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (§3.3.11): `\` `;` `,` get a backslash, a line break (LF or
/// CRLF) becomes `\n`, and other control characters are dropped since TEXT cannot hold
/// them. Horizontal tab stays: TEXT allows it (`TSAFE-CHAR` includes `WSP`).
fn escape_text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + value.len() / 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                escaped.push_str("\\n");
            }
            '\t' => escaped.push('\t'),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Appends one content line, folded (§3.1): a physical line holds at most
/// [`MAX_LINE_OCTETS`] octets, a continuation starts with one space, and a fold never
/// falls inside a UTF-8 character (Chinese takes three octets each). Ends with CRLF.
fn push_line(out: &mut String, line: &str) {
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
}
