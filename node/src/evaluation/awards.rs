//! What follows from the grades: post-hoc subsidies (R15) and the sanctions list (R16).

use alliance_protocol::InstitutionId;

use super::{
    config::{SanctionRule, SubsidyRule},
    metrics::Metrics,
    scoring::{Evaluation, Grade},
};

/// An institution's evaluation for the period, and how many of its instruments were
/// reported late or are missing (R7).
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub institution: InstitutionId,
    pub evaluation: Evaluation,
    pub metrics: Metrics,
    pub late_or_missing: usize,
}

/// One institution's share of a subsidy budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    pub institution: InstitutionId,
    pub score: f64,
    pub amount_fen: i64,
}

/// The rule, as the results page states it.
pub fn subsidy_rule_zh(rule: &SubsidyRule) -> String {
    format!(
        "预算按综合得分比例分配给评价等级为{}及以上的单位；分以下尾差按最大余数法分配。",
        rule.min_grade.zh()
    )
}

/// Shares `budget_fen` among the institutions graded at least `rule.min_grade`, in
/// proportion to their scores. Amounts are whole fen and add up to the budget exactly:
/// each gets the floor of its share, and the fen left go one each to the largest
/// remainders (ties to the higher score, then the institution id).
pub fn allocate(budget_fen: i64, rule: &SubsidyRule, evaluated: &[Evaluated]) -> Vec<Allocation> {
    let qualifying: Vec<&Evaluated> = evaluated
        .iter()
        .filter(|e| e.evaluation.grade >= rule.min_grade && e.evaluation.total > 0.0)
        .collect();
    let total: f64 = qualifying.iter().map(|e| e.evaluation.total).sum();
    if qualifying.is_empty() || budget_fen <= 0 || total <= 0.0 {
        return Vec::new();
    }
    let shares: Vec<f64> = qualifying
        .iter()
        .map(|e| budget_fen as f64 * e.evaluation.total / total)
        .collect();
    let mut allocations: Vec<Allocation> = qualifying
        .iter()
        .zip(&shares)
        .map(|(e, share)| Allocation {
            institution: e.institution.clone(),
            score: e.evaluation.total,
            amount_fen: share.floor() as i64,
        })
        .collect();
    let given: i64 = allocations.iter().map(|a| a.amount_fen).sum();
    let mut order: Vec<usize> = (0..allocations.len()).collect();
    order.sort_by(|&a, &b| {
        let rem = |i: usize| shares[i] - shares[i].floor();
        rem(b)
            .total_cmp(&rem(a))
            .then(allocations[b].score.total_cmp(&allocations[a].score))
            .then(allocations[a].institution.cmp(&allocations[b].institution))
    });
    for &i in order
        .iter()
        .cycle()
        .take(usize::try_from(budget_fen - given).unwrap_or(0))
    {
        allocations[i].amount_fen += 1;
    }
    allocations
}

/// Why an institution is named.
#[derive(Debug, Clone, PartialEq)]
pub enum SanctionReason {
    GradedPoor { score: f64 },
    ReportingLate { instruments: usize },
    LowUsage { utilisation: f64, minimum: f64 },
}

impl SanctionReason {
    pub fn zh(&self) -> String {
        match self {
            SanctionReason::GradedPoor { score } => {
                format!("评价等级为{}（{score:.1} 分）", Grade::Poor.zh())
            }
            SanctionReason::ReportingLate { instruments } => {
                format!("{instruments} 台仪器未按期（验收后 30 个工作日内）入网")
            }
            SanctionReason::LowUsage {
                utilisation,
                minimum,
            } => format!(
                "仪器使用率 {:.1}%，低于 {:.0}%",
                utilisation * 100.0,
                minimum * 100.0
            ),
        }
    }
}

