//! `/results` (public, no sign-in): the province's published evaluation results of a
//! period — the log the figures come from, the rule (indicator groups, weights, grade
//! thresholds), each institution with its instruments, and the sanctions list — with
//! `/results.csv` and `/results.json` to download them. On a member's node the page says
//! that the province's node publishes them, and the downloads are 404.

use alliance_protocol::results::{FigureDifference, ResultRow};
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, Layout, PageForm, Refusal, encode_component, instruments::pick, labels,
};
use crate::{
    AppState,
    backend::{AccountRole, Backend, DisputePage, Download, ResultsFailure, ResultsView},
    charts,
    downloads::download,
    i18n::Strings,
    render::Page,
    results_input, time,
};

/// `?period=` of the page and the downloads.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PeriodQuery {
    #[serde(default)]
    period: String,
    /// `published` after a publication.
    #[serde(default)]
    notice: String,
    /// The first disputed receipt listed.
    #[serde(default)]
    disputes_from: u64,
    /// Only this institution, with its instruments a page at a time.
    #[serde(default)]
    institution: String,
    /// The first of its instruments listed.
    #[serde(default)]
    offset: usize,
}

/// Instruments listed under each institution on the whole page; the rest are a link away.
const INSTRUMENTS_FOLDED: usize = 20;
/// Instruments per page of one institution's list.
const INSTRUMENTS_PER_PAGE: usize = 50;

/// Disputed receipts listed per page.
const DISPUTES_PER_PAGE: usize = 50;

/// A disputed receipt as listed.
struct DisputeRow {
    instrument: String,
    receipt_id: String,
    home: String,
    reason: String,
}

/// A page of the period's disputed receipts.
struct Disputes {
    total: u64,
    rows: Vec<DisputeRow>,
    /// Links to the page before and after, if any.
    previous: Option<String>,
    next: Option<String>,
}

/// The form that publishes a period.
#[derive(Debug, Deserialize)]
pub(super) struct PublishForm {
    csrf: String,
    period: String,
}

/// A link to another period.
struct Quick {
    label: String,
    href: String,
    current: bool,
}

/// The figures of an institution or an instrument, as the table shows them.
pub(super) struct Figures {
    id: String,
    name: String,
    href: String,
    score: String,
    grade: String,
    grade_class: &'static str,
    effective: String,
    external: String,
    sharing: String,
    utilisation: String,
    revenue_internal: String,
    revenue_external: String,
    users: usize,
    institutions: usize,
    rating: String,
    uptime: String,
    publications: u32,
    response: String,
    rejection: String,
    reporting: String,
    receipts: u32,
    unconfirmed: u32,
    disputed: u32,
}

struct Institution {
    figures: Figures,
    instruments: Vec<Figures>,
    /// How many instruments it has in all.
    total_instruments: usize,
    /// Its instruments a page at a time (when more than are listed here).
    more_href: Option<String>,
    prev_href: Option<String>,
    next_href: Option<String>,
    /// Shown alone: its instruments unfolded.
    open: bool,
}

struct Group {
    name: String,
    weight: String,
    /// (indicator, weight).
    indicators: Vec<(String, String)>,
}

struct Sanction {
    id: String,
    name: String,
    reasons: Vec<String>,
}

/// A figure of a published period that later evidence changed.
struct Correction {
    id: String,
    figure: String,
    published: String,
    now: String,
}

/// The results of the period shown.
struct Shown {
    /// When the period was published (Beijing time), if it was: the figures are frozen.
    published_at: Option<String>,
    statement_href: String,
    corrections: Vec<Correction>,
    disputes: Disputes,
    period: String,
    span: String,
    generated_at: String,
    log_size: u64,
    log_root: String,
    csv_href: String,
    json_href: String,
    groups: Vec<Group>,
    excellent: String,
    good: String,
    pass: String,
    institutions: Vec<Institution>,
    /// Back to every institution, when one is shown alone.
    whole_href: Option<String>,
    /// Each institution's score as a bar over the grade bands (SVG), and the same in words.
    score_chart: String,
    score_chart_text: String,
    /// The instruments used most, and shared most, as bars (SVG), and the same in words.
    utilisation_chart: String,
    utilisation_chart_text: String,
    sharing_chart: String,
    sharing_chart_text: String,
    sanctions: Vec<Sanction>,
}

