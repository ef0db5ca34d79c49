//! `/province/reviews`: the province admin's review queue — records members added or
//! changed, voluntary ones (under 300,000 RMB) first; approve or request a correction
//! with a comment. The verdict is signed and reaches every node.

use alliance_protocol::ReviewVerdict;
use askama::Template;
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Ctx, ErrorKind, Layout, PageForm, Refusal, instruments::pick, labels};
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
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    items: Vec<Item>,
}

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    #[serde(default)]
    notice: String,
}

async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    csrf: &str,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let c = ctx.t.cat;
    let items = state
        .backend
        .review_queue()
        .await
        .iter()
        .map(|d| {
            let s = &d.summary;
            Item {
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
    Page::with_status(
        status,
        ReviewsPage {
            layout: ctx.layout("reviews"),
            t: ctx.t,
            csrf: csrf.to_owned(),
            notice,
            error,
            items,
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
    let notice = (notice.notice == "reviewed").then_some(ctx.t.cat.reviewed);
    Ok(render(&state, &ctx, &session.csrf_token, notice, None).await)
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
    let reviewer = if session.account.display_name.is_empty() {
        session.account.username.clone()
    } else {
        session.account.display_name.clone()
    };
    match state
        .backend
        .review_instrument(&form.id, verdict, form.comment, reviewer)
        .await
    {
        Ok(()) => Ok(Redirect::to("/province/reviews?notice=reviewed").into_response()),
        Err(CatalogueFailure::Invalid { .. }) => {
            let error = Some(ctx.t.cat.review_comment_label.to_owned());
            Ok(render(&state, &ctx, &session.csrf_token, None, error).await)
        }
        Err(CatalogueFailure::NotFound) => Err(ctx.refuse(ErrorKind::NotFound)),
        Err(e) => {
            tracing::error!(error = %e, "review failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}
