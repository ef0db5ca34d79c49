//! `/admin/instruments`: an institution admin's own catalogue — the list with each
//! record's review state, the add/edit form with field-level errors, deletion, and
//! spreadsheet export and templates.

use alliance_protocol::{FeeUnit, InstrumentStatus, ServiceMode, SharingScope};
use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
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
    backend::{AccountRole, Backend, CatalogueFailure, ReviewState},
    downloads::{download, sheet_format},
    i18n::Strings,
    instrument_input::{FORM_FEE_ROWS, FeeInput, InstrumentInput, snake},
    render::Page,
    validate::{FieldError, Problem},
};

struct Row {
    href: String,
    edit_href: String,
    delete_href: String,
    /// The booking rules page, for users who manage bookings.
    rules_href: Option<String>,
    local_id: String,
    name: String,
    category: String,
    value_wan: String,
    review: &'static str,
    review_class: &'static str,
    comment: String,
    needs_fix: bool,
}

#[derive(Template)]
#[template(path = "own.html")]
struct ListPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<String>,
    rows: Vec<Row>,
    needs_fix: usize,
}

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    count: usize,
}

/// `GET /admin/instruments`.
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(notice): Query<Notice>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    let c = ctx.t.cat;
    let layout = ctx.layout("own");
    let manages_bookings = layout.user.as_ref().is_some_and(|u| u.manages_bookings);
    let rows: Vec<Row> = state
        .backend
        .own_instruments()
        .await
        .iter()
        .map(|d| {
            let s = &d.summary;
            let path = encode_component(&s.local_id);
            Row {
                href: format!("/instruments/{}", s.id),
                edit_href: format!("/admin/instruments/{path}/edit"),
                delete_href: format!("/admin/instruments/{path}/delete"),
                rules_href: manages_bookings.then(|| format!("/manage/instruments/{path}/rules")),
                local_id: s.local_id.clone(),
                name: pick(ctx.lang, &s.name_zh, &s.name_en),
                category: pick(ctx.lang, &s.category_name_zh, &s.category_name_en),
                value_wan: labels::wan(s.original_value_fen),
                review: labels::review(c, s.review_state),
                review_class: labels::review_class(s.review_state),
                comment: d
                    .review
                    .as_ref()
                    .map(|r| r.comment.clone())
                    .unwrap_or_default(),
                needs_fix: s.review_state == ReviewState::NeedsCorrection,
            }
        })
        .collect();
    let notice = match notice.notice.as_str() {
        "saved" => Some(c.saved.to_owned()),
        "deleted" => Some(c.deleted.to_owned()),
        "imported" => Some(format!("{}{}", c.import_done, notice.count)),
        _ => None,
    };
    let page = ListPage {
        layout,
        t: ctx.t,
        csrf: session.csrf_token.clone(),
        notice,
        needs_fix: rows.iter().filter(|r| r.needs_fix).count(),
        rows,
    };
    Ok(Page::ok(page).into_response())
}

/// One fee row of the form.
struct FeeFormRow {
    index: usize,
    item_zh: String,
    item_en: String,
    units: Vec<Choice>,
    prices: Vec<PriceTier>,
    error: Option<String>,
}

/// One tier's three price inputs.
struct PriceTier {
    tier: &'static str,
    cells: Vec<PriceCell>,
}

struct PriceCell {
    name: String,
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "instrument_form.html")]
struct FormPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    action: String,
    is_new: bool,
    input: InstrumentInput,
    categories: Vec<Choice>,
    statuses: Vec<Choice>,
    scopes: Vec<Choice>,
    self_operated: bool,
    staff_run: bool,
    fee_rows: Vec<FeeFormRow>,
    part_names: [&'static str; 3],
    errors: FormErrors,
    other_errors: Vec<String>,
    notice: Option<String>,
    photos: Vec<super::photos::PhotoView>,
    photo_action: String,
    photo_error: Option<String>,
    can_add_photo: bool,
}

/// What the edit page says above its parts after a photo was added or removed.
#[derive(Debug, Default)]
pub(super) struct Messages {
    pub notice: Option<String>,
    pub photo_error: Option<String>,
}

/// Fields the form shows an error beside.
const SHOWN: [&str; 22] = [
    "local_id",
    "name_zh",
    "name_en",
    "model",
    "specification",
    "original_value",
    "country_of_origin",
    "manufacturer",
    "manufacture_date",
    "purchase_date",
    "acceptance_date",
    "networked_date",
    "asset_number",
    "classification_code",
    "email",
    "phone",
    "status",
    "sharing_scope",
    "service_modes",
    "fee0",
    "fee1",
    "fee2",
];

