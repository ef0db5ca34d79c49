//! `/needs`: the board of needs and offers (R3, R19). The list is public (a visitor sees
//! no one's institution); a signed-in person posts a need under it and follows their
//! own. `/needs/{home}/{id}`: one need — for the person who posted it, every offer side
//! by side with a button to accept one; for an institution's managers, their offer and
//! the form to make or revise it; for everyone signed in, the instruments proposed.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, Layout, PageForm, Refusal, bookings::failure_message, encode_component,
};
use crate::{
    AppState,
    backend::{
        ActionFailure, Backend, BoardQuery, NeedDetail, NeedForm, NeedView, OfferForm, OfferView,
    },
    i18n::Strings,
    render::Page,
    time,
};
use alliance_protocol::money::{format_yuan, parse_yuan};

/// A need, every value ready to show.
pub(super) struct Item {
    pub(super) href: String,
    pub(super) title: String,
    pub(super) home_name: String,
    pub(super) state: &'static str,
    pub(super) open: bool,
    pub(super) deadline: String,
    pub(super) samples: String,
    pub(super) budget: String,
    pub(super) modes: String,
    pub(super) keywords: String,
    pub(super) categories: String,
    pub(super) posted_at: String,
    pub(super) offers: usize,
    pub(super) mine: bool,
    pub(super) description: String,
    pub(super) results_public: bool,
    /// Files attached: name, download link, size.
    pub(super) attachments: Vec<(String, String, String)>,
}

pub(super) fn item(t: &'static Strings, ctx: &Ctx, n: &NeedView) -> Item {
    let b = t.board;
    let (home, local) = n.need_id.split_once('/').unwrap_or((&n.need_id, ""));
    Item {
        href: format!(
            "/needs/{}/{}",
            encode_component(home),
            encode_component(local)
        ),
        title: n.title.clone(),
        home_name: n.home_name.clone(),
        state: match n.state.as_str() {
            "open" => b.state_open,
            "withdrawn" => b.state_withdrawn,
            "expired" => b.state_expired,
            _ => b.state_accepted,
        },
        open: n.state == "open",
        deadline: n.deadline.clone(),
        samples: if n.sample_kind.is_empty() {
            n.sample_count.to_string()
        } else {
            format!("{} × {}", n.sample_kind, n.sample_count)
        },
        budget: budget(b, n.budget_min_fen, n.budget_max_fen),
        modes: n
            .modes
            .iter()
            .map(|m| mode_label(b, m))
            .collect::<Vec<_>>()
            .join("、"),
        keywords: n.keywords.join("、"),
        categories: n.categories.join("、"),
        posted_at: time::format_unix(n.posted_at, ctx.lang),
        offers: n.offers,
        mine: n.mine,
        description: n.description.clone(),
        results_public: n.results_public,
        attachments: n
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (
                    a.name.clone(),
                    format!(
                        "/needs/{}/{}/attachments/{i}",
                        encode_component(home),
                        encode_component(local)
                    ),
                    format!("{:.1} KiB", a.size as f64 / 1024.0),
                )
            })
            .collect(),
    }
}

fn mode_label(b: &crate::i18n::board::BoardStrings, mode: &str) -> &'static str {
    if mode == "self_operated" {
        b.mode_self_operated
    } else {
        b.mode_staff_run
    }
}

fn budget(b: &crate::i18n::board::BoardStrings, min: i64, max: i64) -> String {
    match (min, max) {
        (0, 0) => b.budget_open.to_owned(),
        (min, 0) => format!("¥{} – {}", format_yuan(min), b.budget_open),
        (min, max) => format!("¥{} – ¥{}", format_yuan(min), format_yuan(max)),
    }
}

#[derive(Template)]
#[template(path = "needs.html")]
struct NeedsPage {
    layout: Layout,
    t: &'static Strings,
    csrf: Option<String>,
    notice: Option<&'static str>,
    error: Option<String>,
    items: Vec<Item>,
    total: usize,
    q: String,
    all: bool,
    mine: Vec<Item>,
    form: NeedForm,
    categories: String,
    keywords: String,
    budget_min: String,
    budget_max: String,
    staff_run: bool,
    self_operated: bool,
    today: String,
    prev: Option<String>,
    next: Option<String>,
    responses: Vec<ResponseItem>,
}

