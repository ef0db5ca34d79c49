//! `/overview`: the alliance at a glance — institutions, instruments per category and
//! city, total value (public).

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};

use super::{Ctx, Layout, instruments::pick, labels};
use crate::{
    AppState,
    backend::{Backend, Tally},
    charts,
    i18n::Strings,
    render::Page,
};

struct Row {
    name: String,
    href: String,
    count: usize,
    value_wan: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    t: &'static Strings,
    instruments: usize,
    value_wan: String,
    institutions: usize,
    by_institution: Vec<Row>,
    by_category: Vec<Row>,
    by_city: Vec<Row>,
    /// Instruments by category and by city as bars (SVG), beside their tables.
    category_chart: String,
    city_chart: String,
}

/// The rows' instrument counts as bars, most first.
fn chart(rows: &[Row]) -> String {
    let mut bars: Vec<charts::Bar> = rows
        .iter()
        .map(|r| charts::Bar {
            label: r.name.clone(),
            value: r.count as f64,
            shown: r.count.to_string(),
        })
        .collect();
    bars.sort_by(|a, b| b.value.total_cmp(&a.value));
    charts::bars(&bars, None, &[])
}

fn rows(ctx: &Ctx, tallies: &[Tally], filter: &str) -> Vec<Row> {
    tallies
        .iter()
        .map(|t| Row {
            name: pick(ctx.lang, &t.name_zh, &t.name_en),
            // A member has its own page; categories and cities lead to the search.
            href: if filter == "institution" {
                format!("/institutions/{}", super::encode_component(&t.key))
            } else {
                format!("/instruments?{filter}={}", super::encode_component(&t.key))
            },
            count: t.instruments,
            value_wan: labels::wan(t.value_fen),
        })
        .collect()
}

/// `GET /overview`.
pub(super) async fn page<B: Backend>(State(state): State<AppState<B>>, ctx: Ctx) -> Response {
    let overview = state.backend.overview().await;
    let by_category = rows(&ctx, &overview.by_category, "category");
    let by_city = rows(&ctx, &overview.by_city, "city");
    let page = OverviewPage {
        layout: ctx.layout("overview"),
        t: ctx.t,
        instruments: overview.instruments,
        value_wan: labels::wan(overview.value_fen),
        institutions: overview.by_institution.len(),
        by_institution: rows(&ctx, &overview.by_institution, "institution"),
        category_chart: chart(&by_category),
        city_chart: chart(&by_city),
        by_category,
        by_city,
    };
    Page::ok(page).into_response()
}
