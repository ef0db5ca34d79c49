//! The properties the fuzz targets (`fuzz/`) check of the wire formats, one module per
//! target, so that the targets and the test suite's replay of the committed corpus
//! (`tests/tests/it/fuzz_corpus.rs`) run the same code; and what the targets and the
//! corpus seed writer (`node/examples/fuzz_seeds.rs`) must agree on. Support for testing,
//! not for the node: everything here panics where a property fails.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod envelope;
pub mod messages;

/// The `messages` target's message kinds, in the order of its selector byte (the first
/// input byte, modulo their number). Seeds name their files after these
/// (`fuzz/corpus/messages/<kind>-…`); a kind is only ever added at the end, so that the
/// committed corpus keeps its meaning.
pub const MESSAGE_KINDS: [&str; 26] = [
    "instrument",
    "entry-instrument",
    "entry-review",
    "entry-availability",
    "certificate",
    "roster",
    "announce",
    "heartbeat",
    "statistics",
    "booking-request",
    "booking-answer",
    "booking-cancel",
    "booking-update",
    "booking-status",
    "receipt",
    "receipt-confirmation",
    "publication",
    "tree-head",
    "rpc-request",
    "rpc-response",
    "receipt-submission",
    "booking-updates",
    "booking-answer-unsigned",
    "booking-message-kind",
    "armor",
    "log-proofs",
];