/// The institutions to name, each with every reason that applies.
pub fn sanctions(
    rule: &SanctionRule,
    evaluated: &[Evaluated],
) -> Vec<(InstitutionId, Vec<SanctionReason>)> {
    evaluated
        .iter()
        .filter_map(|e| {
            let mut reasons = Vec::new();
            if e.evaluation.grade == Grade::Poor {
                reasons.push(SanctionReason::GradedPoor {
                    score: e.evaluation.total,
                });
            }
            if e.late_or_missing > 0 {
                reasons.push(SanctionReason::ReportingLate {
                    instruments: e.late_or_missing,
                });
            }
            let utilisation = e
                .metrics
                .value(super::config::Metric::Utilisation)
                .unwrap_or(0.0);
            if utilisation < rule.min_utilisation {
                reasons.push(SanctionReason::LowUsage {
                    utilisation,
                    minimum: rule.min_utilisation,
                });
            }
            (!reasons.is_empty()).then(|| (e.institution.clone(), reasons))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::evaluation::scoring::Evaluation;

    fn evaluated(
        id: &str,
        total: f64,
        grade: Grade,
        hours: u64,
        rated: f64,
        late: usize,
    ) -> Evaluated {
        Evaluated {
            institution: id.parse().unwrap(),
            evaluation: Evaluation {
                groups: Vec::new(),
                total,
                grade,
            },
            metrics: Metrics {
                effective_minutes: hours * 60,
                rated_hours: rated,
                ..Metrics::default()
            },
            late_or_missing: late,
        }
    }

    fn field() -> Vec<Evaluated> {
        vec![
            evaluated("dlut", 92.0, Grade::Excellent, 1_200, 1_400.0, 0),
            evaluated("neu", 80.0, Grade::Good, 900, 1_400.0, 1),
            evaluated("imr", 78.0, Grade::Good, 300, 1_400.0, 0),
            evaluated("lnu", 55.0, Grade::Poor, 100, 1_400.0, 2),
        ]
    }

    #[test]
    fn a_budget_is_shared_by_score_among_good_and_better_to_the_fen() {
        let rule = SubsidyRule {
            min_grade: Grade::Good,
        };
        // 1,000,000.00 RMB among 92 + 80 + 78 = 250 points:
        // 36.8 %, 32 %, 31.2 % — exact here.
        let shares = allocate(100_000_000, &rule, &field());
        let amounts: Vec<(String, i64)> = shares
            .iter()
            .map(|a| (a.institution.to_string(), a.amount_fen))
            .collect();
        assert_eq!(
            amounts,
            [
                ("dlut".to_owned(), 36_800_000),
                ("neu".to_owned(), 32_000_000),
                ("imr".to_owned(), 31_200_000)
            ]
        );
        // 100 fen among 250 points: 36.8, 32, 31.2 → 36, 32, 31 and the fen left over to
        // the largest remainder (dlut's 0.8).
        let cents: Vec<i64> = allocate(100, &rule, &field())
            .iter()
            .map(|a| a.amount_fen)
            .collect();
        assert_eq!(cents, [37, 32, 31]);
        assert_eq!(cents.iter().sum::<i64>(), 100);
        assert!(subsidy_rule_zh(&rule).contains("良好"));
        assert!(
            allocate(
                100,
                &SubsidyRule {
                    min_grade: Grade::Excellent
                },
                &[]
            )
            .is_empty()
        );
    }

    #[test]
    fn the_sanctions_list_names_each_reason() {
        let rule = SanctionRule {
            min_utilisation: 0.3,
        };
        let listed = sanctions(&rule, &field());
        let names: Vec<String> = listed.iter().map(|(i, _)| i.to_string()).collect();
        // neu reported one instrument late; imr's 300 of 1,400 hours is 21 %; lnu all three.
        assert_eq!(names, ["neu", "imr", "lnu"]);
        assert_eq!(
            listed[0].1,
            [SanctionReason::ReportingLate { instruments: 1 }]
        );
        assert!(matches!(listed[1].1[0], SanctionReason::LowUsage { .. }));
        assert_eq!(listed[2].1.len(), 3);
        assert!(listed[2].1[0].zh().contains("较差"));
        assert!(listed[1].1[0].zh().contains("21.4%"));
    }
}
