//! UI strings of the province's publications — the public evaluation results with their
//! rule, log and sanctions list, the subsidy allocation and reporting compliance — one
//! struct per language (`zh.rs`, `en.rs`).

mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Strings of the results, subsidy and compliance pages.
#[derive(Debug)]
pub(crate) struct ResultsStrings {
    pub nav_results: &'static str,
    pub nav_subsidy: &'static str,
    pub nav_compliance: &'static str,
    /// Shown on a member's node instead of results: only the province publishes them.
    pub not_here: &'static str,

    // The period.
    pub period: &'static str,
    pub period_hint: &'static str,
    pub period_submit: &'static str,
    pub period_quick: &'static str,
    pub bad_period: &'static str,
    pub you_typed: &'static str,
    pub span: &'static str,
    /// Between the first and the last day of a period.
    pub to: &'static str,
    pub generated_at: &'static str,

    // The results page.
    pub title: &'static str,
    pub intro: &'static str,
    /// "Computed from the first N entries of the log (root hash R)", in three pieces.
    pub source_title: &'static str,
    pub source_before: &'static str,
    pub source_middle: &'static str,
    pub source_after: &'static str,
    pub source_check: &'static str,
    pub downloads: &'static str,
    pub download_csv: &'static str,
    pub download_json: &'static str,
    pub rule_title: &'static str,
    pub col_group: &'static str,
    pub col_weight: &'static str,
    pub col_indicators: &'static str,
    pub grades_title: &'static str,
    pub points: &'static str,
    pub below: &'static str,
    pub grade_excellent: &'static str,
    pub grade_good: &'static str,
    pub grade_pass: &'static str,
    pub grade_poor: &'static str,
    pub institutions_title: &'static str,
    pub institutions_empty: &'static str,
    pub col_institution: &'static str,
    pub col_instrument: &'static str,
    pub col_score: &'static str,
    pub col_grade: &'static str,
    pub col_effective: &'static str,
    pub col_external: &'static str,
    pub col_sharing: &'static str,
    pub col_utilisation: &'static str,
    pub col_revenue_internal: &'static str,
    pub col_revenue_external: &'static str,
    pub col_users: &'static str,
    pub col_institutions: &'static str,
    pub col_rating: &'static str,
    pub col_uptime: &'static str,
    pub col_publications: &'static str,
    pub col_response: &'static str,
    pub col_rejection: &'static str,
    pub col_reporting: &'static str,
    pub col_receipts: &'static str,
    pub col_unconfirmed: &'static str,
    pub col_disputed: &'static str,
    pub instruments_of: &'static str,
    pub sanctions_title: &'static str,
    pub sanctions_intro: &'static str,
    pub sanctions_empty: &'static str,
    pub col_reasons: &'static str,

    // Indicators, by their names in the evaluation configuration.
    pub m_utilisation: &'static str,
    pub m_sharing_rate: &'static str,
    pub m_average_rating: &'static str,
    pub m_response_hours: &'static str,
    pub m_rejection_rate: &'static str,
    pub m_institutions_served: &'static str,
    pub m_users_served: &'static str,
    pub m_publications: &'static str,
    pub m_monitoring_uptime: &'static str,
    pub m_reporting_on_time: &'static str,

    // The subsidy allocation.
    pub subsidy_title: &'static str,
    pub subsidy_intro: &'static str,
    pub budget: &'static str,
    pub budget_hint: &'static str,
    pub subsidy_submit: &'static str,
    pub rule_label: &'static str,
    pub allocations_title: &'static str,
    pub allocations_empty: &'static str,
    pub score_chart_title: &'static str,
    pub all_instruments: &'static str,
    pub all_institutions: &'static str,
    pub instruments_chart_title: &'static str,
    pub utilisation_chart_title: &'static str,
    pub sharing_chart_title: &'static str,
    pub allocations_why: &'static str,
    pub closest_title: &'static str,
    pub col_gap: &'static str,
    pub see_results: &'static str,
    pub col_amount: &'static str,
    pub total: &'static str,
    pub err_budget: &'static str,

