//! `/instruments`: search the alliance's catalogue (public), and
//! `/instruments/{institution}/{local_id}`: one instrument with its fee table, its
//! availability calendar and the booking form.

use alliance_protocol::{ServiceMode, UserTier};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, FormErrors, Layout,
    booking_form::{BookingBox, booking_box},
    calendar::{Calendar, CalendarAsk, calendar},
    labels,
};
use crate::{
    AppState,
    backend::{Backend, Facets, InstrumentDetail, InstrumentSummary, StartSpan},
    booking_input::BookingInput,
    i18n::{Lang, Strings},
    render::Page,
    search_query::SearchQuery,
    time,
    validate::{FieldError, MAX_RESULT_WINDOW},
};

/// A value offered by a filter.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choice(value: &str, label: &str, current: &str) -> Choice {
    Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: value == current,
    }
}

/// The name in the page's language, falling back to the other.
pub(crate) fn pick(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh if !zh.is_empty() => zh.to_owned(),
        Lang::En if !en.is_empty() => en.to_owned(),
        _ if zh.is_empty() => en.to_owned(),
        _ => zh.to_owned(),
    }
}

/// A result as the list shows it.
pub(crate) struct Card {
    pub href: String,
    pub name: String,
    pub other_name: String,
    pub model: String,
    pub institution: String,
    pub institution_href: String,
    pub city: String,
    pub category: String,
    pub value_wan: String,
    pub modes: String,
    pub status: &'static str,
    /// `350.00 元/小时起（联盟成员）`; empty without fees.
    pub price_from: String,
    /// The first day with an hour a request could take, as people read it; empty if none.
    pub next_free: String,
    /// Straight to the calendar at that day (empty when nothing is free).
    pub book_href: String,
    /// The first photo's thumbnail (empty without photos).
    pub thumb_src: String,
}

/// `12月9日 周三` (`Wed 9 Dec`) of a `YYYY-MM-DD` day; the year is the coming weeks'.
fn short_day(ctx: &Ctx, date: &str) -> String {
    use chrono::Datelike;
    let names: Vec<&str> = ctx.t.cat.weekdays.split(' ').collect();
    let Ok(d) = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
        return date.to_owned();
    };
    let weekday = names
        .get(d.weekday().num_days_from_monday() as usize)
        .copied()
        .unwrap_or("");
    match ctx.lang {
        Lang::Zh => format!("{}月{}日 周{weekday}", d.month(), d.day()),
        Lang::En => format!("{weekday} {} {}", d.day(), d.format("%b")),
    }
}

pub(crate) fn card(ctx: &Ctx, s: &InstrumentSummary) -> Card {
    let name = pick(ctx.lang, &s.name_zh, &s.name_en);
    let other = match ctx.lang {
        Lang::Zh => &s.name_en,
        Lang::En => &s.name_zh,
    };
    Card {
        href: format!("/instruments/{}", s.id),
        other_name: if *other == name {
            String::new()
        } else {
            other.clone()
        },
        name,
        model: [s.manufacturer.as_str(), s.model.as_str()]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" "),
        institution: pick(ctx.lang, &s.institution_name_zh, &s.institution_name_en),
        institution_href: format!(
            "/institutions/{}",
            super::encode_component(&s.institution_id)
        ),
        city: s.city.clone(),
        category: pick(ctx.lang, &s.category_name_zh, &s.category_name_en),
        value_wan: labels::wan(s.original_value_fen),
        modes: labels::modes(ctx.t.cat, &s.service_modes),
        status: labels::status(ctx.t.cat, s.status),
        price_from: s.price_from.map_or_else(String::new, |p| {
            ctx.t
                .cat
                .price_from
                .replace("{price}", &labels::yuan(p.fen))
                .replace("{unit}", labels::unit(ctx.t.cat, p.unit))
                .replace("{tier}", labels::tier_short(ctx.t.cat, p.tier))
        }),
        next_free: s
            .next_free_day
            .as_deref()
            .map(|d| short_day(ctx, d))
            .unwrap_or_default(),
        book_href: if s.next_free_day.is_some() {
            format!("/instruments/{}#availability", s.id)
        } else {
            String::new()
        },
        thumb_src: s
            .thumbnail
            .as_deref()
            .map(|sha| super::photos::src(&s.id, sha))
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "instruments.html")]
struct SearchPage {
    layout: Layout,
    t: &'static Strings,
    query: SearchQuery,
    categories: Vec<Choice>,
    institutions: Vec<Choice>,
    cities: Vec<Choice>,
    modes: Vec<Choice>,
    tiers: Vec<Choice>,
    errors: FormErrors,
    total: Option<usize>,
    cards: Vec<Card>,
    page: usize,
    pages: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
}

