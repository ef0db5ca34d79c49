//! Writing the XLSX template and exports: the 仪器 and 收费标准 sheets with their
//! headers, cell formats and drop-downs, and the 说明 sheet explaining every column,
//! the allowed values and the category codes.

use rust_xlsxwriter::{
    ColNum, DataValidation, ExcelDateTime, Format, RowNum, Workbook, Worksheet, XlsxError,
};

use super::{
    FEE_SHEET, HELP_SHEET, ImportError, MAIN_SHEET, MAX_FEE_ROWS, MAX_ROWS,
    columns::{Column, FEE_COLUMNS, Field, Kind, MAIN_COLUMNS},
    dates,
    export::Out,
    labels, money,
};
use crate::catalogue::classification::Classification;

/// The workbook with `main` rows in the 仪器 sheet and `fees` rows in 收费标准.
pub(super) fn write(main: &[Vec<Out>], fees: &[Vec<Out>]) -> Result<Vec<u8>, ImportError> {
    let classification =
        Classification::default_set().map_err(|e| ImportError::Write(e.to_string()))?;
    build(main, fees, &classification).map_err(|e| ImportError::Write(e.to_string()))
}

fn build(
    main: &[Vec<Out>],
    fees: &[Vec<Out>],
    classification: &Classification,
) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name(MAIN_SHEET)?;
    write_table(sheet, MAIN_COLUMNS, main, MAX_ROWS, &formats)?;
    let sheet = book.add_worksheet().set_name(FEE_SHEET)?;
    write_table(sheet, FEE_COLUMNS, fees, MAX_FEE_ROWS, &formats)?;
    let sheet = book.add_worksheet().set_name(HELP_SHEET)?;
    write_help(sheet, classification, &formats)?;
    book.save_to_buffer()
}

struct Formats {
    header: Format,
    required_header: Format,
    text: Format,
    long_text: Format,
    money: Format,
    date: Format,
    bold: Format,
    wrap: Format,
}

impl Formats {
    fn new() -> Self {
        let header = Format::new().set_bold().set_background_color(0xDDEBF7);
        Formats {
            required_header: header.clone().set_font_color(0xC00000),
            header,
            // "@" keeps what is typed as text, so Excel leaves codes like 0102 alone.
            text: Format::new().set_num_format("@"),
            long_text: Format::new().set_num_format("@").set_text_wrap(),
            money: Format::new().set_num_format("#,##0.00"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            bold: Format::new().set_bold(),
            wrap: Format::new().set_text_wrap(),
        }
    }

    fn of(&self, kind: Kind) -> &Format {
        match kind {
            Kind::Text | Kind::Choice => &self.text,
            Kind::LongText => &self.long_text,
            Kind::Money => &self.money,
            Kind::Date => &self.date,
        }
    }
}

fn row_num(index: usize) -> Result<RowNum, XlsxError> {
    RowNum::try_from(index).map_err(|_| XlsxError::RowColumnLimitError)
}

fn col_num(index: usize) -> Result<ColNum, XlsxError> {
    ColNum::try_from(index).map_err(|_| XlsxError::RowColumnLimitError)
}

/// Headers, column formats, drop-downs for the first `validated_rows` rows, then rows.
fn write_table(
    sheet: &mut Worksheet,
    table: &[Column],
    rows: &[Vec<Out>],
    validated_rows: usize,
    formats: &Formats,
) -> Result<(), XlsxError> {
    for (i, column) in table.iter().enumerate() {
        let col = col_num(i)?;
        let width = match column.kind {
            Kind::LongText => 30,
            Kind::Date => 12,
            Kind::Text | Kind::Choice | Kind::Money => 14,
        };
        sheet.set_column_width(col, width)?;
        sheet.set_column_format(col, formats.of(column.kind))?;
        let header_format = if column.required {
            &formats.required_header
        } else {
            &formats.header
        };
        sheet.write_string_with_format(0, col, column.header, header_format)?;
        if let Some(validation) = drop_down(column.field)? {
            sheet.add_data_validation(1, col, row_num(validated_rows)?, col, &validation)?;
        }
    }
    sheet.set_freeze_panes(1, 1)?;
    for (r, cells) in rows.iter().enumerate() {
        let row = row_num(r + 1)?;
        for ((c, cell), column) in cells.iter().enumerate().zip(table) {
            write_cell(
                sheet,
                row,
                col_num(c)?,
                cell,
                formats.of(column.kind),
                formats,
            )?;
        }
    }
    Ok(())
}

fn write_cell(
    sheet: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    cell: &Out,
    format: &Format,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Out::Text(text) if text.is_empty() => {}
        Out::Text(text) => {
            sheet.write_string_with_format(row, col, text, format)?;
        }
        Out::Money(fen) => {
            sheet.write_number_with_format(row, col, money::to_number(*fen), &formats.money)?;
        }
        Out::Date(date) => match dates::ymd(date) {
            Some((y, m, d)) => {
                let date = ExcelDateTime::from_ymd(y, m, d)?;
                sheet.write_datetime_with_format(row, col, &date, &formats.date)?;
            }
            None if date.is_empty() => {}
            None => {
                sheet.write_string_with_format(row, col, date, &formats.text)?;
            }
        },
    }
    Ok(())
}

