//! Every protobuf message a node decodes from a peer, in one target to keep build time
//! down. The first input byte picks the message (modulo the number of kinds, see
//! `[`MESSAGE_KINDS`]`);
//! the rest is its encoding.
//!
//! Signed messages: the rest is the *payload*, which the target seals under the kind's
//! domain with a fixed key before handing the envelope to the decoder that a node calls
//! (`open`, `decode`, `verify`) with that key — so the fuzzer reaches the payload decoder
//! and its checks, not only the signature check. Unsigned messages (rpc frames, receipt
//! submissions, booking update lists, unsigned answers, armor, log proofs) are decoded as
//! they are.
//!
//! Properties: no decoder panics; what a decoder accepts re-encodes (or re-seals) to bytes
//! that decode to the same value; accepted values pass their own `validate`.

use std::sync::LazyLock;

use super::MESSAGE_KINDS;
use crate::{
    Domain, InstrumentRecord, NodeAnnouncement, SignedCertificate, SignedEnvelope, SignedRoster,
    UnixTime, UnverifiedEntry, armor,
    booking::{
        BookingAnswer, BookingCancel, BookingRequest, BookingStatusQuery, BookingUpdate,
        decode_updates, encode_updates,
    },
    entry::EntryBody,
    heartbeat::StatusHeartbeat,
    keys::{PublicKey, SecretKey},
    publication::Publication,
    receipt::{ReceiptConfirmation, ReceiptSubmission, UsageReceipt},
    rpc::{Request, Response},
    stats::ServiceStatistics,
    transparency::{TreeHead, verify_consistency, verify_inclusion},
};

static KEY: LazyLock<SecretKey> =
    LazyLock::new(|| SecretKey::from_seed(&[0x5e; 32]).expect("a 32-byte seed is a key"));
static PUBLIC: LazyLock<PublicKey> = LazyLock::new(|| KEY.public());

fn seal(domain: Domain, payload: &[u8]) -> Vec<u8> {
    SignedEnvelope::seal(&KEY, domain, payload.to_vec()).encode()
}

/// `T::open(sealed)` accepted `value`: sealing it again must open to the same value.
macro_rules! reopens {
    ($ty:ty, $value:expr) => {{
        let value = $value;
        let again = <$ty>::open(&value.seal(&KEY), &PUBLIC);
        assert_eq!(again.ok().as_ref(), Some(&value), "re-sealed value differs");
        value
    }};
}

fn entry(domain: Domain, payload: &[u8]) {
    let sealed = seal(domain, payload);
    let Ok(unverified) = UnverifiedEntry::decode(&sealed) else {
        return;
    };
    let stored = UnverifiedEntry::decode_stored(&sealed);
    let Ok(entry) = unverified.verify(&PUBLIC) else {
        assert!(
            stored.is_err(),
            "an entry that does not verify decoded when stored"
        );
        return;
    };
    assert_eq!(stored.as_ref().ok(), Some(&entry.body));
    assert!(entry.body.revision() > 0);
    let resealed = match &entry.body {
        EntryBody::Instrument(record) => record.seal(&KEY),
        EntryBody::Review(review) => review.seal(&KEY),
        EntryBody::Availability(digest) => digest.seal(&KEY),
        EntryBody::Need(need) => need.seal(&KEY),
        EntryBody::Offer(offer) => offer.seal(&KEY),
        EntryBody::Event(event) => event.seal(&KEY),
    };
    let again = UnverifiedEntry::decode(&resealed)
        .and_then(|e| e.verify(&PUBLIC))
        .map(|e| e.body);
    assert_eq!(
        again.as_ref().ok(),
        Some(&entry.body),
        "re-sealed entry differs"
    );
}