#[derive(Template)]
#[template(path = "results.html")]
struct ResultsPage {
    layout: Layout,
    t: &'static Strings,
    /// The period as typed.
    period: String,
    /// Why the period was refused.
    error: Option<&'static str>,
    /// This is a member's node: the province publishes results.
    not_here: bool,
    quick: Vec<Quick>,
    shown: Option<Shown>,
    /// The form to publish the period shown, for a province admin (its CSRF token).
    publish_csrf: Option<String>,
    /// Why publishing was refused.
    publish_error: Option<&'static str>,
    /// The period was just published.
    published_notice: bool,
}

/// `1,234.50`: a quantity with two decimals, grouped.
fn decimal(value: f64) -> String {
    labels::yuan((value * 100.0).round() as i64)
}

/// `56.3%` of a ratio (0–1); `—` without data.
fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// A number as written in the configuration: `20`, `0.5`.
fn plain(value: f64) -> String {
    format!("{value}")
}

/// The badge class of a grade as published.
pub(super) fn grade_class(grade: &str) -> &'static str {
    match grade {
        "优秀" | "良好" => "active",
        "合格" => "pending",
        "较差" => "error",
        _ => "disabled",
    }
}

/// The page of an instrument named `institution/local_id`; empty for anything else.
fn instrument_href(id: &str) -> String {
    match id.split_once('/') {
        Some((institution, local_id))
            if !institution.is_empty() && !local_id.is_empty() && !local_id.contains('/') =>
        {
            format!(
                "/instruments/{}/{}",
                encode_component(institution),
                encode_component(local_id)
            )
        }
        _ => String::new(),
    }
}

fn figures(t: &Strings, r: &ResultRow) -> Figures {
    let (id, name, href) = if r.instrument.is_empty() {
        (
            r.institution.clone(),
            r.institution_name.clone(),
            String::new(),
        )
    } else {
        (
            r.instrument.clone(),
            r.instrument_name.clone(),
            instrument_href(&r.instrument),
        )
    };
    Figures {
        id,
        name,
        href,
        score: format!("{:.2}", r.score),
        grade: t.results.grade(&r.grade).to_owned(),
        grade_class: grade_class(&r.grade),
        effective: decimal(r.effective_hours),
        external: decimal(r.external_hours),
        sharing: percent(r.sharing_rate),
        utilisation: percent(r.utilisation),
        revenue_internal: decimal(r.revenue_internal_yuan),
        revenue_external: decimal(r.revenue_external_yuan),
        users: r.users_served,
        institutions: r.institutions_served,
        rating: r
            .average_rating
            .map_or_else(|| "—".to_owned(), |v| format!("{v:.2}")),
        uptime: percent(r.monitoring_uptime),
        publications: r.publications,
        response: r
            .response_hours
            .map_or_else(|| "—".to_owned(), |v| format!("{v:.1}")),
        rejection: percent(r.rejection_rate),
        reporting: percent(r.reporting_on_time),
        receipts: r.receipts,
        unconfirmed: r.unconfirmed_receipts,
        disputed: r.disputed_receipts,
    }
}

