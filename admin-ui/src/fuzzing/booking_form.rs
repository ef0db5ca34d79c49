//! The booking form: the instrument page's form (`BookingInput::to_form`) and the JSON
//! of `POST /api/v1/bookings` (`BookingForm` read by `parse`), as
//! the web layer parses them.
//!
//! Input: the first byte says which service modes the instrument offers (a bit each) and
//! whether the rest is a urlencoded form (bit 7 clear) or JSON (bit 7 set).
//!
//! Properties: never panics; an accepted booking is within the documented bounds: a length
//! of whole steps up to MAX_MINUTES, at most MAX_SAMPLES samples, a purpose of at most
//! MAX_LONG_TEXT bytes, a mode the instrument offers, a start given, a valid booking id
//! or none; the booking asked ends after it starts, by the length; the form and the API
//! agree (a form accepted as typed is read the same by the API).

use crate::booking_input::{Asked, BookingForm, BookingInput, MAX_MINUTES, parse};
use alliance_protocol::{
    ServiceMode,
    booking::{MAX_SAMPLES, is_valid_booking_id},
    record::MAX_LONG_TEXT,
};

const MODES: [ServiceMode; 3] = [
    ServiceMode::Unspecified,
    ServiceMode::SelfOperated,
    ServiceMode::StaffRun,
];

fn within_bounds(form: &BookingForm, modes: &[ServiceMode]) {
    assert!(form.minutes >= 1 && form.minutes <= MAX_MINUTES, "{form:?}");
    assert!(form.samples <= MAX_SAMPLES, "{form:?}");
    assert!(form.purpose.len() <= MAX_LONG_TEXT, "{form:?}");
    assert!(
        form.mode != ServiceMode::Unspecified && modes.contains(&form.mode),
        "{form:?}"
    );
    assert!(!form.start.is_empty(), "{form:?}");
    assert!(
        form.booking_id.is_empty() || is_valid_booking_id(&form.booking_id),
        "{form:?}"
    );
}

fn asked_as_formed(form: &BookingForm, asked: &Asked) {
    assert_eq!(
        asked.ask.end.0 - asked.ask.start.0,
        i64::from(form.minutes) * 60,
        "{form:?}"
    );
    assert!(is_valid_booking_id(&asked.booking_id), "{asked:?}");
}

/// One input, as the fuzz target gets it: panics where a property fails.
pub fn test_one_input(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let modes: Vec<ServiceMode> = MODES
        .iter()
        .enumerate()
        .filter(|(i, _)| flags & (1 << i) != 0)
        .map(|(_, m)| *m)
        .collect();
    if flags & 0x80 == 0 {
        let Ok(input) = serde_urlencoded::from_bytes::<BookingInput>(rest) else {
            return;
        };
        if let Ok((form, asked)) = input.to_form(&modes) {
            within_bounds(&form, &modes);
            asked_as_formed(&form, &asked);
            let again = parse(&form, &modes).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(again.ask, asked.ask);
        }
    } else {
        let Ok(form) = serde_json::from_slice::<BookingForm>(rest) else {
            return;
        };
        if let Ok(asked) = parse(&form, &modes) {
            within_bounds(&form, &modes);
            asked_as_formed(&form, &asked);
        }
    }
}
