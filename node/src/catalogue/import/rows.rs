//! From read sheets to an [`ImportReport`]: each 仪器 row becomes a record or a list of
//! errors, repeated 仪器编号 are refused, and the 收费标准 rows join their instruments.

use std::collections::HashMap;

use alliance_protocol::{
    ids::InstitutionId,
    keys::SecretKey,
    limits::MAX_GOSSIP_BYTES,
    record::{Contact, InstrumentRecord, InstrumentStatus, Location, MAX_FEE_ITEMS, SharingScope},
};

use super::{
    CellError, FEE_SHEET, ImportError, ImportReport, MAIN_SHEET, RowOutcome,
    cell::{Row, Sheet},
    columns::{FEE_COLUMNS, Field, Layout, MAIN_COLUMNS, header_of},
    fields::{LONG, RowReader, SHORT},
    labels,
    money::MAX_VALUE_FEN,
};
use crate::catalogue::classification::Classification;

/// Reads every row of `main`, and of `fees` if the workbook has that sheet.
pub(super) fn build_report(
    main: &Sheet,
    fees: Option<&Sheet>,
    institution: &InstitutionId,
    classification: &Classification,
) -> Result<ImportReport, ImportError> {
    let layout = Layout::new(main, MAIN_COLUMNS)?;
    let fee_layout = fees
        .map(|sheet| Layout::new(sheet, FEE_COLUMNS).map(|layout| (sheet, layout)))
        .transpose()?;
    let mut drafts: Vec<Draft> = main
        .rows
        .iter()
        .map(|row| read_instrument(&layout, row, main.date_1904, institution, classification))
        .collect();
    refuse_repeated_ids(&mut drafts);
    let orphans = fee_layout
        .map(|(sheet, layout)| attach_fees(sheet, &layout, &mut drafts))
        .unwrap_or_default();
    let rows = drafts
        .into_iter()
        .map(Draft::finish)
        .chain(orphans)
        .collect();
    Ok(ImportReport { rows })
}

/// A row on its way to becoming an outcome.
struct Draft {
    row: usize,
    /// As written; "" if empty.
    local_id: String,
    record: InstrumentRecord,
    errors: Vec<CellError>,
}

fn read_instrument(
    layout: &Layout,
    row: &Row,
    date_1904: bool,
    institution: &InstitutionId,
    classification: &Classification,
) -> Draft {
    let mut cells = RowReader::main(layout, row, date_1904);
    let local_id = cells.local_id();
    let name_zh = cells
        .required_text(Field::NameZh, SHORT)
        .unwrap_or_default();
    let mut r = InstrumentRecord::new(institution.clone(), local_id.clone(), name_zh);
    r.name_en = cells.text(Field::NameEn, SHORT).unwrap_or_default();
    r.model = cells.text(Field::Model, SHORT).unwrap_or_default();
    r.specification = cells.text(Field::Specification, SHORT).unwrap_or_default();
    r.original_value_fen = cells.money(Field::OriginalValue, MAX_VALUE_FEN, true);
    r.country_of_origin = cells
        .text(Field::CountryOfOrigin, SHORT)
        .unwrap_or_default();
    r.manufacturer = cells.text(Field::Manufacturer, SHORT).unwrap_or_default();
    r.manufacture_date = cells.date(Field::ManufactureDate);
    r.purchase_date = cells.date(Field::PurchaseDate);
    r.acceptance_date = cells.date(Field::AcceptanceDate);
    r.networked_date = cells.date(Field::NetworkedDate);
    r.asset_number = cells.text(Field::AssetNumber, SHORT).unwrap_or_default();
    r.classification_code = cells.classification(classification);
    r.location = Location {
        city: cells.text(Field::City, SHORT).unwrap_or_default(),
        campus: cells.text(Field::Campus, SHORT).unwrap_or_default(),
        building: cells.text(Field::Building, SHORT).unwrap_or_default(),
        room: cells.text(Field::Room, SHORT).unwrap_or_default(),
    };
    r.main_specifications = cells
        .text(Field::MainSpecifications, LONG)
        .unwrap_or_default();
    r.main_functions = cells.text(Field::MainFunctions, LONG).unwrap_or_default();
    r.accessories = cells.text(Field::Accessories, LONG).unwrap_or_default();
    r.contact = Contact {
        person_in_charge: cells.text(Field::PersonInCharge, SHORT).unwrap_or_default(),
        contact_name: cells.text(Field::ContactName, SHORT).unwrap_or_default(),
        phone: cells.text(Field::Phone, SHORT).unwrap_or_default(),
        email: cells.email(),
    };
    r.opening_hours = cells.text(Field::OpeningHours, LONG).unwrap_or_default();
    r.service_modes = cells.service_modes();
    r.required_training = cells
        .text(Field::RequiredTraining, LONG)
        .unwrap_or_default();
    r.certification = cells.text(Field::Certification, LONG).unwrap_or_default();
    r.status = cells
        .choice(Field::Status, labels::STATUSES, true)
        .unwrap_or(InstrumentStatus::Unspecified);
    r.sharing_scope = cells
        .choice(Field::SharingScope, labels::SCOPES, true)
        .unwrap_or(SharingScope::Unspecified);
    r.fees.extend(cells.fee_item());
    Draft {
        row: row.number,
        local_id,
        record: r,
        errors: cells.errors,
    }
}

