//! `/receipts` ("my usage receipts"): the receipts owners issued for the signed-in user's
//! uses, those still to confirm first, each with a form to confirm it and rate the service
//! (1–5 stars, an optional comment) or dispute it (a reason); the answered ones with the
//! answer given. Both lists come a page at a time; the receipts to confirm can be ticked
//! and confirmed with one rating at once.

use alliance_protocol::receipt::Verdict;
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, FormErrors, Layout, PageForm, Refusal,
    day_filter::DayFilter,
    receipt_view::{self, ReceiptItem, Stars},
};
use crate::{
    AppState,
    backend::{Backend, MyReceipt, MyReceiptList, Session, StartSpan},
    i18n::Strings,
    receipt_input::{check_confirmation, check_dispute},
    render::Page,
    time,
    validate::FieldError,
};

/// Fields the answer forms show an error beside.
const SHOWN: [&str; 3] = ["rating", "comment", "reason"];
/// Receipts per page of each list.
const PER_PAGE: usize = 20;
/// Receipts confirmed at once, at most (a page's worth and more).
const MAX_SELECTED: usize = 100;

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
    notice: Option<String>,
    error: Option<String>,
    /// Whether a confirm form is shown again with problems.
    form_errors: bool,
    /// Problems of a form whose receipt is no longer listed.
    stray: Vec<String>,
    unconfirmed: Vec<Mine>,
    confirmed: Vec<Mine>,
    /// How many there are of each, and the links to the pages beside.
    unconfirmed_total: usize,
    confirmed_total: usize,
    pending_pages: Pager,
    done_pages: Pager,
    /// The day filter as typed.
    from: String,
    to: String,
    /// The rating choices of the form confirming the ticked receipts.
    bulk_choices: Vec<Choice>,
}

/// Links to the pages before and after one of a list.
struct Pager {
    newer: Option<String>,
    older: Option<String>,
}

/// Where each list starts.
#[derive(Debug, Clone, Copy, Default)]
struct Offsets {
    pending: usize,
    done: usize,
}

/// Where each list starts, and the days the uses listed start on.
#[derive(Debug, Clone, Default)]
struct Shown {
    offsets: Offsets,
    dates: DayFilter,
}

/// Receipts waiting for an answer searched for the one a form shown again is about
/// (beyond, its problems show above the lists).
const RETRY_SEARCHED: usize = 1_000;

fn pager(shown: &Shown, total: usize, pending: bool) -> Pager {
    let offsets = shown.offsets;
    let at = if pending {
        offsets.pending
    } else {
        offsets.done
    };
    let href = |to: usize| {
        let (p, d) = if pending {
            (to, offsets.done)
        } else {
            (offsets.pending, to)
        };
        let anchor = if pending { "unconfirmed" } else { "confirmed" };
        format!(
            "/receipts?{}pending={p}&done={d}#{anchor}",
            shown.dates.query()
        )
    };
    Pager {
        newer: (at > 0).then(|| href(at.saturating_sub(PER_PAGE))),
        older: (at.saturating_add(PER_PAGE) < total).then(|| href(at + PER_PAGE)),
    }
}

