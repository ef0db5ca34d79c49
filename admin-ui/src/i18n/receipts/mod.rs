//! UI strings of usage receipts — the user's receipts with their confirmation and rating,
//! the managers' completion and walk-in forms, the issued receipts with the province's
//! log, and the log alarm banner — one struct per language (`zh.rs`, `en.rs`).

mod en;
mod zh;

pub(crate) use en::EN;
pub(crate) use zh::ZH;

/// Strings of the receipt pages.
#[derive(Debug)]
pub(crate) struct ReceiptStrings {
    pub nav_receipts: &'static str,
    /// The banner every page shows while the node holds evidence of an inconsistent log.
    pub log_alarm: &'static str,

    // A receipt.
    pub receipt_id: &'static str,
    pub owner: &'static str,
    pub user: &'static str,
    pub effective: &'static str,
    pub preparation: &'static str,
    pub test: &'static str,
    pub post_processing: &'static str,
    pub fees: &'static str,
    pub materials: &'static str,
    pub operating: &'static str,
    pub labour: &'static str,
    pub service: &'static str,
    pub internal: &'static str,
    pub external: &'static str,
    pub walk_in: &'static str,
    pub issued_at: &'static str,

    // My receipts.
    pub my_title: &'static str,
    pub my_intro: &'static str,
    pub my_empty: &'static str,
    pub to_receipts: &'static str,
    pub unconfirmed: &'static str,
    pub unconfirmed_empty: &'static str,
    pub confirmed: &'static str,
    pub confirmed_at: &'static str,
    pub rating_legend: &'static str,
    pub rating_hint: &'static str,
    /// After the number of stars: `4 星（满分 5 星）`, `4 of 5 stars`.
    pub of_five_stars: &'static str,
    pub comment: &'static str,
    pub comment_hint: &'static str,
    pub confirm_submit: &'static str,
    pub confirmed_notice: &'static str,
    /// Under the walk-in form's service item.
    pub service_item_hint: &'static str,
    /// The dispute form, folded under each receipt to confirm.
    pub dispute_summary: &'static str,
    pub dispute_hint: &'static str,
    pub dispute_reason: &'static str,
    pub dispute_submit: &'static str,
    pub disputed: &'static str,
    pub disputed_notice: &'static str,

    // Issued receipts and the province's log.
    pub manage_title: &'static str,
    pub manage_intro: &'static str,
    pub manage_link: &'static str,
    pub issued_from: &'static str,
    pub issued_to: &'static str,
    pub usage_title: &'static str,
    pub usage_link: &'static str,
    pub usage_note: &'static str,
    pub usage_month: &'static str,
    pub usage_instrument: &'static str,
    pub usage_all: &'static str,
    pub usage_show: &'static str,
    pub usage_per_month: &'static str,
    pub usage_per_instrument: &'static str,
    pub usage_hours: &'static str,
    pub usage_external_hours: &'static str,
    pub usage_samples: &'static str,
    pub usage_revenue: &'static str,
    pub usage_external_revenue: &'static str,
    pub usage_receipts: &'static str,
    pub usage_hours_chart: &'static str,
    pub usage_revenue_chart: &'static str,
    pub usage_none: &'static str,
    pub log_title: &'static str,
    pub log_waiting: &'static str,
    pub log_proven: &'static str,
    pub log_head_size: &'static str,
    pub log_head_at: &'static str,
    pub log_head_none: &'static str,
    pub alarm_seen: &'static str,
    pub alarm_shown: &'static str,
    /// A certificate of this institution for another node's key.
    pub impostor_alarm: &'static str,
    /// "The province's log has not been confirmed for N minutes", in two pieces.
    pub log_stale_before: &'static str,
    pub log_stale_after: &'static str,
    /// Receipts submitted again after the province's log was reset below them.
    pub alarm_resubmitted: &'static str,
    pub alarm_detected: &'static str,
    pub issued_title: &'static str,
    pub issued_empty: &'static str,
    pub dead_title: &'static str,
    pub dead_intro: &'static str,
    pub dead_empty: &'static str,
    pub dead_to: &'static str,
    pub dead_kind: &'static str,
    pub dead_reason: &'static str,
    pub dead_at: &'static str,
    pub dead_newer: &'static str,
    pub dead_older: &'static str,
    pub col_standing: &'static str,
    pub col_outbox: &'static str,
    pub standing_awaiting: &'static str,
    pub awaiting_until: &'static str,
    pub standing_confirmed: &'static str,
    pub standing_single: &'static str,
    pub standing_single_hint: &'static str,
    pub standing_disputed: &'static str,
    pub standing_all: &'static str,
    pub bulk_title: &'static str,
    pub bulk_hint: &'static str,
    pub bulk_select: &'static str,
    pub bulk_submit: &'static str,
    pub bulk_none: &'static str,
    pub bulk_done_prefix: &'static str,
    pub bulk_done_suffix: &'static str,
    pub newer: &'static str,
    pub older: &'static str,
    pub showing: &'static str,
    pub in_outbox: &'static str,
    pub attempts: &'static str,
    pub last_error: &'static str,
    pub in_log: &'static str,
    pub not_submitted: &'static str,

    // Completing a booking.
    pub complete_title: &'static str,
    pub complete_intro: &'static str,
    pub booked: &'static str,
    pub facts: &'static str,
    pub f_start: &'static str,
    pub f_end: &'static str,
    pub f_preparation: &'static str,
    pub f_test: &'static str,
    pub f_post_processing: &'static str,
    pub minutes_hint: &'static str,
    pub f_note: &'static str,
    pub note_hint: &'static str,
    pub complete_submit: &'static str,
    pub completed: &'static str,
    pub not_completable: &'static str,
    pub back_to_manage: &'static str,

    // A session without a booking.
    pub session_title: &'static str,
    pub session_intro: &'static str,
    pub session_link: &'static str,
    pub session_user: &'static str,
    pub f_user_name: &'static str,
    pub home_hint: &'static str,
    pub session_submit: &'static str,
    pub session_recorded: &'static str,

    // Problems.
    pub err_end: &'static str,
    pub err_end_order: &'static str,
    pub err_minutes: &'static str,
    pub err_minutes_zero: &'static str,
    pub err_samples: &'static str,
    pub err_note: &'static str,
    pub err_rating: &'static str,
    pub err_comment: &'static str,
    pub err_reason: &'static str,
}

impl ReceiptStrings {
    /// What a rating reads as: `4 星（满分 5 星）`, `4 of 5 stars`.
    pub(crate) fn stars_label(&self, rating: u8) -> String {
        format!("{rating} {}", self.of_five_stars)
    }
}

/// A rating drawn as five stars: `★★★★☆`.
pub(crate) fn stars(rating: u8) -> String {
    let filled = usize::from(rating.min(5));
    format!("{}{}", "★".repeat(filled), "☆".repeat(5 - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_read_as_stars() {
        assert_eq!(stars(4), "★★★★☆");
        assert_eq!(stars(9), "★★★★★");
        assert_eq!(ZH.stars_label(4), "4 星（满分 5 星）");
        assert_eq!(EN.stars_label(1), "1 of 5 stars");
    }
}
