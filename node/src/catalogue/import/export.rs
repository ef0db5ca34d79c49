//! Records to rows in the template's layout, written as CSV here and as XLSX by
//! `workbook`; and the template itself, which is the export of one example instrument.

use std::str::FromStr;

use alliance_protocol::{
    ids::InstitutionId,
    record::{
        Contact, FeeComponents, FeeItem, FeeUnit, InstrumentRecord, InstrumentStatus, Location,
        ServiceMode, SharingScope,
    },
};

use super::{
    ImportError,
    columns::{Column, FEE_COLUMNS, Field, MAIN_COLUMNS, Part},
    csv::BOM,
    labels, money, workbook,
};

/// One cell to write.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Out {
    /// Text; empty for an empty cell.
    Text(String),
    /// An amount in fen.
    Money(i64),
    /// A `YYYY-MM-DD` date, or "".
    Date(String),
}

impl Out {
    fn text(s: &str) -> Out {
        Out::Text(s.to_owned())
    }

    /// The cell as CSV text. Text that a spreadsheet would run as a formula (`=`, `+`,
    /// `-`, `@`, tab or carriage return first) gets a leading `'`, which spreadsheets show
    /// as plain text and the importer removes again.
    fn csv(&self) -> String {
        match self {
            Out::Text(s) => crate::spreadsheet::guard(s).into_owned(),
            Out::Date(s) => s.clone(),
            Out::Money(fen) => money::format_yuan(*fen),
        }
    }
}

pub(super) fn export_xlsx(records: &[InstrumentRecord]) -> Result<Vec<u8>, ImportError> {
    let main: Vec<Vec<Out>> = records.iter().map(main_row).collect();
    let fees: Vec<Vec<Out>> = records
        .iter()
        .flat_map(|r| r.fees.iter().skip(1).map(|fee| fee_row(&r.local_id, fee)))
        .collect();
    workbook::write(&main, &fees)
}

pub(super) fn export_csv(records: &[InstrumentRecord]) -> Vec<u8> {
    let mut out = BOM.to_vec();
    write_csv_line(&mut out, MAIN_COLUMNS.iter().map(|c| c.header.to_owned()));
    for record in records {
        write_csv_line(&mut out, main_row(record).iter().map(Out::csv));
    }
    out
}

pub(super) fn template_xlsx() -> Result<Vec<u8>, ImportError> {
    export_xlsx(&example())
}

pub(super) fn template_csv() -> Vec<u8> {
    export_csv(&example())
}

/// A record's row of the 仪器 sheet, one cell per column of [`MAIN_COLUMNS`]; its
/// first fee item goes on the row.
fn main_row(r: &InstrumentRecord) -> Vec<Out> {
    MAIN_COLUMNS.iter().map(|c| main_value(r, c)).collect()
}

/// A row of the 收费标准 sheet, one cell per column of [`FEE_COLUMNS`].
fn fee_row(local_id: &str, fee: &FeeItem) -> Vec<Out> {
    FEE_COLUMNS
        .iter()
        .map(|c| match c.field {
            Field::LocalId => Out::text(local_id),
            field => fee_value(Some(fee), field),
        })
        .collect()
}

fn main_value(r: &InstrumentRecord, column: &Column) -> Out {
    match column.field {
        Field::LocalId => Out::text(&r.local_id),
        Field::NameZh => Out::text(&r.name_zh),
        Field::NameEn => Out::text(&r.name_en),
        Field::Model => Out::text(&r.model),
        Field::Specification => Out::text(&r.specification),
        Field::OriginalValue => Out::Money(r.original_value_fen),
        Field::CountryOfOrigin => Out::text(&r.country_of_origin),
        Field::Manufacturer => Out::text(&r.manufacturer),
        Field::ManufactureDate => Out::Date(r.manufacture_date.clone()),
        Field::PurchaseDate => Out::Date(r.purchase_date.clone()),
        Field::AcceptanceDate => Out::Date(r.acceptance_date.clone()),
        Field::NetworkedDate => Out::Date(r.networked_date.clone()),
        Field::AssetNumber => Out::text(&r.asset_number),
        Field::ClassificationCode => Out::text(&r.classification_code),
        Field::City => Out::text(&r.location.city),
        Field::Campus => Out::text(&r.location.campus),
        Field::Building => Out::text(&r.location.building),
        Field::Room => Out::text(&r.location.room),
        Field::MainSpecifications => Out::text(&r.main_specifications),
        Field::MainFunctions => Out::text(&r.main_functions),
        Field::Accessories => Out::text(&r.accessories),
        Field::PersonInCharge => Out::text(&r.contact.person_in_charge),
        Field::ContactName => Out::text(&r.contact.contact_name),
        Field::Phone => Out::text(&r.contact.phone),
        Field::Email => Out::text(&r.contact.email),
        Field::OpeningHours => Out::text(&r.opening_hours),
        Field::ServiceModes => Out::Text(labels::format_service_modes(&r.service_modes)),
        Field::RequiredTraining => Out::text(&r.required_training),
        Field::Certification => Out::text(&r.certification),
        Field::Status => Out::text(labels::word(labels::STATUSES, &r.status)),
        Field::SharingScope => Out::text(labels::word(labels::SCOPES, &r.sharing_scope)),
        field @ (Field::FeeItemZh | Field::FeeItemEn | Field::FeeUnit | Field::Price(..)) => {
            fee_value(r.fees.first(), field)
        }
    }
}

