//! A cell as read from either file format, and a sheet of them: the common ground of
//! the CSV and XLSX readers and the row parser. Empty cells are not kept.

use calamine::{DataRef, ExcelDateTime};

/// A non-empty cell.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    /// Text, trimmed, never empty.
    Text(String),
    /// An XLSX number.
    Number(f64),
    /// An XLSX date cell: a serial number shown with a date format.
    Date(ExcelDateTime),
    /// An XLSX error value such as `#N/A`.
    Error(String),
}

impl Cell {
    /// Trimmed text, or `None` if nothing is left.
    pub(super) fn from_text(text: &str) -> Option<Cell> {
        let text = text.trim();
        (!text.is_empty()).then(|| Cell::Text(text.to_owned()))
    }

    /// A cell of an XLSX sheet, or `None` if it is empty.
    pub(super) fn from_xlsx(value: &DataRef<'_>) -> Option<Cell> {
        match value {
            DataRef::Int(i) => Some(Cell::Number(*i as f64)),
            DataRef::Float(f) => Some(Cell::Number(*f)),
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                Cell::from_text(s)
            }
            DataRef::SharedString(s) => Cell::from_text(s),
            DataRef::Bool(b) => Some(Cell::Text(if *b { "TRUE" } else { "FALSE" }.to_owned())),
            DataRef::DateTime(d) if d.is_datetime() => Some(Cell::Date(*d)),
            DataRef::DateTime(d) => Some(Cell::Number(d.as_f64())),
            DataRef::Error(e) => Some(Cell::Error(e.to_string())),
            DataRef::Empty => None,
        }
    }

    /// The cell as text, as the user sees it: whole numbers without a decimal point
    /// (ids and phone numbers typed as numbers), dates as `YYYY-MM-DD`.
    pub(super) fn text(&self) -> Result<String, String> {
        match self {
            Cell::Text(s) => Ok(s.clone()),
            Cell::Number(v) => Ok(number_text(*v)),
            Cell::Date(d) => {
                let (y, m, d, ..) = d.to_ymd_hms_milli();
                Ok(format!("{y:04}-{m:02}-{d:02}"))
            }
            Cell::Error(e) => Err(format!("单元格是 Excel 错误值 {e}，请改为正确的内容")),
        }
    }

    /// The text of a header cell; never fails, an error value is its own name.
    pub(super) fn header_text(&self) -> String {
        match self {
            Cell::Error(e) => e.clone(),
            other => other.text().unwrap_or_default(),
        }
    }
}

/// A number as Excel shows it in a General cell: whole numbers without ".0".
pub(super) fn number_text(v: f64) -> String {
    // Beyond 2^53 not every integer is a float, so whole-number printing stops short.
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The spreadsheet name of a 0-based column: A, B, …, Z, AA, AB, …
pub(super) fn column_letters(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index.saturating_add(1);
    while n > 0 {
        let rest = (n - 1) % 26;
        letters.push(char::from(b'A' + rest as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// One non-empty row of a sheet.
#[derive(Debug, Clone)]
pub(super) struct Row {
    /// 1-based, as the user sees it; the header is row 1.
    pub number: usize,
    /// (0-based column, cell), only non-empty cells, in column order.
    pub cells: Vec<(usize, Cell)>,
}

/// A sheet as read: its header row and its non-empty data rows.
#[derive(Debug, Clone)]
pub(super) struct Sheet {
    /// The sheet's name, for messages.
    pub name: String,
    /// (0-based column, header text) of the non-empty header cells.
    pub headers: Vec<(usize, String)>,
    pub rows: Vec<Row>,
    /// Whether plain numbers in date columns count from 1904 (an old Mac Excel option).
    pub date_1904: bool,
}
