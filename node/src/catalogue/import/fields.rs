//! Reading one row's cells as typed values. Every read that fails records a
//! [`CellError`] for its column and yields a neutral value, so a row's errors are all
//! found in one pass.

use alliance_protocol::record::{
    FeeComponents, FeeItem, FeeUnit, MAX_LONG_TEXT, MAX_SHORT_TEXT, ServiceMode, UserTier,
    is_valid_local_id,
};

use super::{
    CellError,
    cell::{Cell, Row},
    columns::{Field, Layout, PRICES, Part, header_of},
    dates, labels,
    money::{self, MAX_PRICE_FEN},
};
use crate::catalogue::classification::Classification;

/// Longest short text (names, model, contact fields), in bytes.
pub(super) const SHORT: usize = MAX_SHORT_TEXT;
/// Longest long text (specifications, functions, hours), in bytes.
pub(super) const LONG: usize = MAX_LONG_TEXT;

/// The cells of one row, and the errors found so far.
#[derive(Debug)]
pub(super) struct RowReader<'a> {
    layout: &'a Layout,
    /// The row's number in its sheet.
    number: usize,
    /// The row's cells by index into the layout's table.
    cells: Vec<Option<&'a Cell>>,
    date_1904: bool,
    /// Set for 收费标准 rows: errors then name that sheet and the row.
    fee_sheet: bool,
    pub errors: Vec<CellError>,
}

impl<'a> RowReader<'a> {
    /// A reader for a row of the 仪器 sheet.
    pub(super) fn main(layout: &'a Layout, row: &'a Row, date_1904: bool) -> Self {
        let mut cells = vec![None; layout.table.len()];
        for (column, cell) in &row.cells {
            if let Some(slot) = layout.slot(*column).and_then(|i| cells.get_mut(i)) {
                *slot = Some(cell);
            }
        }
        RowReader {
            layout,
            number: row.number,
            cells,
            date_1904,
            fee_sheet: false,
            errors: Vec::new(),
        }
    }

    /// A reader for a row of the 收费标准 sheet.
    pub(super) fn fee(layout: &'a Layout, row: &'a Row, date_1904: bool) -> Self {
        RowReader {
            fee_sheet: true,
            ..RowReader::main(layout, row, date_1904)
        }
    }