/// Each institution's own row with the rows of its instruments, in the published order.
/// The institutions of `rows`: on the whole page each with its first instruments; when
/// `only` names one, that one alone with a page of its instruments from `offset`.
fn institutions(
    t: &Strings,
    rows: &[ResultRow],
    period: &str,
    only: &str,
    offset: usize,
) -> Vec<Institution> {
    let mut list: Vec<(String, Option<Figures>, Vec<Figures>)> = Vec::new();
    for r in rows {
        let at = match list.iter().position(|(id, _, _)| *id == r.institution) {
            Some(at) => at,
            None => {
                list.push((r.institution.clone(), None, Vec::new()));
                list.len() - 1
            }
        };
        let entry = &mut list[at];
        if r.instrument.is_empty() {
            entry.1 = Some(figures(t, r));
        } else {
            entry.2.push(figures(t, r));
        }
    }
    let href = |id: &str, offset: usize| {
        format!(
            "/results?period={period}&institution={}&offset={offset}#institutions",
            encode_component(id)
        )
    };
    list.into_iter()
        .filter(|(id, _, _)| only.is_empty() || id == only)
        .filter_map(|(id, own, instruments)| {
            let total = instruments.len();
            let figures = own?;
            Some(if only.is_empty() {
                Institution {
                    figures,
                    more_href: (total > INSTRUMENTS_FOLDED).then(|| href(&id, 0)),
                    instruments: instruments.into_iter().take(INSTRUMENTS_FOLDED).collect(),
                    total_instruments: total,
                    prev_href: None,
                    next_href: None,
                    open: false,
                }
            } else {
                let from = offset.min(total);
                Institution {
                    figures,
                    more_href: None,
                    prev_href: (from > 0)
                        .then(|| href(&id, from.saturating_sub(INSTRUMENTS_PER_PAGE))),
                    next_href: (from + INSTRUMENTS_PER_PAGE < total)
                        .then(|| href(&id, from + INSTRUMENTS_PER_PAGE)),
                    instruments: instruments
                        .into_iter()
                        .skip(from)
                        .take(INSTRUMENTS_PER_PAGE)
                        .collect(),
                    total_instruments: total,
                    open: true,
                }
            })
        })
        .collect()
}

/// The first and last day of `[from, to)` in Beijing.
fn span(t: &Strings, from: i64, to: i64) -> String {
    format!(
        "{} {} {}",
        time::date_input(from),
        t.results.to,
        time::date_input(to - 1)
    )
}

fn disputes(view: &ResultsView, from: u64, page: &DisputePage) -> Disputes {
    let period = encode_component(&view.period);
    let href = |at: u64| format!("/results?period={period}&disputes_from={at}#disputes");
    Disputes {
        total: page.total,
        rows: page
            .disputes
            .iter()
            .map(|d| DisputeRow {
                instrument: d.instrument.clone(),
                receipt_id: d.receipt_id.clone(),
                home: d.home_name.clone(),
                reason: d.reason.clone(),
            })
            .collect(),
        previous: (from > 0).then(|| href(from.saturating_sub(DISPUTES_PER_PAGE as u64))),
        next: page.next.map(href),
    }
}

