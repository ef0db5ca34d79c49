//! `/province/monitoring` (province admins): the live board of every monitored
//! instrument — alerts first (instruments open for booking that are silent or faulty),
//! then each instrument with its state, note, when it was last seen and since when it is
//! in its state. The page refreshes itself; a member's node says the province keeps it.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{Ctx, ErrorKind, Layout, Refusal, encode_component, monitoring::state_class};
use crate::{
    AppState,
    backend::{
        AccountRole, AlertView, Backend, BoardRowView, BoardView, ResultsFailure, StateCountsView,
    },
    charts,
    i18n::Strings,
    render::Page,
    time,
};

/// Seconds between the page's own reloads.
const REFRESH_SECONDS: u32 = 30;
/// Instruments on one page of the table.
const ROWS_PER_PAGE: usize = 50;
/// Alerts listed; the rest are reached through the counters' filters.
const ALERTS_SHOWN: usize = 50;

/// `?state=` (a state, or `silent`) and `?offset=` of the instruments' table.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct BoardQuery {
    state: String,
    offset: usize,
}

/// Whether `row` is one the filter `state` asks for (empty: every row).
fn wanted(state: &str, row: &BoardRowView) -> bool {
    match state {
        "" => true,
        "silent" => row.silent,
        other => row.state == other,
    }
}

struct Alert {
    id: String,
    name: String,
    institution: String,
    href: String,
    fault: bool,
    kind: &'static str,
    /// "Never heard from", "Last seen …" or "Faulty since …".
    detail: String,
}

struct Row {
    id: String,
    name: String,
    institution: String,
    href: String,
    state: String,
    state_class: &'static str,
    note: String,
    last_seen: String,
    last_seen_ago: String,
    since: String,
    silent: bool,
}

struct Tally {
    label: String,
    count: usize,
    class: &'static str,
    /// The table filtered to these (or the alerts).
    href: String,
}

/// The board's counts in one hour of the last day (the last taken in it).
struct HourRow {
    hour: String,
    counts: [u32; 5],
}

/// The board's states over the last day: a chart, the same in words, and its table.
struct DayView {
    chart: String,
    text: String,
    rows: Vec<HourRow>,
}

/// The last counts of each Shanghai hour of `history` (oldest first).
fn day_view(t: &'static Strings, history: &[StateCountsView]) -> DayView {
    let mut rows: Vec<HourRow> = Vec::new();
    for s in history {
        let hour = chrono::DateTime::from_timestamp(s.at, 0)
            .map(|t| {
                t.with_timezone(&chrono_tz::Asia::Shanghai)
                    .format("%H:00")
                    .to_string()
            })
            .unwrap_or_default();
        let counts = [s.running, s.idle, s.maintenance, s.fault, s.silent];
        match rows.last_mut() {
            Some(last) if last.hour == hour => last.counts = counts,
            _ => rows.push(HourRow { hour, counts }),
        }
    }
    let m = &t.monitoring;
    let names = [
        m.state("running"),
        m.state("idle"),
        m.state("maintenance"),
        m.state("fault"),
        m.stat_silent,
    ];
    let columns: Vec<charts::Column> = rows
        .iter()
        .map(|r| charts::Column {
            label: r.hour.clone(),
            parts: r.counts.iter().map(|c| f64::from(*c)).collect(),
        })
        .collect();
    let text = rows
        .iter()
        .map(|r| {
            let parts: Vec<String> = names
                .iter()
                .zip(r.counts)
                .map(|(name, count)| format!("{name} {count}"))
                .collect();
            format!("{} {}", r.hour, parts.join(" "))
        })
        .collect::<Vec<_>>()
        .join("；");
    DayView {
        chart: charts::stacked(&columns, &names),
        text,
        rows: rows.into_iter().rev().collect(),
    }
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    layout: Layout,
    t: &'static Strings,
    /// This is a member's node: the province keeps the board.
    not_here: bool,
    refresh: u32,
    intro: String,
    as_of: String,
    tallies: Vec<Tally>,
    alerts: Vec<Alert>,
    /// All alerts, of which `alerts` are the first.
    alerts_total: usize,
    /// This page of the table, and how many rows the filter has in all.
    rows: Vec<Row>,
    rows_total: usize,
    /// The filter's name, when one is applied.
    filter: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    /// The states over the last day, when counts were taken.
    day: Option<DayView>,
}

fn filtered(state: &str, offset: usize) -> String {
    format!("/province/monitoring?state={state}&offset={offset}#rows-title")
}

/// The instrument page of an `institution/local_id`, if the id has that shape.
fn instrument_href(id: &str) -> String {
    match id.split_once('/') {
        Some((institution, local_id)) if !local_id.contains('/') => format!(
            "/instruments/{}/{}",
            encode_component(institution),
            encode_component(local_id)
        ),
        _ => String::new(),
    }
}

fn alert(ctx: &Ctx, a: &AlertView) -> Alert {
    let t = ctx.t.monitoring;
    let at = |secs| time::format_unix(secs, ctx.lang);
    let fault = a.kind == "fault";
    let detail = match (fault, a.last_seen, a.since) {
        (true, _, Some(since)) => format!("{} {}", t.fault_since, at(since)),
        (true, _, None) => String::new(),
        (false, Some(seen), _) => format!("{} {}", t.last_seen, at(seen)),
        (false, None, _) => t.never_heard.to_owned(),
    };
    Alert {
        id: a.instrument_id.clone(),
        name: a.instrument_name_zh.clone(),
        institution: a.institution_name_zh.clone(),
        href: instrument_href(&a.instrument_id),
        fault,
        kind: if fault { t.alert_fault } else { t.alert_silent },
        detail,
    }
}

