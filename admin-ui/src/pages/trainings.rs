//! `/manage/trainings`: instrument managers and institution admins record who passed the
//! hands-on training of one of this institution's instruments, and until when — such users
//! may book it for self-operated use (R20) — and see every certification recorded here.

use std::collections::HashMap;

use alliance_protocol::{InstitutionId, UnixTime, booking::Training, record::MAX_SHORT_TEXT};
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, FormErrors, Layout, PageForm, Refusal, encode_component,
    instruments::{Choice, pick},
};
use crate::{
    AppState,
    auth::BOOKING_MANAGERS,
    backend::{Backend, ManagedBooking, ManagedSection, StartSpan},
    i18n::Strings,
    render::Page,
    time,
    validate::{FieldError, Problem},
};

/// Fields the form shows an error beside.
const SHOWN: [&str; 6] = [
    "local_id",
    "person",
    "home",
    "user_id",
    "trained_on",
    "valid_until",
];

/// Shanghai keeps no daylight saving time, so every day is this long.
const DAY_SECONDS: i64 = 24 * 3600;

struct Row {
    instrument: String,
    instrument_href: String,
    local_id: String,
    home: String,
    user_id: String,
    trained_at: String,
    valid_until: String,
    recorded_by: String,
}

#[derive(Template)]
#[template(path = "trainings.html")]
struct TrainingsPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    rows: Vec<Row>,
    instruments: Vec<Choice>,
    /// People to pick: this institution's active accounts and everyone who asked for one
    /// of its instruments.
    people: Vec<Choice>,
    /// Whether the typed fields are open (a person not on the list was being entered).
    typed: bool,
    /// Each instrument's rules page: (name, local id, href).
    rules_links: Vec<(String, String, String)>,
    form: TrainingForm,
    errors: FormErrors,
    other_errors: Vec<String>,
}

/// The record form, every field as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct TrainingForm {
    csrf: String,
    /// One of this institution's instruments.
    local_id: String,
    /// The person picked from the list: `home/user id`. When set, it stands for `home`
    /// and `user_id` (typed only for someone not on the list).
    person: String,
    home: String,
    user_id: String,
    /// `YYYY-MM-DD`, a day in Beijing.
    trained_on: String,
    /// `YYYY-MM-DD`, the last day the certification holds.
    valid_until: String,
}

impl TrainingForm {
    /// The certification to record, or every problem at once. `own` are the local ids of
    /// this institution's instruments.
    fn to_training(&self, own: &[&str], t: &Strings) -> Result<Training, Vec<FieldError>> {
        let mut errors = Vec::new();
        let field = |name: &str, problem| FieldError::new(name, problem);
        let local_id = self.local_id.trim();
        if !own.contains(&local_id) {
            errors.push(field("local_id", Problem::Choice));
        }
        let (home, user_id) = match self.person.trim().split_once('/') {
            Some((home, user_id)) => (home, user_id),
            None => (self.home.trim(), self.user_id.trim()),
        };
        let home_id = home.parse::<InstitutionId>().ok();
        if home.is_empty() {
            errors.push(field("home", Problem::Required));
        } else if home_id.is_none() {
            errors.push(field("home", Problem::Other(t.book.err_home.to_owned())));
        }
        if user_id.is_empty() {
            errors.push(field("user_id", Problem::Required));
        } else if user_id.len() > MAX_SHORT_TEXT {
            errors.push(field("user_id", Problem::TooLong));
        }
        let mut day = |name: &str, value: &str| {
            let parsed = time::parse_date_input(value.trim());
            if parsed.is_none() {
                let problem = if value.trim().is_empty() {
                    Problem::Required
                } else {
                    Problem::Date
                };
                errors.push(field(name, problem));
            }
            parsed
        };
        let trained_at = day("trained_on", &self.trained_on);
        let last_day = day("valid_until", &self.valid_until);
        if let (Some(trained_at), Some(last_day)) = (trained_at, last_day)
            && last_day <= trained_at
        {
            let message = t.book.err_valid_until.to_owned();
            errors.push(field("valid_until", Problem::Other(message)));
        }
        match (home_id, trained_at, last_day) {
            (Some(home), Some(trained_at), Some(last_day)) if errors.is_empty() => Ok(Training {
                local_id: local_id.to_owned(),
                home,
                user_id: user_id.to_owned(),
                trained_at: UnixTime(trained_at),
                // The certification holds through its last day.
                valid_until: UnixTime(last_day + DAY_SECONDS - 1),
                recorded_by: String::new(),
            }),
            _ => Err(errors),
        }
    }
}

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// What the page shows besides the recorded certifications.
struct View {
    form: TrainingForm,
    notice: Option<&'static str>,
    /// A refusal by the node, with its status.
    error: Option<(StatusCode, String)>,
    errors: Vec<FieldError>,
}

/// One of this institution's instruments, as the page names and links it.
struct Own {
    local_id: String,
    name: String,
    href: String,
}

/// This institution's instruments by local id.
async fn own_instruments<B: Backend>(state: &AppState<B>, ctx: &Ctx) -> Vec<Own> {
    let mut list: Vec<Own> = state
        .backend
        .own_instruments()
        .await
        .iter()
        .map(|d| Own {
            local_id: d.summary.local_id.clone(),
            name: pick(ctx.lang, &d.summary.name_zh, &d.summary.name_en),
            href: format!("/instruments/{}", d.summary.id),
        })
        .collect();
    list.sort_by(|a, b| a.local_id.cmp(&b.local_id));
    list
}

/// Bookings read for the people who booked, per section.
const BOOKERS_READ: usize = 500;