/// A drop-down of the allowed words for the columns that have a few fixed values.
fn drop_down(field: Field) -> Result<Option<DataValidation>, XlsxError> {
    let words: Vec<&str> = match field {
        Field::Status => labels::STATUSES.iter().map(|(_, w)| *w).collect(),
        Field::SharingScope => labels::SCOPES.iter().map(|(_, w)| *w).collect(),
        Field::FeeUnit => labels::UNITS.iter().map(|(_, w)| *w).collect(),
        _ => return Ok(None),
    };
    let validation = DataValidation::new()
        .allow_list_strings(words.as_slice())?
        .set_error_title("取值无效")?
        .set_error_message(format!("请从下拉列表中选择：{}", words.join("、")))?;
    Ok(Some(validation))
}

/// General rules shown at the top of the 说明 sheet.
const RULES: &[&str] = &[
    "“仪器”工作表每行填写一台仪器，第 1 行是表头。表头文字请勿修改；列的顺序可以调整，不用的选填列可以删除。",
    "红色表头为必填列。金额单位为元，最多两位小数；日期格式为 YYYY-MM-DD。",
    "价格分四类用户：本单位、联盟成员（其他联盟成员单位）、校外学术（联盟外的高校、科研院所及个人）、企业；每类分材料费、运行费、人工费三项。",
    "一台仪器有多个收费项目时，第一个填在“仪器”工作表，其余每项一行填在“收费标准”工作表，用仪器编号对应。CSV 文件只能填写一个收费项目。",
    "同一文件中仪器编号不能重复；完全空白的行会被跳过。导入时会逐行检查，并列出每一行的全部问题。",
    "本“说明”工作表在导入时会被忽略。",
];

fn write_help(
    sheet: &mut Worksheet,
    classification: &Classification,
    formats: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_column_width(0, 12)?;
    sheet.set_column_width(1, 20)?;
    sheet.set_column_width(2, 30)?;
    sheet.set_column_width(3, 80)?;
    let mut row: RowNum = 0;
    sheet.write_string_with_format(row, 0, "填写说明", &formats.bold)?;
    for rule in RULES {
        row += 1;
        sheet.write_string(row, 0, *rule)?;
    }

    row += 2;
    for (c, title) in ["工作表", "列名", "是否必填", "填写说明"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(row, col_num(c)?, *title, &formats.header)?;
    }
    let tables = [(MAIN_SHEET, MAIN_COLUMNS), (FEE_SHEET, FEE_COLUMNS)];
    for (sheet_name, table) in tables {
        for column in table {
            row += 1;
            sheet.write_string(row, 0, sheet_name)?;
            sheet.write_string(row, 1, column.header)?;
            sheet.write_string(row, 2, if column.required { "必填" } else { "选填" })?;
            sheet.write_string_with_format(row, 3, column.note, &formats.wrap)?;
        }
    }

    row += 2;
    sheet.write_string_with_format(row, 0, "分类代码表", &formats.bold)?;
    row += 1;
    for (c, title) in ["分类代码", "中文名称", "英文名称"].iter().enumerate() {
        sheet.write_string_with_format(row, col_num(c)?, *title, &formats.header)?;
    }
    for top in classification.top_level() {
        for (category, indent) in
            std::iter::once((top, "")).chain(top.sub.iter().map(|s| (s, "　　")))
        {
            row += 1;
            sheet.write_string_with_format(row, 0, &category.code, &formats.text)?;
            sheet.write_string(row, 1, format!("{indent}{}", category.name_zh))?;
            sheet.write_string(row, 2, &category.name_en)?;
        }
    }
    Ok(())
}
