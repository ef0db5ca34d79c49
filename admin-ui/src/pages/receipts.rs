//! `/receipts` ("my usage receipts"): the receipts owners issued for the signed-in user's
//! uses, those still to confirm first, each with a form to confirm it and rate the service
//! (1–5 stars, an optional comment) or dispute it (a reason); the answered ones with the
//! answer given.

use alliance_protocol::receipt::Verdict;
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, FormErrors, Layout, PageForm, Refusal,
    receipt_view::{self, ReceiptItem, Stars},
};
use crate::{
    AppState,
    backend::{Backend, MyReceipt, Session},
    i18n::Strings,
    receipt_input::{check_confirmation, check_dispute},
    render::Page,
    time,
    validate::FieldError,
};

/// Fields the answer forms show an error beside.
const SHOWN: [&str; 3] = ["rating", "comment", "reason"];

/// One choice of the rating.
struct Choice {
    value: u8,
    stars: Stars,
    checked: bool,
}

struct Mine {
    item: ReceiptItem,
    action: String,
    dispute_action: String,
    /// The answer given, once confirmed.
    rating: Option<Stars>,
    /// The reason given, once disputed.
    disputed: String,
    comment: String,
    confirmed_at: String,
    /// The confirm form: the rating choices, the comment as typed, its problems.
    choices: Vec<Choice>,
    typed_comment: String,
    /// The dispute form: the reason as typed; open when it is shown again.
    typed_reason: String,
    dispute_open: bool,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "receipts.html")]
struct ReceiptsPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    /// Whether a confirm form is shown again with problems.
    form_errors: bool,
    /// Problems of a form whose receipt is no longer listed.
    stray: Vec<String>,
    unconfirmed: Vec<Mine>,
    confirmed: Vec<Mine>,
}

/// A confirm form shown again.
struct Retry {
    owner: String,
    receipt_id: String,
    form: ConfirmForm,
    errors: Vec<FieldError>,
    /// A refusal by the node, with its status.
    error: Option<(StatusCode, String)>,
}

fn mine(ctx: &Ctx, r: &MyReceipt, retry: Option<&Retry>) -> Mine {
    let chosen = retry.map_or(0, |r| rating_of(&r.form.rating));
    Mine {
        item: receipt_view::item(ctx, &r.receipt),
        action: receipt_view::answer_url(&r.receipt.owner, &r.receipt.receipt_id, "confirm"),
        dispute_action: receipt_view::answer_url(
            &r.receipt.owner,
            &r.receipt.receipt_id,
            "dispute",
        ),
        rating: r.rating.map(|n| receipt_view::rating(ctx, n)),
        disputed: r.dispute.clone().unwrap_or_default(),
        comment: r.comment.clone(),
        confirmed_at: r
            .confirmed_at
            .map(|at| time::format_unix(at, ctx.lang))
            .unwrap_or_default(),
        choices: (1..=5)
            .map(|value| Choice {
                value,
                stars: receipt_view::rating(ctx, value),
                checked: u32::from(value) == chosen,
            })
            .collect(),
        typed_comment: retry.map(|r| r.form.comment.clone()).unwrap_or_default(),
        typed_reason: retry.map(|r| r.form.reason.clone()).unwrap_or_default(),
        dispute_open: retry.is_some_and(|r| {
            !r.form.reason.is_empty() || r.errors.iter().any(|e| e.field == "reason")
        }),
        errors: FormErrors::new(ctx.t, retry.map(|r| r.errors.clone()).unwrap_or_default()),
    }
}