/// One institution's answers, ready to show.
struct ResponseItem {
    name: String,
    offers: u32,
    accepted: u32,
    rate: String,
    hours: String,
}

/// The list's query, and a notice after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    offset: usize,
    #[serde(default)]
    notice: String,
}

const PER_PAGE: usize = 20;

fn list_href(q: &str, all: bool, offset: usize) -> String {
    format!(
        "/needs?q={}&state={}&offset={offset}",
        encode_component(q),
        if all { "all" } else { "open" }
    )
}

/// What the form keeps of what was typed when it is shown again.
struct Typed {
    form: NeedForm,
    budget_min: String,
    budget_max: String,
}

async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    list: &ListQuery,
    typed: Typed,
    error: Option<(StatusCode, String)>,
) -> Response {
    let t = ctx.t;
    let viewer = ctx.session.as_ref().map(|s| &s.account);
    let all = list.state == "all";
    let query = BoardQuery {
        q: list.q.clone(),
        state: list.state.clone(),
        offset: list.offset,
        limit: PER_PAGE,
        ..BoardQuery::default()
    };
    let page = state.backend.needs(viewer, &query).await;
    let mine = match viewer {
        Some(account) => state
            .backend
            .my_needs(account)
            .await
            .iter()
            .map(|n| item(t, ctx, n))
            .collect(),
        None => Vec::new(),
    };
    let notice = match list.notice.as_str() {
        "posted" => Some(t.board.posted_notice),
        _ => None,
    };
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let form = typed.form;
    let responses = state
        .backend
        .response_stats()
        .await
        .into_iter()
        .map(|r| ResponseItem {
            name: r.institution_name,
            offers: r.offers,
            accepted: r.accepted,
            rate: r
                .acceptance_rate
                .map_or_else(|| "—".into(), |v| format!("{:.0}%", v * 100.0)),
            hours: r
                .median_hours_to_offer
                .map_or_else(|| "—".into(), |h| format!("{h:.1}")),
        })
        .collect();
    let page = NeedsPage {
        layout: ctx.layout("needs"),
        t,
        csrf: ctx.session.as_ref().map(|s| s.csrf_token.clone()),
        notice,
        error: error.map(|(_, m)| m),
        items: page.items.iter().map(|n| item(t, ctx, n)).collect(),
        total: page.total,
        prev: (list.offset > 0)
            .then(|| list_href(&list.q, all, list.offset.saturating_sub(PER_PAGE))),
        next: (list.offset + PER_PAGE < page.total)
            .then(|| list_href(&list.q, all, list.offset + PER_PAGE)),
        q: list.q.clone(),
        all,
        mine,
        categories: form.categories.join(", "),
        keywords: form.keywords.join(" "),
        staff_run: form.modes.iter().any(|m| m == "staff_run") || form.modes.is_empty(),
        self_operated: form.modes.iter().any(|m| m == "self_operated"),
        budget_min: typed.budget_min,
        budget_max: typed.budget_max,
        form,
        today: time::today().format("%Y-%m-%d").to_string(),
        responses,
    };
    Page::with_status(status, page).into_response()
}

/// `GET /needs`.
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(list): Query<ListQuery>,
) -> Response {
    let typed = Typed {
        form: NeedForm {
            sample_count: 1,
            ..NeedForm::default()
        },
        budget_min: String::new(),
        budget_max: String::new(),
    };
    render(&state, &ctx, &list, typed, None).await
}

