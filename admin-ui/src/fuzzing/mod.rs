//! The properties the fuzz targets (`fuzz/`) check of the web layer's parsers, one module
//! per target, so that the targets and the test suite's replay of the committed corpus
//! (`tests/tests/it/fuzz_corpus.rs`) run the same code. Support for testing, not for the
//! node: everything here panics where a property fails.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod booking_form;
pub mod search_query;
