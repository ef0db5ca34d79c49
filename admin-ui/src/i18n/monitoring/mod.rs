//! UI strings of instrument monitoring — the managers' page of their instruments' states
//! and agent tokens, and the province's live board with its alerts — one struct per
//! language (`zh.rs`, `en.rs`).

mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Strings of the monitoring pages.
#[derive(Debug)]
pub(crate) struct MonitoringStrings {
    pub nav_board: &'static str,
    /// The managers' way to their monitoring page.
    pub manage_link: &'static str,

    // States an agent reports.
    pub state_idle: &'static str,
    pub state_running: &'static str,
    pub state_maintenance: &'static str,
    pub state_fault: &'static str,
    /// No report yet.
    pub state_none: &'static str,

    // Columns.
    pub col_instrument: &'static str,
    pub col_institution: &'static str,
    pub col_state: &'static str,
    pub col_note: &'static str,
    pub col_reported: &'static str,
    pub col_token: &'static str,
    pub col_actions: &'static str,
    pub col_last_seen: &'static str,
    pub col_since: &'static str,

    // The managers' page.
    pub manage_title: &'static str,
    pub manage_intro: &'static str,
    pub manage_empty: &'static str,
    pub back_to_manage: &'static str,
    pub token_issued: &'static str,
    pub token_none: &'static str,
    pub issue: &'static str,
    pub rotate: &'static str,
    pub rotate_confirm: &'static str,
    pub revoke: &'static str,
    pub revoke_confirm: &'static str,
    pub revoked_notice: &'static str,
    /// Before the instrument's name.
    pub new_token_title: &'static str,
    pub new_token_warning: &'static str,
    pub new_token_replaced: &'static str,
    pub token_label: &'static str,
    pub howto_title: &'static str,
    pub howto_script: &'static str,
    pub howto_once: &'static str,
    pub howto_run: &'static str,
    pub howto_states: &'static str,
    pub howto_token_file: &'static str,

    // The province's board.
    pub board_title: &'static str,
    /// `{silent}` is replaced by how long an instrument may stay unheard.
    pub board_intro: &'static str,
    pub board_refresh: &'static str,
    pub board_as_of: &'static str,
    /// Shown on a member's node: only the province keeps the board.
    pub board_not_here: &'static str,
    pub stat_monitored: &'static str,
    pub stat_alerts: &'static str,
    pub stat_silent: &'static str,
    pub day_title: &'static str,
    pub day_hint: &'static str,
    pub day_table: &'static str,
    pub day_hour: &'static str,
    pub alerts_more: &'static str,
    pub alerts_title: &'static str,
    pub alerts_none: &'static str,
    pub alert_silent: &'static str,
    pub alert_fault: &'static str,
    pub never_heard: &'static str,
    pub last_seen: &'static str,
    pub fault_since: &'static str,
    pub rows_title: &'static str,
    pub rows_empty: &'static str,
    pub silent_marker: &'static str,

    // Durations: `{n}` is replaced by the number.
    pub seconds: &'static str,
    pub minutes: &'static str,
    pub hours: &'static str,
    pub days: &'static str,
    /// After a duration: `5 分钟前`, `5 minutes ago`.
    pub ago: &'static str,
    pub just_now: &'static str,
}

impl MonitoringStrings {
    /// A reported state (`idle`, `running`, `maintenance`, `fault`) in words; an unknown
    /// code as it is.
    pub(crate) fn state<'a>(&self, code: &'a str) -> &'a str {
        match code {
            "idle" => self.state_idle,
            "running" => self.state_running,
            "maintenance" => self.state_maintenance,
            "fault" => self.state_fault,
            other => other,
        }
    }

    /// A length of time in its largest fitting unit: `90 秒`, `10 分钟`, `3 hours`.
    pub(crate) fn duration(&self, seconds: u64) -> String {
        let (template, n) = match seconds {
            0..120 => (self.seconds, seconds),
            120..7_200 => (self.minutes, seconds / 60),
            7_200..172_800 => (self.hours, seconds / 3_600),
            _ => (self.days, seconds / 86_400),
        };
        template.replace("{n}", &n.to_string())
    }

    /// How long ago `then` was at `now` (Unix seconds): `刚刚`, `5 分钟前`.
    pub(crate) fn ago(&self, then: i64, now: i64) -> String {
        match u64::try_from(now.saturating_sub(then)) {
            Ok(seconds) if seconds >= 60 => format!("{}{}", self.duration(seconds), self.ago),
            _ => self.just_now.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_durations_read_in_each_language() {
        assert_eq!(ZH.state("running"), "运行中");
        assert_eq!(EN.state("fault"), "Fault");
        assert_eq!(EN.state("new_state"), "new_state");
        assert_eq!(ZH.duration(90), "90 秒");
        assert_eq!(ZH.duration(600), "10 分钟");
        assert_eq!(EN.duration(3 * 3_600), "3 hours");
        assert_eq!(EN.duration(3 * 86_400), "3 days");
        assert_eq!(ZH.ago(1_000, 1_030), "刚刚");
        assert_eq!(ZH.ago(1_000, 1_300), "5 分钟前");
        assert_eq!(EN.ago(1_000, 1_300), "5 minutes ago");
        assert_eq!(EN.ago(2_000, 1_000), "just now");
    }
}
