//! The demo's instrument catalogue (`instruments.toml` beside this file): real instrument
//! types, makers and models of the three member institutions, in both languages.
//!
//! The file gives each fee at the outside-academic price; the other tiers follow the
//! usual pattern of Chinese sharing platforms: consumables at cost for everyone, operating
//! costs +20 % for firms, and labour at 30 % for the owner's own users, 60 % for alliance
//! members and 150 % for firms.

use alliance_protocol::{
    FeeComponents, FeeItem, FeeUnit, InstitutionId, InstrumentRecord, InstrumentStatus,
    ServiceMode, SharingScope,
};
use serde::Deserialize;

const CATALOGUE: &str = include_str!("instruments.toml");

/// Why the embedded catalogue could not be read (a build with a broken file).
#[derive(Debug, thiserror::Error)]
#[error("demo instrument catalogue: {0}")]
pub struct SeedError(String);

#[derive(Deserialize)]
struct File {
    instrument: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    institution: String,
    local_id: String,
    name_zh: String,
    name_en: String,
    model: String,
    manufacturer: String,
    country_of_origin: String,
    specification: String,
    original_value_wan: f64,
    manufacture_date: String,
    purchase_date: String,
    acceptance_date: String,
    networked_date: String,
    asset_number: String,
    classification_code: String,
    city: String,
    campus: String,
    building: String,
    room: String,
    main_specifications: String,
    main_functions: String,
    accessories: String,
    person_in_charge: String,
    contact_name: String,
    phone: String,
    email: String,
    opening_hours: String,
    service_modes: Vec<ServiceMode>,
    required_training: String,
    certification: String,
    status: InstrumentStatus,
    sharing_scope: SharingScope,
    #[serde(default)]
    fee: Vec<Fee>,
}

#[derive(Deserialize)]
struct Fee {
    item_zh: String,
    item_en: String,
    unit: FeeUnit,
    materials: f64,
    operating: f64,
    labour: f64,
}

/// Yuan with at most two decimals (as the file writes them) to fen.
fn fen(yuan: f64) -> i64 {
    (yuan * 100.0).round() as i64
}

fn tier(fee: &Fee, operating: f64, labour: f64) -> FeeComponents {
    FeeComponents {
        materials_fen: fen(fee.materials),
        operating_fen: fen(fee.operating * operating),
        labour_fen: fen(fee.labour * labour),
    }
}

fn record(entry: Entry) -> Result<InstrumentRecord, SeedError> {
    let institution: InstitutionId = entry
        .institution
        .parse()
        .map_err(|e: alliance_protocol::IdError| SeedError(e.to_string()))?;
    let mut r = InstrumentRecord::new(institution, entry.local_id, entry.name_zh);
    r.name_en = entry.name_en;
    r.model = entry.model;
    r.manufacturer = entry.manufacturer;
    r.country_of_origin = entry.country_of_origin;
    r.specification = entry.specification;
    // 1 万元 = 1,000,000 fen.
    r.original_value_fen = (entry.original_value_wan * 1_000_000.0).round() as i64;
    r.manufacture_date = entry.manufacture_date;
    r.purchase_date = entry.purchase_date;
    r.acceptance_date = entry.acceptance_date;
    r.networked_date = entry.networked_date;
    r.asset_number = entry.asset_number;
    r.classification_code = entry.classification_code;
    r.location.city = entry.city;
    r.location.campus = entry.campus;
    r.location.building = entry.building;
    r.location.room = entry.room;
    r.main_specifications = entry.main_specifications;
    r.main_functions = entry.main_functions;
    r.accessories = entry.accessories;
    r.contact.person_in_charge = entry.person_in_charge;
    r.contact.contact_name = entry.contact_name;
    r.contact.phone = entry.phone;
    r.contact.email = entry.email;
    r.opening_hours = entry.opening_hours;
    r.service_modes = entry.service_modes;
    r.required_training = entry.required_training;
    r.certification = entry.certification;
    r.status = entry.status;
    r.sharing_scope = entry.sharing_scope;
    r.fees = entry
        .fee
        .iter()
        .map(|f| FeeItem {
            item_zh: f.item_zh.clone(),
            item_en: f.item_en.clone(),
            unit: f.unit,
            own_institution: tier(f, 1.0, 0.3),
            alliance_member: tier(f, 1.0, 0.6),
            outside_academic: tier(f, 1.0, 1.0),
            enterprise: tier(f, 1.2, 1.5),
        })
        .collect();
    Ok(r)
}

/// Every demo instrument of `institution`.
pub(super) fn instruments_of(institution: &str) -> Result<Vec<InstrumentRecord>, SeedError> {
    let file: File = toml::from_str(CATALOGUE).map_err(|e| SeedError(e.to_string()))?;
    file.instrument
        .into_iter()
        .filter(|e| e.institution == institution)
        .map(record)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::catalogue::classification::Classification;

    #[test]
    fn every_member_gets_30_to_60_valid_instruments() {
        let classification = Classification::default_set().unwrap();
        for institution in ["dlut", "neu", "imr"] {
            let records = instruments_of(institution).unwrap();
            assert!(
                (30..=60).contains(&records.len()),
                "{institution}: {}",
                records.len()
            );
            for r in &records {
                assert!(
                    classification.get(&r.classification_code).is_some(),
                    "{}",
                    r.id()
                );
                assert!(!r.name_en.is_empty() && !r.fees.is_empty(), "{}", r.id());
                // Each record survives signing and the receiving side's checks.
                let key = alliance_protocol::SecretKey::generate();
                let bytes = r.seal(&key);
                assert!(
                    InstrumentRecord::open(&bytes, &key.public()).is_ok(),
                    "{}",
                    r.id()
                );
            }
            assert!(
                records
                    .iter()
                    .any(|r| r.original_value_fen < crate::catalogue::VOLUNTARY_BELOW_FEN),
                "{institution} has voluntary entries"
            );
        }
    }
}
