//! `/manage/receipts`: for instrument managers and institution admins, the province's log
//! as this node checked it (receipts waiting for a proof of inclusion, those proven, the
//! latest verified tree head, and the evidence of an inconsistent log if any) and every
//! receipt issued here with its confirmation and its way to the province's log.

use askama::Template;
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, Layout, Refusal,
    day_filter::DayFilter,
    receipt_view::{self, ReceiptItem, Stars},
};
use crate::{
    AppState,
    auth::BOOKING_MANAGERS,
    backend::{Backend, DeadLetterPage, IssuedFilter, IssuedReceipt, IssuedStanding},
    i18n::Strings,
    render::Page,
    time,
};

/// The log box.
struct LogBox {
    waiting: usize,
    proven: usize,
    head_size: Option<u64>,
    head_at: String,
    alarm: Option<AlarmBox>,
}

struct AlarmBox {
    seen_size: u64,
    shown_size: u64,
    detected_at: String,
    resubmitted: u64,
}

/// One page of dead letters.
struct DeadBox {
    total: usize,
    rows: Vec<DeadRow>,
    newer: Option<String>,
    older: Option<String>,
}

struct DeadRow {
    at: String,
    to: String,
    kind: String,
    code: String,
    reason: String,
}

/// Dead letters one page shows.
const DEAD_PER_PAGE: usize = 20;

struct Row {
    item: ReceiptItem,
    standing: &'static str,
    standing_class: &'static str,
    /// While awaiting confirmation: until when.
    until: String,
    rating: Option<Stars>,
    single: bool,
    /// The home's reason, if it disputed the receipt.
    dispute: String,
    in_outbox: bool,
    attempts: u32,
    last_error: String,
    log_index: Option<u64>,
}

/// Receipts listed per page.
const RECEIPTS_PER_PAGE: usize = 50;

/// A filter by standing, with its count.
struct Tab {
    label: &'static str,
    count: usize,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "manage_receipts.html")]
struct IssuedPage {
    layout: Layout,
    t: &'static Strings,
    notice: Option<&'static str>,
    log: LogBox,
    rows: Vec<Row>,
    /// Receipts of the standing shown, and where this page starts.
    total: usize,
    first: usize,
    tabs: Vec<Tab>,
    newer: Option<String>,
    older: Option<String>,
    /// The filters as applied, for the date form.
    standing: &'static str,
    from: String,
    to: String,
    dead: DeadBox,
}

fn row(ctx: &Ctx, r: &IssuedReceipt) -> Row {
    let t = ctx.t.receipts;
    let (standing, standing_class) = match r.standing {
        IssuedStanding::AwaitingConfirmation => (t.standing_awaiting, "pending"),
        IssuedStanding::Confirmed => (t.standing_confirmed, "active"),
        IssuedStanding::SingleSigned => (t.standing_single, "disabled"),
        IssuedStanding::Disputed => (t.standing_disputed, "error"),
    };
    Row {
        item: receipt_view::item(ctx, &r.receipt),
        standing,
        standing_class,
        until: r
            .awaiting_until
            .filter(|_| r.standing == IssuedStanding::AwaitingConfirmation)
            .map(|u| time::format_unix(u, ctx.lang))
            .unwrap_or_default(),
        rating: r
            .rating
            .filter(|_| r.standing == IssuedStanding::Confirmed)
            .map(|n| receipt_view::rating(ctx, n)),
        single: r.standing == IssuedStanding::SingleSigned,
        dispute: r.dispute.clone().unwrap_or_default(),
        in_outbox: r.in_outbox,
        attempts: r.attempts,
        last_error: r.last_error.clone().unwrap_or_default(),
        log_index: r.log_index,
    }
}

/// `?notice=` after a redirect; `?dead=` skips that many of the newest dead letters;
/// `?standing=` shows receipts of one standing, `?offset=` from that one.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    dead: usize,
    #[serde(default)]
    standing: String,
    #[serde(default)]
    offset: usize,
    /// Issued from this day (`YYYY-MM-DD`, Beijing time), inclusive.
    #[serde(default)]
    from: String,
    /// Issued up to this day, inclusive.
    #[serde(default)]
    to: String,
}

fn issued_filter(dates: &DayFilter, standing: Option<IssuedStanding>) -> IssuedFilter {
    let (from, to) = dates.bounds();
    IssuedFilter { standing, from, to }
}

