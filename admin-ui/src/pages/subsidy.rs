//! `/province/subsidy` (province admins): shares a subsidy budget out by the evaluation
//! results of a period, with the rule stated. It only computes — nothing is saved — so
//! it is a `GET` form (`?period=2026&budget=1,000,000.50`) and needs no CSRF token. Bad
//! input is shown again with its problems (422) and nothing is computed.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{Ctx, ErrorKind, FormErrors, Layout, Refusal, labels, results::grade_class};
use crate::{
    AppState,
    backend::{AccountRole, AllocationView, Backend, ResultsFailure},
    i18n::Strings,
    render::Page,
    results_input,
    validate::FieldError,
};

/// The form as typed; without `budget` the page shows the empty form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct SubsidyQuery {
    period: String,
    budget: Option<String>,
}

struct Allocation {
    id: String,
    name: String,
    score: String,
    grade: String,
    grade_class: &'static str,
    amount: String,
}

/// An institution short of the rule, when nothing is allocated: how far it is.
struct Closest {
    name: String,
    score: String,
    grade: String,
    grade_class: &'static str,
    /// Points to the rule's lowest score.
    gap: String,
}

/// What was computed.
struct Outcome {
    period: String,
    budget: String,
    rule: String,
    rows: Vec<Allocation>,
    total: String,
    /// When nothing is allocated: the lowest score that qualifies, and the institutions
    /// nearest to it (best first), so the page says why and who is closest.
    min_score: String,
    closest: Vec<Closest>,
}

/// How many institutions the explanation of an empty allocation names.
const CLOSEST: usize = 5;

/// The institutions nearest to `min_score` in `view`, best first.
fn closest(t: &Strings, view: &crate::backend::ResultsView) -> Vec<Closest> {
    let mut institutions: Vec<_> = view
        .rows
        .iter()
        .filter(|r| r.instrument.is_empty())
        .collect();
    institutions.sort_by(|a, b| b.score.total_cmp(&a.score));
    institutions
        .into_iter()
        .take(CLOSEST)
        .map(|r| Closest {
            name: r.institution_name.clone(),
            score: format!("{:.2}", r.score),
            grade: t.results.grade(&r.grade).to_owned(),
            grade_class: grade_class(&r.grade),
            gap: format!("{:.2}", (view.subsidy_min_score - r.score).max(0.0)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "subsidy.html")]
struct SubsidyPage {
    layout: Layout,
    t: &'static Strings,
    period: String,
    budget: String,
    errors: FormErrors,
    /// This is a member's node: the province publishes results.
    not_here: bool,
    outcome: Option<Outcome>,
}

fn allocation(t: &Strings, a: &AllocationView) -> Allocation {
    Allocation {
        id: a.institution.clone(),
        name: a.institution_name.clone(),
        score: format!("{:.2}", a.score),
        grade: t.results.grade(&a.grade).to_owned(),
        grade_class: grade_class(&a.grade),
        amount: labels::yuan(a.amount_fen),
    }
}

/// The checked input: the period as typed and the budget in fen, or every problem.
fn check(query: &SubsidyQuery, budget: &str, t: &Strings) -> Result<i64, Vec<FieldError>> {
    let period = results_input::check_period(&query.period, t);
    match (results_input::parse_budget(budget, "budget", t), period) {
        (Ok(fen), None) => Ok(fen),
        (budget, period) => Err(budget.err().into_iter().chain(period).collect()),
    }
}

/// `GET /province/subsidy?period=&budget=`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<SubsidyQuery>,
) -> Result<Response, Refusal> {
    ctx.with_role(AccountRole::ProvinceAdmin)?;
    let t = ctx.t;
    let typed_budget = query.budget.clone().unwrap_or_default();
    let mut errors = Vec::new();
    let (mut status, mut not_here, mut outcome) = (StatusCode::OK, false, None);
    if let Some(budget) = &query.budget {
        match check(&query, budget, t) {
            Err(problems) => errors = problems,
            Ok(fen) => {
                let period = query.period.trim();
                let (view, allocations) = tokio::join!(
                    state.backend.results(period),
                    state.backend.subsidy(period, fen)
                );
                match view.and_then(|view| allocations.map(|a| (view, a))) {
                    Ok((view, allocations)) => {
                        let total: i64 = allocations.iter().map(|a| a.amount_fen).sum();
                        let closest = if allocations.is_empty() {
                            closest(t, &view)
                        } else {
                            Vec::new()
                        };
                        outcome = Some(Outcome {
                            min_score: format!("{:.0}", view.subsidy_min_score),
                            closest,
                            period: view.period,
                            budget: labels::yuan(fen),
                            rule: view.subsidy_rule,
                            rows: allocations.iter().map(|a| allocation(t, a)).collect(),
                            total: labels::yuan(total),
                        });
                    }
                    Err(ResultsFailure::NotHere) => {
                        (status, not_here) = (StatusCode::NOT_FOUND, true);
                    }
                    Err(ResultsFailure::BadPeriod(_)) => {
                        errors.push(FieldError::new("period", results_input::bad_period(t)));
                    }
                    Err(other) => {
                        let detail = other.to_string();
                        tracing::error!(%detail, "subsidy allocation failed");
                        return Err(ctx.refuse(ErrorKind::Internal));
                    }
                }
            }
        }
    }
    let errors = FormErrors::new(t, errors);
    if !errors.is_empty() {
        status = errors.status(None);
    }
    let page = SubsidyPage {
        layout: ctx.layout("subsidy"),
        t,
        period: query.period,
        budget: typed_budget,
        errors,
        not_here,
        outcome,
    };
    Ok(Page::with_status(status, page).into_response())
}
