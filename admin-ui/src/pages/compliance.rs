//! `/province/compliance` (province admins): instruments worth 300,000 RMB or more that
//! were networked late, are not networked, or whose deadline lies beyond the known
//! official calendar (R7: 30 working days from installation acceptance, counting official
//! holidays and make-up working days), grouped by institution.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::{Ctx, ErrorKind, Layout, Refusal, encode_component};
use crate::{
    AppState,
    backend::{AccountRole, Backend, ComplianceRow, ResultsFailure},
    i18n::Strings,
    render::Page,
};

struct Item {
    id: String,
    name: String,
    href: String,
    acceptance: String,
    networked: String,
    deadline: String,
    days_late: String,
    standing: String,
    standing_class: &'static str,
}

struct Group {
    id: String,
    name: String,
    items: Vec<Item>,
}

/// How many rows have one standing.
struct Tally {
    label: String,
    count: usize,
}

#[derive(Template)]
#[template(path = "compliance.html")]
struct CompliancePage {
    layout: Layout,
    t: &'static Strings,
    /// This is a member's node: the province keeps the reporting record.
    not_here: bool,
    tallies: Vec<Tally>,
    groups: Vec<Group>,
}

/// The badge class of a standing.
fn standing_class(code: &str) -> &'static str {
    match code {
        "missing" => "error",
        "late" => "pending",
        _ => "disabled",
    }
}

fn dash(value: &str) -> String {
    if value.trim().is_empty() {
        "—".to_owned()
    } else {
        value.to_owned()
    }
}

fn item(t: &Strings, r: &ComplianceRow) -> Item {
    let href = match r.instrument.split_once('/') {
        Some((institution, local_id)) if !local_id.contains('/') => format!(
            "/instruments/{}/{}",
            encode_component(institution),
            encode_component(local_id)
        ),
        _ => String::new(),
    };
    Item {
        id: r.instrument.clone(),
        name: r.instrument_name.clone(),
        href,
        acceptance: dash(&r.acceptance_date),
        networked: dash(&r.networked_date),
        deadline: dash(r.deadline.as_deref().unwrap_or_default()),
        days_late: r
            .working_days_late
            .map_or_else(|| "—".to_owned(), |d| d.to_string()),
        standing: t.results.standing(&r.standing).to_owned(),
        standing_class: standing_class(&r.standing),
    }
}

/// The rows by institution, in the order the node gives them.
fn groups(t: &Strings, rows: &[ComplianceRow]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for r in rows {
        let at = match groups.iter().position(|g| g.id == r.institution) {
            Some(at) => at,
            None => {
                groups.push(Group {
                    id: r.institution.clone(),
                    name: r.institution_name.clone(),
                    items: Vec::new(),
                });
                groups.len() - 1
            }
        };
        groups[at].items.push(item(t, r));
    }
    groups
}

fn tallies(t: &Strings, rows: &[ComplianceRow]) -> Vec<Tally> {
    ["late", "missing", "beyond_calendar", "no_acceptance_date"]
        .into_iter()
        .map(|code| Tally {
            label: t.results.standing(code).to_owned(),
            count: rows.iter().filter(|r| r.standing == code).count(),
        })
        .collect()
}

/// `GET /province/compliance`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
) -> Result<Response, Refusal> {
    ctx.with_role(AccountRole::ProvinceAdmin)?;
    let t = ctx.t;
    let (status, not_here, rows) = match state.backend.compliance().await {
        Ok(rows) => (StatusCode::OK, false, rows),
        Err(ResultsFailure::NotHere) => (StatusCode::NOT_FOUND, true, Vec::new()),
        Err(other) => {
            let detail = other.to_string();
            tracing::error!(%detail, "compliance failed");
            return Err(ctx.refuse(ErrorKind::Internal));
        }
    };
    let page = CompliancePage {
        layout: ctx.layout("compliance"),
        t,
        not_here,
        tallies: if not_here {
            Vec::new()
        } else {
            tallies(t, &rows)
        },
        groups: groups(t, &rows),
    };
    Ok(Page::with_status(status, page).into_response())
}