async fn form_page<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    csrf: &str,
    input: InstrumentInput,
    is_new: bool,
    errors: Vec<FieldError>,
    messages: Messages,
) -> Response {
    let c = ctx.t.cat;
    let facets = state.backend.facets().await;
    let photos = match is_new {
        true => Vec::new(),
        false => state
            .backend
            .own_instrument(&input.local_id)
            .await
            .map(|d| super::photos::views(ctx, &d.record, &d.record.name_zh))
            .unwrap_or_default(),
    };
    let choice = |value: String, label: &str, current: &str| Choice {
        selected: value == current,
        value,
        label: label.to_owned(),
    };
    let categories = facets
        .categories
        .iter()
        .map(|cat| {
            let indent = if cat.level == 2 { "　" } else { "" };
            choice(
                cat.code.clone(),
                &format!(
                    "{indent}{} {}",
                    cat.code,
                    pick(ctx.lang, &cat.name_zh, &cat.name_en)
                ),
                &input.classification_code,
            )
        })
        .collect();
    let statuses = [
        InstrumentStatus::InService,
        InstrumentStatus::UnderMaintenance,
        InstrumentStatus::Retired,
    ]
    .into_iter()
    .map(|s| choice(snake(s), labels::status(c, s), &input.status))
    .collect();
    let scopes = [
        SharingScope::OpenToSociety,
        SharingScope::AllianceOnly,
        SharingScope::Internal,
    ]
    .into_iter()
    .map(|s| choice(snake(s), labels::scope(c, s), &input.sharing_scope))
    .collect();
    let form_errors = FormErrors::new(ctx.t, errors);
    let part_names = [c.fee_materials, c.fee_operating, c.fee_labour];
    let fee_rows = (0..FORM_FEE_ROWS.max(input.fees.len()))
        .map(|i| {
            let fee = input.fees.get(i).cloned().unwrap_or_default();
            FeeFormRow {
                index: i,
                units: [FeeUnit::Hour, FeeUnit::Sample, FeeUnit::Session]
                    .into_iter()
                    .map(|u| choice(snake(u), labels::unit(c, u), &fee.unit))
                    .collect(),
                prices: fee
                    .prices
                    .iter()
                    .zip(alliance_protocol::UserTier::ALL)
                    .enumerate()
                    .map(|(tier_index, (parts, tier))| {
                        let tier_name = labels::tier_short(c, tier);
                        PriceTier {
                            tier: tier_name,
                            cells: parts
                                .iter()
                                .zip(part_names)
                                .enumerate()
                                .map(|(part, (value, part_name))| PriceCell {
                                    name: format!("fee{i}_p{tier_index}{part}"),
                                    value: value.clone(),
                                    label: format!("{tier_name} {part_name}"),
                                })
                                .collect(),
                        }
                    })
                    .collect(),
                error: form_errors.get(&format!("fee{i}")),
                item_zh: fee.item_zh,
                item_en: fee.item_en,
            }
        })
        .collect();
    let has = |mode: ServiceMode| input.service_modes.contains(&snake(mode));
    let action = if is_new {
        "/admin/instruments".to_owned()
    } else {
        format!("/admin/instruments/{}", encode_component(&input.local_id))
    };
    let page = FormPage {
        layout: ctx.layout("own"),
        t: ctx.t,
        csrf: csrf.to_owned(),
        action,
        is_new,
        categories,
        statuses,
        scopes,
        self_operated: has(ServiceMode::SelfOperated),
        staff_run: has(ServiceMode::StaffRun),
        fee_rows,
        part_names,
        other_errors: form_errors.other(&SHOWN),
        errors: form_errors,
        notice: messages.notice,
        can_add_photo: photos.len() < alliance_protocol::record::MAX_PHOTOS,
        photos,
        photo_action: format!(
            "/admin/instruments/{}/photos",
            encode_component(&input.local_id)
        ),
        photo_error: messages.photo_error,
        input,
    };
    let status = if page.errors.is_empty() && page.photo_error.is_none() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Page::with_status(status, page).into_response()
}

/// `GET /admin/instruments/new`.
pub(super) async fn new<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    let input = InstrumentInput {
        status: "in_service".into(),
        sharing_scope: "open_to_society".into(),
        service_modes: vec!["staff_run".into()],
        fees: vec![FeeInput {
            unit: "hour".into(),
            ..FeeInput::default()
        }],
        ..InstrumentInput::default()
    };
    Ok(form_page(
        &state,
        &ctx,
        &session.csrf_token,
        input,
        true,
        Vec::new(),
        Messages::default(),
    )
    .await)
}

