//! The web layer's tests against an in-memory backend (`common`), one module per subject,
//! all in one test binary so the crate is linked once.

mod api;
mod booking;
mod catalogue;
mod common;
mod headers;
mod i18n;
mod monitoring;
mod needs;
mod openapi;
mod pages;
mod photos;
mod publications;
mod receipts;
mod results;
mod rules_and_trainings;
mod sign_in;
