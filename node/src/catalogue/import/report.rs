//! What an import found, row by row: the records ready to publish and, for every
//! other row, all of its problems.

use alliance_protocol::record::InstrumentRecord;

/// One problem with one cell or row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// The Chinese header of the cell, or "" for the whole row. Cells of the 收费标准
    /// sheet are named `收费标准/<header>`.
    pub column: String,
    /// What is wrong and what is expected, in Chinese.
    pub message: String,
}

impl CellError {
    pub(super) fn new(column: impl Into<String>, message: impl Into<String>) -> Self {
        CellError {
            column: column.into(),
            message: message.into(),
        }
    }
}

/// The fate of one non-empty row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "most rows are good, and callers move the record out as it is"
)]
pub enum RowOutcome {
    /// The row is a valid instrument record.
    Good {
        /// The row number as the user sees it in the 仪器 sheet (the header is row 1).
        row: usize,
        /// The record at revision 0, with the fee items of the 收费标准 sheet added.
        record: InstrumentRecord,
    },
    /// The row cannot be imported.
    Bad {
        /// The row number as the user sees it in the 仪器 sheet (the header is row 1).
        /// For a 收费标准 row whose 仪器编号 is not in the 仪器 sheet, it is that row's
        /// number in the 收费标准 sheet, and its error's column starts with `收费标准/`.
        row: usize,
        /// The 仪器编号 as written, possibly empty.
        local_id: String,
        /// Every problem of the row, in column order.
        errors: Vec<CellError>,
    },
}

impl RowOutcome {
    /// The row number this outcome is about.
    pub fn row(&self) -> usize {
        match self {
            RowOutcome::Good { row, .. } | RowOutcome::Bad { row, .. } => *row,
        }
    }
}

/// Every non-empty row of an imported file, in sheet order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: Vec<RowOutcome>,
}

impl ImportReport {
    /// The records of the good rows, in sheet order.
    pub fn good(&self) -> impl Iterator<Item = &InstrumentRecord> {
        self.rows.iter().filter_map(|outcome| match outcome {
            RowOutcome::Good { record, .. } => Some(record),
            RowOutcome::Bad { .. } => None,
        })
    }

    /// The row numbers of the bad rows, in sheet order.
    pub fn bad_rows(&self) -> Vec<usize> {
        self.rows
            .iter()
            .filter(|outcome| matches!(outcome, RowOutcome::Bad { .. }))
            .map(RowOutcome::row)
            .collect()
    }
}