    fn cell(&self, field: Field) -> Option<&'a Cell> {
        let index = self.layout.table.iter().position(|c| c.field == field)?;
        self.cells.get(index).copied().flatten()
    }

    /// Records an error for `field`'s column.
    pub(super) fn error(&mut self, field: Field, message: impl Into<String>) {
        let header = header_of(self.layout.table, field);
        let message = message.into();
        self.errors.push(if self.fee_sheet {
            CellError::new(
                format!("{}/{header}", super::FEE_SHEET),
                format!("{}第 {} 行：{message}", super::FEE_SHEET, self.number),
            )
        } else {
            CellError::new(header, message)
        });
    }

    /// The cell's text ("" if empty), or `None` after recording why it is unusable.
    pub(super) fn text(&mut self, field: Field, max: usize) -> Option<String> {
        let Some(cell) = self.cell(field) else {
            return Some(String::new());
        };
        match cell.text() {
            Ok(text) if text.len() > max => {
                self.error(
                    field,
                    format!("内容过长：不能超过 {max} 字节（约 {} 个汉字）", max / 3),
                );
                None
            }
            Ok(text) => Some(text),
            Err(message) => {
                self.error(field, message);
                None
            }
        }
    }

    /// Like [`RowReader::text`], and an error if the cell is empty.
    pub(super) fn required_text(&mut self, field: Field, max: usize) -> Option<String> {
        let text = self.text(field, max)?;
        if text.is_empty() {
            self.error(field, "必须填写");
            return None;
        }
        Some(text)
    }

    /// The 仪器编号 as written ("" if empty), checked for the allowed characters.
    pub(super) fn local_id(&mut self) -> String {
        let written = self
            .cell(Field::LocalId)
            .map_or(Ok(String::new()), Cell::text);
        match written {
            Ok(id) if id.is_empty() => {
                self.error(Field::LocalId, "必须填写");
                id
            }
            Ok(id) if !is_valid_local_id(&id) => {
                self.error(
                    Field::LocalId,
                    format!(
                        "“{id}”不是有效的仪器编号：只能使用 1 到 64 个英文字母、数字或 - _ . 字符"
                    ),
                );
                id
            }
            Ok(id) => id,
            Err(message) => {
                self.error(Field::LocalId, message);
                String::new()
            }
        }
    }

    /// An amount in fen (0 if empty and not required).
    pub(super) fn money(&mut self, field: Field, max_fen: i64, required: bool) -> i64 {
        let parsed = match self.cell(field) {
            None if required => Err("必须填写".to_owned()),
            None => Ok(0),
            Some(Cell::Text(text)) => money::parse_text(text, max_fen).map_err(|e| e.message()),
            Some(Cell::Number(v)) => money::from_number(*v, max_fen).map_err(|e| e.message()),
            Some(Cell::Date(_)) => Err("应填写金额，而不是日期".to_owned()),
            Some(cell @ Cell::Error(_)) => cell.text().map(|_| 0),
        };
        parsed.unwrap_or_else(|message| {
            self.error(field, message);
            0
        })
    }

    /// A date as `YYYY-MM-DD` ("" if empty).
    pub(super) fn date(&mut self, field: Field) -> String {
        let parsed = match self.cell(field) {
            None => Ok(String::new()),
            Some(Cell::Text(text)) => dates::from_text(text, self.date_1904),
            Some(Cell::Number(v)) => dates::from_serial(*v, self.date_1904),
            Some(Cell::Date(d)) => dates::from_excel(d),
            Some(cell @ Cell::Error(_)) => cell.text(),
        };
        parsed.unwrap_or_else(|message| {
            self.error(field, message);
            String::new()
        })
    }

    /// One of the words of `table`; `None` if empty or wrong (wrong is an error, and so
    /// is empty when `required`).
    pub(super) fn choice<T: Copy>(
        &mut self,
        field: Field,
        table: &[(T, &str)],
        required: bool,
    ) -> Option<T> {
        let text = self.text(field, SHORT)?;
        if text.is_empty() {
            if required {
                self.error(field, format!("必须填写：{}", labels::allowed(table)));
            }
            return None;
        }
        let value = labels::parse(table, &text);
        if value.is_none() {
            self.error(
                field,
                format!("“{text}”不是可选的值：应填写 {}", labels::allowed(table)),
            );
        }
        value
    }

    /// The service modes, possibly none.
    pub(super) fn service_modes(&mut self) -> Vec<ServiceMode> {
        let text = self.text(Field::ServiceModes, SHORT).unwrap_or_default();
        labels::parse_service_modes(&text).unwrap_or_else(|unknown| {
            let unknown = unknown.join("”“");
            self.error(
                Field::ServiceModes,
                format!(
                    "“{unknown}”不是可选的服务方式：应填写 {}，多个用“、”分隔",
                    labels::allowed(labels::SERVICE_MODES)
                ),
            );
            Vec::new()
        })
    }

    /// The 分类代码, which must be in `classification`. A code typed as a number loses
    /// its leading zero in Excel (0102 → 102), so one- and three-digit codes get it back.
    pub(super) fn classification(&mut self, classification: &Classification) -> String {
        let Some(written) = self.required_text(Field::ClassificationCode, SHORT) else {
            return String::new();
        };
        let lost_zero =
            matches!(written.len(), 1 | 3) && written.bytes().all(|b| b.is_ascii_digit());
        let code = if lost_zero {
            format!("0{written}")
        } else {
            written.clone()
        };
        if classification.get(&code).is_none() {
            self.error(
                Field::ClassificationCode,
                format!("分类代码“{written}”不在仪器分类表中：请按“说明”工作表中的分类代码表填写"),
            );
        }
        code
    }

    /// The e-mail address ("" if empty); it must look like one.
    pub(super) fn email(&mut self) -> String {
        let email = self.text(Field::Email, SHORT).unwrap_or_default();
        if !email.is_empty() && !looks_like_email(&email) {
            self.error(
                Field::Email,
                format!("“{email}”不是有效的电子邮箱地址，应形如 name@example.edu.cn"),
            );
        }
        email
    }

    /// The fee item of the row. In the 仪器 sheet it is optional: with no 收费项目 the
    /// row has none, and then its unit and prices must be empty too. In the 收费标准
    /// sheet every row is one.
    pub(super) fn fee_item(&mut self) -> Option<FeeItem> {
        let item_zh = if self.fee_sheet {
            self.required_text(Field::FeeItemZh, SHORT)
        } else {
            self.text(Field::FeeItemZh, SHORT)
        };
        if item_zh.as_deref() == Some("") {
            self.refuse_fee_details();
            return None;
        }
        let item_en = self.text(Field::FeeItemEn, SHORT).unwrap_or_default();
        let unit = match self.choice(Field::FeeUnit, labels::UNITS, false) {
            Some(unit) => unit,
            None => {
                if self.cell(Field::FeeUnit).is_none() {
                    self.error(
                        Field::FeeUnit,
                        format!(
                            "填写了收费项目时必须填写计费单位：{}",
                            labels::allowed(labels::UNITS)
                        ),
                    );
                }
                FeeUnit::Unspecified
            }
        };
        let mut fee = FeeItem {
            item_zh: item_zh.unwrap_or_default(),
            item_en,
            unit,
            own_institution: FeeComponents::default(),
            alliance_member: FeeComponents::default(),
            outside_academic: FeeComponents::default(),
            enterprise: FeeComponents::default(),
        };
        for (tier, part) in PRICES {
            let fen = self.money(Field::Price(tier, part), MAX_PRICE_FEN, false);
            set_price(&mut fee, tier, part, fen);
        }
        (!fee.item_zh.is_empty()).then_some(fee)
    }

    /// With no 收费项目 in the 仪器 sheet, every other fee cell must be empty. (In the
    /// 收费标准 sheet an empty 收费项目 is already an error.)
    fn refuse_fee_details(&mut self) {
        let details = [Field::FeeItemEn, Field::FeeUnit]
            .into_iter()
            .chain(PRICES.map(|(tier, part)| Field::Price(tier, part)));
        for field in details {
            if self.cell(field).is_some() {
                self.error(
                    field,
                    "未填写收费项目，此列须留空；如需收费，请先填写收费项目",
                );
            }
        }
    }
}

fn set_price(fee: &mut FeeItem, tier: UserTier, part: Part, fen: i64) {
    let components = match tier {
        UserTier::OwnInstitution => &mut fee.own_institution,
        UserTier::AllianceMember => &mut fee.alliance_member,
        UserTier::OutsideAcademic => &mut fee.outside_academic,
        UserTier::Enterprise => &mut fee.enterprise,
    };
    match part {
        Part::Materials => components.materials_fen = fen,
        Part::Operating => components.operating_fen = fen,
        Part::Labour => components.labour_fen = fen,
    }
}

/// A plain shape check: one @, something before it, a dotted domain after it, no
/// spaces. Whether the mailbox exists is not ours to know.
fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}