/// A fee item's cell; empty without a fee item.
fn fee_value(fee: Option<&FeeItem>, field: Field) -> Out {
    let Some(fee) = fee else {
        return Out::Text(String::new());
    };
    match field {
        Field::FeeItemZh => Out::text(&fee.item_zh),
        Field::FeeItemEn => Out::text(&fee.item_en),
        Field::FeeUnit => Out::text(labels::word(labels::UNITS, &fee.unit)),
        Field::Price(tier, part) => {
            let price = fee.price(tier);
            Out::Money(match part {
                Part::Materials => price.materials_fen,
                Part::Operating => price.operating_fen,
                Part::Labour => price.labour_fen,
            })
        }
        _ => Out::Text(String::new()),
    }
}

/// Appends one CSV line, quoting fields only where needed, with Excel's CRLF ending.
fn write_csv_line(out: &mut Vec<u8>, fields: impl Iterator<Item = String>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let needs_quotes = field.contains([',', '"', '\n', '\r'])
            || field.starts_with(char::is_whitespace)
            || field.ends_with(char::is_whitespace);
        if needs_quotes {
            out.push(b'"');
            out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(field.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// The template's example instrument, with two fee items (XLSX shows both).
fn example() -> Vec<InstrumentRecord> {
    // A constant valid id: the template never names a real institution.
    let Ok(institution) = InstitutionId::from_str("example") else {
        return Vec::new();
    };
    let mut r = InstrumentRecord::new(
        institution,
        "ICPMS-001".to_owned(),
        "电感耦合等离子体质谱仪".to_owned(),
    );
    r.name_en = "Inductively coupled plasma mass spectrometer".to_owned();
    r.model = "iCAP RQ".to_owned();
    r.specification = "台式".to_owned();
    r.original_value_fen = 215_000_000;
    r.country_of_origin = "美国".to_owned();
    r.manufacturer = "示例仪器公司".to_owned();
    r.manufacture_date = "2019-06-01".to_owned();
    r.purchase_date = "2019-09-15".to_owned();
    r.acceptance_date = "2019-11-20".to_owned();
    r.networked_date = "2020-03-01".to_owned();
    r.asset_number = "2019012345".to_owned();
    r.classification_code = "0102".to_owned();
    r.location = Location {
        city: "大连".to_owned(),
        campus: "主校区".to_owned(),
        building: "分析测试中心".to_owned(),
        room: "B215".to_owned(),
    };
    r.main_specifications = "质量范围 2–290 amu；检出限优于 1 ppt".to_owned();
    r.main_functions = "痕量元素定量分析；同位素比值测定".to_owned();
    r.accessories = "自动进样器".to_owned();
    r.contact = Contact {
        person_in_charge: "张明".to_owned(),
        contact_name: "李华".to_owned(),
        phone: "0411-84701234".to_owned(),
        email: "lihua@example.edu.cn".to_owned(),
    };
    r.opening_hours = "周一至周五 8:30–17:00".to_owned();
    r.service_modes = vec![ServiceMode::SelfOperated, ServiceMode::StaffRun];
    r.required_training = "自主上机须通过平台培训考核".to_owned();
    r.certification = "CMA".to_owned();
    r.status = InstrumentStatus::InService;
    r.sharing_scope = SharingScope::OpenToSociety;
    r.fees = vec![
        example_fee(
            "元素定量分析",
            "Elemental quantification",
            [5_000, 3_000, 2_000],
        ),
        example_fee(
            "同位素比值测定",
            "Isotope ratio measurement",
            [8_000, 4_000, 3_000],
        ),
    ];
    vec![r]
}

/// A fee item per sample whose own-institution price is `own` (materials, operating,
/// labour, in fen); other users pay more, as is usual.
fn example_fee(item_zh: &str, item_en: &str, own: [i64; 3]) -> FeeItem {
    let [materials, operating, labour] = own;
    let price = |percent: i64| FeeComponents {
        materials_fen: materials * percent / 100,
        operating_fen: operating * percent / 100,
        labour_fen: labour * percent / 100,
    };
    FeeItem {
        item_zh: item_zh.to_owned(),
        item_en: item_en.to_owned(),
        unit: FeeUnit::Sample,
        own_institution: price(100),
        alliance_member: price(150),
        outside_academic: price(200),
        enterprise: price(300),
    }
}
