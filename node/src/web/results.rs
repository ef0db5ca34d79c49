//! The publication side of the web backend, on the province's node: the results of a
//! period, as a page, CSV and JSON; the subsidy allocation for a budget; reporting
//! compliance. Member nodes answer that only the province publishes.

use alliance_web::backend::{
    AllocationView, ComplianceRow, IndicatorGroupView, LogEntryView, LogPage, ResultsBackend,
    ResultsFailure, ResultsView, SanctionView,
};
use std::sync::Arc;

use chrono::NaiveDate;
use chrono_tz::Asia::Shanghai;

use super::WebBackend;
use crate::{
    compliance::reporting::Standing,
    evaluation::awards::{allocate, subsidy_rule_zh},
    province::{
        publication::{PublicationError, Published},
        results::{rows, to_csv},
    },
};

/// Today in Asia/Shanghai.
fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&Shanghai).date_naive()
}

fn failure(e: PublicationError) -> ResultsFailure {
    match e {
        PublicationError::Period(e) => ResultsFailure::BadPeriod(e.to_string()),
        PublicationError::Store(e) => ResultsFailure::Internal(e.to_string()),
    }
}

impl WebBackend {
    async fn published(&self, period: &str) -> Result<Arc<Published>, ResultsFailure> {
        let publication = self.publication.as_ref().ok_or(ResultsFailure::NotHere)?;
        publication.results(period, today()).await.map_err(failure)
    }

    fn name_of(&self, id: &str) -> String {
        id.parse()
            .ok()
            .and_then(|id| {
                self.catalogue
                    .key_directory()
                    .institutions()
                    .get(&id)
                    .map(|c| c.name_zh.clone())
            })
            .unwrap_or_else(|| id.to_owned())
    }
}

impl ResultsBackend for WebBackend {
    async fn log_entries(&self, from: u64, limit: usize) -> Result<LogPage, ResultsFailure> {
        let publication = self.publication.as_ref().ok_or(ResultsFailure::NotHere)?;
        let log = publication.log();
        // The head first: every entry listed is under it (the log only grows).
        let signed_head = log.head().await;
        let size = alliance_protocol::transparency::TreeHead::open(&signed_head, &log.public_key())
            .map_err(|e| ResultsFailure::Internal(e.to_string()))?
            .size;
        let to = from.saturating_add(limit as u64).min(size);
        let mut entries = Vec::with_capacity(usize::try_from(to.saturating_sub(from)).unwrap_or(0));
        for index in from..to {
            let bytes = log
                .entry(index)
                .map_err(|e| ResultsFailure::Internal(e.to_string()))?
                .ok_or_else(|| ResultsFailure::Internal(format!("log entry {index} missing")))?;
            entries.push(LogEntryView {
                index,
                submission: hex::encode(bytes),
            });
        }
        Ok(LogPage {
            size,
            signed_head: hex::encode(signed_head),
            entries,
            next: (to < size).then_some(to),
        })
    }

    async fn results(&self, period: &str) -> Result<ResultsView, ResultsFailure> {
        let published = self.published(period).await?;
        let config = &published.config;
        let sanctions = published
            .results
            .sanctions
            .iter()
            .map(|(id, reasons)| SanctionView {
                institution: id.to_string(),
                institution_name: self.name_of(id.as_str()),
                reasons: reasons.iter().map(|r| r.zh()).collect(),
            })
            .collect();
        Ok(ResultsView {
            period: published.label.clone(),
            from: published.results.period.from.0,
            to: published.results.period.to.0,
            generated_at: published.computed_at,
            log_size: published.head.size,
            log_root: hex::encode(published.head.root),
            rows: rows(&published.results),
            sanctions,
            groups: config
                .groups
                .iter()
                .map(|g| IndicatorGroupView {
                    name_zh: g.name_zh.clone(),
                    name_en: g.name_en.clone(),
                    weight: g.indicators.iter().map(|i| i.weight).sum(),
                    indicators: g
                        .indicators
                        .iter()
                        .map(|i| (i.metric.name().to_owned(), i.weight))
                        .collect(),
                })
                .collect(),
            grade_thresholds: (
                config.grades.excellent,
                config.grades.good,
                config.grades.pass,
            ),
            subsidy_rule: subsidy_rule_zh(&config.subsidy),
        })
    }

    async fn results_csv(&self, period: &str) -> Result<Vec<u8>, ResultsFailure> {
        let published = self.published(period).await?;
        to_csv(&published.results).map_err(|e| ResultsFailure::Internal(e.to_string()))
    }

    async fn subsidy(
        &self,
        period: &str,
        budget_fen: i64,
    ) -> Result<Vec<AllocationView>, ResultsFailure> {
        let published = self.published(period).await?;
        let evaluated = published.results.evaluated();
        Ok(allocate(budget_fen, &published.config.subsidy, &evaluated)
            .into_iter()
            .map(|a| {
                let grade = evaluated
                    .iter()
                    .find(|e| e.institution == a.institution)
                    .map(|e| e.evaluation.grade.zh().to_owned())
                    .unwrap_or_default();
                AllocationView {
                    institution_name: self.name_of(a.institution.as_str()),
                    institution: a.institution.to_string(),
                    score: (a.score * 100.0).round() / 100.0,
                    grade,
                    amount_fen: a.amount_fen,
                }
            })
            .collect())
    }

    async fn compliance(&self) -> Result<Vec<ComplianceRow>, ResultsFailure> {
        let publication = self.publication.as_ref().ok_or(ResultsFailure::NotHere)?;
        Ok(publication
            .compliance(today())
            .into_iter()
            .map(|(record, standing)| {
                let (code, deadline, late) = match standing {
                    Standing::Late {
                        deadline,
                        working_days_late,
                    } => ("late", Some(deadline), Some(working_days_late)),
                    Standing::Missing {
                        deadline,
                        working_days_late,
                    } => ("missing", Some(deadline), Some(working_days_late)),
                    Standing::BeyondCalendar { .. } => ("beyond_calendar", None, None),
                    Standing::NoAcceptanceDate => ("no_acceptance_date", None, None),
                    _ => ("other", None, None),
                };
                ComplianceRow {
                    institution: record.institution_id.to_string(),
                    institution_name: self.name_of(record.institution_id.as_str()),
                    instrument: format!("{}/{}", record.institution_id, record.local_id),
                    instrument_name: record.name_zh.clone(),
                    acceptance_date: record.acceptance_date.clone(),
                    networked_date: record.networked_date.clone(),
                    deadline: deadline.map(|d| d.format("%Y-%m-%d").to_string()),
                    standing: code.to_owned(),
                    working_days_late: late,
                }
            })
            .collect())
    }
}