fn filters(ctx: &Ctx, facets: &Facets, q: &SearchQuery) -> [Vec<Choice>; 5] {
    let categories = facets
        .categories
        .iter()
        .map(|c| {
            let indent = if c.level == 2 { "　" } else { "" };
            choice(
                &c.code,
                &format!("{indent}{}", pick(ctx.lang, &c.name_zh, &c.name_en)),
                &q.category,
            )
        })
        .collect();
    let institutions = facets
        .institutions
        .iter()
        .map(|i| {
            choice(
                &i.id,
                &pick(ctx.lang, &i.name_zh, &i.name_en),
                &q.institution,
            )
        })
        .collect();
    let cities = facets
        .cities
        .iter()
        .map(|c| choice(c, c, &q.city))
        .collect();
    let modes = [ServiceMode::SelfOperated, ServiceMode::StaffRun]
        .into_iter()
        .map(|m| {
            let value = serde_json::to_value(m)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            choice(&value, labels::mode(ctx.t.cat, m), &q.mode)
        })
        .collect();
    let tiers = UserTier::ALL
        .into_iter()
        .map(|tier| choice(tier.as_str(), labels::tier(ctx.t.cat, tier), &q.tier))
        .collect();
    [categories, institutions, cities, modes, tiers]
}

/// `GET /instruments`.
pub(super) async fn search<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<SearchQuery>,
) -> Response {
    let facets = state.backend.facets().await;
    let [categories, institutions, cities, modes, tiers] = filters(&ctx, &facets, &query);
    let mut page = SearchPage {
        layout: ctx.layout("search"),
        t: ctx.t,
        categories,
        institutions,
        cities,
        modes,
        tiers,
        errors: FormErrors::none(ctx.t),
        total: None,
        cards: Vec::new(),
        page: 1,
        pages: 1,
        prev_href: None,
        next_href: None,
        query: query.clone(),
    };
    match query.params() {
        Err(errors) => page.errors = FormErrors::new(ctx.t, errors),
        Ok(params) => match state.backend.search_instruments(params).await {
            Ok(results) => {
                // Pages past the result window are refused, so none is offered.
                let pages = results
                    .total
                    .min(MAX_RESULT_WINDOW)
                    .div_ceil(results.per_page.max(1))
                    .max(1);
                page.total = Some(results.total);
                page.cards = results.items.iter().map(|s| card(&ctx, s)).collect();
                page.page = results.page;
                page.pages = pages;
                page.prev_href = (results.page > 1)
                    .then(|| format!("/instruments?{}", query.with_page(results.page - 1)));
                page.next_href = (results.page < pages)
                    .then(|| format!("/instruments?{}", query.with_page(results.page + 1)));
            }
            Err(e) => {
                tracing::error!(error = %e, "search failed");
                return ctx.error(ErrorKind::Internal);
            }
        },
    }
    Page::ok(page).into_response()
}

/// One row of the fee table: a service and its price per tier.
pub(crate) struct FeeRow {
    pub item: String,
    pub unit: &'static str,
    pub tiers: Vec<FeeCell>,
}

pub(crate) struct FeeCell {
    pub tier: &'static str,
    pub total: String,
    pub materials: String,
    pub operating: String,
    pub labour: String,
}

/// A fact of the detail page.
pub(crate) struct Fact {
    pub label: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "instrument.html")]