/// The second and later rows with the same 仪器编号 are refused; the first stays.
fn refuse_repeated_ids(drafts: &mut [Draft]) {
    let mut first_row: HashMap<String, usize> = HashMap::new();
    for draft in drafts.iter_mut().filter(|d| !d.local_id.is_empty()) {
        match first_row.get(&draft.local_id) {
            Some(first) => draft.errors.insert(
                0,
                CellError::new(
                    header_of(MAIN_COLUMNS, Field::LocalId),
                    format!("仪器编号“{}”与第 {first} 行重复", draft.local_id),
                ),
            ),
            None => {
                first_row.insert(draft.local_id.clone(), draft.row);
            }
        }
    }
}

/// Adds each 收费标准 row's fee item, or its errors, to the first instrument with its
/// 仪器编号. Rows naming no instrument of the 仪器 sheet come back as bad rows of
/// their own, numbered in the 收费标准 sheet.
fn attach_fees(sheet: &Sheet, layout: &Layout, drafts: &mut [Draft]) -> Vec<RowOutcome> {
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, draft) in drafts.iter().enumerate() {
        by_id.entry(draft.local_id.clone()).or_insert(i);
    }
    let mut orphans = Vec::new();
    for row in &sheet.rows {
        let mut cells = RowReader::fee(layout, row, sheet.date_1904);
        let local_id = cells.local_id();
        let fee = cells.fee_item();
        let draft = by_id
            .get(&local_id)
            .filter(|_| !local_id.is_empty())
            .and_then(|&i| drafts.get_mut(i));
        match draft {
            Some(draft) => {
                draft.errors.append(&mut cells.errors);
                draft.record.fees.extend(fee);
            }
            None => {
                if !local_id.is_empty() {
                    cells.error(
                        Field::LocalId,
                        format!("“{MAIN_SHEET}”工作表中没有仪器编号为“{local_id}”的仪器"),
                    );
                }
                orphans.push(RowOutcome::Bad {
                    row: row.number,
                    local_id,
                    errors: cells.errors,
                });
            }
        }
    }
    orphans
}

impl Draft {
    fn finish(mut self) -> RowOutcome {
        if self.record.fees.len() > MAX_FEE_ITEMS {
            self.errors.push(CellError::new(
                FEE_SHEET,
                format!(
                    "每台仪器最多 {MAX_FEE_ITEMS} 个收费项目，此仪器有 {} 个",
                    self.record.fees.len()
                ),
            ));
        }
        if self.errors.is_empty()
            && let Err(message) = check_encoded_size(&self.record)
        {
            self.errors.push(CellError::new("", message));
        }
        if self.errors.is_empty() {
            RowOutcome::Good {
                row: self.row,
                record: self.record,
            }
        } else {
            RowOutcome::Bad {
                row: self.row,
                local_id: self.local_id,
                errors: self.errors,
            }
        }
    }
}

/// A record must fit in one gossip message once signed. Each field is within its own
/// limit, but all of them together can be too much.
fn check_encoded_size(r: &InstrumentRecord) -> Result<(), String> {
    let texts = [
        &r.local_id,
        &r.name_zh,
        &r.name_en,
        &r.model,
        &r.specification,
        &r.country_of_origin,
        &r.manufacturer,
        &r.asset_number,
        &r.classification_code,
        &r.location.city,
        &r.location.campus,
        &r.location.building,
        &r.location.room,
        &r.main_specifications,
        &r.main_functions,
        &r.accessories,
        &r.contact.person_in_charge,
        &r.contact.contact_name,
        &r.contact.phone,
        &r.contact.email,
        &r.opening_hours,
        &r.required_training,
        &r.certification,
    ];
    let fee_texts: usize = r
        .fees
        .iter()
        .map(|f| f.item_zh.len() + f.item_en.len())
        .sum();
    // Protobuf and envelope framing add a few bytes per field, far below these margins.
    let bound = texts.iter().map(|t| t.len()).sum::<usize>() + fee_texts + 256 * r.fees.len();
    if bound + 4096 <= MAX_GOSSIP_BYTES {
        return Ok(());
    }
    // Near the limit, measure: sign with a throwaway key (signatures have a fixed size).
    let Ok(key) = SecretKey::from_seed(&[0; 32]) else {
        return Ok(());
    };
    let size = r.seal(&key).len();
    if size > MAX_GOSSIP_BYTES {
        return Err(format!(
            "整条记录共 {size} 字节，超过了 {MAX_GOSSIP_BYTES} 字节的上限：请精简主要技术指标、\
             主要功能及特色等长文本，或减少收费项目"
        ));
    }
    Ok(())
}
