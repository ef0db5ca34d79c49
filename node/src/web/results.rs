//! The publication side of the web backend, on the province's node: the results of a
//! period, as a page, CSV and JSON; the subsidy allocation for a budget; reporting
//! compliance. Member nodes answer that only the province publishes.

use alliance_protocol::results::differences;
use alliance_web::backend::{
    AllocationView, ComplianceRow, DisputePage, DisputeView, EvidencePage, IndicatorGroupView,
    LogEntryView, LogPage, ResultsBackend, ResultsFailure, ResultsView, SanctionView,
    StatementView,
};
use std::sync::Arc;

use chrono::NaiveDate;
use chrono_tz::Asia::Shanghai;

use super::WebBackend;
use crate::{
    compliance::reporting::Standing,
    evaluation::{
        awards::{allocate, subsidy_rule_zh},
        scoring::Grade,
    },
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
        PublicationError::AlreadyPublished(_) => ResultsFailure::AlreadyPublished,
        PublicationError::NotEnded(_) => ResultsFailure::NotEnded,
        PublicationError::Evidence(e) => ResultsFailure::Internal(e),
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

    async fn publish(&self, period: &str) -> Result<String, ResultsFailure> {
        let publication = self.publication.as_ref().ok_or(ResultsFailure::NotHere)?;
        let published = publication
            .publish(period, today())
            .await
            .map_err(failure)?;
        Ok(published.label.clone())
    }

    async fn statement(&self, period: &str) -> Result<StatementView, ResultsFailure> {
        let publication = self.publication.as_ref().ok_or(ResultsFailure::NotHere)?;
        let stated = publication
            .statement(period, today())
            .await
            .map_err(failure)?;
        Ok(StatementView {
            period: stated.statement.period.clone(),
            published: stated.statement.published,
            root_public_key: hex::encode(publication.log().public_key().to_bytes()),
            signed_statement: hex::encode(&stated.signed),
            figures: stated.figures.clone(),
            evidence_items: stated.statement.evidence_items,
            evidence_digest: hex::encode(stated.statement.evidence_digest),
        })
    }

    async fn evidence(
        &self,
        period: &str,
        digest: [u8; 32],
        from: u64,
        limit: usize,
    ) -> Result<EvidencePage, ResultsFailure> {
        let publication = self.publication.as_ref().ok_or(ResultsFailure::NotHere)?;
        let (total, items) = publication
            .evidence_page(period, today(), &digest, from, limit)
            .await
            .map_err(failure)?
            .ok_or(ResultsFailure::NoSuchStatement)?;
        let next = from.saturating_add(items.len() as u64);
        Ok(EvidencePage {
            total,
            items: items
                .into_iter()
                .map(|item| String::from_utf8_lossy(&item).into_owned())
                .collect(),
            next: (next < total).then_some(next),
        })
    }

    async fn disputes(
        &self,
        period: &str,
        from: u64,
        limit: usize,
    ) -> Result<DisputePage, ResultsFailure> {
        let published = self.published(period).await?;
        let all = &published.results.disputes;
        let total = all.len() as u64;
        let start = usize::try_from(from).unwrap_or(usize::MAX).min(all.len());
        let disputes: Vec<DisputeView> = all[start..]
            .iter()
            .take(limit)
            .map(|d| DisputeView {
                index: d.index,
                instrument: d.instrument.clone(),
                receipt_id: d.receipt_id.clone(),
                home_name: self.name_of(d.home.as_str()),
                home: d.home.to_string(),
                reason: d.reason.clone(),
            })
            .collect();
        let next = (start + disputes.len()) as u64;
        Ok(DisputePage {
            total,
            disputes,
            next: (next < total).then_some(next),
        })
    }

    async fn results(&self, period: &str) -> Result<ResultsView, ResultsFailure> {
        let published = self.published(period).await?;
        let config = &published.config;
        // A published period shows the figures its statement states, with what later
        // evidence would change listed beside them.
        let (rows, sanctions, published_at, corrections) = match &published.statement {
            Some(stated) => {
                let figures = stated.figures();
                let judged =
                    crate::province::statement::judged_on(&stated.statement).unwrap_or_else(today);
                let publication = self.publication.as_ref().ok_or(ResultsFailure::NotHere)?;
                let live = publication
                    .live_results(&published.label, judged)
                    .await
                    .map_err(failure)?;
                let corrections = differences(&figures.rows, &rows(&live.results));
                let sanctions = figures
                    .sanctions
                    .into_iter()
                    .map(|s| SanctionView {
                        institution_name: self.name_of(&s.institution),
                        institution: s.institution,
                        reasons: s.reasons,
                    })
                    .collect();
                (
                    figures.rows,
                    sanctions,
                    Some(stated.statement.issued_at.0),
                    corrections,
                )
            }
            None => (
                rows(&published.results),
                published
                    .results
                    .sanctions
                    .iter()
                    .map(|(id, reasons)| SanctionView {
                        institution: id.to_string(),
                        institution_name: self.name_of(id.as_str()),
                        reasons: reasons.iter().map(|r| r.zh()).collect(),
                    })
                    .collect(),
                None,
                Vec::new(),
            ),
        };
        Ok(ResultsView {
            period: published.label.clone(),
            from: published.results.period.from.0,
            to: published.results.period.to.0,
            generated_at: published.computed_at,
            log_size: published.head.size,
            log_root: hex::encode(published.head.root),
            rows,
            sanctions,
            published_at,
            corrections,
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
            subsidy_min_score: match config.subsidy.min_grade {
                Grade::Excellent => config.grades.excellent,
                Grade::Good => config.grades.good,
                Grade::Pass => config.grades.pass,
                Grade::Poor => 0.0,
            },
        })
    }

    async fn results_csv(&self, period: &str) -> Result<Vec<u8>, ResultsFailure> {
        let published = self.published(period).await?;
        let rows = match &published.statement {
            Some(stated) => stated.figures().rows,
            None => rows(&published.results),
        };
        to_csv(&rows).map_err(|e| ResultsFailure::Internal(e.to_string()))
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
