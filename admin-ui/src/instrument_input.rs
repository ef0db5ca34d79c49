//! An instrument as a person types it — in the edit form or as JSON in
//! `PUT /api/v1/own/instruments/{local_id}` — and its checks, which report every problem
//! at once with its field. The node checks the classification code and signs.

use std::collections::HashMap;

use alliance_protocol::{
    FeeComponents, FeeItem, FeeUnit, InstitutionId, InstrumentRecord, InstrumentStatus,
    ServiceMode, SharingScope,
    money::{format_yuan, parse_yuan},
    record::{MAX_FEE_ITEMS, MAX_LONG_TEXT, MAX_SHORT_TEXT, is_valid_date, is_valid_local_id},
};
use serde::{Deserialize, Serialize};

use crate::validate::{FieldError, Problem};

/// Fee rows the edit form shows.
pub const FORM_FEE_ROWS: usize = 3;

/// One fee item as typed: prices in yuan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct FeeInput {
    pub item_zh: String,
    pub item_en: String,
    /// `hour`, `sample` or `session`.
    pub unit: String,
    /// Materials, operating and labour, for own institution, alliance member, outside
    /// academic and enterprise users, in that order.
    pub prices: [[String; 3]; 4],
}

/// An instrument as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct InstrumentInput {
    pub local_id: String,
    pub name_zh: String,
    pub name_en: String,
    pub model: String,
    pub specification: String,
    /// Yuan.
    pub original_value: String,
    pub country_of_origin: String,
    pub manufacturer: String,
    pub manufacture_date: String,
    pub purchase_date: String,
    pub acceptance_date: String,
    pub networked_date: String,
    pub asset_number: String,
    pub classification_code: String,
    pub city: String,
    pub campus: String,
    pub building: String,
    pub room: String,
    pub main_specifications: String,
    pub main_functions: String,
    pub accessories: String,
    pub person_in_charge: String,
    pub contact_name: String,
    pub phone: String,
    pub email: String,
    pub opening_hours: String,
    /// `self_operated`, `staff_run`.
    pub service_modes: Vec<String>,
    pub required_training: String,
    pub certification: String,
    /// `in_service`, `under_maintenance`, `retired`.
    pub status: String,
    /// `open_to_society`, `alliance_only`, `internal`.
    pub sharing_scope: String,
    pub fees: Vec<FeeInput>,
}

/// An enum's snake_case name, as forms and JSON write it.
pub(crate) fn snake<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_choice<T: for<'de> Deserialize<'de>>(value: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(value.trim().to_owned())).ok()
}

impl InstrumentInput {
    /// The form of an existing record, for editing.
    pub fn from_record(r: &InstrumentRecord) -> Self {
        let price =
            |c: &FeeComponents| [c.materials_fen, c.operating_fen, c.labour_fen].map(format_yuan);
        InstrumentInput {
            local_id: r.local_id.clone(),
            name_zh: r.name_zh.clone(),
            name_en: r.name_en.clone(),
            model: r.model.clone(),
            specification: r.specification.clone(),
            original_value: format_yuan(r.original_value_fen),
            country_of_origin: r.country_of_origin.clone(),
            manufacturer: r.manufacturer.clone(),
            manufacture_date: r.manufacture_date.clone(),
            purchase_date: r.purchase_date.clone(),
            acceptance_date: r.acceptance_date.clone(),
            networked_date: r.networked_date.clone(),
            asset_number: r.asset_number.clone(),
            classification_code: r.classification_code.clone(),
            city: r.location.city.clone(),
            campus: r.location.campus.clone(),
            building: r.location.building.clone(),
            room: r.location.room.clone(),
            main_specifications: r.main_specifications.clone(),
            main_functions: r.main_functions.clone(),
            accessories: r.accessories.clone(),
            person_in_charge: r.contact.person_in_charge.clone(),
            contact_name: r.contact.contact_name.clone(),
            phone: r.contact.phone.clone(),
            email: r.contact.email.clone(),
            opening_hours: r.opening_hours.clone(),
            service_modes: r.service_modes.iter().map(|m| snake(*m)).collect(),
            required_training: r.required_training.clone(),
            certification: r.certification.clone(),
            status: snake(r.status),
            sharing_scope: snake(r.sharing_scope),
            fees: r
                .fees
                .iter()
                .map(|f| FeeInput {
                    item_zh: f.item_zh.clone(),
                    item_en: f.item_en.clone(),
                    unit: snake(f.unit),
                    prices: [
                        price(&f.own_institution),
                        price(&f.alliance_member),
                        price(&f.outside_academic),
                        price(&f.enterprise),
                    ],
                })
                .collect(),
        }
    }