/// The latest bookings of this institution's instruments, latest first: the waiting and
/// coming ones, then those ended most recently (not the whole history).
async fn recent_bookers<B: Backend>(state: &AppState<B>) -> Vec<ManagedBooking> {
    let mut latest = Vec::new();
    for section in [
        ManagedSection::Waiting,
        ManagedSection::Active,
        ManagedSection::Closed,
    ] {
        let page = state
            .backend
            .managed_page(section, StartSpan::default(), 0, BOOKERS_READ)
            .await;
        latest.extend(page.items);
    }
    latest.sort_by_key(|b| std::cmp::Reverse(b.start));
    latest
}

/// The people a manager may record a training for, by name: this institution's active
/// accounts, then everyone who asked for one of its instruments (the name they gave
/// last), each once.
async fn people<B: Backend>(state: &AppState<B>, ctx: &Ctx, picked: &str) -> Vec<Choice> {
    let (status, accounts, bookings) = tokio::join!(
        state.backend.status(),
        state.backend.accounts(),
        recent_bookers(state)
    );
    let own = status.institution_id;
    let mut seen = std::collections::HashSet::new();
    let mut people = Vec::new();
    let mut add = |home: &str, user_id: &str, name: &str, home_name: &str| {
        let value = format!("{home}/{user_id}");
        if seen.insert(value.clone()) {
            people.push(Choice {
                selected: value == picked,
                label: format!("{name}（{user_id}）· {home_name}"),
                value,
            });
        }
    };
    let own_name = pick(ctx.lang, &status.name_zh, &status.name_en);
    for a in accounts
        .unwrap_or_default()
        .iter()
        .filter(|a| a.state == crate::backend::AccountState::Active)
    {
        add(&own, &a.username, &a.display_name, &own_name);
    }
    for b in &bookings {
        let home_name = pick(ctx.lang, &b.home_name_zh, &b.home_name_en);
        add(&b.home, &b.user_id, &b.user_name, &home_name);
    }
    people
}

async fn render<B: Backend>(state: &AppState<B>, ctx: &Ctx, csrf: &str, view: View) -> Response {
    let t = ctx.t;
    let (own, trainings, people) = tokio::join!(
        own_instruments(state, ctx),
        state.backend.trainings(),
        people(state, ctx, view.form.person.trim())
    );
    let by_id: HashMap<&str, &Own> = own.iter().map(|o| (o.local_id.as_str(), o)).collect();
    let rows = trainings
        .iter()
        .map(|tr| {
            // An instrument deleted since shows by its local id alone.
            let known = by_id.get(tr.local_id.as_str());
            Row {
                instrument: known.map_or_else(String::new, |o| o.name.clone()),
                instrument_href: known.map_or_else(String::new, |o| o.href.clone()),
                local_id: tr.local_id.clone(),
                home: tr.home.to_string(),
                user_id: tr.user_id.clone(),
                trained_at: time::date_input(tr.trained_at.0),
                valid_until: time::date_input(tr.valid_until.0),
                recorded_by: tr.recorded_by.clone(),
            }
        })
        .collect();
    // Managers reach each instrument's rules from here (the own-instruments list is
    // for institution admins).
    let rules_links = own
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                o.local_id.clone(),
                format!(
                    "/manage/instruments/{}/rules",
                    encode_component(&o.local_id)
                ),
            )
        })
        .collect();
    let instruments = own
        .into_iter()
        .map(|o| Choice {
            selected: o.local_id == view.form.local_id.trim(),
            label: format!("{} ({})", o.name, o.local_id),
            value: o.local_id,
        })
        .collect();
    let errors = FormErrors::new(t, view.errors);
    let status = errors.status(view.error.as_ref().map(|(status, _)| *status));
    let page = TrainingsPage {
        layout: ctx.layout("manage"),
        t,
        csrf: csrf.to_owned(),
        notice: view.notice,
        error: view.error.map(|(_, message)| message),
        rows,
        instruments,
        people,
        typed: view.form.person.trim().is_empty()
            && !(view.form.home.is_empty() && view.form.user_id.is_empty()),
        rules_links,
        form: view.form,
        other_errors: errors.other(&SHOWN),
        errors,
    };
    Page::with_status(status, page).into_response()
}

/// `GET /manage/trainings`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(notice): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    let view = View {
        form: TrainingForm {
            // Most certifications are recorded on the day of the training.
            trained_on: time::date_input(chrono::Utc::now().timestamp()),
            ..TrainingForm::default()
        },
        notice: (notice.notice == "recorded").then_some(ctx.t.book.training_recorded),
        error: None,
        errors: Vec::new(),
    };
    Ok(render(&state, &ctx, &session.csrf_token, view).await)
}

/// `POST /manage/trainings`.
pub(super) async fn record<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(form): PageForm<TrainingForm>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    ctx.check_csrf(session, &form.csrf)?;
    let csrf = session.csrf_token.as_str();
    let own = own_instruments(&state, &ctx).await;
    let own: Vec<&str> = own.iter().map(|o| o.local_id.as_str()).collect();
    let training = match form.to_training(&own, ctx.t) {
        Ok(training) => training,
        Err(errors) => {
            let view = View {
                form,
                notice: None,
                error: None,
                errors,
            };
            return Ok(render(&state, &ctx, csrf, view).await);
        }
    };
    let error = match state
        .backend
        .record_training(&session.account, training)
        .await
    {
        Ok(_) => return Ok(Redirect::to("/manage/trainings?notice=recorded").into_response()),
        Err(failure) => super::bookings::failure_message(&ctx, failure, "training")?,
    };
    let view = View {
        form,
        notice: None,
        error: Some(error),
        errors: Vec::new(),
    };
    Ok(render(&state, &ctx, csrf, view).await)
}
