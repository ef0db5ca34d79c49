//! `/institutions/{id}`: a member institution's page, as the provincial platforms have
//! one per 服务机构 — its name and region, its instruments (paged, as search cards), the
//! people to contact for them, and where its results are.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, Layout,
    instruments::{Card, card, pick},
};
use crate::{
    AppState,
    backend::{Backend, SearchParams},
    i18n::Strings,
    render::Page,
};

/// Instruments on one page of an institution's list.
const PER_PAGE: usize = 20;
/// Contacts listed at most.
const CONTACTS: usize = 10;

/// A person to contact, and for what.
struct Contact {
    name: String,
    phone: String,
    email: String,
    /// The instruments they answer for on this page.
    instruments: Vec<String>,
}

#[derive(Template)]
#[template(path = "institution.html")]
struct InstitutionPage {
    layout: Layout,
    t: &'static Strings,
    id: String,
    name: String,
    other_name: String,
    region: String,
    total: usize,
    cards: Vec<Card>,
    contacts: Vec<Contact>,
    page: usize,
    pages: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
    search_href: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    page: usize,
}

/// `GET /institutions/{id}`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let facets = state.backend.facets().await;
    let Some(institution) = facets.institutions.iter().find(|i| i.id == id) else {
        return ctx.error(ErrorKind::NotFound);
    };
    let window = crate::validate::MAX_RESULT_WINDOW / PER_PAGE;
    let asked = query.page.clamp(1, window.max(1));
    let params = SearchParams {
        institution: Some(id.clone()),
        page: asked,
        per_page: PER_PAGE,
        ..SearchParams::default()
    };
    let results = match state.backend.search_instruments(params).await {
        Ok(results) => results,
        Err(e) => {
            tracing::error!(error = %e, institution = %id, "institution page");
            return ctx.error(ErrorKind::Internal);
        }
    };
    let pages = results
        .total
        .min(crate::validate::MAX_RESULT_WINDOW)
        .div_ceil(PER_PAGE)
        .max(1);
    // The people to contact: those named on this page's instruments, each once.
    let mut contacts: Vec<Contact> = Vec::new();
    for s in &results.items {
        let Some(detail) = state.backend.instrument(&s.id).await else {
            continue;
        };
        let c = &detail.record.contact;
        let name = if c.contact_name.is_empty() {
            c.person_in_charge.clone()
        } else {
            c.contact_name.clone()
        };
        if name.is_empty() && c.phone.is_empty() && c.email.is_empty() {
            continue;
        }
        let instrument = pick(ctx.lang, &s.name_zh, &s.name_en);
        let known = contacts
            .iter()
            .position(|k| k.name == name && k.phone == c.phone && k.email == c.email);
        match known {
            Some(i) => contacts[i].instruments.push(instrument),
            None if contacts.len() < CONTACTS => contacts.push(Contact {
                name,
                phone: c.phone.clone(),
                email: c.email.clone(),
                instruments: vec![instrument],
            }),
            None => {}
        }
    }
    let name = pick(ctx.lang, &institution.name_zh, &institution.name_en);
    let other = match ctx.lang {
        crate::i18n::Lang::Zh => &institution.name_en,
        crate::i18n::Lang::En => &institution.name_zh,
    };
    let page_href = |p: usize| format!("/institutions/{}?page={p}", super::encode_component(&id));
    let page = InstitutionPage {
        layout: ctx.layout("overview"),
        t: ctx.t,
        search_href: format!("/instruments?institution={}", super::encode_component(&id)),
        other_name: if *other == name {
            String::new()
        } else {
            other.clone()
        },
        name,
        region: institution.region.clone(),
        total: results.total,
        cards: results.items.iter().map(|s| card(&ctx, s)).collect(),
        contacts,
        page: results.page,
        pages,
        prev_href: (results.page > 1).then(|| page_href(results.page - 1)),
        next_href: (results.page < pages).then(|| page_href(results.page + 1)),
        id,
    };
    Page::ok(page).into_response()
}
