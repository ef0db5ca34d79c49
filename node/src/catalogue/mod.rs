//! The instrument catalogue (R1, R2, R7–R9).
//!
//! - [`classification`]: the national instrument classification, from `configs/`.

pub mod classification;