/// `GET /admin/instruments/{local_id}/edit`.
pub(super) async fn edit<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(local_id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    let notice = match notice.notice.as_str() {
        "photo_added" => Some(ctx.t.cat.photo_added.to_owned()),
        "photo_removed" => Some(ctx.t.cat.photo_removed.to_owned()),
        _ => None,
    };
    let messages = Messages {
        notice,
        photo_error: None,
    };
    edit_page(&state, &ctx, &session.csrf_token, &local_id, messages).await
}

/// The edit form of one of this institution's records, as held now.
pub(super) async fn edit_page<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    csrf: &str,
    local_id: &str,
    messages: Messages,
) -> Result<Response, Refusal> {
    let Some(detail) = state.backend.own_instrument(local_id).await else {
        return Err(ctx.refuse(ErrorKind::NotFound));
    };
    let input = InstrumentInput::from_record(&detail.record);
    Ok(form_page(state, ctx, csrf, input, false, Vec::new(), messages).await)
}

fn field_of(failure: CatalogueFailure) -> Result<FieldError, CatalogueFailure> {
    match failure {
        CatalogueFailure::Invalid { field, message } => {
            let problem = if field == "classification_code" {
                Problem::Category
            } else {
                Problem::Other(message)
            };
            Ok(FieldError::new(&field, problem))
        }
        other => Err(other),
    }
}

async fn save<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    pairs: Vec<(String, String)>,
    fixed_local_id: Option<String>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    ctx.check_csrf(session, csrf)?;
    let mut input = InstrumentInput::from_form(&pairs);
    let is_new = fixed_local_id.is_none();
    if let Some(local_id) = fixed_local_id {
        input.local_id = local_id;
    }
    let institution = state
        .backend
        .status()
        .await
        .institution_id
        .parse()
        .map_err(|_| ctx.refuse(ErrorKind::Internal))?;
    let record = match input.to_record(&institution) {
        Ok(record) => record,
        Err(errors) => {
            return Ok(form_page(
                state,
                ctx,
                &session.csrf_token,
                input,
                is_new,
                errors,
                Messages::default(),
            )
            .await);
        }
    };
    if is_new
        && state
            .backend
            .own_instrument(&record.local_id)
            .await
            .is_some()
    {
        let taken = FieldError::new(
            "local_id",
            Problem::Other(ctx.t.cat.err_local_id_taken.into()),
        );
        return Ok(form_page(
            state,
            ctx,
            &session.csrf_token,
            input,
            is_new,
            vec![taken],
            Messages::default(),
        )
        .await);
    }
    match state.backend.save_instrument(record).await {
        Ok(_) => Ok(Redirect::to("/admin/instruments?notice=saved").into_response()),
        Err(failure) => match field_of(failure) {
            Ok(error) => Ok(form_page(
                state,
                ctx,
                &session.csrf_token,
                input,
                is_new,
                vec![error],
                Messages::default(),
            )
            .await),
            Err(other) => {
                tracing::error!(error = %other, "saving an instrument failed");
                Err(ctx.refuse(ErrorKind::Internal))
            }
        },
    }
}

/// `POST /admin/instruments`: a new instrument.
pub(super) async fn create<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    save(&state, &ctx, pairs, None).await
}

/// `POST /admin/instruments/{local_id}`: a new version of an instrument.
pub(super) async fn update<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(local_id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    save(&state, &ctx, pairs, Some(local_id)).await
}

/// The CSRF field of a button form.
#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    pub(super) csrf: String,
}

/// `POST /admin/instruments/{local_id}/delete`.
pub(super) async fn delete<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(local_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    ctx.check_csrf(session, &form.csrf)?;
    match state.backend.delete_instrument(&local_id).await {
        Ok(()) => Ok(Redirect::to("/admin/instruments?notice=deleted").into_response()),
        Err(CatalogueFailure::NotFound) => Err(ctx.refuse(ErrorKind::NotFound)),
        Err(e) => {
            tracing::error!(error = %e, "deleting an instrument failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}

/// `?format=` of a download.
#[derive(Debug, Default, Deserialize)]
pub(super) struct FormatQuery {
    #[serde(default)]
    format: String,
}

impl FormatQuery {
    pub(super) fn format(&self) -> &str {
        &self.format
    }
}

/// `GET /admin/instruments/export?format=xlsx|csv`.
pub(super) async fn export<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<FormatQuery>,
) -> Result<Response, Refusal> {
    ctx.with_role(AccountRole::InstitutionAdmin)?;
    let format = sheet_format(&query.format).map_err(|_| ctx.refuse(ErrorKind::BadRequest))?;
    match state.backend.export_instruments(format).await {
        Ok(file) => Ok(download(file)),
        Err(e) => {
            tracing::error!(error = %e, "export failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}