fn choices(ctx: &Ctx, chosen: u32) -> Vec<Choice> {
    (1..=5)
        .map(|value| Choice {
            value,
            stars: receipt_view::rating(ctx, value),
            checked: u32::from(value) == chosen,
        })
        .collect()
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
        choices: choices(ctx, chosen),
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
    notice: Option<String>,
    retry: Option<Retry>,
    mut shown: Shown,
) -> Response {
    let account = &session.account;
    let (from, to) = shown.dates.bounds();
    let span = StartSpan { from, to };
    let retried = |r: &MyReceipt| {
        retry.as_ref().filter(|retry| {
            retry.owner == r.receipt.owner && retry.receipt_id == r.receipt.receipt_id
        })
    };
    // A form shown again is on the page shown: the page that holds its receipt.
    if retry.is_some() {
        let waiting = state
            .backend
            .my_receipts_page(account, MyReceiptList::ToConfirm, span, 0, RETRY_SEARCHED)
            .await;
        if let Some(at) = waiting.items.iter().position(|r| retried(r).is_some()) {
            shown.offsets.pending = at - at % PER_PAGE;
        }
    }
    let (pending, answered) = tokio::join!(
        state.backend.my_receipts_page(
            account,
            MyReceiptList::ToConfirm,
            span,
            shown.offsets.pending,
            PER_PAGE
        ),
        state.backend.my_receipts_page(
            account,
            MyReceiptList::Answered,
            span,
            shown.offsets.done,
            PER_PAGE
        ),
    );
    let mut retry_shown = false;
    let unconfirmed: Vec<Mine> = pending
        .items
        .iter()
        .map(|r| {
            let again = retried(r);
            retry_shown |= again.is_some();
            mine(ctx, r, again)
        })
        .collect();
    let confirmed: Vec<Mine> = answered.items.iter().map(|r| mine(ctx, r, None)).collect();
    let (mut status, mut error, mut stray) = (StatusCode::OK, None, Vec::new());
    let mut form_errors = false;
    if let Some(retry) = retry {
        let errors = FormErrors::new(ctx.t, retry.errors);
        form_errors = !errors.is_empty();
        status = errors.status(retry.error.as_ref().map(|(status, _)| *status));
        error = retry.error.map(|(_, message)| message);
        if !retry_shown {
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
        unconfirmed_total: pending.total,
        confirmed_total: answered.total,
        pending_pages: pager(&shown, pending.total, true),
        done_pages: pager(&shown, answered.total, false),
        from: shown.dates.from.clone(),
        to: shown.dates.to.clone(),
        bulk_choices: choices(ctx, 0),
    };
    Page::with_status(status, page).into_response()
}

/// `?notice=` after a redirect (`n`: how many were confirmed at once); `?pending=` and
/// `?done=`: where each list starts.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    n: usize,
    #[serde(default)]
    pending: usize,
    #[serde(default)]
    done: usize,
    /// Receipts of uses starting from this day (`YYYY-MM-DD`, Beijing time), inclusive.
    #[serde(default)]
    from: String,
    /// … up to this day, inclusive.
    #[serde(default)]
    to: String,
}

/// `GET /receipts`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let t = ctx.t.receipts;
    let notice = match query.notice.as_str() {
        "confirmed" => Some(t.confirmed_notice.to_owned()),
        "disputed" => Some(t.disputed_notice.to_owned()),
        "confirmed_many" => Some(format!(
            "{}{}{}",
            t.bulk_done_prefix, query.n, t.bulk_done_suffix
        )),
        _ => None,
    };
    let dates = DayFilter::parse(&query.from, &query.to)
        .ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?;
    let offsets = Offsets {
        pending: query.pending,
        done: query.done,
    };
    Ok(render(
        &state,
        &ctx,
        session,
        notice,
        None,
        Shown { offsets, dates },
    )
    .await)
}

/// `POST /receipts/confirm-selected`: the ticked receipts (`selected`, `owner/receipt id`,
/// repeated), each confirmed with the one rating and comment given.
pub(super) async fn confirm_selected<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let value = |name: &str| super::toolkit::form_value(&pairs, name);
    ctx.check_csrf(session, value("csrf"))?;
    let selected: Vec<(&str, &str)> = super::toolkit::form_values(&pairs, "selected")
        .filter_map(|v| v.split_once('/'))
        .collect();
    let rating = rating_of(value("rating"));
    let comment = value("comment").trim();
    let mut errors = check_confirmation(rating, comment, ctx.t);
    if selected.is_empty() || selected.len() > MAX_SELECTED {
        errors.push(FieldError::new(
            "selected",
            crate::validate::Problem::Other(ctx.t.receipts.bulk_none.to_owned()),
        ));
    }
    let verdict = confirmation(rating, comment, &errors);
    let Some(verdict) = verdict else {
        // Shown above the lists, as problems of no one receipt's form.
        let retry = Retry {
            owner: String::new(),
            receipt_id: String::new(),
            form: ConfirmForm::default(),
            errors,
            error: None,
        };
        return Ok(render(&state, &ctx, session, None, Some(retry), Shown::default()).await);
    };
    let mut done = 0;
    for (owner, receipt_id) in selected {
        // One already answered (in another tab, say) is simply left as it is.
        if state
            .backend
            .confirm_receipt(&session.account, owner, receipt_id, verdict.clone())
            .await
            .is_ok()
        {
            done += 1;
        }
    }
    Ok(Redirect::to(&format!("/receipts?notice=confirmed_many&n={done}")).into_response())
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

/// The confirmation a sound form gives (none while `errors` has problems).
fn confirmation(rating: u32, comment: &str, errors: &[FieldError]) -> Option<Verdict> {
    u8::try_from(rating)
        .ok()
        .filter(|_| errors.is_empty())
        .map(|rating| Verdict::Confirmed {
            rating,
            comment: comment.to_owned(),
        })
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
    let verdict = confirmation(rating, comment, &errors);
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
    Ok(render(state, ctx, session, None, Some(retry), Shown::default()).await)
}
