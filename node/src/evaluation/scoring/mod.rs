//! Scores and grades from metrics, by the configured indicator tree.

use super::{
    config::{EvaluationConfig, Metric},
    metrics::Metrics,
};

/// The grades of the national evaluation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    Poor,
    Pass,
    Good,
    Excellent,
}

impl Grade {
    pub fn zh(self) -> &'static str {
        match self {
            Grade::Excellent => "优秀",
            Grade::Good => "良好",
            Grade::Pass => "合格",
            Grade::Poor => "较差",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorScore {
    pub metric: Metric,
    /// `None`: no data, scored by the indicator's `without_data`.
    pub value: Option<f64>,
    pub weight: f64,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupScore {
    pub name_zh: String,
    pub name_en: String,
    pub weight: f64,
    pub score: f64,
    pub indicators: Vec<IndicatorScore>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub groups: Vec<GroupScore>,
    /// Out of 100: the indicators' scores added up.
    pub total: f64,
    pub grade: Grade,
}

/// The share of an indicator's weight a value earns: nothing at `zero_at` or worse, all
/// at `full_at` or better, in proportion between.
fn fraction(value: f64, zero_at: f64, full_at: f64) -> f64 {
    ((value - zero_at) / (full_at - zero_at)).clamp(0.0, 1.0)
}

/// Scores `metrics` by `config`.
pub fn evaluate(config: &EvaluationConfig, metrics: &Metrics) -> Evaluation {
    let groups: Vec<GroupScore> = config
        .groups
        .iter()
        .map(|group| {
            let indicators: Vec<IndicatorScore> = group
                .indicators
                .iter()
                .map(|i| {
                    let value = metrics.value(i.metric).filter(|v| v.is_finite());
                    IndicatorScore {
                        metric: i.metric,
                        value,
                        weight: i.weight,
                        score: i.weight
                            * value.map_or(i.without_data, |v| fraction(v, i.zero_at, i.full_at)),
                    }
                })
                .collect();
            GroupScore {
                name_zh: group.name_zh.clone(),
                name_en: group.name_en.clone(),
                weight: indicators.iter().map(|i| i.weight).sum(),
                score: indicators.iter().map(|i| i.score).sum(),
                indicators,
            }
        })
        .collect();
    // Never rescaled to the indicators with data: leaving an indicator out would let a
    // member with bad ratings or poor uptime score better by sending none. What an
    // indicator without data earns is the configuration's `without_data`.
    let total: f64 = groups.iter().map(|g| g.score).sum();
    let g = &config.grades;
    let grade = if total >= g.excellent {
        Grade::Excellent
    } else if total >= g.good {
        Grade::Good
    } else if total >= g.pass {
        Grade::Pass
    } else {
        Grade::Poor
    };
    Evaluation {
        groups,
        total,
        grade,
    }
}

#[cfg(test)]
mod tests;