struct DetailPage {
    layout: Layout,
    t: &'static Strings,
    card: Card,
    id: String,
    basic: Vec<Fact>,
    tech: Vec<Fact>,
    contact: Vec<Fact>,
    tier_names: Vec<&'static str>,
    fees: Vec<FeeRow>,
    review_label: &'static str,
    review_class: &'static str,
    review_comment: String,
    reviewed_at: String,
    reviewer: String,
    calendar: Option<Calendar>,
    booking: BookingBox,
    photos: Vec<super::photos::PhotoView>,
}

pub(crate) fn fee_rows(ctx: &Ctx, d: &InstrumentDetail) -> Vec<FeeRow> {
    d.record
        .fees
        .iter()
        .map(|f| FeeRow {
            item: pick(ctx.lang, &f.item_zh, &f.item_en),
            unit: labels::unit(ctx.t.cat, f.unit),
            tiers: UserTier::ALL
                .into_iter()
                .map(|tier| {
                    let p = f.price(tier);
                    FeeCell {
                        tier: labels::tier_short(ctx.t.cat, tier),
                        total: labels::yuan(p.total_fen()),
                        materials: labels::yuan(p.materials_fen),
                        operating: labels::yuan(p.operating_fen),
                        labour: labels::yuan(p.labour_fen),
                    }
                })
                .collect(),
        })
        .collect()
}

fn fact(label: &'static str, value: &str) -> Fact {
    Fact {
        label,
        value: value.to_owned(),
    }
}

/// `?week=` or `?day=` of the detail page, and `?start=` when a free hour was picked.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WeekQuery {
    #[serde(default)]
    week: Option<usize>,
    #[serde(default)]
    day: Option<usize>,
    #[serde(default)]
    start: String,
}

/// What the page knows of the person looking, for the calendar and the form.
pub(crate) struct Viewer {
    pub calendar: CalendarAsk,
    /// Trained on the instrument (self-operated use is offered only then).
    pub trained: bool,
}

/// A user's bookings read to mark their own on a calendar, soonest start first.
const OWN_READ: usize = 500;

/// The bookings a calendar can show: from the week before (the current week, and a
/// booking running into it) on; the user's coming ones are few.
fn shown_weeks() -> StartSpan {
    let now = chrono::Utc::now().timestamp();
    let back = 7 * 86_400 + alliance_protocol::booking::MAX_BOOKING_SECONDS;
    StartSpan {
        from: Some(now.saturating_sub(back)),
        to: None,
    }
}

/// The viewer of `d`: the calendar at `week` or `day` with the signed-in user's own active
/// bookings of it marked, and whether this node knows them trained on it.
pub(crate) async fn viewer<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    d: &InstrumentDetail,
    week: Option<usize>,
    day: Option<usize>,
) -> Viewer {
    let (mine, trained) = match ctx.session.as_ref() {
        Some(session) => (
            state
                .backend
                .my_soonest_bookings(&session.account, shown_weeks(), OWN_READ)
                .await
                .into_iter()
                .filter(|b| b.instrument_id == d.summary.id && b.status.occupies_slot())
                .map(|b| (b.start, b.end))
                .collect(),
            state
                .backend
                .is_trained(&session.account, &d.summary.id)
                .await,
        ),
        None => (Vec::new(), false),
    };
    Viewer {
        calendar: CalendarAsk {
            week,
            day,
            mine,
            now: chrono::Utc::now().timestamp(),
            bookable: false,
        },
        trained,
    }
}

