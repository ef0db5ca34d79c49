//! Spreadsheet import and export for the web backend: checks a file, previews every row
//! (new, changed, unchanged, or what is wrong), and writes the good ones.

use alliance_protocol::InstrumentRecord;
use alliance_web::backend::{
    CatalogueFailure, Download, ImportCellError, ImportRow, ImportSummary, SheetFormat,
};

use super::WebBackend;
use crate::catalogue::import::{self, RowOutcome};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CSV: &str = "text/csv; charset=utf-8";

fn bad_file(e: impl std::fmt::Display) -> CatalogueFailure {
    CatalogueFailure::BadFile(e.to_string())
}

/// How a good row compares with what is stored.
fn change(current: Option<&InstrumentRecord>, new: &InstrumentRecord) -> &'static str {
    match current {
        None => "new",
        Some(current) => {
            let mut same = new.clone();
            same.revision = current.revision;
            // A spreadsheet does not carry photos; saving keeps them.
            same.photos.clone_from(&current.photos);
            if &same == current {
                "unchanged"
            } else {
                "changed"
            }
        }
    }
}

pub(super) async fn import(
    backend: &WebBackend,
    file_name: &str,
    bytes: Vec<u8>,
    dry_run: bool,
) -> Result<ImportSummary, CatalogueFailure> {
    let catalogue = &backend.catalogue;
    // Unzipping and reading a workbook is seconds of CPU for a large file: keep it off
    // the async workers, which serve every other request meanwhile.
    let report = {
        let catalogue = catalogue.clone();
        let file_name = file_name.to_owned();
        tokio::task::spawn_blocking(move || {
            import::parse(
                &file_name,
                &bytes,
                catalogue.own_institution(),
                catalogue.classification(),
            )
        })
        .await
        .map_err(|e| CatalogueFailure::Internal(e.to_string()))?
        .map_err(bad_file)?
    };
    let mut summary = ImportSummary {
        dry_run,
        rows: Vec::new(),
        good: 0,
        bad: 0,
        imported: 0,
    };
    let mut to_write = Vec::new();
    for outcome in report.rows {
        match outcome {
            RowOutcome::Good { row, record } => {
                let current = catalogue
                    .instrument_unfiltered(&record.id())
                    .map(|v| v.record);
                let change = change(current.as_deref(), &record);
                summary.good += 1;
                summary.rows.push(ImportRow {
                    row,
                    local_id: record.local_id.clone(),
                    name_zh: record.name_zh.clone(),
                    errors: Vec::new(),
                    change: change.to_owned(),
                });
                if change != "unchanged" {
                    to_write.push(record);
                }
            }
            RowOutcome::Bad {
                row,
                local_id,
                errors,
            } => {
                summary.bad += 1;
                summary.rows.push(ImportRow {
                    row,
                    local_id,
                    name_zh: String::new(),
                    errors: errors
                        .into_iter()
                        .map(|e| ImportCellError {
                            column: e.column,
                            message: e.message,
                        })
                        .collect(),
                    change: String::new(),
                });
            }
        }
    }
    if !dry_run {
        for record in to_write {
            catalogue.save_record(record).await?;
            summary.imported += 1;
        }
    }
    Ok(summary)
}

fn stamp() -> String {
    chrono::Utc::now().format("%Y%m%d").to_string()
}

pub(super) fn export(
    backend: &WebBackend,
    format: SheetFormat,
) -> Result<Download, CatalogueFailure> {
    let own = backend.catalogue.own_institution().clone();
    let records: Vec<InstrumentRecord> = backend
        .catalogue
        .institution_views(&own)
        .into_iter()
        .map(|v| (*v.record).clone())
        .collect();
    let base = format!("{own}-instruments-{}", stamp());
    Ok(match format {
        SheetFormat::Xlsx => Download {
            file_name: format!("{base}.xlsx"),
            content_type: XLSX,
            bytes: import::export_xlsx(&records).map_err(bad_file)?,
        },
        SheetFormat::Csv => Download {
            file_name: format!("{base}.csv"),
            content_type: CSV,
            bytes: import::export_csv(&records),
        },
    })
}

pub(super) fn template(format: SheetFormat) -> Result<Download, CatalogueFailure> {
    Ok(match format {
        SheetFormat::Xlsx => Download {
            file_name: "instrument-import-template.xlsx".into(),
            content_type: XLSX,
            bytes: import::template_xlsx().map_err(bad_file)?,
        },
        SheetFormat::Csv => Download {
            file_name: "instrument-import-template.csv".into(),
            content_type: CSV,
            bytes: import::template_csv(),
        },
    })
}