fn row(ctx: &Ctx, now: i64, r: &BoardRowView) -> Row {
    let t = ctx.t.monitoring;
    Row {
        id: r.instrument_id.clone(),
        name: r.instrument_name_zh.clone(),
        institution: r.institution_name_zh.clone(),
        href: instrument_href(&r.instrument_id),
        state: t.state(&r.state).to_owned(),
        state_class: state_class(Some(&r.state)),
        note: r.note.clone(),
        last_seen: time::format_unix(r.last_seen, ctx.lang),
        last_seen_ago: t.ago(r.last_seen, now),
        since: time::format_unix(r.since, ctx.lang),
        silent: r.silent,
    }
}

fn tallies(t: &Strings, board: &BoardView) -> Vec<Tally> {
    let m = t.monitoring;
    let mut list = vec![
        Tally {
            label: m.stat_monitored.to_owned(),
            count: board.rows.len(),
            class: "",
            href: filtered("", 0),
        },
        Tally {
            label: m.stat_alerts.to_owned(),
            count: board.alerts.len(),
            class: if board.alerts.is_empty() {
                ""
            } else {
                "alerting"
            },
            href: "#board-alerts".into(),
        },
    ];
    for code in ["running", "idle", "maintenance", "fault"] {
        list.push(Tally {
            label: m.state(code).to_owned(),
            count: board.rows.iter().filter(|r| r.state == code).count(),
            class: "",
            href: filtered(code, 0),
        });
    }
    // Silent: those heard of once and not for too long, and those never heard of (they
    // have no row, only their alert) — as many as the alerts that say so.
    let silent: std::collections::HashSet<&str> = board
        .rows
        .iter()
        .filter(|r| r.silent)
        .map(|r| r.instrument_id.as_str())
        .chain(
            board
                .alerts
                .iter()
                .filter(|a| a.kind == "silent")
                .map(|a| a.instrument_id.as_str()),
        )
        .collect();
    list.push(Tally {
        label: m.stat_silent.to_owned(),
        count: silent.len(),
        class: "",
        href: filtered("silent", 0),
    });
    list
}

/// `GET /province/monitoring`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<BoardQuery>,
) -> Result<Response, Refusal> {
    ctx.with_role(AccountRole::ProvinceAdmin)?;
    let t = ctx.t;
    let (status, board) = match state.backend.monitoring_board().await {
        Ok(board) => (StatusCode::OK, Some(board)),
        Err(ResultsFailure::NotHere) => (StatusCode::NOT_FOUND, None),
        Err(other) => {
            let detail = other.to_string();
            tracing::error!(%detail, "monitoring board failed");
            return Err(ctx.refuse(ErrorKind::Internal));
        }
    };
    let page = match &board {
        Some(board) => BoardPage {
            layout: ctx.layout("monitoring"),
            t,
            not_here: false,
            refresh: REFRESH_SECONDS,
            intro: t.monitoring.board_intro.replace(
                "{silent}",
                &t.monitoring.duration(board.silent_after_seconds),
            ),
            as_of: time::format_unix(board.now, ctx.lang),
            tallies: tallies(t, board),
            alerts: board
                .alerts
                .iter()
                .take(ALERTS_SHOWN)
                .map(|a| alert(&ctx, a))
                .collect(),
            alerts_total: board.alerts.len(),
            day: (!board.history.is_empty()).then(|| day_view(t, &board.history)),
            ..rows_page(&ctx, board, &query, t)
        },
        None => BoardPage {
            layout: ctx.layout("monitoring"),
            t,
            not_here: true,
            refresh: 0,
            intro: String::new(),
            as_of: String::new(),
            tallies: Vec::new(),
            alerts: Vec::new(),
            alerts_total: 0,
            rows: Vec::new(),
            rows_total: 0,
            filter: String::new(),
            prev_href: None,
            next_href: None,
            day: None,
        },
    };
    Ok(Page::with_status(status, page).into_response())
}

/// The table's page the query asks for, as the rest of a page (alerts and counters are
/// filled by the caller).
fn rows_page(ctx: &Ctx, board: &BoardView, query: &BoardQuery, t: &'static Strings) -> BoardPage {
    let state = match query.state.as_str() {
        known @ ("running" | "idle" | "maintenance" | "fault" | "silent") => known,
        _ => "",
    };
    let matching: Vec<&BoardRowView> = board.rows.iter().filter(|r| wanted(state, r)).collect();
    let total = matching.len();
    let from = query.offset.min(total);
    BoardPage {
        layout: ctx.layout("monitoring"),
        t,
        not_here: false,
        refresh: REFRESH_SECONDS,
        intro: String::new(),
        as_of: String::new(),
        tallies: Vec::new(),
        alerts: Vec::new(),
        alerts_total: 0,
        rows: matching
            .iter()
            .skip(from)
            .take(ROWS_PER_PAGE)
            .map(|r| row(ctx, board.now, r))
            .collect(),
        rows_total: total,
        filter: match state {
            "" => String::new(),
            "silent" => t.monitoring.stat_silent.to_owned(),
            code => t.monitoring.state(code).to_owned(),
        },
        prev_href: (from > 0).then(|| filtered(state, from.saturating_sub(ROWS_PER_PAGE))),
        next_href: (from + ROWS_PER_PAGE < total).then(|| filtered(state, from + ROWS_PER_PAGE)),
        day: None,
    }
}
