//! Shared helpers for the alliance integration tests.
