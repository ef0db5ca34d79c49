#![allow(clippy::unwrap_used)]

use super::*;

fn report(local_id: &str, state: InstrumentState) -> InstrumentStatusReport {
    InstrumentStatusReport {
        local_id: local_id.into(),
        state,
        reported_at: UnixTime(1_800_000_000),
        note: String::new(),
    }
}

fn heartbeat() -> StatusHeartbeat {
    let mut fault = report("NMR-600", InstrumentState::Fault);
    fault.note = "真空泵报警 E42".into();
    StatusHeartbeat {
        institution_id: "dlut".parse().unwrap(),
        sent_at: UnixTime(1_800_000_030),
        instruments: vec![report("XPS-1", InstrumentState::Running), fault],
    }
}

/// Signs a payload as a heartbeat, bypassing the checks `seal` callers rely on.
fn sealed_raw(key: &SecretKey, raw: &proto::StatusHeartbeat) -> Vec<u8> {
    SignedEnvelope::seal(key, Domain::STATUS_HEARTBEAT, raw.encode_to_vec()).encode()
}

#[test]
fn heartbeat_round_trips_and_names_its_signer() {
    let key = SecretKey::generate();
    let h = heartbeat();
    h.validate().unwrap();
    let (signer, back) = StatusHeartbeat::open(&h.seal(&key)).unwrap();
    assert_eq!((signer, back), (key.public(), h.clone()));
    assert_eq!(
        StatusHeartbeat::open_from(&h.seal(&key), &key.public()).unwrap(),
        h
    );
}

#[test]
fn a_forged_or_tampered_heartbeat_is_refused() {
    let key = SecretKey::generate();
    let other = SecretKey::generate();
    let sealed = heartbeat().seal(&other);
    assert!(matches!(
        StatusHeartbeat::open_from(&sealed, &key.public()),
        Err(HeartbeatError::Envelope(EnvelopeError::WrongSigner { .. }))
    ));
    // A payload changed after signing, keeping the claimed signer, does not verify.
    let mut raw = proto::SignedEnvelope::decode(heartbeat().seal(&key).as_slice()).unwrap();
    raw.payload = {
        let mut changed = heartbeat();
        changed.instruments[1].state = InstrumentState::Idle;
        changed.to_proto().encode_to_vec()
    };
    let tampered = raw.encode_to_vec();
    assert!(matches!(
        StatusHeartbeat::open(&tampered),
        Err(HeartbeatError::Envelope(EnvelopeError::Signature(_)))
    ));
    assert!(matches!(
        StatusHeartbeat::open_from(&tampered, &key.public()),
        Err(HeartbeatError::Envelope(EnvelopeError::Signature(_)))
    ));
}

#[test]
fn an_announcement_envelope_is_not_a_heartbeat() {
    let key = SecretKey::generate();
    let payload = heartbeat().to_proto().encode_to_vec();
    let other = SignedEnvelope::seal(&key, Domain::ANNOUNCE, payload).encode();
    assert!(matches!(
        StatusHeartbeat::open(&other),
        Err(HeartbeatError::Envelope(EnvelopeError::WrongDomain { .. }))
    ));
    assert!(matches!(
        StatusHeartbeat::open_from(&other, &key.public()),
        Err(HeartbeatError::Envelope(EnvelopeError::WrongDomain { .. }))
    ));
}

#[test]
fn oversized_heartbeats_are_refused() {
    let key = SecretKey::generate();
    let big = vec![0u8; MAX_HEARTBEAT_BYTES + 1];
    assert_eq!(
        StatusHeartbeat::open(&big),
        Err(HeartbeatError::TooLarge(big.len()))
    );

    let mut many = heartbeat();
    many.instruments = (0..=MAX_HEARTBEAT_INSTRUMENTS)
        .map(|i| report(&format!("i{i}"), InstrumentState::Idle))
        .collect();
    assert_eq!(
        StatusHeartbeat::open(&sealed_raw(&key, &many.to_proto())),
        Err(HeartbeatError::TooManyInstruments(
            MAX_HEARTBEAT_INSTRUMENTS + 1
        ))
    );
    assert!(many.validate().is_err());

    let mut long_note = heartbeat();
    long_note.instruments[0].note = "x".repeat(MAX_NOTE_CHARS + 1);
    assert!(matches!(
        StatusHeartbeat::open(&sealed_raw(&key, &long_note.to_proto())),
        Err(HeartbeatError::Invalid(RecordError::Field {
            field: "note",
            ..
        }))
    ));
    long_note.instruments[0].note = "页".repeat(MAX_NOTE_CHARS);
    long_note.validate().unwrap();
}

#[test]
fn the_largest_heartbeat_the_limits_allow_still_fits() {
    let key = SecretKey::generate();
    let h = StatusHeartbeat {
        institution_id: "x".repeat(32).parse().unwrap(),
        sent_at: UnixTime(-1),
        instruments: (0..MAX_HEARTBEAT_INSTRUMENTS)
            .map(|i| InstrumentStatusReport {
                local_id: format!("{i:064}"),
                state: InstrumentState::Maintenance,
                reported_at: UnixTime(-1),
                // Four bytes each in UTF-8, the most a character takes.
                note: "𝄞".repeat(MAX_NOTE_CHARS),
            })
            .collect(),
    };
    h.validate().unwrap();
    let sealed = h.seal(&key);
    assert!(sealed.len() <= MAX_HEARTBEAT_BYTES, "{}", sealed.len());
    assert_eq!(StatusHeartbeat::open(&sealed).unwrap().1, h);
}

#[test]
fn bad_fields_are_refused() {
    let key = SecretKey::generate();
    let refused = |h: &StatusHeartbeat| StatusHeartbeat::open(&sealed_raw(&key, &h.to_proto()));

    let mut twice = heartbeat();
    twice.instruments[1].local_id = "XPS-1".into();
    assert_eq!(
        refused(&twice),
        Err(HeartbeatError::Duplicate("XPS-1".into()))
    );

    let mut bad_id = heartbeat();
    bad_id.instruments[0].local_id = "XPS 1/../".into();
    assert!(matches!(
        refused(&bad_id),
        Err(HeartbeatError::Invalid(RecordError::Field {
            field: "local_id",
            ..
        }))
    ));

    let mut control = heartbeat();
    control.instruments[0].note = "line\nbreak".into();
    assert!(refused(&control).is_err());

    let mut raw = heartbeat().to_proto();
    raw.instruments[0].state = proto::InstrumentState::Unspecified as i32;
    assert!(matches!(
        StatusHeartbeat::open(&sealed_raw(&key, &raw)),
        Err(HeartbeatError::Invalid(RecordError::Field {
            field: "state",
            ..
        }))
    ));
    raw.instruments[0].state = 99;
    assert!(StatusHeartbeat::open(&sealed_raw(&key, &raw)).is_err());

    let mut raw = heartbeat().to_proto();
    raw.institution_id = "DLUT".into();
    assert!(matches!(
        StatusHeartbeat::open(&sealed_raw(&key, &raw)),
        Err(HeartbeatError::InstitutionId(_))
    ));
}

#[test]
fn states_have_snake_case_names() {
    for state in InstrumentState::ALL {
        assert_eq!(state.to_string().parse::<InstrumentState>(), Ok(state));
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            format!("\"{state}\"")
        );
    }
    assert_eq!(InstrumentState::Maintenance.to_string(), "maintenance");
    assert_eq!(
        "Fault".parse::<InstrumentState>(),
        Err(UnknownState("Fault".into()))
    );
}
