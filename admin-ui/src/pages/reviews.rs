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
    Ctx, ErrorKind, Layout, PageForm, Refusal, encode_component,
    instruments::pick,
    labels,
    record_diff::{Change, changes},
};
use crate::{
    AppState,
    backend::{AccountRole, Backend, CatalogueFailure, InstrumentDetail, ReviewState},
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
    /// The records the filter admits, on every page.
    total: usize,
    /// All records waiting.
    waiting: usize,
    institutions: Vec<Choice>,
    /// The filter as chosen.
    institution: String,
    kind: String,
    page: usize,
    pages: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// `?notice=` after a redirect, `?page=` (from 1), and the filter.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    approved: usize,
    #[serde(default)]
    page: usize,
    #[serde(default)]
    institution: String,
    #[serde(default)]
    kind: String,
}

/// Which waiting records the queue shows: of one institution (`institution`, its id)
/// and of one kind (`kind`: `new` — never reviewed, `resubmitted` — reviewed before);
/// each empty for all. Kept in the page's links and forms.
#[derive(Debug, Clone, Default)]
pub(super) struct QueueFilter {
    institution: String,
    kind: String,
}

impl QueueFilter {
    fn of(institution: &str, kind: &str) -> QueueFilter {
        QueueFilter {
            institution: institution.trim().to_owned(),
            kind: kind.trim().to_owned(),
        }
    }

    fn admits(&self, d: &InstrumentDetail) -> bool {
        let kind = match self.kind.as_str() {
            "new" => d.review.is_none(),
            "resubmitted" => d.review.is_some(),
            _ => true,
        };
        kind && (self.institution.is_empty() || d.summary.institution_id == self.institution)
    }

    /// `institution=…&kind=…&` for a link, each only if set.
    fn query(&self) -> String {
        let mut q = String::new();
        for (name, value) in [("institution", &self.institution), ("kind", &self.kind)] {
            if !value.is_empty() {
                q.push_str(&format!("{name}={}&", encode_component(value)));
            }
        }
        q
    }
}

/// An institution with records waiting, for the filter.
struct Choice {
    id: String,
    name: String,
    count: usize,
}

async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    csrf: &str,
    notice: Option<String>,
    error: Option<String>,
    (page, filter): (usize, &QueueFilter),
) -> Response {
    let c = ctx.t.cat;
    let all = state.backend.review_queue().await;
    let mut institutions: Vec<Choice> = Vec::new();
    for d in &all {
        let s = &d.summary;
        match institutions.iter_mut().find(|c| c.id == s.institution_id) {
            Some(choice) => choice.count += 1,
            None => institutions.push(Choice {
                id: s.institution_id.clone(),
                name: pick(ctx.lang, &s.institution_name_zh, &s.institution_name_en),
                count: 1,
            }),
        }
    }
    institutions.sort_by(|a, b| a.id.cmp(&b.id));
    let waiting = all.len();
    let queue: Vec<InstrumentDetail> = all.into_iter().filter(|d| filter.admits(d)).collect();
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
    let href = |p: usize| format!("/province/reviews?{}page={p}", filter.query());
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
            waiting,
            institutions,
            institution: filter.institution.clone(),
            kind: filter.kind.clone(),
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
        (
            notice.page,
            &QueueFilter::of(&notice.institution, &notice.kind),
        ),
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
    let filter = QueueFilter::of(value("institution"), value("kind"));
    let selected: Vec<&str> = super::toolkit::form_values(&pairs, "selected").collect();
    if selected.is_empty() || selected.len() > MAX_SELECTED {
        let error = Some(ctx.t.cat.select_some.to_owned());
        let at = (page, &filter);
        return Ok(render(&state, &ctx, &session.csrf_token, None, error, at).await);
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
        "/province/reviews?notice=approved&approved={approved}&{}page={page}",
        filter.query()
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
    /// The page of the queue it was sent from, to come back to, and its filter.
    #[serde(default)]
    page: usize,
    #[serde(default)]
    institution: String,
    #[serde(default)]
    kind: String,
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
    let filter = QueueFilter::of(&form.institution, &form.kind);
    match state
        .backend
        .review_instrument(&form.id, verdict, form.comment, reviewer)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/province/reviews?notice=reviewed&{}page={}",
            filter.query(),
            form.page.max(1)
        ))
        .into_response()),
        Err(CatalogueFailure::Invalid { .. }) => {
            let error = Some(ctx.t.cat.review_comment_label.to_owned());
            let at = (form.page, &filter);
            Ok(render(&state, &ctx, &session.csrf_token, None, error, at).await)
        }
        Err(CatalogueFailure::NotFound) => Err(ctx.refuse(ErrorKind::NotFound)),
        Err(e) => {
            tracing::error!(error = %e, "review failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}
