//! Wire protocol of the instrument sharing alliance, and the vocabulary of its domain that
//! a node and its web layer share (docs/DESIGN.md, "One vocabulary across the web seam").
//!
//! This crate is pure: no async runtime, no I/O. Another implementation can be
//! written from `proto/` and the golden vectors in `tests/vectors/` alone.
//!
//! Layout:
//! - [`keys`]: ed25519 key types shared by node identities and the province root.
//! - [`envelope`]: the signed envelope with domain separation; every signed thing uses it.
//! - [`ids`]: validated identifiers.
//! - [`certificate`] and [`roster`]: alliance membership, verified against the root key.
//! - [`record`], [`review`], [`availability`]: what the catalogue replicates, and
//!   [`entry`], which opens any of them.
//! - [`booking`]: what a user's home node and an instrument's owner say to each other,
//!   and what both keep: a booking's state, an instrument's booking rules, trainings,
//!   what a user asks for.
//! - [`receipt`]: the owner's signed usage receipt and the home's confirmation (R6, R12),
//!   and the facts of a session it is issued from;
//!   [`transparency`]: the province's log of them, its signed tree heads and proofs.
//! - [`mail`]: how those and other node-to-node messages travel, their kind being their
//!   signing domain.
//! - [`publication`]: papers, patents and reports that used alliance instruments (R13).
//! - [`quote`]: fee quotes by user tier, broken down into materials, operating costs and
//!   labour (R11).
//! - [`stats`]: a member's booking service statistics per month and instrument (R14).
//! - [`results`]: the province's published evaluation rows (R14–R16), and
//!   [`statement`]: its signed statement of a period's results, bound to its log.
//! - [`rpc`]: node-to-node request-response messages, including catalogue sync.
//! - [`heartbeat`]: a member's signed status heartbeat of its monitored instruments (R6).
//! - [`announce`]: a node's signed announcement of its addresses.
//! - [`money`] and [`time`]: amounts in fen and instants in Unix seconds, as the wire has them.
//! - [`armor`]: a text form for certificates and keys that survives e-mail and copy-paste.
//! - [`limits`]: size limits every decoder enforces.
//! - `fixtures` (feature `fixtures`): example values for tests and benchmarks.
//! - `fuzzing`: the properties the fuzz targets check of the wire formats (testing
//!   support).
//!
//! Generated protobuf types are private (`proto`); the public API is domain types
//! built from them with `TryFrom`, checking sizes and invariants.

pub mod announce;
pub mod armor;
pub mod availability;
pub mod board;
pub mod booking;
pub mod certificate;
pub mod checkpoint;
pub mod entry;
pub mod envelope;
pub mod event;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
#[doc(hidden)]
pub mod fuzzing;
pub mod heartbeat;
pub mod ids;
pub mod keys;
pub mod limits;
pub mod mail;
pub mod money;
pub mod order;
pub mod publication;
pub mod quote;
pub mod receipt;
pub mod record;
pub mod results;
pub mod review;
pub mod roster;
pub mod rpc;
pub mod statement;
pub mod stats;
pub mod time;
pub mod transparency;

mod proto {
    #![allow(clippy::all, missing_debug_implementations, unreachable_pub)]
    include!(concat!(env!("OUT_DIR"), "/alliance.v1.rs"));
}

pub use announce::{AnnounceError, NodeAnnouncement};
pub use availability::{AvailabilityDigest, BookingWindow, HourState};
pub use board::{Need, NeedAttachment, NeedState, Offer};
pub use certificate::{CertificateError, MembershipCertificate, Role, SignedCertificate};
pub use entry::{Entry, EntryBody, UnverifiedEntry};
pub use envelope::{Domain, EnvelopeError, SignedEnvelope};
pub use ids::{IdError, InstitutionId};
pub use keys::{KeyError, PublicKey, SecretKey};
pub use record::{
    FeeComponents, FeeItem, FeeUnit, InstrumentPhoto, InstrumentRecord, InstrumentStatus,
    RecordError, ServiceMode, SharingScope, UserTier,
};
pub use review::{ReviewAttestation, ReviewVerdict};
pub use roster::{Roster, RosterError, SignedRoster};
pub use time::UnixTime;
