//! The publications half of [`MemoryBackend`]: a member's node (the default) answers that
//! only the province publishes; after [`MemoryBackend::province_node`] it publishes a fixed
//! set of results for any period (three institutions, their instruments, one sanctioned),
//! shares a budget among those graded 合格 or better in proportion to their scores (the
//! largest remainders get the odd fen), and lists three instruments reported late, missing
//! and beyond the known calendar. How the province computes all this is tested in the node.

use alliance_protocol::results::ResultRow;
use alliance_web::backend::{
    AllocationView, ComplianceRow, DisputePage, EvidencePage, IndicatorGroupView, LogEntryView,
    LogPage, ResultsBackend, ResultsFailure, ResultsView, SanctionView, StatementView,
};
use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Asia::Shanghai;

use super::MemoryBackend;

/// The size of the province's log the sample results come from.
pub(crate) const LOG_SIZE: u64 = 4242;
/// Its root (hex).
pub(crate) const LOG_ROOT: &str =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
/// The subsidy rule the province states.
pub(crate) const SUBSIDY_RULE: &str =
    "预算按综合得分比例分配给评价等级为合格及以上的单位；分以下尾差按最大余数法分配。";

/// What the province's node publishes.
#[derive(Debug, Clone)]
pub(crate) struct Province {
    /// Institutions, each followed by its instruments.
    pub rows: Vec<ResultRow>,
    pub sanctions: Vec<SanctionView>,
    pub compliance: Vec<ComplianceRow>,
    /// How many subsidy allocations were computed.
    pub allocations_computed: usize,
    /// The lowest score the subsidy rule shares the budget from.
    pub subsidy_min_score: f64,
}

#[allow(clippy::too_many_arguments)]
fn row(
    institution: (&str, &str),
    instrument: (&str, &str),
    hours: (f64, f64),
    revenue: (f64, f64),
    served: (usize, usize),
    rating: Option<f64>,
    score: f64,
    grade: &str,
    receipts: u32,
) -> ResultRow {
    ResultRow {
        institution: institution.0.to_owned(),
        institution_name: institution.1.to_owned(),
        instrument: instrument.0.to_owned(),
        instrument_name: instrument.1.to_owned(),
        effective_hours: hours.0,
        external_hours: hours.1,
        sharing_rate: (hours.0 > 0.0).then(|| hours.1 / hours.0),
        utilisation: (hours.0 > 0.0).then(|| hours.0 / 1400.0),
        revenue_internal_yuan: revenue.0,
        revenue_external_yuan: revenue.1,
        users_served: served.0,
        institutions_served: served.1,
        average_rating: rating,
        monitoring_uptime: Some(0.97),
        publications: 2,
        response_hours: Some(3.5),
        rejection_rate: Some(0.05),
        offers: 0,
        offers_accepted: 0,
        reporting_on_time: Some(1.0),
        score,
        grade: grade.to_owned(),
        receipts,
        unconfirmed_receipts: 1,
        disputed_receipts: 0,
    }
}

fn compliance_row(
    instrument: (&str, &str),
    dates: (&str, &str, Option<&str>),
    standing: &str,
    working_days_late: Option<u32>,
) -> ComplianceRow {
    let institution = instrument.0.split('/').next().unwrap_or_default();
    ComplianceRow {
        institution: institution.to_owned(),
        institution_name: match institution {
            "dlut" => "大连理工大学",
            "neu" => "东北大学",
            _ => "辽宁大学",
        }
        .to_owned(),
        instrument: instrument.0.to_owned(),
        instrument_name: instrument.1.to_owned(),
        acceptance_date: dates.0.to_owned(),
        networked_date: dates.1.to_owned(),
        deadline: dates.2.map(str::to_owned),
        standing: standing.to_owned(),
        working_days_late,
    }
}

