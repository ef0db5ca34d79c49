//! Evaluation (R5, R14): what the province measures of every instrument and institution
//! over a period, from the receipts in its log and what members report, and the scores
//! and grades that follow from `configs/evaluation.toml`.
//!
//! - [`config`]: the indicator tree, rated hours and grade thresholds.
//! - [`metrics`]: the measured figures of an instrument or an institution.
//! - [`period`]: a year or a quarter by name, in Asia/Shanghai time.
//! - [`scoring`]: scores per indicator and group, the total and the grade.
//! - [`awards`]: subsidies shared by score (R15) and the sanctions list (R16).
//! - [`answers`]: how institutions answered needs, for the response indicator.

pub mod answers;
pub mod awards;
pub mod config;
pub mod metrics;
pub mod period;
pub mod scoring;