/// The instrument page; its booking form keeps `input` and shows `errors` (then the page is
/// answered with 422).
pub(crate) fn detail_page(
    ctx: &Ctx,
    d: &InstrumentDetail,
    viewer: Viewer,
    input: &BookingInput,
    errors: Vec<FieldError>,
) -> Response {
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let booking = booking_box(ctx, d, viewer.trained, input, errors);
    let mut ask = viewer.calendar;
    let c = ctx.t.cat;
    let r = &d.record;
    let location = [&r.location.campus, &r.location.building, &r.location.room]
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let basic = vec![
        fact(
            c.f_institution,
            &pick(
                ctx.lang,
                &d.summary.institution_name_zh,
                &d.summary.institution_name_en,
            ),
        ),
        fact(
            c.f_category,
            &format!(
                "{} ({})",
                pick(
                    ctx.lang,
                    &d.summary.category_name_zh,
                    &d.summary.category_name_en
                ),
                r.classification_code
            ),
        ),
        fact(c.f_model, &r.model),
        fact(c.f_manufacturer, &r.manufacturer),
        fact(c.f_country, &r.country_of_origin),
        fact(c.f_specification, &r.specification),
        fact(
            c.f_original_value,
            &format!("{} {}", labels::wan(r.original_value_fen), c.wan_yuan),
        ),
        fact(c.f_city, &r.location.city),
        fact(c.f_location, &location),
        fact(c.f_status, labels::status(c, r.status)),
        fact(c.f_sharing_scope, labels::scope(c, r.sharing_scope)),
        fact(c.f_service_modes, &labels::modes(c, &r.service_modes)),
        fact(c.f_opening_hours, &r.opening_hours),
        fact(c.f_required_training, &r.required_training),
        fact(c.f_certification, &r.certification),
        fact(c.f_manufacture_date, &r.manufacture_date),
        fact(c.f_purchase_date, &r.purchase_date),
        fact(c.f_acceptance_date, &r.acceptance_date),
        fact(c.f_networked_date, &r.networked_date),
        fact(c.f_asset_number, &r.asset_number),
        fact(c.f_local_id, &r.local_id),
        fact(c.f_revision, &r.revision.to_string()),
    ];
    let tech = vec![
        fact(c.f_main_specifications, &r.main_specifications),
        fact(c.f_main_functions, &r.main_functions),
        fact(c.f_accessories, &r.accessories),
    ];
    let contact = vec![
        fact(c.f_person_in_charge, &r.contact.person_in_charge),
        fact(c.f_contact_name, &r.contact.contact_name),
        fact(c.f_phone, &r.contact.phone),
        fact(c.f_email, &r.contact.email),
    ];
    ask.bookable = booking.form.is_some();
    let name = pick(ctx.lang, &d.summary.name_zh, &d.summary.name_en);
    let page = DetailPage {
        layout: ctx.layout("search"),
        t: ctx.t,
        photos: super::photos::views(ctx, &d.record, &name),
        card: card(ctx, &d.summary),
        id: d.summary.id.clone(),
        basic: basic
            .into_iter()
            .filter(|f| !f.value.trim().is_empty())
            .collect(),
        tech: tech
            .into_iter()
            .filter(|f| !f.value.trim().is_empty())
            .collect(),
        contact: contact
            .into_iter()
            .filter(|f| !f.value.trim().is_empty())
            .collect(),
        tier_names: UserTier::ALL
            .into_iter()
            .map(|t| labels::tier_short(c, t))
            .collect(),
        fees: fee_rows(ctx, d),
        review_label: labels::review(c, d.summary.review_state),
        review_class: labels::review_class(d.summary.review_state),
        review_comment: d
            .review
            .as_ref()
            .map(|r| r.comment.clone())
            .unwrap_or_default(),
        reviewer: d
            .review
            .as_ref()
            .map(|r| r.reviewer.clone())
            .unwrap_or_default(),
        reviewed_at: d
            .review
            .as_ref()
            .map(|r| time::format_unix(r.reviewed_at.0, ctx.lang))
            .unwrap_or_default(),
        calendar: calendar(ctx, d, &ask),
        booking,
    };
    Page::with_status(status, page).into_response()
}

/// `GET /instruments/{institution}/{local_id}`.
pub(super) async fn detail<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((institution, local_id)): Path<(String, String)>,
    Query(week): Query<WeekQuery>,
) -> Response {
    match state
        .backend
        .instrument(&format!("{institution}/{local_id}"))
        .await
    {
        Some(d) => {
            let input = BookingInput {
                start: week.start,
                ..BookingInput::default()
            };
            let viewer = viewer(&state, &ctx, &d, week.week, week.day).await;
            detail_page(&ctx, &d, viewer, &input, Vec::new())
        }
        None => ctx.error(ErrorKind::NotFound),
    }
}
