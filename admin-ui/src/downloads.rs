//! Files the API and the pages hand out the same way: spreadsheets in the format asked
//! for, as attachments.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

use crate::{
    backend::{Download, SheetFormat},
    validate::{FieldError, Problem},
};

/// The spreadsheet format a `format` parameter names (`xlsx`, the default, or `csv`).
pub(crate) fn sheet_format(format: &str) -> Result<SheetFormat, FieldError> {
    match format {
        "" | "xlsx" => Ok(SheetFormat::Xlsx),
        "csv" => Ok(SheetFormat::Csv),
        _ => Err(FieldError::new("format", Problem::Choice)),
    }
}

/// A file as an attachment.
pub(crate) fn download(file: Download) -> Response {
    (
        [
            (header::CONTENT_TYPE, file.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.file_name),
            ),
        ],
        file.bytes,
    )
        .into_response()
}

/// A file someone uploaded (a report, a need's attachment), as an attachment: its
/// checked media type, its name encoded, and never sniffed by the browser.
pub(crate) fn uploaded(file: crate::backend::ReportFile) -> Response {
    (
        [
            (header::CONTENT_TYPE, file.media_type),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename*=UTF-8''{}",
                    crate::links::encode_component(&file.name)
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        file.bytes,
    )
        .into_response()
}
