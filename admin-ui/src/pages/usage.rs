//! `/manage/usage`: for instrument managers and institution admins, what the receipts
//! issued here add up to — machine hours and revenue per month over a year, as charts
//! beside their tables, and each instrument's figures in a chosen month.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::{Ctx, ErrorKind, Layout, Refusal, instruments::pick, labels};
use crate::{
    AppState,
    auth::BOOKING_MANAGERS,
    backend::{Backend, MonthlyUsage},
    charts,
    i18n::Strings,
    render::Page,
    time,
};

/// Months the page covers, up to the chosen one.
const MONTHS: u32 = 12;

#[derive(Debug, Default, Deserialize)]
pub(super) struct UsageQuery {
    /// `YYYY-MM`; empty: this month (Asia/Shanghai).
    #[serde(default)]
    month: String,
    /// One instrument's local id; empty: all.
    #[serde(default)]
    instrument: String,
}

/// A month's or an instrument's figures as the tables show them.
struct Row {
    label: String,
    href: String,
    hours: String,
    external_hours: String,
    samples: u64,
    revenue: String,
    external_revenue: String,
    receipts: u32,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "usage.html")]
struct UsagePage {
    layout: Layout,
    t: &'static Strings,
    month: String,
    instruments: Vec<Choice>,
    months: Vec<Row>,
    hours_chart: String,
    revenue_chart: String,
    /// The charts in words.
    hours_text: String,
    revenue_text: String,
    by_instrument: Vec<Row>,
    instrument_chart: String,
    instrument_text: String,
}

/// The first day of `YYYY-MM`, if it is a month people would ask about.
fn parse_month(text: &str) -> Option<NaiveDate> {
    let (y, m) = text.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    (2000..=2100).contains(&year).then_some(())?;
    NaiveDate::from_ymd_opt(year, m.parse().ok()?, 1)
}