    // Reporting compliance.
    pub compliance_title: &'static str,
    pub compliance_intro: &'static str,
    pub compliance_empty: &'static str,
    pub col_acceptance: &'static str,
    pub col_networked: &'static str,
    pub col_deadline: &'static str,
    pub col_days_late: &'static str,
    pub col_standing: &'static str,
    pub standing_late: &'static str,
    pub standing_missing: &'static str,
    pub standing_beyond: &'static str,
    pub standing_no_acceptance: &'static str,

    // Publication and corrections.
    pub published_title: &'static str,
    pub published_before: &'static str,
    pub published_after: &'static str,
    pub published_notice: &'static str,
    pub statement_link: &'static str,
    pub verify_hint: &'static str,
    pub publish_title: &'static str,
    pub publish_intro: &'static str,
    pub publish_submit: &'static str,
    pub publish_not_ended: &'static str,
    pub publish_already: &'static str,
    pub corrections_title: &'static str,
    pub corrections_intro: &'static str,
    pub corrections_empty: &'static str,
    pub col_figure: &'static str,
    pub col_published: &'static str,
    pub col_now: &'static str,
    /// A row the published figures lack (an instrument added since).
    pub row_present: &'static str,
    pub row_figure: &'static str,
    pub disputes_title: &'static str,
    pub disputes_intro: &'static str,
    pub disputes_empty: &'static str,
    pub col_receipt: &'static str,
    pub col_home: &'static str,
    pub col_reason: &'static str,
    pub previous_page: &'static str,
    pub next_page: &'static str,
    /// Figure names are the CSV's Chinese headers (else the JSON keys, in words).
    pub figures_in_chinese: bool,
}

impl ResultsStrings {
    /// A grade as published (优秀, 良好, 合格, 较差) in this language; other text as is.
    pub(crate) fn grade<'a>(&self, grade: &'a str) -> &'a str {
        match grade {
            "优秀" => self.grade_excellent,
            "良好" => self.grade_good,
            "合格" => self.grade_pass,
            "较差" => self.grade_poor,
            other => other,
        }
    }

    /// An indicator's metric by its configured name; an unknown name as is.
    pub(crate) fn metric<'a>(&self, name: &'a str) -> &'a str {
        match name {
            "utilisation" => self.m_utilisation,
            "sharing_rate" => self.m_sharing_rate,
            "average_rating" => self.m_average_rating,
            "response_hours" => self.m_response_hours,
            "rejection_rate" => self.m_rejection_rate,
            "institutions_served" => self.m_institutions_served,
            "users_served" => self.m_users_served,
            "publications" => self.m_publications,
            "monitoring_uptime" => self.m_monitoring_uptime,
            "reporting_on_time" => self.m_reporting_on_time,
            other => other,
        }
    }

    /// A figure of the results by its JSON key, as a correction names it.
    pub(crate) fn figure(&self, key: &str) -> String {
        if key == "row" {
            return self.row_figure.to_owned();
        }
        match alliance_protocol::results::ResultRow::header_of(key) {
            Some(header) if self.figures_in_chinese => header.to_owned(),
            _ => key.replace('_', " "),
        }
    }

    /// The standing of a compliance row (`late`, `missing`, `beyond_calendar`,
    /// `no_acceptance_date`) in words.
    pub(crate) fn standing<'a>(&self, code: &'a str) -> &'a str {
        match code {
            "late" => self.standing_late,
            "missing" => self.standing_missing,
            "beyond_calendar" => self.standing_beyond,
            "no_acceptance_date" => self.standing_no_acceptance,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_metrics_and_standings_read_in_each_language() {
        assert_eq!(ZH.grade("优秀"), "优秀");
        assert_eq!(EN.grade("较差"), "Poor");
        assert_eq!(EN.grade("其他"), "其他");
        assert_eq!(ZH.metric("sharing_rate"), "共享率");
        assert_eq!(EN.metric("new_metric"), "new_metric");
        assert_eq!(
            ZH.standing("beyond_calendar"),
            "超出已知法定节假日日历，需人工核定"
        );
        assert_eq!(EN.standing("missing"), "Not on the network");
    }
}