fn receipts_href(dates: &DayFilter, standing: Option<IssuedStanding>, offset: usize) -> String {
    let mut href = format!("/manage/receipts?{}", dates.query());
    if let Some(s) = standing {
        href.push_str(&format!("standing={}&", s.as_str()));
    }
    href.push_str(&format!("offset={offset}#issued"));
    href
}

/// The filters by standing, the first being all.
fn tabs(
    ctx: &Ctx,
    dates: &DayFilter,
    shown: Option<IssuedStanding>,
    counts: [usize; 4],
) -> Vec<Tab> {
    let t = ctx.t.receipts;
    let mut tabs = vec![Tab {
        label: t.standing_all,
        count: counts.iter().sum(),
        href: receipts_href(dates, None, 0),
        current: shown.is_none(),
    }];
    for standing in IssuedStanding::ALL {
        tabs.push(Tab {
            label: match standing {
                IssuedStanding::AwaitingConfirmation => t.standing_awaiting,
                IssuedStanding::Confirmed => t.standing_confirmed,
                IssuedStanding::SingleSigned => t.standing_single,
                IssuedStanding::Disputed => t.standing_disputed,
            },
            count: counts[standing.index()],
            href: receipts_href(dates, Some(standing), 0),
            current: shown == Some(standing),
        });
    }
    tabs
}

fn dead_box(ctx: &Ctx, page: Option<DeadLetterPage>) -> DeadBox {
    let Some(page) = page else {
        return DeadBox {
            total: 0,
            rows: Vec::new(),
            newer: None,
            older: None,
        };
    };
    let href = |offset: usize| format!("/manage/receipts?dead={offset}#dead-letters");
    DeadBox {
        total: page.total,
        newer: (page.offset > 0).then(|| href(page.offset.saturating_sub(DEAD_PER_PAGE))),
        older: (page.offset + page.letters.len() < page.total)
            .then(|| href(page.offset + page.letters.len())),
        rows: page
            .letters
            .into_iter()
            .map(|d| DeadRow {
                at: time::format_unix(d.at, ctx.lang),
                to: d.to,
                kind: d.kind,
                code: d.code,
                reason: d.reason,
            })
            .collect(),
    }
}

/// `GET /manage/receipts`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(notice): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    ctx.with_any_role(&BOOKING_MANAGERS)?;
    let standing = IssuedStanding::parse(&notice.standing);
    let dates = DayFilter::parse(&notice.from, &notice.to)
        .ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?;
    let (log, issued, dead) = tokio::join!(
        state.backend.log_watch(),
        state.backend.issued_receipts_page(
            issued_filter(&dates, standing),
            notice.offset,
            RECEIPTS_PER_PAGE
        ),
        state.backend.dead_letters(notice.dead, DEAD_PER_PAGE)
    );
    if let Err(e) = &dead {
        tracing::warn!(error = %e, "dead letters could not be read");
    }
    let log = LogBox {
        waiting: log.waiting,
        proven: log.proven,
        head_size: log.head_size,
        head_at: log
            .head_at
            .map(|at| time::format_unix(at, ctx.lang))
            .unwrap_or_default(),
        alarm: log.alarm.map(|a| AlarmBox {
            seen_size: a.seen_size,
            shown_size: a.shown_size,
            detected_at: time::format_unix(a.detected_at, ctx.lang),
            resubmitted: a.resubmitted,
        }),
    };
    let page = IssuedPage {
        layout: ctx.layout("manage"),
        t: ctx.t,
        notice: (notice.notice == "recorded").then_some(ctx.t.receipts.session_recorded),
        log,
        rows: issued.items.iter().map(|r| row(&ctx, r)).collect(),
        total: issued.total,
        first: issued.offset.saturating_add(1),
        tabs: tabs(&ctx, &dates, standing, issued.counts),
        newer: (issued.offset > 0).then(|| {
            receipts_href(
                &dates,
                standing,
                issued.offset.saturating_sub(RECEIPTS_PER_PAGE),
            )
        }),
        older: (issued.offset.saturating_add(issued.items.len()) < issued.total)
            .then(|| receipts_href(&dates, standing, issued.offset + issued.items.len())),
        standing: standing.map(|s| s.as_str()).unwrap_or_default(),
        from: dates.from.clone(),
        to: dates.to.clone(),
        dead: dead_box(&ctx, dead.ok()),
    };
    Ok(Page::ok(page).into_response())
}
