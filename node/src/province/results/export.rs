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
        response_hours: ratio(Metric::ResponseHours).map(|v| round(v, 2)),
        rejection_rate: ratio(Metric::RejectionRate),
        offers: metrics.offers,
        offers_accepted: metrics.offers_accepted,
        reporting_on_time: ratio(Metric::ReportingOnTime),
        score: round(evaluation.total, 2),
        grade: evaluation.grade.zh().to_owned(),
        receipts: metrics.receipts,
        unconfirmed_receipts: metrics.unconfirmed,
        disputed_receipts: metrics.disputed,
    }
}

/// Every row: each institution, then its instruments.
pub fn rows(results: &Results) -> Vec<ResultRow> {
    let mut rows = Vec::new();
    for institution in &results.institutions {
        rows.push(row(
            institution,
            None,
            &institution.metrics,
            &institution.evaluation,
        ));
        for instrument in &institution.instruments {
            rows.push(row(
                institution,
                Some((&instrument.id, &instrument.name_zh)),
                &instrument.metrics,
                &instrument.evaluation,
            ));
        }
    }
    rows
}

/// The rows as CSV with Chinese headers (UTF-8 with a byte order mark, which spreadsheet
/// programs need to read Chinese).
pub fn to_csv(rows: &[ResultRow]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    out.write_record(ResultRow::CSV_HEADERS)?;
    for r in rows {
        let mut cells = r.csv_cells();
        // Names and ids come from members' signed records: never let one run as a formula.
        for text in cells.iter_mut().take(4) {
            *text = guard(text).into_owned();
        }
        out.write_record(cells)?;
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
