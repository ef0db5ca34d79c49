//! `/manage/sessions/new`: an instrument manager records a session that had no online
//! booking — a walk-in user, or this institution's own use — on one of this institution's
//! instruments: who used it (user id, name, home institution, tier), how (mode), and what
//! actually happened; the node issues its usage receipt.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::{
    Ctx, FormErrors, Layout, PageForm, Refusal,
    instruments::{Choice, pick},
    labels, receipt_view,
};
use crate::{
    AppState,
    auth::BOOKING_MANAGERS,
    backend::Backend,
    i18n::Strings,
    instrument_input::snake,
    receipt_input::{FACTS_FIELDS, FactsInput, MODES, WalkInInput},
    render::Page,
    validate::FieldError,
};
use alliance_protocol::UserTier;

/// Fields of the session's user and instrument the form shows an error beside.
const WHO_FIELDS: [&str; 7] = [
    "local_id",
    "user_id",
    "user_name",
    "home",
    "tier",
    "mode",
    "service_item",
];

#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    error: Option<String>,
    instruments: Vec<Choice>,
    tiers: Vec<Choice>,
    modes: Vec<Choice>,
    form: WalkInInput,
    facts: FactsInput,
    errors: FormErrors,
    other_errors: Vec<String>,
}

/// What the page shows.
struct View {
    form: WalkInInput,
    errors: Vec<FieldError>,
    /// A refusal by the node, with its status.
    error: Option<(StatusCode, String)>,
}

/// This institution's instruments as `(local id, name)`, by local id.
async fn own_instruments<B: Backend>(state: &AppState<B>, ctx: &Ctx) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = state
        .backend
        .own_instruments()
        .await
        .iter()
        .map(|d| {
            let s = &d.summary;
            (s.local_id.clone(), pick(ctx.lang, &s.name_zh, &s.name_en))
        })
        .collect();
    list.sort();
    list
}

fn choice(value: String, label: String, current: &str) -> Choice {
    Choice {
        selected: value == current.trim(),
        value,
        label,
    }
}

async fn render<B: Backend>(state: &AppState<B>, ctx: &Ctx, csrf: &str, view: View) -> Response {
    let t = ctx.t;
    let form = view.form;
    let instruments = own_instruments(state, ctx)
        .await
        .into_iter()
        .map(|(local_id, name)| {
            let label = format!("{name} ({local_id})");
            choice(local_id, label, &form.local_id)
        })
        .collect();
    let tiers = UserTier::ALL
        .into_iter()
        .map(|tier| {
            let label = labels::tier(t.cat, tier).to_owned();
            choice(tier.as_str().to_owned(), label, &form.tier)
        })
        .collect();
    let modes = MODES
        .into_iter()
        .map(|mode| {
            choice(
                snake(mode),
                labels::mode(t.cat, mode).to_owned(),
                &form.mode,
            )
        })
        .collect();
    let errors = FormErrors::new(t, view.errors);
    let status = errors.status(view.error.as_ref().map(|(status, _)| *status));
    let shown: Vec<&str> = WHO_FIELDS.iter().chain(&FACTS_FIELDS).copied().collect();
    let page = SessionPage {
        layout: ctx.layout("manage"),
        t,
        csrf: csrf.to_owned(),
        error: view.error.map(|(_, message)| message),
        instruments,
        tiers,
        modes,
        facts: form.facts.clone(),
        form,
        other_errors: errors.other(&shown),
        errors,
    };
    Page::with_status(status, page).into_response()
}

/// `GET /manage/sessions/new`: the empty form, the user's home institution this one.
pub(super) async fn form<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    let node = state.backend.status().await;
    let view = View {
        form: WalkInInput {
            home: node.institution_id,
            tier: UserTier::OwnInstitution.as_str().to_owned(),
            facts: FactsInput::blank(),
            ..WalkInInput::default()
        },
        errors: Vec::new(),
        error: None,
    };
    Ok(render(&state, &ctx, &session.csrf_token, view).await)
}

/// `POST /manage/sessions/new`.
pub(super) async fn submit<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(form): PageForm<WalkInInput>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    ctx.check_csrf(session, &form.csrf)?;
    let csrf = session.csrf_token.as_str();
    let own = own_instruments(&state, &ctx).await;
    let own: Vec<&str> = own.iter().map(|(local_id, _)| local_id.as_str()).collect();
    let walk_in = match form.to_walk_in(&own, ctx.t) {
        Ok(walk_in) => walk_in,
        Err(errors) => {
            let view = View {
                form,
                errors,
                error: None,
            };
            return Ok(render(&state, &ctx, csrf, view).await);
        }
    };
    let shown: Vec<&str> = WHO_FIELDS.iter().chain(&FACTS_FIELDS).copied().collect();
    let (errors, error) = match state
        .backend
        .record_session(&session.account, walk_in)
        .await
    {
        Ok(_) => return Ok(Redirect::to("/manage/receipts?notice=recorded").into_response()),
        Err(failure) => receipt_view::failure(&ctx, failure, &shown, "session")?,
    };
    let view = View {
        form,
        errors,
        error,
    };
    Ok(render(&state, &ctx, csrf, view).await)
}
