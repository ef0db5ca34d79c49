//! Reading an XLSX workbook: the 仪器 sheet (or else the first worksheet) and the
//! optional 收费标准 sheet. Cells are streamed and only non-empty ones kept, so neither
//! a long sheet nor one far-away cell (XFD1048576) makes us build a huge grid; the
//! archive's unpacked size is checked first (see `zip_limit`).

use std::{
    collections::BTreeMap,
    io::{Cursor, Read},
};

use calamine::{Reader, SheetType, Xlsx, XlsxError};

use super::{
    FEE_SHEET, ImportError, MAIN_SHEET, MAX_COLUMNS, MAX_FEE_ROWS, MAX_ROWS,
    cell::{Cell, Row, Sheet},
    zip_limit,
};

/// The sheets an import reads.
#[derive(Debug)]
pub(super) struct Workbook {
    pub main: Sheet,
    pub fees: Option<Sheet>,
}

fn not_xlsx(e: XlsxError) -> ImportError {
    ImportError::NotXlsx {
        detail: e.to_string(),
    }
}

/// Most shared strings a workbook may declare; a full import has far fewer distinct texts.
pub(super) const MAX_SHARED_STRINGS: u64 = 1_000_000;

pub(super) fn read(bytes: &[u8]) -> Result<Workbook, ImportError> {
    zip_limit::check(bytes)?;
    check_shared_strings(bytes)?;
    // The XLSX reader's own arithmetic can panic on crafted files (a cell reference of
    // seven letters or more overflows its column number in builds with overflow checks;
    // found by fuzzing, see fuzz/corpus/import_xlsx/crash-*). A file it cannot read is
    // refused like any other unreadable workbook.
    std::panic::catch_unwind(|| read_unguarded(bytes)).unwrap_or_else(|_| {
        Err(ImportError::NotXlsx {
            detail: "the workbook could not be read".to_owned(),
        })
    })
}

fn read_unguarded(bytes: &[u8]) -> Result<Workbook, ImportError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(not_xlsx)?;
    let date_1904 = book.has_1904_epoch();
    let worksheets: Vec<String> = book
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect();
    let main_name = worksheets
        .iter()
        .find(|name| name.trim() == MAIN_SHEET)
        .or(worksheets.first())
        .cloned()
        .ok_or(ImportError::NoSheet)?;
    let fee_name = worksheets
        .iter()
        .find(|name| name.trim() == FEE_SHEET && **name != main_name)
        .cloned();
    let main = read_sheet(&mut book, &main_name, MAX_ROWS, date_1904)?;
    let fees = fee_name
        .map(|name| read_sheet(&mut book, &name, MAX_FEE_ROWS, date_1904))
        .transpose()?;
    Ok(Workbook { main, fees })
}

fn read_sheet(
    book: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    max_rows: usize,
    date_1904: bool,
) -> Result<Sheet, ImportError> {
    let mut reader = book.worksheet_cells_reader(name).map_err(not_xlsx)?;
    // Row index (0-based) → non-empty cells; row 0 is the header.
    let mut rows: BTreeMap<u32, Vec<(usize, Cell)>> = BTreeMap::new();
    while let Some(cell) = reader.next_cell().map_err(not_xlsx)? {
        let Some(value) = Cell::from_xlsx(cell.get_value()) else {
            continue;
        };
        let (row, column) = cell.get_position();
        let column = usize::try_from(column).unwrap_or(usize::MAX);
        if column >= MAX_COLUMNS {
            return Err(ImportError::TooManyColumns {
                sheet: name.to_owned(),
                limit: MAX_COLUMNS,
            });
        }
        let data_rows = rows.len() - usize::from(rows.contains_key(&0));
        if row != 0 && !rows.contains_key(&row) && data_rows >= max_rows {
            return Err(ImportError::TooManyRows {
                sheet: name.to_owned(),
                limit: max_rows,
            });
        }
        rows.entry(row).or_default().push((column, value));
    }
    let headers = rows
        .remove(&0)
        .unwrap_or_default()
        .into_iter()
        .map(|(column, cell)| (column, cell.header_text()))
        .collect();
    let rows = rows
        .into_iter()
        .map(|(index, mut cells)| {
            cells.sort_by_key(|(column, _)| *column);
            Row {
                number: usize::try_from(index).map_or(usize::MAX, |i| i.saturating_add(1)),
                cells,
            }
        })
        .collect();
    Ok(Sheet {
        name: name.to_owned(),
        headers,
        rows,
        date_1904,
    })
}

/// Refuses a workbook whose shared-strings part declares more strings than
/// [`MAX_SHARED_STRINGS`]. The XLSX reader reserves room for the declared count
/// (`<sst uniqueCount="…">`) before it reads a single string, so a few hundred bytes
/// declaring billions would make it allocate without bound and abort the process. Every
/// `uniqueCount` in every part named like the shared strings is checked, wherever it sits.
fn check_shared_strings(bytes: &[u8]) -> Result<(), ImportError> {
    // An archive that does not open here does not open for the XLSX reader either.
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    for i in 0..archive.len() {
        let Ok(mut part) = archive.by_index(i) else {
            continue;
        };
        let named_like_it = part
            .name()
            .is_ok_and(|name| name.to_ascii_lowercase().ends_with("sharedstrings.xml"));
        if !named_like_it {
            continue;
        }
        // Bounded: `zip_limit` checked the declared sizes, and the zip reader stops at them.
        let mut xml = Vec::new();
        if part.read_to_end(&mut xml).is_err() {
            continue;
        }
        if let Some(count) = declared_counts(&xml).find(|n| *n > MAX_SHARED_STRINGS) {
            return Err(ImportError::NotXlsx {
                detail: format!(
                    "the workbook declares {count} shared strings, more than {MAX_SHARED_STRINGS}"
                ),
            });
        }
    }
    Ok(())
}

/// The values of every `uniqueCount="digits"` attribute in `xml` (saturating at `u64::MAX`).
fn declared_counts(xml: &[u8]) -> impl Iterator<Item = u64> + '_ {
    const NAME: &[u8] = b"uniqueCount";
    xml.windows(NAME.len())
        .enumerate()
        .filter(|(_, w)| *w == NAME)
        .filter_map(|(at, _)| {
            let rest = xml.get(at + NAME.len()..)?.trim_ascii_start();
            let rest = rest.strip_prefix(b"=")?.trim_ascii_start();
            let (&quote, rest) = rest.split_first()?;
            if quote != b'"' && quote != b'\'' {
                return None;
            }
            let value = &rest[..rest.iter().position(|&b| b == quote)?];
            if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(value.iter().fold(0u64, |n, &d| {
                n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
            }))
        })
}
