//! The province's published evaluation results (R14–R16): one row per institution and per
//! instrument, as the public results page, its CSV and JSON downloads and the API give them.

/// One published row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultRow {
    pub institution: String,
    pub institution_name: String,
    /// Empty on an institution's own row.
    pub instrument: String,
    pub instrument_name: String,
    pub effective_hours: f64,
    pub external_hours: f64,
    /// 0–1, `None` without data.
    pub sharing_rate: Option<f64>,
    pub utilisation: Option<f64>,
    pub revenue_internal_yuan: f64,
    pub revenue_external_yuan: f64,
    pub users_served: usize,
    pub institutions_served: usize,
    pub average_rating: Option<f64>,
    pub monitoring_uptime: Option<f64>,
    pub publications: u32,
    /// Mean hours from a booking request to the owner's decision, or from a need to
    /// its offer.
    pub response_hours: Option<f64>,
    /// Share of answered requests the owner refused, 0–1.
    pub rejection_rate: Option<f64>,
    /// Offers made on other homes' needs in the period, and those the user accepted
    /// (absent from statements made before offers were counted).
    #[serde(default)]
    pub offers: u32,
    #[serde(default)]
    pub offers_accepted: u32,
    /// Share of instruments due to be reported that were reported on time, 0–1.
    pub reporting_on_time: Option<f64>,
    /// Out of 100.
    pub score: f64,
    /// 优秀 / 良好 / 合格 / 较差.
    pub grade: String,
    /// How many receipts in the province's log the figures come from: those the user's
    /// home confirmed.
    pub receipts: u32,
    /// Receipts in the period that count for nothing: signed by the owner alone, and
    /// disputed by the user's home.
    pub unconfirmed_receipts: u32,
    pub disputed_receipts: u32,
}

impl ResultRow {
    /// The columns of the results' CSV download, in Chinese for spreadsheets.
    pub const CSV_HEADERS: [&'static str; 25] = [
        "单位代码",
        "单位名称",
        "仪器编号",
        "仪器名称",
        "有效机时(小时)",
        "对外服务机时(小时)",
        "共享率",
        "使用率",
        "校内收入(元)",
        "对外收入(元)",
        "服务用户数",
        "服务单位数",
        "平均评分",
        "监控在线率",
        "成果数",
        "平均响应时间(小时)",
        "拒绝率",
        "需求报价数",
        "报价被接受数",
        "按时上报率",
        "综合得分",
        "评价等级",
        "使用记录数",
        "未确认记录数",
        "有异议记录数",
    ];

    /// The JSON keys of the row's fields, in the order of [`ResultRow::CSV_HEADERS`].
    pub const FIELDS: [&'static str; 25] = [
        "institution",
        "institution_name",
        "instrument",
        "instrument_name",
        "effective_hours",
        "external_hours",
        "sharing_rate",
        "utilisation",
        "revenue_internal_yuan",
        "revenue_external_yuan",
        "users_served",
        "institutions_served",
        "average_rating",
        "monitoring_uptime",
        "publications",
        "response_hours",
        "rejection_rate",
        "offers",
        "offers_accepted",
        "reporting_on_time",
        "score",
        "grade",
        "receipts",
        "unconfirmed_receipts",
        "disputed_receipts",
    ];

    /// The Chinese column header of the field with JSON key `key`.
    pub fn header_of(key: &str) -> Option<&'static str> {
        Self::FIELDS
            .iter()
            .position(|f| *f == key)
            .map(|at| Self::CSV_HEADERS[at])
    }

    /// The row's cells under [`ResultRow::CSV_HEADERS`], as written (an empty cell for a
    /// figure without data; money to the fen). Text cells are as given: a writer must
    /// still keep them from running as spreadsheet formulas.
    pub fn csv_cells(&self) -> [String; 25] {
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        [
            self.institution.clone(),
            self.institution_name.clone(),
            self.instrument.clone(),
            self.instrument_name.clone(),
            self.effective_hours.to_string(),
            self.external_hours.to_string(),
            opt(self.sharing_rate),
            opt(self.utilisation),
            format!("{:.2}", self.revenue_internal_yuan),
            format!("{:.2}", self.revenue_external_yuan),
            self.users_served.to_string(),
            self.institutions_served.to_string(),
            opt(self.average_rating),
            opt(self.monitoring_uptime),
            self.publications.to_string(),
            opt(self.response_hours),
            opt(self.rejection_rate),
            self.offers.to_string(),
            self.offers_accepted.to_string(),
            opt(self.reporting_on_time),
            self.score.to_string(),
            self.grade.clone(),
            self.receipts.to_string(),
            self.unconfirmed_receipts.to_string(),
            self.disputed_receipts.to_string(),
        ]
    }
}

