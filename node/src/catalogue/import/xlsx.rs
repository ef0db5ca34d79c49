//! Reading an XLSX workbook: the 仪器 sheet (or else the first worksheet) and the
//! optional 收费标准 sheet. Cells are streamed and only non-empty ones kept, so neither
//! a long sheet nor one far-away cell (XFD1048576) makes us build a huge grid; the
//! archive's unpacked size is checked first (see `zip_limit`).

use std::{collections::BTreeMap, io::Cursor};

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

pub(super) fn read(bytes: &[u8]) -> Result<Workbook, ImportError> {
    zip_limit::check(bytes)?;
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