fn month_name(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The `MONTHS` months ending with `last`, oldest first.
fn months_to(last: NaiveDate) -> Vec<String> {
    (0..MONTHS)
        .rev()
        .filter_map(|back| last.checked_sub_months(chrono::Months::new(back)))
        .map(month_name)
        .collect()
}

/// `1,234.5` hours of `minutes`.
fn hours(minutes: u64) -> String {
    let tenths = (minutes * 10 + 30) / 60;
    format!(
        "{}.{}",
        labels::yuan(i64::try_from(tenths / 10).unwrap_or(i64::MAX) * 100).trim_end_matches(".00"),
        tenths % 10
    )
}

#[derive(Default)]
struct Sum {
    receipts: u32,
    minutes: u64,
    external_minutes: u64,
    samples: u64,
    fen: i64,
    external_fen: i64,
}

impl Sum {
    fn add(&mut self, u: &MonthlyUsage) {
        self.receipts += u.receipts;
        self.minutes += u.effective_minutes;
        self.external_minutes += u.external_minutes;
        self.samples += u.samples;
        self.fen = self.fen.saturating_add(u.revenue_fen);
        self.external_fen = self.external_fen.saturating_add(u.external_revenue_fen);
    }

    fn row(&self, label: String, href: String) -> Row {
        Row {
            label,
            href,
            hours: hours(self.minutes),
            external_hours: hours(self.external_minutes),
            samples: self.samples,
            revenue: labels::yuan(self.fen),
            external_revenue: labels::yuan(self.external_fen),
            receipts: self.receipts,
        }
    }
}

/// Bars of `rows` (label, value, shown) and the same in words.
fn chart(rows: &[(String, f64, String)]) -> (String, String) {
    let bars: Vec<charts::Bar> = rows
        .iter()
        .map(|(label, value, shown)| charts::Bar {
            label: label.clone(),
            value: *value,
            shown: shown.clone(),
        })
        .collect();
    let text = rows
        .iter()
        .map(|(label, _, shown)| format!("{label} {shown}"))
        .collect::<Vec<_>>()
        .join("；");
    (charts::bars(&bars, None, &[]), text)
}

/// `GET /manage/usage?month=&instrument=`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<UsageQuery>,
) -> Result<Response, Refusal> {
    ctx.with_any_role(&BOOKING_MANAGERS)?;
    let chosen = match query.month.trim() {
        "" => time::today().with_day(1).unwrap_or_else(time::today),
        text => parse_month(text).ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?,
    };
    let months = months_to(chosen);
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Err(ctx.refuse(ErrorKind::BadRequest));
    };
    let usage = state
        .backend
        .monthly_usage(first, last)
        .await
        .map_err(|_| ctx.refuse(ErrorKind::Internal))?;
    let name_of = |u: &MonthlyUsage| {
        let name = pick(ctx.lang, &u.instrument_name_zh, &u.instrument_name_en);
        if name.is_empty() {
            u.local_id.clone()
        } else {
            name
        }
    };
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for u in &usage {
        names
            .entry(u.local_id.clone())
            .or_insert_with(|| name_of(u));
    }
    let instrument = query.instrument.trim();
    let wanted = |u: &&MonthlyUsage| instrument.is_empty() || u.local_id == instrument;

    let mut per_month: BTreeMap<&str, Sum> = months
        .iter()
        .map(|m| (m.as_str(), Sum::default()))
        .collect();
    for u in usage.iter().filter(wanted) {
        if let Some(sum) = per_month.get_mut(u.month.as_str()) {
            sum.add(u);
        }
    }
    let month_rows: Vec<(String, f64, String)> = per_month
        .iter()
        .map(|(m, s)| ((*m).to_owned(), s.minutes as f64 / 60.0, hours(s.minutes)))
        .collect();
    let revenue_rows: Vec<(String, f64, String)> = per_month
        .iter()
        .map(|(m, s)| ((*m).to_owned(), s.fen as f64 / 100.0, labels::yuan(s.fen)))
        .collect();
    let (hours_chart, hours_text) = chart(&month_rows);
    let (revenue_chart, revenue_text) = chart(&revenue_rows);

    let shown_month = month_name(chosen);
    let mut per_instrument: Vec<(&str, Sum)> = Vec::new();
    for u in usage.iter().filter(|u| u.month == shown_month) {
        match per_instrument.iter_mut().find(|(id, _)| *id == u.local_id) {
            Some((_, sum)) => sum.add(u),
            None => {
                let mut sum = Sum::default();
                sum.add(u);
                per_instrument.push((u.local_id.as_str(), sum));
            }
        }
    }
    per_instrument.sort_by(|a, b| b.1.minutes.cmp(&a.1.minutes).then(a.0.cmp(b.0)));
    let own = state.backend.status().await.institution_id;
    let instrument_bars: Vec<(String, f64, String)> = per_instrument
        .iter()
        .map(|(id, s)| {
            let name = names.get(*id).cloned().unwrap_or_default();
            (name, s.minutes as f64 / 60.0, hours(s.minutes))
        })
        .collect();
    let (instrument_chart, instrument_text) = chart(&instrument_bars);
    let page = UsagePage {
        layout: ctx.layout("manage"),
        t: ctx.t,
        month: shown_month,
        instruments: names
            .iter()
            .map(|(id, name)| Choice {
                value: id.clone(),
                label: format!("{name}（{id}）"),
                selected: id == instrument,
            })
            .collect(),
        months: per_month
            .iter()
            .rev()
            .map(|(m, s)| s.row((*m).to_owned(), String::new()))
            .collect(),
        hours_chart,
        revenue_chart,
        hours_text,
        revenue_text,
        by_instrument: per_instrument
            .iter()
            .map(|(id, s)| {
                s.row(
                    names.get(*id).cloned().unwrap_or_default(),
                    format!("/instruments/{own}/{}", super::encode_component(id)),
                )
            })
            .collect(),
        instrument_chart,
        instrument_text,
    };
    Ok(Page::ok(page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_strictly_and_counted_back_across_a_year() {
        assert!(parse_month("2026-13").is_none());
        assert!(parse_month("26-01").is_none());
        assert!(parse_month("1900-01").is_none());
        let march = parse_month("2026-03").unwrap_or_default();
        let months = months_to(march);
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], "2025-04");
        assert_eq!(months[11], "2026-03");
        assert_eq!(hours(90), "1.5");
        assert_eq!(hours(60 * 1234 + 6), "1,234.1");
    }
}
