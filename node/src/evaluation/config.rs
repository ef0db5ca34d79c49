//! The evaluation's configuration (`configs/evaluation.toml`): checked when read, so a
//! misweighted tree or an unknown metric is an error at start, not a wrong grade later.

use serde::{Deserialize, Serialize};

use super::scoring::Grade;
use crate::catalogue::classification::Classification;

/// A metric an indicator scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Utilisation,
    SharingRate,
    AverageRating,
    ResponseHours,
    RejectionRate,
    InstitutionsServed,
    UsersServed,
    Publications,
    MonitoringUptime,
    ReportingOnTime,
}

impl Metric {
    /// Its name in `configs/evaluation.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Utilisation => "utilisation",
            Metric::SharingRate => "sharing_rate",
            Metric::AverageRating => "average_rating",
            Metric::ResponseHours => "response_hours",
            Metric::RejectionRate => "rejection_rate",
            Metric::InstitutionsServed => "institutions_served",
            Metric::UsersServed => "users_served",
            Metric::Publications => "publications",
            Metric::MonitoringUptime => "monitoring_uptime",
            Metric::ReportingOnTime => "reporting_on_time",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RatedHours {
    pub general: f64,
    pub special: f64,
    /// Classification codes, by prefix, of special instruments.
    #[serde(default)]
    pub special_classifications: Vec<String>,
}

impl RatedHours {
    /// Rated hours a year of an instrument of this classification.
    pub fn of(&self, classification_code: &str) -> f64 {
        let special = self
            .special_classifications
            .iter()
            .any(|prefix| !prefix.is_empty() && classification_code.starts_with(prefix.as_str()));
        if special { self.special } else { self.general }
    }
}

/// The lowest score of each grade.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Grades {
    pub excellent: f64,
    pub good: f64,
    pub pass: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub metric: Metric,
    pub weight: f64,
    pub zero_at: f64,
    pub full_at: f64,
    /// The share of the weight (0–1) an indicator without data earns: nothing unless
    /// configured, so that withholding data never pays.
    #[serde(default)]
    pub without_data: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name_zh: String,
    pub name_en: String,
    #[serde(rename = "indicator")]
    pub indicators: Vec<Indicator>,
}

/// Who may receive post-hoc subsidies (R15).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubsidyRule {
    pub min_grade: Grade,
}

/// When an institution is named for sanctions (R16), besides a poor grade and late
/// reporting.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SanctionRule {
    pub min_utilisation: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    pub rated_hours: RatedHours,
    pub grades: Grades,
    #[serde(rename = "group")]
    pub groups: Vec<Group>,
    pub subsidy: SubsidyRule,
    pub sanctions: SanctionRule,
}

/// What is wrong with an evaluation config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("evaluation config: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("evaluation config: {0}")]
    Json(String),
    #[error("evaluation config: the weights add up to {0}, not 100")]
    Weights(f64),
    #[error("evaluation config: indicator {0:?} has zero_at equal to full_at")]
    FlatIndicator(Metric),
    #[error("evaluation config: grades must be excellent > good > pass")]
    Grades,
    #[error("evaluation config: rated hours must be positive")]
    RatedHours,
    #[error("evaluation config: indicator {0:?} has without_data outside 0 to 1")]
    WithoutData(Metric),
    #[error("evaluation config: special classification {0:?} is not in the classification")]
    UnknownClassification(String),
}

/// The config shipped in the repository, built in: a node needs no file to evaluate.
pub const DEFAULT: &str = include_str!("../../../configs/evaluation.toml");

impl EvaluationConfig {
    pub fn parse(text: &str) -> Result<EvaluationConfig, ConfigError> {
        Self::checked(toml::from_str(text)?)
    }

    /// Reads the rules as a results statement states them (JSON), checked the same way.
    pub fn from_json(value: serde_json::Value) -> Result<EvaluationConfig, ConfigError> {
        Self::checked(serde_json::from_value(value).map_err(|e| ConfigError::Json(e.to_string()))?)
    }

