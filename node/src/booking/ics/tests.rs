//! Feeds are read back with the `icalendar` crate's parser, so escaping, folding and
//! the event fields are checked against an independent reader, not against ourselves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeZone as _;
use chrono_tz::Asia::Shanghai;
use icalendar::{
    CalendarComponent, CalendarDateTime, Component as _, DatePerhapsTime, EventLike as _,
    EventStatus,
};

use super::*;

/// A Shanghai wall-clock time as UTC.
fn shanghai(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn event(uid: &str, status: FeedStatus, sequence: u32) -> FeedEvent {
    FeedEvent {
        uid: uid.to_owned(),
        sequence,
        status,
        start: shanghai(2026, 3, 1, 9, 30),
        end: shanghai(2026, 3, 1, 12, 0),
        stamp: shanghai(2026, 2, 20, 16, 5),
        summary: "场发射扫描电镜 SU8220".to_owned(),
        description: "样品需提前 24 小时送达".to_owned(),
        location: "材料楼 B102".to_owned(),
        url: None,
    }
}

/// Parses a feed into the crate's typed calendar; fails the test if it does not parse.
fn parse(feed: &str) -> icalendar::Calendar {
    feed.parse::<icalendar::Calendar>()
        .unwrap_or_else(|e| panic!("feed does not parse: {e}\n{feed}"))
}

fn events(calendar: &icalendar::Calendar) -> Vec<&icalendar::Event> {
    calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn utc_of(value: Option<DatePerhapsTime>) -> DateTime<Utc> {
    match value {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => at,
        other => panic!("expected a UTC date-time, got {other:?}"),
    }
}

/// The physical lines, each without its CRLF; fails if the feed does not end in CRLF.
fn physical_lines(feed: &str) -> Vec<&str> {
    let body = feed.strip_suffix("\r\n").expect("feed ends with CRLF");
    body.split("\r\n").collect()
}

/// Undoes §3.1 folding: a CRLF followed by one space or tab disappears.
fn unfold(feed: &str) -> String {
    feed.replace("\r\n ", "").replace("\r\n\t", "")
}

/// Text with every character TEXT escaping has to deal with.
const AWKWARD: &str = "第一行：样品需提前 24 小时送达。\r\n第二行, a comma; a semicolon \\ a backslash\n\
                       C:\\data\\run;1,2\\n (literal backslash-n)\n\n结束";

#[test]
fn round_trips_every_field_through_a_real_parser() {
    let mut tentative = event("b-001@inst-pku.alliance", FeedStatus::Tentative, 0);
    tentative.description = AWKWARD.to_owned();
    tentative.summary = "透射电镜, 冷冻; 样品台 \\ 2 号".to_owned();
    tentative.location = "北京市海淀区, 化学楼; 101".to_owned();
    tentative.url = Some("https://alliance.example/bookings/b-001?tab=1;x=2".to_owned());
    let mut confirmed = event("b-002@inst-thu.alliance", FeedStatus::Confirmed, 3);
    confirmed.start = shanghai(2026, 12, 31, 23, 0);
    confirmed.end = shanghai(2027, 1, 1, 1, 0);
    let cancelled = event("b-003@inst-zju.alliance", FeedStatus::Cancelled, 7);
    let input = [tentative, confirmed, cancelled];

    let feed = calendar("张三的预约", &input);
    let parsed = parse(&feed);
    let parsed_events = events(&parsed);
    assert_eq!(parsed_events.len(), input.len());

    for (want, got) in input.iter().zip(&parsed_events) {
        assert_eq!(got.get_uid(), Some(want.uid.as_str()));
        assert_eq!(got.get_sequence(), Some(want.sequence));
        let status = match want.status {
            FeedStatus::Tentative => EventStatus::Tentative,
            FeedStatus::Confirmed => EventStatus::Confirmed,
            FeedStatus::Cancelled => EventStatus::Cancelled,
        };
        assert_eq!(got.get_status(), Some(status));
        assert_eq!(utc_of(got.get_start()), want.start);
        assert_eq!(utc_of(got.get_end()), want.end);
        assert_eq!(got.get_timestamp(), Some(want.stamp));
        assert_eq!(got.get_summary(), Some(want.summary.as_str()));
        // The parser turns `\n` back into LF, so CRLF in the input comes back as LF.
        assert_eq!(
            got.get_description(),
            Some(want.description.replace("\r\n", "\n").as_str())
        );
        assert_eq!(got.get_location(), Some(want.location.as_str()));
        assert_eq!(got.get_url(), want.url.as_deref());
    }
}

#[test]
fn calendar_properties_are_present() {
    let feed = calendar(
        "Cryo-EM, 共享平台",
        &[event("b@i.alliance", FeedStatus::Confirmed, 1)],
    );
    let unfolded = icalendar::parser::unfold(&feed);
    let parsed = icalendar::parser::read_calendar(&unfolded).unwrap();
    let prop = |name: &str| {
        let found: Vec<_> = parsed
            .properties
            .iter()
            .filter(|p| p.name.as_str() == name)
            .map(|p| p.val.as_str().to_owned())
            .collect();
        assert_eq!(found.len(), 1, "{name} appears once");
        found.into_iter().next().unwrap()
    };
    assert_eq!(prop("VERSION"), "2.0");
    assert_eq!(prop("PRODID"), PRODID);
    assert_eq!(prop("CALSCALE"), "GREGORIAN");
    assert_eq!(prop("METHOD"), "PUBLISH");
    // The name is TEXT-escaped on the wire and comes back whole.
    assert!(unfold(&feed).contains("\r\nX-WR-CALNAME:Cryo-EM\\, 共享平台\r\n"));
    assert_eq!(prop("X-WR-CALNAME"), "Cryo-EM, 共享平台");
    assert_eq!(prop("X-WR-TIMEZONE"), "Asia/Shanghai");
    assert_eq!(parsed.components.len(), 1);
    assert_eq!(parsed.components[0].name.as_str(), "VEVENT");
}

#[test]
fn times_are_written_in_utc_form() {
    let feed = unfold(&calendar(
        "t",
        &[event("b@i.alliance", FeedStatus::Confirmed, 0)],
    ));
    // 09:30 and 12:00 in Shanghai (UTC+8); the stamp is 16:05 the day before.
    assert!(feed.contains("\r\nDTSTART:20260301T013000Z\r\n"), "{feed}");
    assert!(feed.contains("\r\nDTEND:20260301T040000Z\r\n"), "{feed}");
    assert!(feed.contains("\r\nDTSTAMP:20260220T080500Z\r\n"), "{feed}");
    assert!(!feed.contains("TZID"));
    assert!(!feed.contains("VTIMEZONE"));
}

#[test]
fn text_escaping_follows_rfc_5545() {
    assert_eq!(escape_text("a\\b;c,d\r\ne\nf"), "a\\\\b\\;c\\,d\\ne\\nf");
    assert_eq!(escape_text("中文：冒号不转义"), "中文：冒号不转义");
    assert_eq!(escape_text("key:value"), "key:value");
    assert_eq!(escape_text(""), "");
}

#[test]
fn control_characters_are_dropped_but_tab_kept() {
    assert_eq!(
        escape_text("bell\u{7}nul\u{0}esc\u{1b}del\u{7f}c1\u{85}lone-cr\rend"),
        "bellnulescdelc1lone-crend"
    );
    assert_eq!(escape_text("a\tb"), "a\tb");

    let mut e = event("b@i.alliance", FeedStatus::Confirmed, 0);
    e.description = "仪器\u{0}状态\u{1b}[31m正常\r".to_owned();
    e.url = Some("https://alliance.example/b\r\nX-INJECTED:1".to_owned());
    let feed = calendar("t", &[e]);
    let parsed = parse(&feed);
    let got = events(&parsed);
    assert_eq!(got[0].get_description(), Some("仪器状态[31m正常"));
    assert_eq!(
        got[0].get_url(),
        Some("https://alliance.example/bX-INJECTED:1")
    );
    assert!(!unfold(&feed).contains("\r\nX-INJECTED"));
}

#[test]
fn line_breaks_in_text_cannot_inject_properties_or_components() {
    let mut e = event("b@i.alliance", FeedStatus::Confirmed, 0);
    e.summary = "显微镜\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:forged".to_owned();
    e.description = "x\nSTATUS:CANCELLED".to_owned();
    let parsed = parse(&calendar("t", &[e.clone()]));
    let got = events(&parsed);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].get_uid(), Some("b@i.alliance"));
    assert_eq!(got[0].get_status(), Some(EventStatus::Confirmed));
    assert_eq!(
        got[0].get_summary(),
        Some("显微镜\nEND:VEVENT\nBEGIN:VEVENT\nUID:forged")
    );
    assert_eq!(got[0].get_description(), Some(e.description.as_str()));
}