fn shown(ctx: &Ctx, view: &ResultsView, disputes: Disputes, query: &PeriodQuery) -> Shown {
    let t = ctx.t;
    let period = encode_component(&view.period);
    let (excellent, good, pass) = view.grade_thresholds;
    Shown {
        published_at: view.published_at.map(|at| time::format_unix(at, ctx.lang)),
        statement_href: format!("/api/v1/results/statement?period={period}"),
        corrections: view.corrections.iter().map(|c| correction(t, c)).collect(),
        disputes,
        period: view.period.clone(),
        span: span(t, view.from, view.to),
        generated_at: time::format_unix(view.generated_at, ctx.lang),
        log_size: view.log_size,
        log_root: view.log_root.clone(),
        csv_href: format!("/results.csv?period={period}"),
        json_href: format!("/results.json?period={period}"),
        groups: view
            .groups
            .iter()
            .map(|g| Group {
                name: pick(ctx.lang, &g.name_zh, &g.name_en),
                weight: plain(g.weight),
                indicators: g
                    .indicators
                    .iter()
                    .map(|(metric, weight)| (t.results.metric(metric).to_owned(), plain(*weight)))
                    .collect(),
            })
            .collect(),
        excellent: plain(excellent),
        good: plain(good),
        pass: plain(pass),
        institutions: institutions(
            t,
            &view.rows,
            &period,
            query.institution.trim(),
            query.offset,
        ),
        whole_href: (!query.institution.trim().is_empty())
            .then(|| format!("/results?period={period}#institutions")),
        score_chart: score_chart(t, view),
        utilisation_chart: instrument_chart(view, |r| r.utilisation).0,
        utilisation_chart_text: instrument_chart(view, |r| r.utilisation).1,
        sharing_chart: instrument_chart(view, |r| r.sharing_rate).0,
        sharing_chart_text: instrument_chart(view, |r| r.sharing_rate).1,
        score_chart_text: view
            .rows
            .iter()
            .filter(|r| r.instrument.is_empty())
            .map(|r| {
                format!(
                    "{} {:.2}（{}）",
                    r.institution_name,
                    r.score,
                    t.results.grade(&r.grade)
                )
            })
            .collect::<Vec<_>>()
            .join("；"),
        sanctions: view
            .sanctions
            .iter()
            .map(|s| Sanction {
                id: s.institution.clone(),
                name: s.institution_name.clone(),
                reasons: s.reasons.clone(),
            })
            .collect(),
    }
}

/// Each institution's score (best first) over lines at the grades' lowest scores.
fn score_chart(t: &Strings, view: &ResultsView) -> String {
    let mut rows: Vec<_> = view
        .rows
        .iter()
        .filter(|r| r.instrument.is_empty())
        .collect();
    rows.sort_by(|a, b| b.score.total_cmp(&a.score));
    let bars: Vec<charts::Bar> = rows
        .iter()
        .map(|r| charts::Bar {
            label: r.institution_name.clone(),
            value: r.score,
            shown: format!("{:.2}", r.score),
        })
        .collect();
    let (excellent, good, pass) = view.grade_thresholds;
    let marks = [
        (pass, t.results.grade("合格")),
        (good, t.results.grade("良好")),
        (excellent, t.results.grade("优秀")),
    ]
    .map(|(at, grade)| charts::Mark {
        at,
        label: format!("{grade} {}", plain(at)),
    });
    charts::bars(&bars, Some(100.0), &marks)
}

/// The instruments with the highest `figure` (a ratio, 0–1), best first, as bars in
/// percent (the first [`charts::MAX_BARS`]) and the same in words.
fn instrument_chart(
    view: &ResultsView,
    figure: impl Fn(&ResultRow) -> Option<f64>,
) -> (String, String) {
    let mut rows: Vec<(f64, &ResultRow)> = view
        .rows
        .iter()
        .filter(|r| !r.instrument.is_empty())
        .filter_map(|r| figure(r).map(|v| (v, r)))
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    rows.truncate(charts::MAX_BARS);
    let bars: Vec<charts::Bar> = rows
        .iter()
        .map(|(v, r)| charts::Bar {
            label: format!("{} {}", r.institution, r.instrument_name),
            value: v * 100.0,
            shown: percent(Some(*v)),
        })
        .collect();
    let text = rows
        .iter()
        .map(|(v, r)| {
            format!(
                "{} {} {}",
                r.institution_name,
                r.instrument_name,
                percent(Some(*v))
            )
        })
        .collect::<Vec<_>>()
        .join("；");
    (charts::bars(&bars, Some(100.0), &[]), text)
}

fn correction(t: &Strings, c: &FigureDifference) -> Correction {
    let id = if c.instrument.is_empty() {
        c.institution.clone()
    } else {
        c.instrument.clone()
    };
    let shown = |v: &str| match v {
        "" | "null" => "—".to_owned(),
        "present" => t.results.row_present.to_owned(),
        v => v.trim_matches('"').to_owned(),
    };
    Correction {
        id,
        figure: t.results.figure(&c.figure).to_owned(),
        published: shown(&c.first),
        now: shown(&c.second),
    }
}