pub(super) fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// Words separated by commas (either width) or spaces.
pub(super) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The need a page's form describes (the budget is read apart: it may be mistyped).
pub(super) fn need_form(pairs: &[(String, String)]) -> NeedForm {
    NeedForm {
        title: value(pairs, "title").to_owned(),
        description: value(pairs, "description").to_owned(),
        categories: words(value(pairs, "categories")),
        modes: pairs
            .iter()
            .filter(|(k, _)| k == "modes")
            .map(|(_, v)| v.clone())
            .collect(),
        keywords: words(value(pairs, "keywords")),
        sample_kind: value(pairs, "sample_kind").to_owned(),
        sample_count: value(pairs, "sample_count").trim().parse().unwrap_or(0),
        deadline: value(pairs, "deadline").to_owned(),
        budget_min_fen: 0,
        budget_max_fen: 0,
        results_public: value(pairs, "results_public") == "on",
    }
}

fn yuan(text: &str) -> Result<i64, ()> {
    if text.trim().is_empty() {
        return Ok(0);
    }
    parse_yuan(text.trim()).map_err(|_| ())
}

/// `POST /needs`.
pub(super) async fn post<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    let t = ctx.t.board;
    let budget_min = value(&pairs, "budget_min").to_owned();
    let budget_max = value(&pairs, "budget_max").to_owned();
    let form = need_form(&pairs);
    let list = ListQuery::default();
    let typed = |form: NeedForm| Typed {
        form,
        budget_min: budget_min.clone(),
        budget_max: budget_max.clone(),
    };
    let (Ok(min), Ok(max)) = (yuan(&budget_min), yuan(&budget_max)) else {
        let error = (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}：{}", t.budget, t.bad_number),
        );
        return Ok(render(&state, &ctx, &list, typed(form), Some(error)).await);
    };
    let form = NeedForm {
        budget_min_fen: min,
        budget_max_fen: max,
        ..form
    };
    match state
        .backend
        .post_need(&session.account, form.clone())
        .await
    {
        Ok(_) => Ok(Redirect::to("/needs?notice=posted").into_response()),
        Err(failure) => {
            let error = failure_message(&ctx, failure, "need")?;
            Ok(render(&state, &ctx, &list, typed(form), Some(error)).await)
        }
    }
}

/// An offer, every value ready to show.
struct OfferItem {
    institution_id: String,
    institution_name: String,
    instrument_href: String,
    instrument_name: String,
    mode: &'static str,
    service_item: String,
    price: String,
    quoted: bool,
    price_reason: String,
    earliest_date: String,
    turnaround_days: u32,
    conditions: String,
    withdrawn: bool,
    late: bool,
    accepted: bool,
}

fn offer_item(b: &crate::i18n::board::BoardStrings, o: &OfferView) -> OfferItem {
    OfferItem {
        institution_id: o.institution_id.clone(),
        institution_name: o.institution_name.clone(),
        instrument_href: format!("/instruments/{}", encode_component(&o.instrument_id)),
        instrument_name: o.instrument_name.clone(),
        mode: mode_label(b, &o.mode),
        service_item: o.service_item.clone(),
        price: format!("¥{}", format_yuan(o.price_fen)),
        quoted: o.quoted,
        price_reason: o.price_reason.clone(),
        earliest_date: o.earliest_date.clone(),
        turnaround_days: o.turnaround_days,
        conditions: o.conditions.clone(),
        withdrawn: o.withdrawn,
        late: o.late,
        accepted: o.accepted,
    }
}

/// An instrument proposed.
struct ProposalItem {
    href: String,
    name: String,
    institution_name: String,
    reasons: String,
    free: bool,
}