    /// Reads the edit form's fields: plain names for the record, `mode` (repeated) for
    /// service modes, and `fee{i}_item_zh`, `fee{i}_unit`, `fee{i}_p{tier}{part}` for fee
    /// rows.
    pub fn from_form(pairs: &[(String, String)]) -> Self {
        let map: HashMap<&str, &str> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let get = |name: &str| map.get(name).map(|v| (*v).to_owned()).unwrap_or_default();
        let fees = (0..FORM_FEE_ROWS)
            .map(|i| FeeInput {
                item_zh: get(&format!("fee{i}_item_zh")),
                item_en: get(&format!("fee{i}_item_en")),
                unit: get(&format!("fee{i}_unit")),
                prices: std::array::from_fn(|tier| {
                    std::array::from_fn(|part| get(&format!("fee{i}_p{tier}{part}")))
                }),
            })
            .filter(|f| !f.is_blank())
            .collect();
        InstrumentInput {
            local_id: get("local_id"),
            name_zh: get("name_zh"),
            name_en: get("name_en"),
            model: get("model"),
            specification: get("specification"),
            original_value: get("original_value"),
            country_of_origin: get("country_of_origin"),
            manufacturer: get("manufacturer"),
            manufacture_date: get("manufacture_date"),
            purchase_date: get("purchase_date"),
            acceptance_date: get("acceptance_date"),
            networked_date: get("networked_date"),
            asset_number: get("asset_number"),
            classification_code: get("classification_code"),
            city: get("city"),
            campus: get("campus"),
            building: get("building"),
            room: get("room"),
            main_specifications: get("main_specifications"),
            main_functions: get("main_functions"),
            accessories: get("accessories"),
            person_in_charge: get("person_in_charge"),
            contact_name: get("contact_name"),
            phone: get("phone"),
            email: get("email"),
            opening_hours: get("opening_hours"),
            service_modes: pairs
                .iter()
                .filter(|(k, _)| k == "mode")
                .map(|(_, v)| v.clone())
                .collect(),
            required_training: get("required_training"),
            certification: get("certification"),
            status: get("status"),
            sharing_scope: get("sharing_scope"),
            fees,
        }
    }