/// Links to the year before, the year and its quarters of `label` (`2026`, `2026-Q3`).
fn quick(label: &str) -> Vec<Quick> {
    let year: i32 = label
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or_else(results_input::this_year);
    let mut labels = vec![(year - 1).to_string(), year.to_string()];
    labels.extend((1..=4).map(|q| format!("{year}-Q{q}")));
    labels
        .into_iter()
        .map(|l| Quick {
            href: format!("/results?period={}", encode_component(&l)),
            current: l == label,
            label: l,
        })
        .collect()
}

/// `GET /results?period=`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, Refusal> {
    let typed = query.period.trim().to_owned();
    let (status, error, not_here, shown) = match state.backend.results(&typed).await {
        Ok(view) => {
            let page = state
                .backend
                .disputes(&view.period, query.disputes_from, DISPUTES_PER_PAGE)
                .await
                .map_err(|e| {
                    tracing::error!(detail = %e, "disputes failed");
                    ctx.refuse(ErrorKind::Internal)
                })?;
            let listed = disputes(&view, query.disputes_from, &page);
            (
                StatusCode::OK,
                None,
                false,
                Some(shown(&ctx, &view, listed, &query)),
            )
        }
        Err(ResultsFailure::NotHere) => (StatusCode::OK, None, true, None),
        Err(ResultsFailure::BadPeriod(detail)) => {
            tracing::debug!(%detail, "results of a bad period asked for");
            let message = ctx.t.results.bad_period;
            (StatusCode::BAD_REQUEST, Some(message), false, None)
        }
        Err(other) => {
            tracing::error!(detail = %other, "results failed");
            return Err(ctx.refuse(ErrorKind::Internal));
        }
    };
    render_page(
        &ctx,
        typed,
        status,
        error,
        not_here,
        shown,
        None,
        query.notice == "published",
    )
}

/// The page around what was computed.
#[allow(clippy::too_many_arguments)]
fn render_page(
    ctx: &Ctx,
    typed: String,
    status: StatusCode,
    error: Option<&'static str>,
    not_here: bool,
    shown: Option<Shown>,
    publish_error: Option<&'static str>,
    published_notice: bool,
) -> Result<Response, Refusal> {
    let label = shown.as_ref().map_or_else(
        || results_input::period_label(&typed).unwrap_or_default(),
        |s| s.period.clone(),
    );
    // A province admin may publish a period shown that is not published yet.
    let publish_csrf = ctx
        .session
        .as_ref()
        .filter(|s| s.account.role == AccountRole::ProvinceAdmin)
        .filter(|_| shown.as_ref().is_some_and(|s| s.published_at.is_none()))
        .map(|s| s.csrf_token.clone());
    let page = ResultsPage {
        layout: ctx.layout("results"),
        t: ctx.t,
        quick: if not_here { Vec::new() } else { quick(&label) },
        period: typed,
        error,
        not_here,
        shown,
        publish_csrf,
        publish_error,
        published_notice,
    };
    Ok(Page::with_status(status, page).into_response())
}