impl Province {
    /// Three institutions: 东北大学 (优秀), 大连理工大学 (良好), 辽宁大学 (较差, sanctioned).
    pub(crate) fn sample() -> Self {
        let dlut = ("dlut", "大连理工大学");
        let neu = ("neu", "东北大学");
        let lnu = ("lnu", "辽宁大学");
        let none = ("", "");
        Province {
            rows: vec![
                row(
                    neu,
                    none,
                    (1250.5, 700.25),
                    (125_000.0, 380_500.5),
                    (48, 17),
                    Some(4.8),
                    92.25,
                    "优秀",
                    310,
                ),
                row(
                    neu,
                    ("neu/XRD-2", "X射线衍射仪"),
                    (1250.5, 700.25),
                    (125_000.0, 380_500.5),
                    (48, 17),
                    Some(4.8),
                    92.25,
                    "优秀",
                    310,
                ),
                row(
                    dlut,
                    none,
                    (2100.0, 630.0),
                    (256_000.0, 198_000.75),
                    (96, 23),
                    Some(4.6),
                    86.5,
                    "良好",
                    512,
                ),
                row(
                    dlut,
                    ("dlut/LCMS-1", "液相色谱-质谱联用仪"),
                    (1200.0, 400.0),
                    (150_000.0, 120_000.0),
                    (60, 15),
                    Some(4.7),
                    88.0,
                    "良好",
                    300,
                ),
                row(
                    dlut,
                    ("dlut/TEM-01", "透射电子显微镜"),
                    (900.0, 230.0),
                    (106_000.0, 78_000.75),
                    (36, 8),
                    Some(4.5),
                    85.2,
                    "良好",
                    212,
                ),
                row(
                    lnu,
                    none,
                    (120.0, 0.0),
                    (8_000.0, 0.0),
                    (5, 1),
                    None,
                    55.0,
                    "较差",
                    9,
                ),
                row(
                    lnu,
                    ("lnu/NMR-1", "核磁共振波谱仪"),
                    (120.0, 0.0),
                    (8_000.0, 0.0),
                    (5, 1),
                    None,
                    55.0,
                    "较差",
                    9,
                ),
            ],
            sanctions: vec![SanctionView {
                institution: "lnu".to_owned(),
                institution_name: "辽宁大学".to_owned(),
                reasons: vec![
                    "大型科研仪器未按期入网（逾期 12 个工作日）".to_owned(),
                    "连续两个季度未报送使用记录".to_owned(),
                ],
            }],
            compliance: vec![
                compliance_row(
                    ("dlut/ICP-3", "电感耦合等离子体质谱仪"),
                    ("2026-03-02", "2026-05-06", Some("2026-04-14")),
                    "late",
                    Some(15),
                ),
                compliance_row(
                    ("dlut/SEM-4", "扫描电子显微镜"),
                    ("2026-06-01", "", Some("2026-07-13")),
                    "missing",
                    Some(40),
                ),
                compliance_row(
                    ("neu/CT-5", "工业CT"),
                    ("2027-12-20", "", None),
                    "beyond_calendar",
                    None,
                ),
            ],
            allocations_computed: 0,
            subsidy_min_score: 75.0,
        }
    }
}

impl MemoryBackend {
    /// Makes this the province's node, publishing [`Province::sample`].
    pub(crate) fn province_node(self) -> Self {
        self.lock().province = Some(Province::sample());
        self
    }

    /// Changes what the province's node publishes.
    pub(crate) fn edit_province(&self, edit: impl FnOnce(&mut Province)) {
        if let Some(province) = self.lock().province.as_mut() {
            edit(province);
        }
    }

    /// How many subsidy allocations the province's node computed.
    pub(crate) fn allocations_computed(&self) -> usize {
        self.lock()
            .province
            .as_ref()
            .map_or(0, |p| p.allocations_computed)
    }

    fn province(&self) -> Result<Province, ResultsFailure> {
        self.lock().province.clone().ok_or(ResultsFailure::NotHere)
    }
}

/// Midnight of a day in Beijing, as Unix seconds.
fn midnight(day: NaiveDate) -> i64 {
    Shanghai
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map_or(0, |t| t.timestamp())
}

/// `2026` or `2026-Q3` (empty: this year) → its name and `[from, to)`.
fn period(name: &str) -> Result<(String, i64, i64), ResultsFailure> {
    let bad = || {
        ResultsFailure::BadPeriod(format!(
            "{name:?} is not a year (2026) or a quarter (2026-Q3)"
        ))
    };
    let name = name.trim();
    let (year, quarter) = match name.split_once("-Q") {
        _ if name.is_empty() => (chrono::Utc::now().with_timezone(&Shanghai).year(), None),
        Some((year, quarter)) => (
            year.parse().map_err(|_| bad())?,
            Some(quarter.parse::<u32>().map_err(|_| bad())?),
        ),
        None => (name.parse().map_err(|_| bad())?, None),
    };
    if !(2000..=2100).contains(&year) {
        return Err(bad());
    }
    let (first_month, months, label) = match quarter {
        None => (1, 12, year.to_string()),
        Some(q @ 1..=4) => (3 * q - 2, 3, format!("{year}-Q{q}")),
        Some(_) => return Err(bad()),
    };
    let from = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(bad)?;
    let to = from
        .checked_add_months(chrono::Months::new(months))
        .ok_or_else(bad)?;
    Ok((label, midnight(from), midnight(to)))
}

fn groups() -> Vec<IndicatorGroupView> {
    let group = |zh: &str, en: &str, indicators: &[(&str, f64)]| IndicatorGroupView {
        name_zh: zh.to_owned(),
        name_en: en.to_owned(),
        weight: indicators.iter().map(|(_, w)| w).sum(),
        indicators: indicators
            .iter()
            .map(|(m, w)| ((*m).to_owned(), *w))
            .collect(),
    };
    vec![
        group(
            "组织管理",
            "Organisation and management",
            &[("reporting_on_time", 10.0), ("monitoring_uptime", 10.0)],
        ),
        group(
            "运行使用",
            "Operation and use",
            &[("utilisation", 30.0), ("publications", 10.0)],
        ),
        group(
            "共享服务",
            "Sharing service",
            &[
                ("sharing_rate", 15.0),
                ("average_rating", 10.0),
                ("response_hours", 5.0),
                ("institutions_served", 10.0),
            ],
        ),
    ]
}