#[derive(Template)]
#[template(path = "need.html")]
struct NeedPage {
    layout: Layout,
    t: &'static Strings,
    csrf: Option<String>,
    notice: Option<&'static str>,
    error: Option<String>,
    action: String,
    need: Item,
    offers: Vec<OfferItem>,
    /// This institution's offer, for its managers.
    own_offer: bool,
    proposals: Vec<ProposalItem>,
    signed_in: bool,
    may_offer: bool,
    offer: OfferForm,
    quoted_price: String,
    today: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

fn render_need(
    ctx: &Ctx,
    detail: NeedDetail,
    notice: &str,
    offer: (OfferForm, String),
    error: Option<(StatusCode, String)>,
) -> Response {
    let t = ctx.t;
    let b = t.board;
    let (home, local) = detail
        .need
        .need_id
        .split_once('/')
        .unwrap_or((&detail.need.need_id, ""));
    let own = ctx
        .session
        .as_ref()
        .is_some_and(|s| s.account.role.manages_instruments());
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let page = NeedPage {
        layout: ctx.layout("needs"),
        t,
        csrf: ctx.session.as_ref().map(|s| s.csrf_token.clone()),
        notice: match notice {
            "withdrawn" => Some(b.withdrawn_notice),
            "accepted" => Some(b.accepted_notice),
            "attached" => Some(b.attached_notice),
            "offered" => Some(b.offered_notice),
            "offer_withdrawn" => Some(b.offer_withdrawn_notice),
            _ => None,
        },
        error: error.map(|(_, m)| m),
        action: format!(
            "/needs/{}/{}",
            encode_component(home),
            encode_component(local)
        ),
        own_offer: own && !detail.need.mine && detail.offers.iter().any(|o| !o.withdrawn),
        offers: detail.offers.iter().map(|o| offer_item(b, o)).collect(),
        proposals: detail
            .proposals
            .iter()
            .map(|p| ProposalItem {
                href: format!("/instruments/{}", encode_component(&p.instrument_id)),
                name: p.name.clone(),
                institution_name: p.institution_name.clone(),
                reasons: p.reasons.join("、"),
                free: p.free_before_deadline,
            })
            .collect(),
        signed_in: ctx.session.is_some(),
        may_offer: detail.may_offer && !detail.need.mine,
        need: item(t, ctx, &detail.need),
        offer: offer.0,
        quoted_price: offer.1,
        today: time::today().format("%Y-%m-%d").to_string(),
    };
    Page::with_status(status, page).into_response()
}

fn blank_offer() -> (OfferForm, String) {
    (
        OfferForm {
            mode: "staff_run".into(),
            turnaround_days: 5,
            earliest_date: time::today().format("%Y-%m-%d").to_string(),
            ..OfferForm::default()
        },
        String::new(),
    )
}

/// `GET /needs/{home}/{id}`.
pub(super) async fn detail<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, local)): Path<(String, String)>,
    Query(notice): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let viewer = ctx.session.as_ref().map(|s| &s.account);
    let detail = state
        .backend
        .need(viewer, &format!("{home}/{local}"))
        .await
        .ok_or_else(|| ctx.refuse(ErrorKind::NotFound))?;
    Ok(render_need(
        &ctx,
        detail,
        &notice.notice,
        blank_offer(),
        None,
    ))
}

/// After an action on a need: back to its page with a notice, or the page again with
/// the refusal.
async fn after<B: Backend, T>(
    state: &AppState<B>,
    ctx: &Ctx,
    need_id: &str,
    outcome: Result<T, ActionFailure>,
    notice: &str,
    offer: (OfferForm, String),
) -> Result<Response, Refusal> {
    match outcome {
        Ok(_) => {
            let (home, local) = need_id.split_once('/').unwrap_or((need_id, ""));
            Ok(Redirect::to(&format!(
                "/needs/{}/{}?notice={notice}",
                encode_component(home),
                encode_component(local)
            ))
            .into_response())
        }
        Err(failure) => {
            let error = failure_message(ctx, failure, "need")?;
            let viewer = ctx.session.as_ref().map(|s| &s.account);
            let detail = state
                .backend
                .need(viewer, need_id)
                .await
                .ok_or_else(|| ctx.refuse(ErrorKind::NotFound))?;
            Ok(render_need(ctx, detail, "", offer, Some(error)))
        }
    }
}

/// `POST /needs/{home}/{id}/withdraw`.
pub(super) async fn withdraw<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, local)): Path<(String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    let id = format!("{home}/{local}");
    let outcome = state.backend.withdraw_need(&session.account, &id).await;
    after(&state, &ctx, &id, outcome, "withdrawn", blank_offer()).await
}

