//! `/publications` ("my publications", R13): the papers, patents and reports the signed-in
//! user registered as having used alliance instruments — kind, title, authors, the DOI as
//! a link or the number, the instruments, the date, whether the province has it — and the
//! form to register another, which suggests the instruments the user used and those of the
//! catalogue.

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
    receipt_view,
};
use crate::{
    AppState,
    backend::{
        Backend, MyReceiptList, PublicationForm, PublicationView, SearchParams, Session, StartSpan,
    },
    i18n::Strings,
    publication_input::{self, FIELDS, KINDS},
    render::Page,
    time,
    validate::FieldError,
};
use alliance_protocol::publication::{MAX_PUBLICATION_INSTRUMENTS, PublicationKind};

/// Instrument inputs the form shows at least (more with the script, or as many as typed
/// and one empty).
const MIN_INSTRUMENT_ROWS: usize = 3;
/// Most catalogue instruments the form suggests.
const SUGGESTED: usize = 100;

/// An instrument a publication names.
struct UsedInstrument {
    id: String,
    name: String,
    href: String,
}

/// A registered publication, every value ready to show.
struct Item {
    publication_id: String,
    kind: String,
    title: String,
    authors: String,
    identifier_name: &'static str,
    identifier: String,
    /// `https://doi.org/…` for a paper.
    doi_href: Option<String>,
    acknowledgement: String,
    instruments: Vec<UsedInstrument>,
    published_on: String,
    registered_at: String,
    delivered: bool,
}

/// One instrument input of the form.
struct Row {
    index: usize,
    value: String,
    /// Marked as having the problem: the inputs filled in, or the first when none is.
    invalid: bool,
}

#[derive(Template)]
#[template(path = "publications.html")]
struct PublicationsPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    items: Vec<Item>,
    kinds: Vec<Choice>,
    form: PublicationForm,
    rows: Vec<Row>,
    max_instruments: usize,
    /// Suggestions for the instrument inputs: id and name.
    suggestions: Vec<Choice>,
    /// The latest date the form accepts, `YYYY-MM-DD`.
    today: String,
    errors: FormErrors,
    other_errors: Vec<String>,
}

/// What the page shows besides the user's publications.
struct View {
    form: PublicationForm,
    notice: Option<&'static str>,
    errors: Vec<FieldError>,
    /// A refusal by the node, with its status.
    error: Option<(StatusCode, String)>,
}

fn item(ctx: &Ctx, p: &PublicationView) -> Item {
    let t = ctx.t.publications;
    let doi_href = (p.kind == PublicationKind::Paper.as_str() && p.identifier.starts_with("10."))
        .then(|| format!("https://doi.org/{}", encode_component(&p.identifier)));
    Item {
        publication_id: p.publication_id.clone(),
        kind: t.kind(&p.kind).to_owned(),
        title: p.title.clone(),
        authors: p.authors.clone(),
        identifier_name: t.identifier_name(&p.kind),
        identifier: p.identifier.clone(),
        doi_href,
        acknowledgement: p.acknowledgement.clone(),
        instruments: p
            .instruments
            .iter()
            .map(|(id, name)| UsedInstrument {
                href: format!("/instruments/{}", encode_component(id)),
                name: if name.is_empty() {
                    id.clone()
                } else {
                    name.clone()
                },
                id: id.clone(),
            })
            .collect(),
        published_on: p.published_on.clone(),
        registered_at: time::format_unix(p.registered_at, ctx.lang),
        delivered: p.delivered,
    }
}

/// The user's latest receipts whose instruments are suggested.
const RECEIPTS_SUGGESTED_FROM: usize = 100;

