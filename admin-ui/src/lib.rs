//! Web UI and JSON API of an alliance node.

pub mod backend;