async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    session: &Session,
    notice: Option<&'static str>,
    retry: Option<Retry>,
) -> Response {
    let receipts = state.backend.my_receipts(&session.account).await;
    let retried = |r: &MyReceipt| {
        retry.as_ref().filter(|retry| {
            retry.owner == r.receipt.owner && retry.receipt_id == r.receipt.receipt_id
        })
    };
    let (mut unconfirmed, mut confirmed) = (Vec::new(), Vec::new());
    let mut shown = false;
    for r in &receipts {
        if r.confirmed_at.is_none() {
            let again = retried(r);
            shown |= again.is_some();
            unconfirmed.push(mine(ctx, r, again));
        } else {
            confirmed.push(mine(ctx, r, None));
        }
    }
    let (mut status, mut error, mut stray) = (StatusCode::OK, None, Vec::new());
    let mut form_errors = false;
    if let Some(retry) = retry {
        let errors = FormErrors::new(ctx.t, retry.errors);
        form_errors = !errors.is_empty();
        status = errors.status(retry.error.as_ref().map(|(status, _)| *status));
        error = retry.error.map(|(_, message)| message);
        if !shown {
            stray = errors.other(&[]);
        }
    }
    let page = ReceiptsPage {
        layout: ctx.layout("receipts"),
        t: ctx.t,
        csrf: session.csrf_token.clone(),
        notice,
        error,
        form_errors,
        stray,
        unconfirmed,
        confirmed,
    };
    Page::with_status(status, page).into_response()
}

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// `GET /receipts`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(notice): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let notice = match notice.notice.as_str() {
        "confirmed" => Some(ctx.t.receipts.confirmed_notice),
        "disputed" => Some(ctx.t.receipts.disputed_notice),
        _ => None,
    };
    Ok(render(&state, &ctx, session, notice, None).await)
}

/// The confirm or dispute form of one receipt.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConfirmForm {
    csrf: String,
    /// `1` to `5`.
    rating: String,
    comment: String,
    /// Why the user disputes the receipt (the dispute form).
    reason: String,
}

/// The rating typed, `0` when none or not a number.
fn rating_of(value: &str) -> u32 {
    value.trim().parse().unwrap_or(0)
}

/// `POST /receipts/{owner}/{receipt_id}/confirm`.
pub(super) async fn confirm<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((owner, receipt_id)): Path<(String, String)>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, &form.csrf)?;
    let rating = rating_of(&form.rating);
    let comment = form.comment.trim();
    let errors = check_confirmation(rating, comment, ctx.t);
    let verdict = u8::try_from(rating)
        .ok()
        .filter(|_| errors.is_empty())
        .map(|rating| Verdict::Confirmed {
            rating,
            comment: comment.to_owned(),
        });
    answer(
        &state,
        &ctx,
        session,
        (owner, receipt_id),
        form,
        verdict,
        errors,
    )
    .await
}

/// `POST /receipts/{owner}/{receipt_id}/dispute`.
pub(super) async fn dispute<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((owner, receipt_id)): Path<(String, String)>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, &form.csrf)?;
    let reason = form.reason.trim();
    let errors = check_dispute(reason, ctx.t);
    let verdict = errors.is_empty().then(|| Verdict::Disputed {
        reason: reason.to_owned(),
    });
    answer(
        &state,
        &ctx,
        session,
        (owner, receipt_id),
        form,
        verdict,
        errors,
    )
    .await
}

/// Gives the user's answer, if the form was sound, and returns to the list; shows the
/// form again with its problems otherwise.
async fn answer<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    session: &Session,
    (owner, receipt_id): (String, String),
    form: ConfirmForm,
    verdict: Option<Verdict>,
    errors: Vec<FieldError>,
) -> Result<Response, Refusal> {
    let (errors, error) = match verdict {
        Some(verdict) => {
            let notice = match verdict {
                Verdict::Confirmed { .. } => "confirmed",
                Verdict::Disputed { .. } => "disputed",
            };
            match state
                .backend
                .confirm_receipt(&session.account, &owner, &receipt_id, verdict)
                .await
            {
                Ok(_) => {
                    return Ok(Redirect::to(&format!("/receipts?notice={notice}")).into_response());
                }
                Err(failure) => receipt_view::failure(ctx, failure, &SHOWN, "confirm")?,
            }
        }
        None => (errors, None),
    };
    let retry = Retry {
        owner,
        receipt_id,
        form,
        errors,
        error,
    };
    Ok(render(state, ctx, session, None, Some(retry)).await)
}