/// One figure that differs between two sets of rows (published and recomputed, or
/// published and live).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FigureDifference {
    pub institution: String,
    /// Empty on an institution's own row.
    pub instrument: String,
    /// The JSON key of the figure (`score`, `receipts`, …), or `row` for a row one side
    /// lacks.
    pub figure: String,
    /// As the first side has it (JSON; empty if it lacks the row).
    pub first: String,
    pub second: String,
}

/// Figures that differ between `first` and `second`, rows matched by institution and
/// instrument. Numbers closer than a millionth of their size are equal (they went
/// through decimal text).
pub fn differences(first: &[ResultRow], second: &[ResultRow]) -> Vec<FigureDifference> {
    use std::collections::BTreeMap;
    let by_key = |rows: &[ResultRow]| -> BTreeMap<(String, String), serde_json::Value> {
        rows.iter()
            .map(|r| {
                let value = serde_json::to_value(r).unwrap_or_default();
                ((r.institution.clone(), r.instrument.clone()), value)
            })
            .collect()
    };
    let (first, second) = (by_key(first), by_key(second));
    let mut out = Vec::new();
    let mut keys: Vec<&(String, String)> = first.keys().chain(second.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let difference = |figure: &str, a: String, b: String| FigureDifference {
            institution: key.0.clone(),
            instrument: key.1.clone(),
            figure: figure.to_owned(),
            first: a,
            second: b,
        };
        let (Some(a), Some(b)) = (first.get(key), second.get(key)) else {
            let present = |side: &BTreeMap<_, _>| {
                if side.contains_key(key) {
                    "present"
                } else {
                    ""
                }
                .to_owned()
            };
            out.push(difference("row", present(&first), present(&second)));
            continue;
        };
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
            continue;
        };
        for (figure, left) in a {
            let right = b.get(figure).cloned().unwrap_or_default();
            if !same(left, &right) {
                out.push(difference(figure, left.to_string(), right.to_string()));
            }
        }
    }
    out
}

fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(instrument: &str, score: f64, receipts: u32) -> ResultRow {
        ResultRow {
            institution: "dlut".into(),
            institution_name: "大连理工大学".into(),
            instrument: instrument.into(),
            instrument_name: String::new(),
            effective_hours: 10.0,
            external_hours: 2.0,
            sharing_rate: Some(0.2),
            utilisation: None,
            revenue_internal_yuan: 0.0,
            revenue_external_yuan: 600.0,
            users_served: 1,
            institutions_served: 1,
            average_rating: None,
            monitoring_uptime: None,
            publications: 0,
            response_hours: None,
            offers: 0,
            offers_accepted: 0,
            rejection_rate: None,
            reporting_on_time: None,
            score,
            grade: "合格".into(),
            receipts,
            unconfirmed_receipts: 0,
            disputed_receipts: 0,
        }
    }

    #[test]
    fn the_fields_are_the_json_keys_in_column_order() {
        let value = serde_json::to_value(row("", 1.0, 1)).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut fields = ResultRow::FIELDS.to_vec();
        fields.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, fields);
        assert_eq!(ResultRow::header_of("score"), Some("综合得分"));
        assert_eq!(
            ResultRow::header_of("disputed_receipts"),
            Some("有异议记录数")
        );
    }

    #[test]
    fn differences_name_each_figure_and_each_missing_row() {
        let a = vec![row("", 61.5, 3), row("dlut/XPS-1", 70.0, 3)];
        assert!(differences(&a, &a).is_empty());
        let mut b = a.clone();
        b[1].receipts = 4;
        b[1].score = 70.000_000_01;
        b.push(row("dlut/NMR-1", 0.0, 0));
        let found = differences(&a, &b);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].instrument, "dlut/NMR-1");
        assert_eq!(
            (found[0].first.as_str(), found[0].second.as_str()),
            ("", "present")
        );
        assert_eq!(found[1].figure, "receipts");
        assert_eq!(
            (found[1].first.as_str(), found[1].second.as_str()),
            ("3", "4")
        );
    }
}
