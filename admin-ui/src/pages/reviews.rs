//! `/province/reviews`: the province admin's review queue — records members added or
//! changed, voluntary ones (under 300,000 RMB) first, 20 to a page, each with what changed
//! since the province last approved it; approve or request a correction with a comment,
//! or approve the ticked ones at once. The verdict is signed and reaches every node.

use alliance_protocol::ReviewVerdict;
use askama::Template;
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, Layout, PageForm, Refusal,
    instruments::pick,
    labels,
    record_diff::{Change, changes},
};
use crate::{
    AppState,
    backend::{AccountRole, Backend, CatalogueFailure, ReviewState},
    i18n::Strings,
    render::Page,
};

struct Item {
    id: String,
    href: String,
    name: String,
    institution: String,
    category: String,
    value_wan: String,
    voluntary: bool,
    revision: u64,
    previous: &'static str,
    previous_comment: String,
    /// What changed since the province last approved it; `None` when it has no approved
    /// version kept (new to the province, or approved before versions were kept).
    changes: Option<Vec<Change>>,
}

/// Records on one page of the queue.
const PER_PAGE: usize = 20;
/// Records one bulk approval may name.
const MAX_SELECTED: usize = 100;

#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
    items: Vec<Item>,
    /// All records waiting, on every page.
    total: usize,
    page: usize,
    pages: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// `?notice=` after a redirect, and `?page=` (from 1).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    approved: usize,
    #[serde(default)]
    page: usize,
}

async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    csrf: &str,
    notice: Option<String>,
    error: Option<String>,
    page: usize,
) -> Response {
    let c = ctx.t.cat;
    let queue = state.backend.review_queue().await;
    let total = queue.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let shown = &queue[((page - 1) * PER_PAGE).min(total)..(page * PER_PAGE).min(total)];
    let mut approved = Vec::with_capacity(shown.len());
    for d in shown {
        approved.push(state.backend.approved_record(&d.summary.id).await);
    }
    let items = shown
        .iter()
        .zip(approved)
        .map(|(d, approved)| {
            let s = &d.summary;
            let current = serde_json::to_value(&d.record).unwrap_or_default();
            Item {
                changes: approved.map(|a| changes(c, &a, &current)),
                id: s.id.clone(),
                href: format!("/instruments/{}", s.id),
                name: pick(ctx.lang, &s.name_zh, &s.name_en),
                institution: pick(ctx.lang, &s.institution_name_zh, &s.institution_name_en),
                category: pick(ctx.lang, &s.category_name_zh, &s.category_name_en),
                value_wan: labels::wan(s.original_value_fen),
                voluntary: s.review_state == ReviewState::AwaitingApproval,
                revision: s.revision,
                previous: if d.review.is_some() {
                    labels::review(c, s.review_state)
                } else {
                    ""
                },
                previous_comment: d
                    .review
                    .as_ref()
                    .map(|r| r.comment.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let href = |p: usize| format!("/province/reviews?page={p}");
    Page::with_status(
        status,
        ReviewsPage {
            layout: ctx.layout("reviews"),
            t: ctx.t,
            csrf: csrf.to_owned(),
            notice,
            error,
            items,
            total,
            page,
            pages,
            prev_href: (page > 1).then(|| href(page - 1)),
            next_href: (page < pages).then(|| href(page + 1)),
        },
    )
    .into_response()
}

/// `GET /province/reviews`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(notice): Query<Notice>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::ProvinceAdmin)?;
    let message = match notice.notice.as_str() {
        "reviewed" => Some(ctx.t.cat.reviewed.to_owned()),
        "approved" => Some(
            ctx.t
                .cat
                .approved_selected
                .replace("{n}", &notice.approved.to_string()),
        ),
        _ => None,
    };
    Ok(render(
        &state,
        &ctx,
        &session.csrf_token,
        message,
        None,
        notice.page,
    )
    .await)
}

/// The verdict's signer as the page names them.
fn reviewer_of(session: &crate::backend::Session) -> String {
    if session.account.display_name.is_empty() {
        session.account.username.clone()
    } else {
        session.account.display_name.clone()
    }
}

/// `POST /province/reviews/approve-selected`: approves the ticked records (`selected`,
/// at most 100), each with its own signed verdict; back to the same page.
pub(super) async fn approve_selected<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::ProvinceAdmin)?;
    let value = |name: &str| super::toolkit::form_value(&pairs, name);
    ctx.check_csrf(session, value("csrf"))?;
    let page = value("page").parse::<usize>().unwrap_or(1);
    let selected: Vec<&str> = super::toolkit::form_values(&pairs, "selected").collect();
    if selected.is_empty() || selected.len() > MAX_SELECTED {
        let error = Some(ctx.t.cat.select_some.to_owned());
        return Ok(render(&state, &ctx, &session.csrf_token, None, error, page).await);
    }
    let reviewer = reviewer_of(session);
    let mut approved = 0;
    for id in selected {
        match state
            .backend
            .review_instrument(id, ReviewVerdict::Approved, String::new(), reviewer.clone())
            .await
        {
            Ok(()) => approved += 1,
            // Reviewed meanwhile, or gone: the others still count.
            Err(CatalogueFailure::NotFound | CatalogueFailure::Invalid { .. }) => {}
            Err(e) => {
                tracing::error!(error = %e, "review failed");
                return Err(ctx.refuse(ErrorKind::Internal));
            }
        }
    }
    Ok(Redirect::to(&format!(
        "/province/reviews?notice=approved&approved={approved}&page={page}"
    ))
    .into_response())
}

/// The verdict form of one record.
#[derive(Debug, Deserialize)]
pub(super) struct VerdictForm {
    #[serde(default)]
    csrf: String,
    id: String,
    /// `approved` or `needs_correction`.
    verdict: String,
    #[serde(default)]
    comment: String,
    /// The page of the queue it was sent from, to come back to.
    #[serde(default)]
    page: usize,
}

/// `POST /province/reviews`.
pub(super) async fn submit<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(form): PageForm<VerdictForm>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::ProvinceAdmin)?;
    ctx.check_csrf(session, &form.csrf)?;
    let verdict = match form.verdict.as_str() {
        "approved" => ReviewVerdict::Approved,
        "needs_correction" => ReviewVerdict::NeedsCorrection,
        _ => return Err(ctx.refuse(ErrorKind::BadRequest)),
    };
    let reviewer = reviewer_of(session);
    match state
        .backend
        .review_instrument(&form.id, verdict, form.comment, reviewer)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/province/reviews?notice=reviewed&page={}",
            form.page.max(1)
        ))
        .into_response()),
        Err(CatalogueFailure::Invalid { .. }) => {
            let error = Some(ctx.t.cat.review_comment_label.to_owned());
            Ok(render(&state, &ctx, &session.csrf_token, None, error, form.page).await)
        }
        Err(CatalogueFailure::NotFound) => Err(ctx.refuse(ErrorKind::NotFound)),
        Err(e) => {
            tracing::error!(error = %e, "review failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}
