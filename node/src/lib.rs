//! The alliance node.
