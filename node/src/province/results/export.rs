//! The results as the public downloads give them: one row per institution and per
//! instrument, in CSV (Chinese headers, for spreadsheets) and JSON (English keys).

pub use alliance_protocol::results::ResultRow;

use super::{InstitutionResult, Results};
use crate::{
    evaluation::{config::Metric, metrics::Metrics, scoring::Evaluation},
    spreadsheet::guard,
};

fn row(
    institution: &InstitutionResult,
    instrument: Option<(&str, &str)>,
    metrics: &Metrics,
    evaluation: &Evaluation,
    receipts: usize,
) -> ResultRow {
    let round = |v: f64, places: i32| (v * 10f64.powi(places)).round() / 10f64.powi(places);
    let ratio = |m: Metric| metrics.value(m).map(|v| round(v, 4));
    ResultRow {
        institution: institution.id.to_string(),
        institution_name: institution.name_zh.clone(),
        instrument: instrument.map(|(id, _)| id.to_owned()).unwrap_or_default(),
        instrument_name: instrument.map(|(_, n)| n.to_owned()).unwrap_or_default(),
        effective_hours: round(metrics.effective_hours(), 2),
        external_hours: round(metrics.external_hours(), 2),
        sharing_rate: ratio(Metric::SharingRate),
        utilisation: ratio(Metric::Utilisation),
        revenue_internal_yuan: metrics.revenue_internal_fen as f64 / 100.0,
        revenue_external_yuan: metrics.revenue_external_fen as f64 / 100.0,
        users_served: metrics.users.len(),
        institutions_served: metrics.institutions.len(),
        average_rating: ratio(Metric::AverageRating).map(|v| round(v, 2)),
        monitoring_uptime: ratio(Metric::MonitoringUptime),
        publications: metrics.publications,
        score: round(evaluation.total, 2),
        grade: evaluation.grade.zh().to_owned(),
        receipts,
    }
}

/// Every row: each institution, then its instruments.
pub fn rows(results: &Results) -> Vec<ResultRow> {
    let mut rows = Vec::new();
    for institution in &results.institutions {
        let receipts = institution
            .instruments
            .iter()
            .map(|i| i.entries.len())
            .sum();
        rows.push(row(
            institution,
            None,
            &institution.metrics,
            &institution.evaluation,
            receipts,
        ));
        for instrument in &institution.instruments {
            rows.push(row(
                institution,
                Some((&instrument.id, &instrument.name_zh)),
                &instrument.metrics,
                &instrument.evaluation,
                instrument.entries.len(),
            ));
        }
    }
    rows
}

const HEADERS: [&str; 18] = [
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
    "综合得分",
    "评价等级",
    "使用记录数",
];

/// The rows as CSV with Chinese headers (UTF-8 with a byte order mark, which spreadsheet
/// programs need to read Chinese).
pub fn to_csv(results: &Results) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    out.write_record(HEADERS)?;
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in rows(results) {
        // Names and ids come from members' signed records: never let one run as a formula.
        out.write_record([
            guard(&r.institution).into_owned(),
            guard(&r.institution_name).into_owned(),
            guard(&r.instrument).into_owned(),
            guard(&r.instrument_name).into_owned(),
            r.effective_hours.to_string(),
            r.external_hours.to_string(),
            opt(r.sharing_rate),
            opt(r.utilisation),
            format!("{:.2}", r.revenue_internal_yuan),
            format!("{:.2}", r.revenue_external_yuan),
            r.users_served.to_string(),
            r.institutions_served.to_string(),
            opt(r.average_rating),
            opt(r.monitoring_uptime),
            r.publications.to_string(),
            r.score.to_string(),
            r.grade,
            r.receipts.to_string(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// The rows and the period as JSON.
pub fn to_json(results: &Results) -> serde_json::Value {
    serde_json::json!({
        "period": { "from": results.period.from.0, "to": results.period.to.0 },
        "log_size": results.log_size,
        "rows": rows(results),
        "sanctions": results.sanctions.iter().map(|(id, reasons)| serde_json::json!({
            "institution": id.to_string(),
            "reasons": reasons.iter().map(|r| r.zh()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
