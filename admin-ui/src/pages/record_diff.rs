//! What changed in a record since the province last approved it, field by field, for the
//! review queue. Both versions are read as JSON (the approved one is kept that way at the
//! province), so any field the record gains is compared too, named by its key when the
//! page has no label for it.

use serde_json::Value;

use crate::i18n::catalogue::CatalogueStrings;

/// Longest text shown of either side of a change.
const SHOWN_CHARS: usize = 200;

/// One changed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// Fields that change with every version or say nothing to a reviewer.
const SKIPPED: [&str; 3] = ["revision", "deleted", "institution_id"];

fn label(c: &CatalogueStrings, key: &str) -> String {
    let known = match key {
        "local_id" => c.f_local_id,
        "name_zh" => c.f_name_zh,
        "name_en" => c.f_name_en,
        "model" => c.f_model,
        "specification" => c.f_specification,
        "original_value_fen" => c.f_original_value,
        "country_of_origin" => c.f_country,
        "manufacturer" => c.f_manufacturer,
        "manufacture_date" => c.f_manufacture_date,
        "purchase_date" => c.f_purchase_date,
        "acceptance_date" => c.f_acceptance_date,
        "networked_date" => c.f_networked_date,
        "asset_number" => c.f_asset_number,
        "classification_code" => c.f_category,
        "location.city" => c.f_city,
        "location.campus" => c.f_campus,
        "location.building" => c.f_building,
        "location.room" => c.f_room,
        "main_specifications" => c.f_main_specifications,
        "main_functions" => c.f_main_functions,
        "accessories" => c.f_accessories,
        "contact.person_in_charge" => c.f_person_in_charge,
        "contact.contact_name" => c.f_contact_name,
        "contact.phone" => c.f_phone,
        "contact.email" => c.f_email,
        "fees" => c.detail_fees,
        "opening_hours" => c.f_opening_hours,
        "service_modes" => c.f_service_modes,
        "required_training" => c.f_required_training,
        "certification" => c.f_certification,
        "status" => c.f_status,
        "sharing_scope" => c.f_sharing_scope,
        other => return other.to_owned(),
    };
    known.to_owned()
}

/// A value as a reviewer reads it: text as it is, anything else as compact JSON; cut to
/// [`SHOWN_CHARS`].
fn shown(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > SHOWN_CHARS {
        let cut: String = text.chars().take(SHOWN_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// The top-level fields of a record, with nested objects' fields as `outer.inner`.
fn flatten(record: &Value) -> Vec<(String, &Value)> {
    let mut fields = Vec::new();
    if let Value::Object(map) = record {
        for (key, value) in map {
            match value {
                Value::Object(inner) => {
                    for (k, v) in inner {
                        fields.push((format!("{key}.{k}"), v));
                    }
                }
                other => fields.push((key.clone(), other)),
            }
        }
    }
    fields
}

/// The fields of `current` that differ from `approved`, in the record's order.
pub(crate) fn changes(c: &CatalogueStrings, approved: &Value, current: &Value) -> Vec<Change> {
    let before: std::collections::HashMap<String, &Value> = flatten(approved).into_iter().collect();
    flatten(current)
        .into_iter()
        .filter(|(key, _)| !SKIPPED.contains(&key.as_str()))
        .filter(|(key, value)| before.get(key) != Some(value))
        .map(|(key, value)| Change {
            before: shown(before.get(&key).copied()),
            after: shown(Some(value)),
            field: label(c, &key),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_fields_are_listed_by_their_labels() {
        let c = crate::i18n::Lang::Zh.strings().cat;
        let approved = json!({
            "revision": 3, "name_zh": "扫描电镜", "model": "SU8010",
            "location": {"city": "大连市", "room": "C108"},
            "fees": [{"item_zh": "机时"}], "opening_hours": "工作日",
        });
        let current = json!({
            "revision": 4, "name_zh": "扫描电镜", "model": "SU8020",
            "location": {"city": "大连市", "room": "C110"},
            "fees": [{"item_zh": "机时"}], "opening_hours": "工作日",
            "new_field": true,
        });
        let changes = changes(c, &approved, &current);
        let of = |field: &str| {
            changes
                .iter()
                .find(|ch| ch.field == field)
                .map(|ch| (ch.before.as_str(), ch.after.as_str()))
        };
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert_eq!(of("型号"), Some(("SU8010", "SU8020")));
        assert_eq!(of("房间"), Some(("C108", "C110")));
        assert_eq!(of("new_field"), Some(("", "true")));
    }

    #[test]
    fn long_texts_are_cut() {
        let c = crate::i18n::Lang::Zh.strings().cat;
        let long = "指".repeat(500);
        let changes = changes(
            c,
            &json!({"accessories": ""}),
            &json!({"accessories": long}),
        );
        assert_eq!(changes[0].after.chars().count(), SHOWN_CHARS + 1);
    }
}
