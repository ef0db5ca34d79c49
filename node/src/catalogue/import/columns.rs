//! The header tables of the 仪器 and 收费标准 sheets, in template order, and the
//! matching of a sheet's headers against them.

use alliance_protocol::record::UserTier;

use super::{
    ImportError,
    cell::{Sheet, column_letters},
};

use Field::*;
use Kind::{Choice, Date, LongText, Money, Text};
use Part::*;
use UserTier::*;

/// One of the three parts of a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Materials,
    Operating,
    Labour,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    LocalId,
    NameZh,
    NameEn,
    Model,
    Specification,
    OriginalValue,
    CountryOfOrigin,
    Manufacturer,
    ManufactureDate,
    PurchaseDate,
    AcceptanceDate,
    NetworkedDate,
    AssetNumber,
    ClassificationCode,
    City,
    Campus,
    Building,
    Room,
    MainSpecifications,
    MainFunctions,
    Accessories,
    PersonInCharge,
    ContactName,
    Phone,
    Email,
    OpeningHours,
    ServiceModes,
    RequiredTraining,
    Certification,
    Status,
    SharingScope,
    FeeItemZh,
    FeeItemEn,
    FeeUnit,
    Price(UserTier, Part),
}

/// How a column is written to XLSX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Text kept as typed (so Excel keeps leading zeros of codes and ids).
    Text,
    /// Text that may run long; written wide and wrapped.
    LongText,
    /// Yuan with two decimals.
    Money,
    /// A date.
    Date,
    /// One of a few fixed words (see `labels`), offered as a drop-down.
    Choice,
}

/// One column of a sheet.
#[derive(Debug)]
pub(super) struct Column {
    /// The Chinese header, exactly as in the template.
    pub header: &'static str,
    pub field: Field,
    /// Whether the header must be present (a required value is checked per row).
    pub required: bool,
    pub kind: Kind,
    /// What to write in it, for the 说明 sheet.
    pub note: &'static str,
}

const fn col(
    header: &'static str,
    field: Field,
    required: bool,
    kind: Kind,
    note: &'static str,
) -> Column {
    Column {
        header,
        field,
        required,
        kind,
        note,
    }
}

const DATE_NOTE: &str = "格式 YYYY-MM-DD，如 2019-06-01；也可填 2019/6/1 或 Excel 日期；可留空";
const PRICE_NOTE: &str = "该类用户每个计费单位的此项费用，单位：元，最多两位小数；留空按 0 计。\
                          未填收费项目时须留空";

