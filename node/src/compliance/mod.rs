//! Reporting compliance (R7): an instrument worth 300,000 RMB or more must be on the
//! network within 30 working days of its installation acceptance, counted on mainland
//! China's official calendar of holidays and make-up working days.
//!
//! - [`crate::official_calendar`]: that calendar, and counting on it; a date it does not
//!   cover is an error, never a guess.
//! - [`reporting`]: each instrument's standing against the rule.

pub(crate) mod reporting;
