//! The alliance's multi-node tests: real nodes on loopback, real browsers. One module per
//! subject, all in one test binary so the node is linked once, not once per subject.

mod attacks;
mod board;
mod booking;
mod browser;
mod browser_booking;
mod browser_calendar;
mod browser_needs;
mod catalogue;
mod catalogue_http;
mod catalogue_rejects;
mod configs;
mod demo;
mod events;
mod fuzz_corpus;
mod help;
mod hostile_peers;
mod hosts;
mod hosts_crash;
mod hosts_fork;
mod hosts_load;
mod mail;
mod mesh;
mod monitoring;
mod notices;
mod orders;
mod photos;
mod receipt_crash;
mod receipts;
mod restart;
mod sign_in;
mod sign_in_load;
mod soak;
mod web_api;