/// The columns of the 仪器 sheet, in template order.
#[rustfmt::skip]
pub(super) const MAIN_COLUMNS: &[Column] = &[
    col("仪器编号", LocalId, true, Text,
        "本单位内唯一的仪器编号：1 到 64 个英文字母、数字或 - _ . 字符"),
    col("中文名称", NameZh, true, Text, "仪器的中文名称"),
    col("英文名称", NameEn, false, Text, "仪器的英文名称"),
    col("型号", Model, false, Text, "生产厂商的型号"),
    col("规格", Specification, false, Text, "规格"),
    col("原值（元）", OriginalValue, true, Money,
        "购置原值，单位：元，最多两位小数，不能为负数；可写千分位逗号，如 1,234.50"),
    col("产地国别", CountryOfOrigin, false, Text, "如：中国、美国、德国"),
    col("生产厂商", Manufacturer, false, Text, "生产厂商名称"),
    col("出厂日期", ManufactureDate, false, Date, DATE_NOTE),
    col("购置日期", PurchaseDate, false, Date, DATE_NOTE),
    col("验收日期", AcceptanceDate, false, Date, DATE_NOTE),
    col("入网日期", NetworkedDate, false, Date, DATE_NOTE),
    col("资产编号", AssetNumber, false, Text, "本单位固定资产编号"),
    col("分类代码", ClassificationCode, true, Text,
        "仪器分类代码，见本表下方的分类代码表，如 0102（质谱仪器）"),
    col("所在城市", City, false, Text, "如：大连"),
    col("校区", Campus, false, Text, "校区或园区"),
    col("楼宇", Building, false, Text, "所在楼宇"),
    col("房间", Room, false, Text, "房间号"),
    col("主要技术指标", MainSpecifications, false, LongText, "主要技术指标，可换行"),
    col("主要功能及特色", MainFunctions, false, LongText, "主要功能及特色，可换行"),
    col("主要附件", Accessories, false, LongText, "主要附件"),
    col("负责人", PersonInCharge, false, Text, "仪器负责人姓名"),
    col("联系人", ContactName, false, Text, "预约联系人姓名"),
    col("联系电话", Phone, false, Text, "如：0411-84701234"),
    col("电子邮箱", Email, false, Text, "如：name@example.edu.cn；可留空"),
    col("开放机时安排", OpeningHours, false, LongText, "如：周一至周五 8:30–17:00"),
    col("服务方式", ServiceModes, false, Text,
        "自主上机、送样检测，可填一种或两种，多个用“、”分隔；可留空"),
    col("培训要求", RequiredTraining, false, LongText, "自主上机前须完成的培训"),
    col("资质认证", Certification, false, LongText, "如：CMA、CNAS"),
    col("状态", Status, true, Choice, "在用、维修 或 报废"),
    col("共享范围", SharingScope, true, Choice, "对社会开放、联盟内共享 或 仅本单位"),
    col("收费项目", FeeItemZh, false, Text,
        "一个收费项目的名称；更多收费项目填在“收费标准”工作表（仅 XLSX）。\
         留空表示此行没有收费项目，此时计费单位和各项价格也须留空"),
    col("收费项目（英文）", FeeItemEn, false, Text, "收费项目的英文名称；可留空"),
    col("计费单位", FeeUnit, false, Choice, "小时、样品 或 机次；填写收费项目时必填"),
    col("本单位-材料费", Price(OwnInstitution, Materials), false, Money, PRICE_NOTE),
    col("本单位-运行费", Price(OwnInstitution, Operating), false, Money, PRICE_NOTE),
    col("本单位-人工费", Price(OwnInstitution, Labour), false, Money, PRICE_NOTE),
    col("联盟成员-材料费", Price(AllianceMember, Materials), false, Money, PRICE_NOTE),
    col("联盟成员-运行费", Price(AllianceMember, Operating), false, Money, PRICE_NOTE),
    col("联盟成员-人工费", Price(AllianceMember, Labour), false, Money, PRICE_NOTE),
    col("校外学术-材料费", Price(OutsideAcademic, Materials), false, Money, PRICE_NOTE),
    col("校外学术-运行费", Price(OutsideAcademic, Operating), false, Money, PRICE_NOTE),
    col("校外学术-人工费", Price(OutsideAcademic, Labour), false, Money, PRICE_NOTE),
    col("企业-材料费", Price(Enterprise, Materials), false, Money, PRICE_NOTE),
    col("企业-运行费", Price(Enterprise, Operating), false, Money, PRICE_NOTE),
    col("企业-人工费", Price(Enterprise, Labour), false, Money, PRICE_NOTE),
];

/// The columns of the 收费标准 sheet: each row adds a fee item to an instrument.
#[rustfmt::skip]
pub(super) const FEE_COLUMNS: &[Column] = &[
    col("仪器编号", LocalId, true, Text, "“仪器”工作表中已有的仪器编号"),
    col("收费项目", FeeItemZh, true, Text, "收费项目的名称"),
    col("收费项目（英文）", FeeItemEn, false, Text, "收费项目的英文名称；可留空"),
    col("计费单位", FeeUnit, true, Choice, "小时、样品 或 机次"),
    col("本单位-材料费", Price(OwnInstitution, Materials), false, Money, PRICE_NOTE),
    col("本单位-运行费", Price(OwnInstitution, Operating), false, Money, PRICE_NOTE),
    col("本单位-人工费", Price(OwnInstitution, Labour), false, Money, PRICE_NOTE),
    col("联盟成员-材料费", Price(AllianceMember, Materials), false, Money, PRICE_NOTE),
    col("联盟成员-运行费", Price(AllianceMember, Operating), false, Money, PRICE_NOTE),
    col("联盟成员-人工费", Price(AllianceMember, Labour), false, Money, PRICE_NOTE),
    col("校外学术-材料费", Price(OutsideAcademic, Materials), false, Money, PRICE_NOTE),
    col("校外学术-运行费", Price(OutsideAcademic, Operating), false, Money, PRICE_NOTE),
    col("校外学术-人工费", Price(OutsideAcademic, Labour), false, Money, PRICE_NOTE),
    col("企业-材料费", Price(Enterprise, Materials), false, Money, PRICE_NOTE),
    col("企业-运行费", Price(Enterprise, Operating), false, Money, PRICE_NOTE),
    col("企业-人工费", Price(Enterprise, Labour), false, Money, PRICE_NOTE),
];