/// One input, as the fuzz target gets it: panics where a property fails.
pub fn test_one_input(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match MESSAGE_KINDS[usize::from(selector) % MESSAGE_KINDS.len()] {
        "instrument" => {
            if let Ok(record) = InstrumentRecord::open(&seal(Domain::INSTRUMENT, body), &PUBLIC) {
                reopens!(InstrumentRecord, record);
            }
        }
        "entry-instrument" => entry(Domain::INSTRUMENT, body),
        "entry-review" => entry(Domain::REVIEW, body),
        "entry-availability" => entry(Domain::AVAILABILITY, body),
        "certificate" => {
            if let Ok(cert) = SignedCertificate::decode(&seal(Domain::CERTIFICATE, body), &PUBLIC) {
                let again = SignedCertificate::decode(&cert.encode(), &PUBLIC);
                assert_eq!(again.as_ref(), Ok(&cert));
                let _ = cert.certificate().check_window(UnixTime(1_800_000_000));
            }
        }
        "roster" => {
            if let Ok(roster) = SignedRoster::decode(&seal(Domain::ROSTER, body), &PUBLIC) {
                let again = SignedRoster::decode(&roster.encode(), &PUBLIC);
                assert_eq!(again.as_ref(), Ok(&roster));
            }
        }
        "announce" => {
            let sealed = seal(Domain::ANNOUNCE, body);
            let from = NodeAnnouncement::open_from(&sealed, &PUBLIC);
            if let Ok((signer, announcement)) = NodeAnnouncement::open(&sealed) {
                assert_eq!(signer, *PUBLIC);
                assert_eq!(from.as_ref(), Ok(&announcement));
                let again = NodeAnnouncement::open(&announcement.seal(&KEY));
                assert_eq!(again, Ok((signer, announcement)));
            } else {
                assert!(from.is_err());
            }
        }
        "heartbeat" => {
            let sealed = seal(Domain::STATUS_HEARTBEAT, body);
            let from = StatusHeartbeat::open_from(&sealed, &PUBLIC);
            if let Ok((signer, heartbeat)) = StatusHeartbeat::open(&sealed) {
                assert_eq!(signer, *PUBLIC);
                assert_eq!(from.as_ref(), Ok(&heartbeat));
                assert!(heartbeat.validate().is_ok(), "opened heartbeat is invalid");
                let again = StatusHeartbeat::open(&heartbeat.seal(&KEY));
                assert_eq!(again, Ok((signer, heartbeat)));
            } else {
                assert!(from.is_err());
            }
        }
        "statistics" => {
            let sealed = seal(Domain::SERVICE_STATISTICS, body);
            if let Ok(stats) = ServiceStatistics::open(&sealed, &PUBLIC) {
                reopens!(ServiceStatistics, stats);
            }
        }
        "booking-request" => {
            if let Ok(request) = BookingRequest::open(&seal(Domain::BOOKING, body), &PUBLIC) {
                let request = reopens!(BookingRequest, request);
                assert!(request.validate().is_ok(), "opened request is invalid");
                let _ = (request.slot(), request.instrument_id());
            }
        }
        "booking-answer" => {
            if let Ok(answer) = BookingAnswer::open(&seal(Domain::BOOKING, body), &PUBLIC) {
                let answer = reopens!(BookingAnswer, answer);
                let unsigned = BookingAnswer::decode_unsigned(&answer.encode_unsigned());
                assert_eq!(unsigned.ok(), Some(answer));
            }
        }
        "booking-cancel" => {
            let sealed = seal(Domain::BOOKING_CANCEL, body);
            if let Ok(cancel) = BookingCancel::open(&sealed, &PUBLIC) {
                reopens!(BookingCancel, cancel);
            }
        }
        "booking-update" => {
            let sealed = seal(Domain::BOOKING_UPDATE, body);
            if let Ok(update) = BookingUpdate::open(&sealed, &PUBLIC) {
                reopens!(BookingUpdate, update);
            }
        }
        "booking-status" => {
            let sealed = seal(Domain::BOOKING_STATUS, body);
            if let Ok(query) = BookingStatusQuery::open(&sealed, &PUBLIC) {
                reopens!(BookingStatusQuery, query);
            }
        }
        "receipt" => {
            if let Ok(receipt) = UsageReceipt::open(&seal(Domain::RECEIPT, body), &PUBLIC) {
                let receipt = reopens!(UsageReceipt, receipt);
                assert!(receipt.validate().is_ok(), "opened receipt is invalid");
                let _ = (receipt.effective_minutes(), receipt.instrument_id());
            }
        }
        "receipt-confirmation" => {
            let sealed = seal(Domain::RECEIPT_CONFIRMATION, body);
            if let Ok(confirmation) = ReceiptConfirmation::open(&sealed, &PUBLIC) {
                reopens!(ReceiptConfirmation, confirmation);
            }
        }
        "publication" => {
            let sealed = seal(Domain::PUBLICATION, body);
            if let Ok(publication) = Publication::open(&sealed, &PUBLIC) {
                let publication = reopens!(Publication, publication);
                assert!(
                    publication.validate().is_ok(),
                    "opened publication is invalid"
                );
            }
        }
        "tree-head" => {
            if let Ok(head) = TreeHead::open(&seal(Domain::TREE_HEAD, body), &PUBLIC) {
                reopens!(TreeHead, head);
            }
        }
        "rpc-request" => {
            if let Ok(request) = Request::decode(body) {
                assert_eq!(Request::decode(&request.encode()), Ok(request));
            }
        }
        "rpc-response" => {
            if let Ok(response) = Response::decode(body) {
                assert_eq!(Response::decode(&response.encode()), Ok(response));
            }
        }
        "receipt-submission" => {
            if let Ok(submission) = ReceiptSubmission::decode(body) {
                let again = ReceiptSubmission::decode(&submission.encode());
                assert_eq!(again.ok().as_ref(), Some(&submission));
                let _ = submission.open(&PUBLIC, &PUBLIC);
            }
        }
        "booking-updates" => {
            if let Ok(updates) = decode_updates(body) {
                let again = decode_updates(&encode_updates(updates.clone()));
                assert_eq!(again.ok(), Some(updates));
            }
        }
        "booking-answer-unsigned" => {
            if let Ok(answer) = BookingAnswer::decode_unsigned(body) {
                let again = BookingAnswer::decode_unsigned(&answer.encode_unsigned());
                assert_eq!(again.ok(), Some(answer));
            }
        }
        // The selector keeps its old name, so the saved corpus still reaches it.
        "booking-message-kind" => {
            let _ = crate::mail::kind_of(body);
        }
        "armor" => {
            if let Ok(text) = std::str::from_utf8(body)
                && let Ok(bytes) = armor::decode(armor::CERTIFICATE_LABEL, text)
            {
                let again = armor::encode(armor::CERTIFICATE_LABEL, &bytes);
                assert_eq!(armor::decode(armor::CERTIFICATE_LABEL, &again), Ok(bytes));
            }
        }
        "log-proofs" => {
            // size (8) ‖ root (32) ‖ old size (8) ‖ index (8) ‖ proof…
            let Some((head, rest)) = body.split_first_chunk::<56>() else {
                return;
            };
            let word =
                |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().expect("eight bytes"));
            let mut root = [0u8; 32];
            root.copy_from_slice(&head[8..40]);
            let new = TreeHead {
                size: word(0),
                root,
                timestamp: UnixTime(0),
            };
            let old = TreeHead {
                size: word(40),
                root,
                timestamp: UnixTime(0),
            };
            let _ = verify_inclusion(&new, b"entry", word(48), rest);
            let _ = verify_consistency(&old, &new, rest);
        }
        kind => unreachable!("{kind}"),
    }
}