    /// The rules as JSON, for a results statement.
    pub fn to_json(&self) -> serde_json::Value {
        // Plain fields only: serialising cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }

    fn checked(config: EvaluationConfig) -> Result<EvaluationConfig, ConfigError> {
        let total: f64 = config
            .groups
            .iter()
            .flat_map(|g| &g.indicators)
            .map(|i| i.weight)
            .sum();
        if (total - 100.0).abs() > 1e-9 {
            return Err(ConfigError::Weights(total));
        }
        if let Some(flat) = config
            .groups
            .iter()
            .flat_map(|g| &g.indicators)
            .find(|i| i.zero_at == i.full_at || i.weight < 0.0)
        {
            return Err(ConfigError::FlatIndicator(flat.metric));
        }
        if let Some(odd) = config
            .groups
            .iter()
            .flat_map(|g| &g.indicators)
            .find(|i| !(0.0..=1.0).contains(&i.without_data))
        {
            return Err(ConfigError::WithoutData(odd.metric));
        }
        // Every node classifies by the same embedded list, so a special code outside it
        // would match no instrument and its rated hours would silently never apply.
        let known = Classification::default_set()
            .map_err(|e| ConfigError::UnknownClassification(e.to_string()))?;
        if let Some(unknown) = config
            .rated_hours
            .special_classifications
            .iter()
            .find(|code| known.get(code).is_none())
        {
            return Err(ConfigError::UnknownClassification(unknown.clone()));
        }
        let g = &config.grades;
        if !(g.excellent > g.good && g.good > g.pass) {
            return Err(ConfigError::Grades);
        }
        if !(config.rated_hours.general > 0.0 && config.rated_hours.special > 0.0) {
            return Err(ConfigError::RatedHours);
        }
        Ok(config)
    }

    /// The built-in config.
    pub fn builtin() -> EvaluationConfig {
        // Checked by a test; an invalid built-in config is a build defect.
        #[allow(clippy::expect_used)]
        EvaluationConfig::parse(DEFAULT).expect("the built-in evaluation config is valid")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_shipped_config_reads_and_its_weights_add_up() {
        let config = EvaluationConfig::parse(DEFAULT).unwrap();
        assert_eq!(config.groups.len(), 3);
        assert_eq!(config.groups[1].name_zh, "运行使用");
        assert_eq!(config.rated_hours.of("1101"), 800.0);
        assert_eq!(config.rated_hours.of("0101"), 1400.0);
    }

    #[test]
    fn the_rules_read_back_from_json_as_a_statement_states_them() {
        let config = EvaluationConfig::builtin();
        assert_eq!(
            EvaluationConfig::from_json(config.to_json()).unwrap(),
            config
        );
        let mut skewed = config.to_json();
        skewed["group"][0]["indicator"][0]["weight"] = serde_json::json!(99.0);
        assert!(matches!(
            EvaluationConfig::from_json(skewed),
            Err(ConfigError::Weights(_))
        ));
    }

    #[test]
    fn every_code_the_evaluation_names_is_in_the_classification() {
        let config = EvaluationConfig::builtin();
        let known = Classification::default_set().unwrap();
        assert!(!config.rated_hours.special_classifications.is_empty());
        for code in &config.rated_hours.special_classifications {
            assert!(known.get(code).is_some(), "{code} is in no category");
        }
        // A code outside the classification is refused at start.
        let stray = DEFAULT.replace(
            r#"special_classifications = ["#,
            r#"special_classifications = ["1603", "#,
        );
        assert!(matches!(
            EvaluationConfig::parse(&stray),
            Err(ConfigError::UnknownClassification(code)) if code == "1603"
        ));
        let generous = DEFAULT.replace("full_at = 0.95", "full_at = 0.95\nwithout_data = 1.5");
        assert!(matches!(
            EvaluationConfig::parse(&generous),
            Err(ConfigError::WithoutData(Metric::MonitoringUptime))
        ));
    }

    #[test]
    fn misweighted_or_unknown_indicators_are_refused() {
        let heavier = DEFAULT.replace("weight = 30", "weight = 31");
        assert!(matches!(
            EvaluationConfig::parse(&heavier),
            Err(ConfigError::Weights(w)) if (w - 101.0).abs() < 1e-9
        ));
        let unknown = DEFAULT.replace("metric = \"utilisation\"", "metric = \"happiness\"");
        assert!(EvaluationConfig::parse(&unknown).is_err());
        let grades = DEFAULT.replace("good = 75", "good = 95");
        assert!(matches!(
            EvaluationConfig::parse(&grades),
            Err(ConfigError::Grades)
        ));
    }
}
