//! Bulk import and export of an institution's instrument catalogue as CSV or XLSX.
//!
//! Pure functions from bytes to records and back; the web layer does the uploading,
//! confirming and publishing. One sheet named 仪器 (or the first sheet) holds one
//! instrument per row under Chinese headers (see `columns`); an XLSX file may add a
//! 收费标准 sheet with more fee items per instrument. Problems with the file as a whole
//! are an [`ImportError`]; problems with single rows are reported per row in the
//! [`ImportReport`], every cell error at once, so users can fix a file in one pass.
//!
//! Layout:
//! - `columns`: the header tables and how a header is matched.
//! - `cell`, `money`, `dates`, `labels`: reading one value (text, yuan → fen, dates,
//!   the Chinese names of statuses, scopes, units and service modes).
//! - `fields`, `rows`: turning a read sheet into records and row errors.
//! - `csv`, `xlsx`, `zip_limit`: reading the two file formats, safely.
//! - `export`, `workbook`: writing records (and the template) back out.

mod cell;
mod columns;
mod csv;
mod dates;
mod error;
mod export;
mod fields;
pub mod history;
mod labels;
mod money;
mod report;
mod rows;
mod workbook;
mod xlsx;
mod zip_limit;

use std::path::Path;

use alliance_protocol::{ids::InstitutionId, record::InstrumentRecord};

use crate::catalogue::classification::Classification;

pub use error::ImportError;
pub use report::{CellError, ImportReport, RowOutcome};

/// Largest file accepted, in bytes (10 MiB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most instruments in one file (data rows of the 仪器 sheet).
pub const MAX_ROWS: usize = 5_000;
/// Most rows in the 收费标准 sheet.
pub const MAX_FEE_ROWS: usize = 20_000;
/// Most columns a sheet may use; the template has 46.
const MAX_COLUMNS: usize = 256;
/// Name of the sheet with one instrument per row.
pub const MAIN_SHEET: &str = "仪器";
/// Name of the optional XLSX sheet with more fee items.
pub const FEE_SHEET: &str = "收费标准";
/// Name of the explanation sheet in the template and exports (ignored on import).
pub const HELP_SHEET: &str = "说明";

/// Reads a UTF-8 CSV file (with or without BOM) laid out like [`template_csv`].
pub fn parse_csv(
    bytes: &[u8],
    institution: &InstitutionId,
    classification: &Classification,
) -> Result<ImportReport, ImportError> {
    check_size(bytes)?;
    let sheet = csv::read(bytes)?;
    rows::build_report(&sheet, None, institution, classification)
}

/// Reads an XLSX workbook laid out like [`template_xlsx`].
pub fn parse_xlsx(
    bytes: &[u8],
    institution: &InstitutionId,
    classification: &Classification,
) -> Result<ImportReport, ImportError> {
    check_size(bytes)?;
    let book = xlsx::read(bytes)?;
    rows::build_report(&book.main, book.fees.as_ref(), institution, classification)
}

/// Reads `bytes` as CSV or XLSX according to the extension of `file_name`
/// (case-insensitive); any other extension is refused.
pub fn parse(
    file_name: &str,
    bytes: &[u8],
    institution: &InstitutionId,
    classification: &Classification,
) -> Result<ImportReport, ImportError> {
    let extension = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => parse_csv(bytes, institution, classification),
        Some("xlsx") => parse_xlsx(bytes, institution, classification),
        _ => Err(ImportError::UnsupportedType {
            file_name: file_name.to_owned(),
        }),
    }
}

/// The XLSX template: the 仪器 sheet with headers and one example instrument, the
/// 收费标准 sheet with one more fee item for it, and the 说明 sheet explaining every
/// column, the allowed values and the category codes of the shipped classification.
pub fn template_xlsx() -> Result<Vec<u8>, ImportError> {
    export::template_xlsx()
}

/// The CSV template: UTF-8 with BOM (so Excel in China opens it right), the headers
/// and one example instrument.
pub fn template_csv() -> Vec<u8> {
    export::template_csv()
}

/// The records in the template's layout, so that the file imports back unchanged: the
/// first fee item of each instrument on its row, the others in the 收费标准 sheet.
pub fn export_xlsx(records: &[InstrumentRecord]) -> Result<Vec<u8>, ImportError> {
    export::export_xlsx(records)
}

/// The records as CSV (UTF-8 with BOM) in the template's layout. CSV has room for one
/// fee item per instrument: further fee items are not written, so use
/// [`export_xlsx`] when instruments have several.
pub fn export_csv(records: &[InstrumentRecord]) -> Vec<u8> {
    export::export_csv(records)
}

fn check_size(bytes: &[u8]) -> Result<(), ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge { size: bytes.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
