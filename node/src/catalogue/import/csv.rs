//! Reading a CSV file: UTF-8 with or without BOM, comma separated, quoted the way Excel
//! writes it. Rows are numbered as a spreadsheet shows the file: a blank line is a row,
//! a quoted cell with line breaks is still one row.

use ::csv::{Position, ReaderBuilder, StringRecord};

use crate::spreadsheet::unguard;

use super::{
    ImportError, MAIN_SHEET, MAX_COLUMNS, MAX_ROWS,
    cell::{Cell, Row, Sheet},
};

/// The UTF-8 byte order mark Excel writes at the start of "CSV UTF-8" files.
pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the file as the 仪器 sheet; its first row is the header.
pub(super) fn read(bytes: &[u8]) -> Result<Sheet, ImportError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    // Excel in China saves plain "CSV" as GBK; say so rather than show garbage.
    std::str::from_utf8(bytes).map_err(|_| ImportError::NotUtf8Csv)?;
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut sheet = Sheet {
        name: MAIN_SHEET.to_owned(),
        headers: Vec::new(),
        rows: Vec::new(),
        date_1904: false,
    };
    let mut record = StringRecord::new();
    let mut numbers = RowNumbers::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(ImportError::BadCsv {
                    row: numbers.last + 1,
                    detail: e.to_string(),
                });
            }
        }
        let number = numbers.next(&record, reader.position(), bytes);
        if record
            .iter()
            .skip(MAX_COLUMNS)
            .any(|f| !f.trim().is_empty())
        {
            return Err(ImportError::TooManyColumns {
                sheet: sheet.name,
                limit: MAX_COLUMNS,
            });
        }
        let cells: Vec<(usize, Cell)> = record
            .iter()
            .enumerate()
            .filter_map(|(i, field)| Cell::from_text(unguard(field)).map(|cell| (i, cell)))
            .collect();
        if number == 1 {
            sheet.headers = cells
                .into_iter()
                .map(|(i, c)| (i, c.header_text()))
                .collect();
        } else if !cells.is_empty() {
            if sheet.rows.len() >= MAX_ROWS {
                return Err(ImportError::TooManyRows {
                    sheet: sheet.name,
                    limit: MAX_ROWS,
                });
            }
            sheet.rows.push(Row { number, cells });
        }
    }
    Ok(sheet)
}

/// Turns the csv reader's line numbers into spreadsheet row numbers. The reader counts
/// every line feed, including those of blank lines (which it skips) and those inside
/// quoted cells; only the latter must be taken back out.
#[derive(Debug, Default)]
struct RowNumbers {
    /// Line feeds inside the cells of the records read so far.
    inside_cells: u64,
    /// The previous record's row number.
    last: usize,
}

impl RowNumbers {
    /// The row number of `record`, which the reader just read, ending at `end`.
    fn next(&mut self, record: &StringRecord, end: &Position, text: &[u8]) -> usize {
        let inside: u64 = record
            .iter()
            .map(|f| f.bytes().filter(|&b| b == b'\n').count() as u64)
            .sum();
        let ends_in_line_feed = end
            .byte()
            .checked_sub(1)
            .and_then(|i| text.get(usize::try_from(i).ok()?))
            == Some(&b'\n');
        let first_line = end
            .line()
            .saturating_sub(inside)
            .saturating_sub(u64::from(ends_in_line_feed));
        let number = usize::try_from(first_line.saturating_sub(self.inside_cells)).unwrap_or(0);
        self.inside_cells += inside;
        // Lone CR line ends (old Mac files) do not advance the line count; keep the
        // numbers increasing all the same.
        let number = number.max(self.last + 1);
        self.last = number;
        number
    }
}
