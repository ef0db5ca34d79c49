//! Web UI of an alliance node.
