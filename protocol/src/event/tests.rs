#![allow(clippy::unwrap_used)]

use super::*;
use crate::{entry::UnverifiedEntry, fixtures};

fn event() -> Event {
    fixtures::event()
}

#[test]
fn an_event_travels_as_a_catalogue_entry_and_reads_back_the_same() {
    let key = crate::SecretKey::generate();
    let entry = UnverifiedEntry::decode(&event().seal(&key))
        .unwrap()
        .verify(&key.public())
        .unwrap();
    assert_eq!(entry.body, crate::EntryBody::Event(Box::new(event())));
    assert_eq!(entry.body.slot(), "e/ev_2027_xrd");
}

#[test]
fn an_event_peers_would_refuse_is_refused_on_reading() {
    let key = crate::SecretKey::generate();
    let bad = [
        Event {
            ends_at: event().starts_at,
            ..event()
        },
        Event {
            ends_at: UnixTime(event().starts_at.0 + MAX_EVENT_SECONDS + 1),
            ..event()
        },
        Event {
            link: "http://example.cn/meet".into(),
            ..event()
        },
        Event {
            place: String::new(),
            link: String::new(),
            ..event()
        },
        Event {
            field: String::new(),
            ..event()
        },
    ];
    for event in bad {
        let read = UnverifiedEntry::decode(&event.seal(&key))
            .unwrap()
            .verify(&key.public());
        assert!(read.is_err(), "{event:?}");
    }
}

#[test]
fn a_registration_is_read_only_with_the_homes_key() {
    let key = crate::SecretKey::generate();
    let registration = EventRegistration {
        organiser: "lnsti".parse().unwrap(),
        event_id: "ev_2027_xrd".into(),
        home: "neu".parse().unwrap(),
        registrant_id: "neu-firm".into(),
        name: "王经理".into(),
        organization: "大连华信新材料有限公司".into(),
        kind: RegistrantKind::Firm,
        registered_at: UnixTime(1_796_000_000),
        withdrawn: false,
    };
    let sealed = registration.seal(&key);
    assert_eq!(
        EventRegistration::open(&sealed, &key.public()).unwrap(),
        registration
    );
    let other = crate::SecretKey::generate();
    assert!(EventRegistration::open(&sealed, &other.public()).is_err());
}