    /// Checks everything and builds the record (revision 0: the node sets it).
    pub fn to_record(
        &self,
        institution: &InstitutionId,
    ) -> Result<InstrumentRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut problem = |field: &str, p: Problem| errors.push(FieldError::new(field, p));
        let local_id = self.local_id.trim();
        if !is_valid_local_id(local_id) {
            problem("local_id", Problem::LocalId);
        }
        if self.name_zh.trim().is_empty() {
            problem("name_zh", Problem::Required);
        }
        let short_fields = [
            ("name_zh", &self.name_zh),
            ("name_en", &self.name_en),
            ("model", &self.model),
            ("specification", &self.specification),
            ("country_of_origin", &self.country_of_origin),
            ("manufacturer", &self.manufacturer),
            ("asset_number", &self.asset_number),
            ("city", &self.city),
            ("campus", &self.campus),
            ("building", &self.building),
            ("room", &self.room),
            ("person_in_charge", &self.person_in_charge),
            ("contact_name", &self.contact_name),
            ("phone", &self.phone),
            ("email", &self.email),
        ];
        for (name, value) in short_fields {
            if value.trim().len() > MAX_SHORT_TEXT {
                problem(name, Problem::TooLong);
            }
        }
        let long_fields = [
            ("main_specifications", &self.main_specifications),
            ("main_functions", &self.main_functions),
            ("accessories", &self.accessories),
            ("opening_hours", &self.opening_hours),
            ("required_training", &self.required_training),
            ("certification", &self.certification),
        ];
        for (name, value) in long_fields {
            if value.trim().len() > MAX_LONG_TEXT {
                problem(name, Problem::TooLong);
            }
        }
        let dates = [
            ("manufacture_date", &self.manufacture_date),
            ("purchase_date", &self.purchase_date),
            ("acceptance_date", &self.acceptance_date),
            ("networked_date", &self.networked_date),
        ];
        for (name, value) in dates {
            if !is_valid_date(value.trim()) {
                problem(name, Problem::Date);
            }
        }
        let email = self.email.trim();
        if !email.is_empty() && !crate::validate::is_email(email) {
            problem("email", Problem::Email);
        }
        if self.classification_code.trim().is_empty() {
            problem("classification_code", Problem::Required);
        }
        let value = match parse_yuan(&self.original_value) {
            Ok(fen) => fen,
            Err(e) => {
                problem("original_value", Problem::Money(e.to_string()));
                0
            }
        };
        let status = parse_choice::<InstrumentStatus>(&self.status)
            .filter(|s| *s != InstrumentStatus::Unspecified);
        if status.is_none() {
            problem("status", Problem::Choice);
        }
        let scope = parse_choice::<SharingScope>(&self.sharing_scope)
            .filter(|s| *s != SharingScope::Unspecified);
        if scope.is_none() {
            problem("sharing_scope", Problem::Choice);
        }
        let mut modes = Vec::new();
        for mode in &self.service_modes {
            match parse_choice::<ServiceMode>(mode).filter(|m| *m != ServiceMode::Unspecified) {
                Some(m) if !modes.contains(&m) => modes.push(m),
                Some(_) => {}
                None => problem("service_modes", Problem::Choice),
            }
        }
        if self.fees.len() > MAX_FEE_ITEMS {
            problem("fees", Problem::TooLong);
        }
        let mut fees = Vec::new();
        for (i, fee) in self.fees.iter().enumerate() {
            match fee.to_item() {
                Ok(item) => fees.push(item),
                Err(p) => problem(&format!("fee{i}"), p),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let t = |s: &String| s.trim().to_owned();
        let mut r =
            InstrumentRecord::new(institution.clone(), local_id.to_owned(), t(&self.name_zh));
        r.name_en = t(&self.name_en);
        r.model = t(&self.model);
        r.specification = t(&self.specification);
        r.original_value_fen = value;
        r.country_of_origin = t(&self.country_of_origin);
        r.manufacturer = t(&self.manufacturer);
        r.manufacture_date = t(&self.manufacture_date);
        r.purchase_date = t(&self.purchase_date);
        r.acceptance_date = t(&self.acceptance_date);
        r.networked_date = t(&self.networked_date);
        r.asset_number = t(&self.asset_number);
        r.classification_code = t(&self.classification_code);
        r.location.city = t(&self.city);
        r.location.campus = t(&self.campus);
        r.location.building = t(&self.building);
        r.location.room = t(&self.room);
        r.main_specifications = t(&self.main_specifications);
        r.main_functions = t(&self.main_functions);
        r.accessories = t(&self.accessories);
        r.contact.person_in_charge = t(&self.person_in_charge);
        r.contact.contact_name = t(&self.contact_name);
        r.contact.phone = t(&self.phone);
        r.contact.email = email.to_owned();
        r.opening_hours = t(&self.opening_hours);
        r.service_modes = modes;
        r.required_training = t(&self.required_training);
        r.certification = t(&self.certification);
        r.status = status.unwrap_or(InstrumentStatus::InService);
        r.sharing_scope = scope.unwrap_or(SharingScope::OpenToSociety);
        r.fees = fees;
        Ok(r)
    }
}

impl FeeInput {
    fn is_blank(&self) -> bool {
        self.item_zh.trim().is_empty()
            && self.item_en.trim().is_empty()
            && self.prices.iter().flatten().all(|p| p.trim().is_empty())
    }