/// The twelve price fields, in column order.
pub(super) const PRICES: [(UserTier, Part); 12] = [
    (OwnInstitution, Materials),
    (OwnInstitution, Operating),
    (OwnInstitution, Labour),
    (AllianceMember, Materials),
    (AllianceMember, Operating),
    (AllianceMember, Labour),
    (OutsideAcademic, Materials),
    (OutsideAcademic, Operating),
    (OutsideAcademic, Labour),
    (Enterprise, Materials),
    (Enterprise, Operating),
    (Enterprise, Labour),
];

/// The header of `field` in `table` (every field used in a table is in it).
pub(super) fn header_of(table: &[Column], field: Field) -> &'static str {
    table
        .iter()
        .find(|c| c.field == field)
        .map_or("", |c| c.header)
}

/// A header as typed, reduced to the template's spelling: without whitespace or a
/// "required" star, with ASCII parentheses made full-width as in the template.
fn normalize(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect::<String>()
        .trim_matches(['*', '＊'])
        .to_owned()
}

/// Where each column of the table sits in a sheet.
#[derive(Debug)]
pub(super) struct Layout {
    pub table: &'static [Column],
    /// Pairs of (sheet column, index into `table`).
    slots: Vec<(usize, usize)>,
}

impl Layout {
    /// Matches the sheet's headers against `table`. Refuses unknown, repeated and
    /// missing required headers, and content in a column without a header.
    pub(super) fn new(sheet: &Sheet, table: &'static [Column]) -> Result<Layout, ImportError> {
        let mut slots: Vec<(usize, usize)> = Vec::new();
        let (mut unknown, mut repeated) = (Vec::new(), Vec::new());
        for (column, text) in &sheet.headers {
            let name = normalize(text);
            if name.is_empty() {
                continue;
            }
            match table.iter().position(|c| c.header == name) {
                Some(i) if slots.iter().any(|&(_, j)| j == i) => repeated.push(name),
                Some(i) => slots.push((*column, i)),
                None => unknown.push(text.trim().to_owned()),
            }
        }
        let missing: Vec<String> = table
            .iter()
            .enumerate()
            .filter(|(i, c)| c.required && !slots.iter().any(|(_, j)| j == i))
            .map(|(_, c)| c.header.to_owned())
            .collect();
        if !(missing.is_empty() && unknown.is_empty() && repeated.is_empty()) {
            return Err(ImportError::WrongLayout {
                sheet: sheet.name.clone(),
                missing,
                unknown,
                repeated,
            });
        }
        let layout = Layout { table, slots };
        for row in &sheet.rows {
            if let Some((column, _)) = row.cells.iter().find(|(c, _)| layout.slot(*c).is_none()) {
                return Err(ImportError::UnnamedColumn {
                    sheet: sheet.name.clone(),
                    column: column_letters(*column),
                });
            }
        }
        Ok(layout)
    }

    /// The index into `table` of the sheet's `column`, if it has a known header.
    pub(super) fn slot(&self, column: usize) -> Option<usize> {
        self.slots
            .iter()
            .find(|&&(c, _)| c == column)
            .map(|&(_, i)| i)
    }
}