/// `POST /needs/{home}/{id}/accept` with `institution`.
pub(super) async fn accept<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, local)): Path<(String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    let id = format!("{home}/{local}");
    let institution = value(&pairs, "institution");
    let outcome = state
        .backend
        .accept_offer(&session.account, &id, institution)
        .await;
    // Self-operated use is booked by the user: on to the offered instrument's booking
    // form, from the offer's earliest day, under the owner's rules like any booking.
    if outcome.is_ok()
        && let Some(detail) = state.backend.need(Some(&session.account), &id).await
        && let Some(offer) = detail
            .offers
            .iter()
            .find(|o| o.accepted && o.institution_id == institution && o.mode == "self_operated")
    {
        return Ok(Redirect::to(&format!(
            "/instruments/{}?start={}T09:00#book",
            encode_component(&offer.instrument_id),
            encode_component(&offer.earliest_date)
        ))
        .into_response());
    }
    after(&state, &ctx, &id, outcome, "accepted", blank_offer()).await
}

/// `POST /needs/{home}/{id}/offer`.
pub(super) async fn offer<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, local)): Path<(String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    if !session.account.role.manages_instruments() {
        return Err(ctx.refuse(ErrorKind::Forbidden));
    }
    let id = format!("{home}/{local}");
    let quoted_text = value(&pairs, "quoted_price").to_owned();
    let mut form = OfferForm {
        instrument_local_id: value(&pairs, "instrument_local_id").to_owned(),
        mode: value(&pairs, "mode").to_owned(),
        service_item: value(&pairs, "service_item").to_owned(),
        quoted_price_fen: None,
        price_reason: value(&pairs, "price_reason").to_owned(),
        earliest_date: value(&pairs, "earliest_date").to_owned(),
        turnaround_days: value(&pairs, "turnaround_days").trim().parse().unwrap_or(0),
        conditions: value(&pairs, "conditions").to_owned(),
    };
    let outcome = if quoted_text.trim().is_empty() {
        state
            .backend
            .make_offer(&session.account, &id, form.clone())
            .await
    } else {
        match parse_yuan(quoted_text.trim()) {
            Ok(fen) => {
                form.quoted_price_fen = Some(fen);
                state
                    .backend
                    .make_offer(&session.account, &id, form.clone())
                    .await
            }
            Err(_) => Err(ActionFailure::Invalid {
                field: "quoted_price".into(),
                message: format!("{}：{}", ctx.t.board.f_quoted_price, ctx.t.board.bad_number),
            }),
        }
    };
    after(&state, &ctx, &id, outcome, "offered", (form, quoted_text)).await
}

/// `POST /needs/{home}/{id}/offer/withdraw`.
pub(super) async fn withdraw_offer<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, local)): Path<(String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, value(&pairs, "csrf"))?;
    let id = format!("{home}/{local}");
    let outcome = state.backend.withdraw_offer(&session.account, &id).await;
    after(&state, &ctx, &id, outcome, "offer_withdrawn", blank_offer()).await
}

/// `POST /needs/{home}/{id}/attachments` (multipart: `csrf`, `file`): the person who
/// posted the need attaches a file.
pub(super) async fn attach<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, local)): Path<(String, String)>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let upload = super::toolkit::Upload::read(&mut multipart)
        .await
        .ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?;
    ctx.check_csrf(session, upload.value("csrf"))?;
    let (name, bytes) = upload.file.unwrap_or_default();
    let id = format!("{home}/{local}");
    let file = crate::backend::ReportFile {
        name,
        media_type: String::new(),
        bytes,
    };
    let outcome = state
        .backend
        .attach_to_need(&session.account, &id, file)
        .await;
    after(&state, &ctx, &id, outcome, "attached", blank_offer()).await
}

/// `GET /needs/{home}/{id}/attachments/{index}`: an attached file (signed in).
pub(super) async fn attachment<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, local, index)): Path<(String, String, usize)>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    match state
        .backend
        .need_attachment(&session.account, &format!("{home}/{local}"), index)
        .await
    {
        Ok(file) => Ok(crate::downloads::uploaded(file)),
        Err(failure) => {
            let (status, message) = failure_message(&ctx, failure, "attachment")?;
            Ok((status, message).into_response())
        }
    }
}