    fn to_item(&self) -> Result<FeeItem, Problem> {
        if self.item_zh.trim().is_empty() {
            return Err(Problem::FeeName);
        }
        if self.item_zh.len() > MAX_SHORT_TEXT || self.item_en.len() > MAX_SHORT_TEXT {
            return Err(Problem::TooLong);
        }
        let unit = parse_choice::<FeeUnit>(&self.unit)
            .filter(|u| *u != FeeUnit::Unspecified)
            .ok_or(Problem::Choice)?;
        let mut tiers = [FeeComponents::default(); 4];
        for (tier, parts) in self.prices.iter().enumerate() {
            let mut fen = [0i64; 3];
            for (part, text) in parts.iter().enumerate() {
                if !text.trim().is_empty() {
                    fen[part] = parse_yuan(text).map_err(|e| Problem::Money(e.to_string()))?;
                }
            }
            tiers[tier] = FeeComponents {
                materials_fen: fen[0],
                operating_fen: fen[1],
                labour_fen: fen[2],
            };
        }
        Ok(FeeItem {
            item_zh: self.item_zh.trim().to_owned(),
            item_en: self.item_en.trim().to_owned(),
            unit,
            own_institution: tiers[0],
            alliance_member: tiers[1],
            outside_academic: tiers[2],
            enterprise: tiers[3],
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn good() -> InstrumentInput {
        InstrumentInput {
            local_id: "TEM-01".into(),
            name_zh: "透射电子显微镜".into(),
            original_value: "11,800,000".into(),
            classification_code: "0101".into(),
            status: "in_service".into(),
            sharing_scope: "open_to_society".into(),
            service_modes: vec!["staff_run".into()],
            fees: vec![FeeInput {
                item_zh: "常规成像".into(),
                unit: "hour".into(),
                prices: std::array::from_fn(|_| ["50".into(), "80.5".into(), "170".into()]),
                ..FeeInput::default()
            }],
            ..InstrumentInput::default()
        }
    }

    #[test]
    fn a_good_input_becomes_a_record_and_back() {
        let record = good().to_record(&"imr".parse().unwrap()).unwrap();
        assert_eq!(record.original_value_fen, 1_180_000_000);
        assert_eq!(record.fees[0].enterprise.operating_fen, 8_050);
        assert_eq!(record.service_modes, vec![ServiceMode::StaffRun]);
        let again = InstrumentInput::from_record(&record)
            .to_record(&"imr".parse().unwrap())
            .unwrap();
        assert_eq!(again, record);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut input = good();
        input.local_id = "bad id".into();
        input.name_zh = " ".into();
        input.original_value = "-3".into();
        input.purchase_date = "2023-02-30".into();
        input.email = "nobody".into();
        input.status = "broken".into();
        input.fees[0].unit = "day".into();
        let errors = input.to_record(&"imr".parse().unwrap()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "local_id",
                "name_zh",
                "purchase_date",
                "email",
                "original_value",
                "status",
                "fee0"
            ]
        );
    }

    #[test]
    fn the_form_reads_modes_and_fee_rows() {
        let pairs: Vec<(String, String)> = [
            ("local_id", "X1"),
            ("name_zh", "核磁"),
            ("mode", "staff_run"),
            ("mode", "self_operated"),
            ("fee0_item_zh", "氢谱"),
            ("fee0_unit", "sample"),
            ("fee0_p30", "10"),
            ("fee1_item_zh", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let input = InstrumentInput::from_form(&pairs);
        assert_eq!(input.service_modes, ["staff_run", "self_operated"]);
        assert_eq!(input.fees.len(), 1, "blank fee rows are dropped");
        assert_eq!(input.fees[0].prices[3][0], "10");
    }
}
