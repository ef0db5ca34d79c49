//! `/manage/instruments/{local_id}/rules`: instrument managers and institution admins set an
//! instrument's booking rules — notice, lengths, which user categories wait for approval —
//! and its blackouts (maintenance, holidays), which every node's calendar shows.

use alliance_protocol::UserTier;
use alliance_protocol::booking::{BlackoutKind, BookingRules};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, FormErrors, Layout, PageForm, Refusal, encode_component,
    instruments::{Choice, pick},
    labels,
};
use crate::{
    AppState,
    auth::BOOKING_MANAGERS,
    backend::Backend,
    i18n::Strings,
    render::Page,
    rules_input::{RulesInput, blackout_key},
    time,
    validate::FieldError,
};

/// Fields the form shows an error beside.
const SHOWN: [&str; 10] = [
    "min_lead_minutes",
    "max_duration_minutes",
    "granularity_minutes",
    "cancel_deadline_hours",
    "hold_hours",
    "approval_tiers",
    "blackout_start",
    "blackout_end",
    "blackout_kind",
    "blackout_reason",
];

struct TierBox {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

struct BlackoutRow {
    key: String,
    time: String,
    kind: String,
    reason: String,
    /// Ticked for removal in the form being re-shown.
    removing: bool,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    action: String,
    local_id: String,
    instrument: String,
    instrument_href: String,
    notice: Option<&'static str>,
    error: Option<String>,
    input: RulesInput,
    tiers: Vec<TierBox>,
    blackouts: Vec<BlackoutRow>,
    kinds: Vec<Choice>,
    errors: FormErrors,
    other_errors: Vec<String>,
}

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// The page's own address.
fn rules_href(local_id: &str) -> String {
    format!("/manage/instruments/{}/rules", encode_component(local_id))
}

/// What the page shows besides the stored rules.
struct View {
    input: RulesInput,
    notice: Option<&'static str>,
    /// A refusal by the node, with its status.
    error: Option<(StatusCode, String)>,
    errors: Vec<FieldError>,
}

/// Renders the form over the stored blackouts of `current`, keeping what `view.input` holds.
async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    csrf: &str,
    local_id: &str,
    current: &BookingRules,
    view: View,
) -> Response {
    let t = ctx.t;
    let (instrument, instrument_href) = match state.backend.own_instrument(local_id).await {
        Some(d) => (
            pick(ctx.lang, &d.summary.name_zh, &d.summary.name_en),
            format!("/instruments/{}", d.summary.id),
        ),
        None => (local_id.to_owned(), String::new()),
    };
    let input = view.input;
    let tiers = UserTier::ALL
        .into_iter()
        .map(|tier| TierBox {
            value: tier.as_str(),
            label: labels::tier(t.cat, tier),
            checked: input.approval_tiers.iter().any(|v| v == tier.as_str()),
        })
        .collect();
    let blackouts = current
        .blackouts
        .iter()
        .map(|b| {
            let key = blackout_key(b);
            BlackoutRow {
                removing: input.remove.contains(&key),
                key,
                time: time::format_span(b.start.0, b.end.0, ctx.lang),
                kind: t.book.blackout_kind(b.kind.as_str()).to_owned(),
                reason: b.reason.clone(),
            }
        })
        .collect();
    let kinds = BlackoutKind::ALL
        .into_iter()
        .map(|kind| Choice {
            value: kind.as_str().to_owned(),
            label: t.book.blackout_kind(kind.as_str()).to_owned(),
            selected: kind.as_str() == input.new_kind,
        })
        .collect();
    let errors = FormErrors::new(t, view.errors);
    let status = errors.status(view.error.as_ref().map(|(status, _)| *status));
    let page = RulesPage {
        layout: ctx.layout("manage"),
        t,
        csrf: csrf.to_owned(),
        action: rules_href(local_id),
        local_id: local_id.to_owned(),
        instrument,
        instrument_href,
        notice: view.notice,
        error: view.error.map(|(_, message)| message),
        input,
        tiers,
        blackouts,
        kinds,
        other_errors: errors.other(&SHOWN),
        errors,
    };
    Page::with_status(status, page).into_response()
}

/// `GET /manage/instruments/{local_id}/rules`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(local_id): Path<String>,
    Query(notice): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    let Some(rules) = state.backend.booking_rules(&local_id).await else {
        return Err(ctx.refuse(ErrorKind::NotFound));
    };
    let view = View {
        input: RulesInput::from_rules(&rules),
        notice: (notice.notice == "saved").then_some(ctx.t.book.rules_saved),
        error: None,
        errors: Vec::new(),
    };
    let csrf = &session.csrf_token;
    Ok(render(&state, &ctx, csrf, &local_id, &rules, view).await)
}

/// `POST /manage/instruments/{local_id}/rules`.
pub(super) async fn save<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(local_id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    let given = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    ctx.check_csrf(session, given)?;
    let csrf = session.csrf_token.as_str();
    // Removals and the new blackout apply to the rules as stored now.
    let Some(current) = state.backend.booking_rules(&local_id).await else {
        return Err(ctx.refuse(ErrorKind::NotFound));
    };
    let input = RulesInput::from_form(&pairs);
    let rules = match input.to_rules(&current, ctx.t.book) {
        Ok(rules) => rules,
        Err(errors) => {
            let view = View {
                input,
                notice: None,
                error: None,
                errors,
            };
            return Ok(render(&state, &ctx, csrf, &local_id, &current, view).await);
        }
    };
    let error = match state.backend.set_booking_rules(&local_id, rules).await {
        Ok(_) => {
            let to = format!("{}?notice=saved", rules_href(&local_id));
            return Ok(Redirect::to(&to).into_response());
        }
        Err(failure) => super::bookings::failure_message(&ctx, failure, "rules")?,
    };
    let view = View {
        input,
        notice: None,
        error: Some(error),
        errors: Vec::new(),
    };
    Ok(render(&state, &ctx, csrf, &local_id, &current, view).await)
}