/// A CSV field, quoted when it needs to be.
fn field(value: String) -> String {
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

impl ResultsBackend for MemoryBackend {
    /// Keeps nothing (publication, statements and evidence are tested on the node):
    /// refuses the current year as the node does, and takes any other period.
    async fn publish(&self, period: &str) -> Result<String, ResultsFailure> {
        self.province()?;
        let label = period.trim().to_owned();
        if label
            == chrono::Utc::now()
                .with_timezone(&Shanghai)
                .year()
                .to_string()
        {
            return Err(ResultsFailure::NotEnded);
        }
        Ok(label)
    }

    /// No disputes in the stand-in results.
    async fn disputes(
        &self,
        _period: &str,
        _from: u64,
        _limit: usize,
    ) -> Result<DisputePage, ResultsFailure> {
        self.province()?;
        Ok(DisputePage {
            total: 0,
            disputes: Vec::new(),
            next: None,
        })
    }

    async fn statement(&self, _period: &str) -> Result<StatementView, ResultsFailure> {
        self.province()?;
        Err(ResultsFailure::NoSuchStatement)
    }

    async fn evidence(
        &self,
        _period: &str,
        _digest: [u8; 32],
        _from: u64,
        _limit: usize,
    ) -> Result<EvidencePage, ResultsFailure> {
        self.province()?;
        Err(ResultsFailure::NoSuchStatement)
    }

    /// Three stand-in entries (the node's log, with real signatures, is tested there).
    async fn log_entries(&self, from: u64, limit: usize) -> Result<LogPage, ResultsFailure> {
        self.province()?;
        let size = 3u64;
        let to = from.saturating_add(limit as u64).min(size);
        Ok(LogPage {
            size,
            signed_head: "00".into(),
            entries: (from..to)
                .map(|index| LogEntryView {
                    index,
                    submission: format!("{index:02x}"),
                })
                .collect(),
            next: (to < size).then_some(to),
        })
    }

    async fn results(&self, name: &str) -> Result<ResultsView, ResultsFailure> {
        let province = self.province()?;
        let (label, from, to) = period(name)?;
        Ok(ResultsView {
            period: label,
            from,
            to,
            generated_at: chrono::Utc::now().timestamp(),
            log_size: LOG_SIZE,
            log_root: LOG_ROOT.to_owned(),
            rows: province.rows,
            sanctions: province.sanctions,
            groups: groups(),
            grade_thresholds: (90.0, 75.0, 60.0),
            subsidy_rule: SUBSIDY_RULE.to_owned(),
            subsidy_min_score: province.subsidy_min_score,
            published_at: None,
            corrections: Vec::new(),
        })
    }

    async fn results_csv(&self, name: &str) -> Result<Vec<u8>, ResultsFailure> {
        let view = self.results(name).await?;
        let mut out = format!("\u{feff}{}\n", ResultRow::CSV_HEADERS.join(","));
        for r in view.rows {
            let line: Vec<String> = r.csv_cells().into_iter().map(field).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
        Ok(out.into_bytes())
    }

    async fn subsidy(
        &self,
        name: &str,
        budget_fen: i64,
    ) -> Result<Vec<AllocationView>, ResultsFailure> {
        let view = self.results(name).await?;
        self.edit_province(|p| p.allocations_computed += 1);
        let qualifying: Vec<&ResultRow> = view
            .rows
            .iter()
            .filter(|r| {
                r.instrument.is_empty() && r.score >= view.subsidy_min_score && r.score > 0.0
            })
            .collect();
        let total: f64 = qualifying.iter().map(|r| r.score).sum();
        if qualifying.is_empty() || budget_fen <= 0 {
            return Ok(Vec::new());
        }
        let shares: Vec<f64> = qualifying
            .iter()
            .map(|r| budget_fen as f64 * r.score / total)
            .collect();
        let mut amounts: Vec<i64> = shares.iter().map(|s| s.floor() as i64).collect();
        let mut left = budget_fen - amounts.iter().sum::<i64>();
        let mut order: Vec<usize> = (0..shares.len()).collect();
        order.sort_by(|a, b| {
            let rem = |i: usize| shares[i] - shares[i].floor();
            rem(*b).total_cmp(&rem(*a))
        });
        for i in order.into_iter().cycle() {
            if left <= 0 {
                break;
            }
            amounts[i] += 1;
            left -= 1;
        }
        Ok(qualifying
            .iter()
            .zip(amounts)
            .map(|(r, amount_fen)| AllocationView {
                institution: r.institution.clone(),
                institution_name: r.institution_name.clone(),
                score: r.score,
                grade: r.grade.clone(),
                amount_fen,
            })
            .collect())
    }

    async fn compliance(&self) -> Result<Vec<ComplianceRow>, ResultsFailure> {
        Ok(self.province()?.compliance)
    }
}
