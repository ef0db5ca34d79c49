//! The demo province publishes the last quarter that has ended once the year of history
//! is in its log; then a researcher registers a paper from that quarter, citing a use the
//! province's log holds confirmed, which reaches the province after publication and
//! shows as a correction beside the frozen figures.

use std::time::Duration;

use alliance_protocol::{
    UnixTime,
    publication::{Publication as Paper, PublicationKind},
    receipt::UsageReceipt,
};
use chrono::{Datelike, NaiveDate};

use super::history::Member;
use crate::{
    evaluation::metrics::{Countersign, Period},
    province::{publication::Publication, results::read_log},
};

/// The log counts as complete once it has not grown for this long.
const SETTLED: Duration = Duration::from_secs(10);
/// The longest the demo waits for that.
const MOST: Duration = Duration::from_secs(300);

/// `2026-Q3` on any day of 2026-Q4; `2025-Q4` in 2026-Q1.
pub(super) fn last_ended_quarter(today: NaiveDate) -> String {
    let quarter = (today.month0() / 3) + 1;
    if quarter == 1 {
        format!("{}-Q4", today.year() - 1)
    } else {
        format!("{}-Q{}", today.year(), quarter - 1)
    }
}

fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

/// Waits for the log to settle, publishes the last ended quarter, then registers a paper
/// from it at the home of a user who used an instrument in it; says why if it could not.
pub(super) async fn publish_then_correct(
    publication: Publication,
    members: &[Member],
) -> Result<(), String> {
    let started = tokio::time::Instant::now();
    let mut size = publication.log().tree_head().await.size;
    let mut still_since = tokio::time::Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    while still_since.elapsed() < SETTLED && started.elapsed() < MOST {
        ticks.tick().await;
        let now = publication.log().tree_head().await.size;
        if now != size {
            size = now;
            still_since = tokio::time::Instant::now();
        }
    }
    let label = last_ended_quarter(today());
    match publication.publish(&label, today()).await {
        Ok(published) => tracing::info!(
            period = %label,
            log_size = published.head.size,
            "demo results published"
        ),
        Err(e) => {
            tracing::warn!(period = %label, error = %e, "demo results not published");
            return Err(format!("{label} not published: {e}"));
        }
    }
    let (period, _) = Period::parse(&label, today()).map_err(|e| e.to_string())?;
    // A paper counts for an instrument only from a user whose use of it the province
    // holds confirmed: cite such a use, as the province's log has it.
    let log = publication.log().clone();
    let size = publication.log().tree_head().await.size;
    let uses = tokio::task::spawn_blocking(move || read_log(&log, 0, size))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    for home in members {
        let user = format!("{}-researcher", home.own);
        let Some(used) = uses.iter().find(|u| {
            matches!(u.countersign, Countersign::Confirmed { .. })
                && u.receipt.home_institution == home.own
                && u.receipt.user_id == user
                // Wholly in the quarter: the paper is dated by the use's end, and a
                // session run overnight into the next quarter would date it there.
                && period.from <= u.receipt.start
                && u.receipt.end < period.to
        }) else {
            continue;
        };
        if register_paper(home, &used.receipt).await {
            return Ok(());
        }
    }
    tracing::warn!("no confirmed use in the published quarter to cite");
    Err(format!("no confirmed use in {label} to cite"))
}

/// Registers a paper of the home's researcher citing `used`, another member's
/// instrument they used.
async fn register_paper(home: &Member, used: &UsageReceipt) -> bool {
    let day = chrono::DateTime::from_timestamp(used.end.0, 0)
        .map(|t| t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive())
        .unwrap_or_else(today);
    let paper = Paper {
        publication_id: format!("demo-late-{}", used.receipt_id),
        home_institution: home.own.clone(),
        user_id: used.user_id.clone(),
        kind: PublicationKind::Paper,
        title: "大型仪器共享条件下的材料表征方法研究".into(),
        authors: "王小明, 李华".into(),
        identifier: format!("10.1000/demo.{}", used.receipt_id),
        acknowledgement: "本工作使用了联盟共享仪器。".into(),
        instruments: vec![used.instrument_id()],
        published_on: day.format("%Y-%m-%d").to_string(),
        registered_at: UnixTime::now(),
    };
    match home.receipts.register_publication(paper).await {
        Ok(_) => {
            tracing::info!(home = %home.own, "demo paper registered after publication");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "demo paper refused");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_ended_quarter_is_the_one_before_today() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(last_ended_quarter(day(2026, 12, 7)), "2026-Q3");
        assert_eq!(last_ended_quarter(day(2026, 4, 1)), "2026-Q1");
        assert_eq!(last_ended_quarter(day(2026, 1, 31)), "2025-Q4");
    }
}