/// What the instrument inputs suggest: the instruments of the user's receipts first, then
/// the first page of the catalogue; as `institution/local_id` and name.
async fn suggestions<B: Backend>(state: &AppState<B>, ctx: &Ctx, session: &Session) -> Vec<Choice> {
    let mut list: Vec<Choice> = Vec::new();
    let mut add = |id: &str, name: String, owner: String| {
        if !list.iter().any(|c| c.value == id) {
            list.push(Choice {
                value: id.to_owned(),
                label: format!("{name} · {owner}"),
                selected: false,
            });
        }
    };
    let latest = state
        .backend
        .my_receipts_page(
            &session.account,
            MyReceiptList::All,
            StartSpan::default(),
            0,
            RECEIPTS_SUGGESTED_FROM,
        )
        .await;
    for r in latest.items {
        let r = r.receipt;
        let name = pick(ctx.lang, &r.instrument_name_zh, &r.instrument_name_en);
        add(
            &r.instrument_id,
            name,
            pick(ctx.lang, &r.owner_name_zh, &r.owner_name_en),
        );
    }
    let params = SearchParams {
        page: 1,
        per_page: SUGGESTED,
        ..SearchParams::default()
    };
    match state.backend.search_instruments(params).await {
        Ok(page) => {
            for s in &page.items {
                let name = pick(ctx.lang, &s.name_zh, &s.name_en);
                let owner = pick(ctx.lang, &s.institution_name_zh, &s.institution_name_en);
                add(&s.id, name, owner);
            }
        }
        // The suggestions only help; the form works without them.
        Err(e) => tracing::warn!(error = %e, "no catalogue suggestions for publications"),
    }
    list
}

async fn render<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    session: &Session,
    view: View,
) -> Response {
    let t = ctx.t;
    let items = state
        .backend
        .my_publications(&session.account)
        .await
        .iter()
        .map(|p| item(ctx, p))
        .collect();
    let form = view.form;
    let kinds = KINDS
        .into_iter()
        .map(|kind| Choice {
            value: kind.as_str().to_owned(),
            label: t.publications.kind(kind.as_str()).to_owned(),
            selected: kind.as_str() == form.kind,
        })
        .collect();
    let shown =
        (form.instruments.len() + 1).clamp(MIN_INSTRUMENT_ROWS, MAX_PUBLICATION_INSTRUMENTS);
    let errors = FormErrors::new(t, view.errors);
    let wrong = errors.has("instruments");
    let rows = (0..shown.max(form.instruments.len()))
        .map(|i| {
            let value = form.instruments.get(i).cloned().unwrap_or_default();
            Row {
                index: i + 1,
                invalid: wrong && (!value.is_empty() || (i == 0 && form.instruments.is_empty())),
                value,
            }
        })
        .collect();
    let status = errors.status(view.error.as_ref().map(|(status, _)| *status));
    let page = PublicationsPage {
        layout: ctx.layout("publications"),
        t,
        csrf: session.csrf_token.clone(),
        notice: view.notice,
        error: view.error.map(|(_, message)| message),
        items,
        kinds,
        rows,
        max_instruments: MAX_PUBLICATION_INSTRUMENTS,
        suggestions: suggestions(state, ctx, session).await,
        today: time::today().format("%Y-%m-%d").to_string(),
        other_errors: errors.other(&FIELDS),
        errors,
        form,
    };
    Page::with_status(status, page).into_response()
}

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// `GET /publications`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(notice): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let view = View {
        form: PublicationForm {
            kind: PublicationKind::Paper.as_str().to_owned(),
            ..PublicationForm::default()
        },
        notice: (notice.notice == "registered").then_some(ctx.t.publications.registered_notice),
        errors: Vec::new(),
        error: None,
    };
    Ok(render(&state, &ctx, session, view).await)
}

/// `POST /publications`.
pub(super) async fn register<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let given = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    ctx.check_csrf(session, given)?;
    let form = publication_input::from_pairs(&pairs);
    let known = publication_input::known_instruments(&state.backend, &form).await;
    let known = |id: &str| known.iter().any(|k| k == id);
    let errors = publication_input::check(&form, time::today(), known, ctx.t);
    let (errors, error) = if errors.is_empty() {
        match state
            .backend
            .register_publication(&session.account, form.clone())
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to("/publications?notice=registered").into_response());
            }
            Err(failure) => receipt_view::failure(&ctx, failure, &FIELDS, "publication")?,
        }
    } else {
        (errors, None)
    };
    let view = View {
        form,
        notice: None,
        errors,
        error,
    };
    Ok(render(&state, &ctx, session, view).await)
}