#[test]
fn long_chinese_text_folds_at_75_octets_on_character_boundaries() {
    let long: String =
        "本仪器为场发射扫描电子显微镜，预约前请完成安全培训；样品须干燥、无磁性。".repeat(12);
    // ASCII prefixes of 0, 1 and 2 bytes move the three-byte characters across every
    // position relative to the fold, so some would straddle octet 75 if split naively.
    for prefix in ["", "a", "ab"] {
        let mut e = event("b@i.alliance", FeedStatus::Confirmed, 0);
        e.description = format!("{prefix}{long}\n第二段 {long}");
        let feed = calendar("t", &[e.clone()]);

        let mut continuations = 0;
        for line in feed.as_bytes().split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(line.len() <= 75, "{} octets: {:?}", line.len(), line);
            let text = std::str::from_utf8(line).expect("each line is valid UTF-8 by itself");
            if let Some(rest) = text.strip_prefix(' ') {
                continuations += 1;
                assert!(!rest.is_empty(), "a continuation carries content");
            }
        }
        assert!(
            continuations > 20,
            "the description was folded ({continuations})"
        );

        let expected = format!("DESCRIPTION:{}", escape_text(&e.description));
        let unfolded = unfold(&feed);
        assert!(
            unfolded.split("\r\n").any(|l| l == expected),
            "unfolding gives back the escaped line"
        );
        assert_eq!(
            events(&parse(&feed))[0].get_description(),
            Some(e.description.as_str())
        );
    }
}