/// `POST /results/publish` (province admins): freezes the period's results as a signed
/// statement, then shows them.
pub(super) async fn publish<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(form): PageForm<PublishForm>,
) -> Result<Response, Refusal> {
    let admin = ctx.with_role(AccountRole::ProvinceAdmin)?;
    ctx.check_csrf(admin, &form.csrf)?;
    let period = form.period.trim().to_owned();
    if results_input::period_label(&period).is_none() || period.is_empty() {
        return Err(ctx.refuse(ErrorKind::BadRequest));
    }
    let refused = match state.backend.publish(&period).await {
        Ok(label) => {
            tracing::info!(account = %admin.account.username, period = %label, "results published");
            let to = format!(
                "/results?period={}&notice=published",
                encode_component(&label)
            );
            return Ok(Redirect::to(&to).into_response());
        }
        Err(ResultsFailure::NotEnded) => ctx.t.results.publish_not_ended,
        Err(ResultsFailure::AlreadyPublished) => ctx.t.results.publish_already,
        Err(ResultsFailure::NotHere) => return Err(ctx.refuse(ErrorKind::NotFound)),
        Err(other) => {
            tracing::error!(detail = %other, "publishing failed");
            return Err(ctx.refuse(ErrorKind::Internal));
        }
    };
    let shown = match state.backend.results(&period).await {
        Ok(view) => {
            let none = DisputePage {
                total: 0,
                disputes: Vec::new(),
                next: None,
            };
            let listed = disputes(&view, 0, &none);
            Some(shown(&ctx, &view, listed, &PeriodQuery::default()))
        }
        Err(_) => None,
    };
    render_page(
        &ctx,
        period,
        StatusCode::CONFLICT,
        None,
        false,
        shown,
        Some(refused),
        false,
    )
}

/// Why a download failed, as an error page: 404 on a member's node, 400 for a bad period.
fn download_failure(ctx: &Ctx, failure: ResultsFailure) -> Refusal {
    match failure {
        ResultsFailure::NotHere => ctx.refuse(ErrorKind::NotFound),
        ResultsFailure::BadPeriod(_) => ctx.refuse(ErrorKind::BadRequest),
        other => {
            tracing::error!(detail = %other, "results download failed");
            ctx.refuse(ErrorKind::Internal)
        }
    }
}

/// The file name of a download: `results-2026.csv`.
fn file_name(period: &str, extension: &str) -> String {
    let safe: String = period
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("results-{safe}.{extension}")
}

/// `GET /results.csv?period=`: the results as CSV (UTF-8 with a byte order mark).
pub(super) async fn csv<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, Refusal> {
    let bytes = state
        .backend
        .results_csv(&query.period)
        .await
        .map_err(|e| download_failure(&ctx, e))?;
    let label = results_input::period_label(&query.period)
        .unwrap_or_else(|| query.period.trim().to_owned());
    Ok(download(Download {
        file_name: file_name(&label, "csv"),
        content_type: "text/csv; charset=utf-8",
        bytes,
    }))
}

/// `GET /results.json?period=`: the results as JSON (a
/// [`ResultsView`](crate::backend::ResultsView)).
pub(super) async fn json<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, Refusal> {
    let view = state
        .backend
        .results(&query.period)
        .await
        .map_err(|e| download_failure(&ctx, e))?;
    let bytes = serde_json::to_vec(&view).map_err(|e| {
        tracing::error!(error = %e, "results could not be written as JSON");
        ctx.refuse(ErrorKind::Internal)
    })?;
    Ok(download(Download {
        file_name: file_name(&view.period, "json"),
        content_type: "application/json",
        bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instrument_links_need_an_institution_and_a_local_id() {
        assert_eq!(instrument_href("dlut/LCMS-1"), "/instruments/dlut/LCMS-1");
        assert_eq!(instrument_href("dlut"), "");
        assert_eq!(instrument_href("dlut/a/b"), "");
    }

    #[test]
    fn figures_read_like_figures() {
        assert_eq!(decimal(1234.5), "1,234.50");
        assert_eq!(percent(Some(0.5634)), "56.3%");
        assert_eq!(percent(None), "—");
        assert_eq!(plain(20.0), "20");
        assert_eq!(file_name("2026-Q3", "csv"), "results-2026-Q3.csv");
        assert_eq!(file_name("../x\"", "csv"), "results-x.csv");
    }

    #[test]
    fn quick_links_offer_the_year_around_the_period() {
        let links = quick("2026-Q3");
        let labels: Vec<&str> = links.iter().map(|q| q.label.as_str()).collect();
        assert_eq!(
            labels,
            ["2025", "2026", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
        );
        assert!(links[4].current);
        assert_eq!(links[4].href, "/results?period=2026-Q3");
    }
}
