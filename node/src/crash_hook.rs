//! Crash hooks: named points between two steps where the fault tests kill a node.
//!
//! Built with the `crash-hooks` feature (the workspace's test build enables it), a node
//! started with `ALLIANCE_CRASH_AT=<name>` aborts when it reaches the point of that name:
//! no destructor runs and nothing is flushed, as with SIGKILL. Without the feature every
//! hook is an empty inline function.

/// Dies here if this is the hook the environment names.
#[cfg(feature = "crash-hooks")]
pub fn crash_hook(name: &str) {
    if std::env::var("ALLIANCE_CRASH_AT").is_ok_and(|at| at == name) {
        eprintln!("crash hook {name}: aborting");
        std::process::abort();
    }
}

/// Dies here if this is the hook the environment names (not in this build).
#[cfg(not(feature = "crash-hooks"))]
#[inline(always)]
pub fn crash_hook(_name: &str) {}

/// A booking's completion is about to be written with its receipt.
pub const RECEIPT_ISSUING: &str = "receipt_issuing";
/// A booking's completion and its receipt are written; nothing else happened yet.
pub const RECEIPT_ISSUED: &str = "receipt_issued";
/// The node's own user's confirmation and rating are written.
pub const OWN_CONFIRMATION_WRITTEN: &str = "own_confirmation_written";
/// A home wrote a user's booking request and has not sent it.
pub const REQUEST_STORED: &str = "request_stored";