#[test]
fn folding_is_exact_at_the_limit() {
    let mut out = String::new();
    push_line(&mut out, &"x".repeat(75));
    assert_eq!(out, format!("{}\r\n", "x".repeat(75)));

    let mut out = String::new();
    push_line(&mut out, &"x".repeat(76));
    assert_eq!(out, format!("{}\r\n x\r\n", "x".repeat(75)));

    // 25 three-byte characters fill 75 octets exactly; the 26th starts a continuation,
    // which holds 24 after its leading space (1 + 72 octets; a 25th would make 76).
    let mut out = String::new();
    push_line(&mut out, &"预".repeat(26 + 25));
    assert_eq!(
        out,
        format!(
            "{}\r\n {}\r\n {}\r\n",
            "预".repeat(25),
            "预".repeat(24),
            "预".repeat(2)
        )
    );
}

#[test]
fn every_line_ends_with_crlf() {
    let mut e = event("b@i.alliance", FeedStatus::Tentative, 2);
    e.description = AWKWARD.repeat(5);
    e.url = Some("https://alliance.example/b".to_owned());
    let feed = calendar("t", &[e, event("c@i.alliance", FeedStatus::Cancelled, 1)]);

    assert!(feed.ends_with("END:VCALENDAR\r\n"));
    let bytes = feed.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\n' => assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at {i}"),
            b'\r' => assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            _ => {}
        }
    }
    for line in physical_lines(&feed) {
        assert!(!line.is_empty(), "no empty lines");
    }
}

#[test]
fn empty_feed_is_a_valid_calendar() {
    let feed = calendar("", &[]);
    assert_eq!(
        physical_lines(&feed),
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Instrument Sharing Alliance//Booking Feed//ZH",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:",
            "X-WR-TIMEZONE:Asia/Shanghai",
            "END:VCALENDAR",
        ]
    );
    let parsed = parse(&feed);
    assert!(parsed.components.is_empty());
    assert!(parsed.properties.iter().any(|p| p.key() == "VERSION"));
    assert!(parsed.properties.iter().any(|p| p.key() == "PRODID"));
}

#[test]
fn url_line_only_when_there_is_a_url() {
    let without = calendar("t", &[event("b@i.alliance", FeedStatus::Confirmed, 0)]);
    assert!(!unfold(&without).contains("\r\nURL:"));
    assert_eq!(events(&parse(&without))[0].get_url(), None);

    let mut e = event("b@i.alliance", FeedStatus::Confirmed, 0);
    e.url = Some("https://alliance.example/bookings/b?a=1,2;x".to_owned());
    let with = calendar("t", &[e]);
    // URI values are not TEXT-escaped.
    assert!(unfold(&with).contains("\r\nURL:https://alliance.example/bookings/b?a=1,2;x\r\n"));
}
