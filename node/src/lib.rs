//! The alliance node: a member institution's or the province's daemon.
//!
//! Layout:
//! - `config`: the config file (one serde tree, unknown fields refused).
//! - [`keyfile`]: secret key files (mode 0600, never logged); `private_dir`: data
//!   directories (mode 0700).
//! - [`identity`]: alliance keys as libp2p identities.
//! - `membership`: who belongs — certificate and roster checks for peers.
//! - [`province`]: the province's certificate authority (aggregator node only).
//! - [`net`]: the libp2p swarm task and its client.
//! - [`store`]: durable storage over fjall with group commit; nothing else names the engine.
//! - [`accounts`]: users, argon2 password hashes, sessions.
//! - [`catalogue`]: the replicated instrument catalogue and its search.
//! - `mail`: node-to-node messages — the durable outbox, delivery, dispatch to the
//!   capability that owns each kind, dead letters.
//! - [`board`]: the board of needs and offers (demand and supply matching).
//! - [`orders`]: entrusted testing — orders, their steps, intake photos, reports.
//! - [`help`]: the help desk — firms' plain requests and the service experts (R18).
//! - [`events`]: supply–demand matching events and their registrations (R17).
//! - [`files`]: what an uploaded file may be (size, name, type from its bytes).
//! - [`booking`]: booking rules, the owner's calendar authority, calendar feeds.
//! - [`monitoring`]: remote instrument monitoring — agent tokens and states on a member,
//!   the live board and uptime at the province (R6).
//! - `web` and [`control`]: the admin UI's backend and the local control API;
//!   `http_server` serves them with connection caps and timeouts; [`metrics`] for
//!   Prometheus.
//! - `node`: [`Node::start`] and [`NodeHandle`]; `supervisor` watches its tasks;
//!   `health` is what `/healthz` reports.
//! - `spreadsheet`: text written into CSV files so that no spreadsheet runs it.
//! - [`init`] and [`demo`]: setting up a node's files, and the four-node demo.
//! - `fuzzing`: the properties the import fuzz targets check (testing support).

pub mod accounts;
pub mod board;
pub mod booking;
pub mod catalogue;
pub(crate) mod compliance;
pub(crate) mod config;
pub mod control;
pub mod crash_hook;
pub mod demo;
pub mod evaluation;
pub mod events;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod health;
pub mod help;
pub(crate) mod http_server;
pub mod identity;
pub mod init;
pub mod keyfile;
pub(crate) mod mail;
pub(crate) mod membership;
pub mod metrics;
pub mod monitoring;
pub mod net;
pub(crate) mod node;
pub mod notify;
pub(crate) mod official_calendar;
pub mod orders;
pub mod photos;
pub(crate) mod private_dir;
pub mod province;
pub mod receipts;
pub(crate) mod spreadsheet;
pub mod store;
pub(crate) mod supervisor;
pub mod verify;
pub(crate) mod web;

pub use config::Config;
pub use node::{Node, NodeHandle, StartError};
