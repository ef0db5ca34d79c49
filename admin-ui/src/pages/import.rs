//! `/admin/instruments/import`: upload a spreadsheet, see every row checked (what is new,
//! changed, unchanged, and what is wrong with the bad rows), then import the good rows
//! with one click — the file is kept for the confirmation.

use askama::Template;
use axum::{
    extract::{Multipart, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Ctx, ErrorKind, Layout, PageForm, Refusal, own::FormatQuery};
use crate::{
    AppState,
    backend::{AccountRole, Backend, CatalogueFailure, ImportSummary},
    downloads::{download, sheet_format},
    i18n::Strings,
    render::Page,
};

struct RowView {
    row: usize,
    local_id: String,
    name: String,
    change: &'static str,
    problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    error: Option<String>,
    /// The preview of a checked file.
    result: Option<Preview>,
    /// The imports so far, a page of them (on the form as first shown).
    history: Option<History>,
}

/// Imports before, newest first.
struct History {
    total: usize,
    rows: Vec<HistoryRow>,
    newer: Option<String>,
    older: Option<String>,
}

struct HistoryRow {
    at: String,
    by: String,
    file_name: String,
    good: usize,
    bad: usize,
    imported: usize,
}

/// Imports listed a page.
const HISTORY_PER_PAGE: usize = 20;

/// `?offset=` of the history.
#[derive(Debug, Default, Deserialize)]
pub(super) struct HistoryQuery {
    #[serde(default)]
    offset: usize,
}

struct Preview {
    file_name: String,
    token: String,
    good: usize,
    bad: usize,
    to_import: usize,
    good_rows: Vec<RowView>,
    bad_rows: Vec<RowView>,
}

fn page(ctx: &Ctx, csrf: &str, error: Option<String>, result: Option<Preview>) -> Response {
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Page::with_status(
        status,
        ImportPage {
            layout: ctx.layout("own"),
            t: ctx.t,
            csrf: csrf.to_owned(),
            error,
            result,
            history: None,
        },
    )
    .into_response()
}

/// `GET /admin/instruments/import?offset=`: the form, and the imports so far.
pub(super) async fn form<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    let history = state
        .backend
        .import_history(query.offset, HISTORY_PER_PAGE)
        .await
        .map_err(|_| ctx.refuse(ErrorKind::Internal))?;
    let href = |offset: usize| format!("/admin/instruments/import?offset={offset}#history");
    let shown_to = history.offset.saturating_add(history.items.len());
    let history = History {
        total: history.total,
        newer: (history.offset > 0).then(|| href(history.offset.saturating_sub(HISTORY_PER_PAGE))),
        older: (shown_to < history.total).then(|| href(shown_to)),
        rows: history
            .items
            .into_iter()
            .map(|r| HistoryRow {
                at: crate::time::format_unix(r.at, ctx.lang),
                by: r.by,
                file_name: r.file_name,
                good: r.good,
                bad: r.bad,
                imported: r.imported,
            })
            .collect(),
    };
    Ok(Page::ok(ImportPage {
        layout: ctx.layout("own"),
        t: ctx.t,
        csrf: session.csrf_token.clone(),
        error: None,
        result: None,
        history: Some(history),
    })
    .into_response())
}

fn preview(ctx: &Ctx, file_name: &str, token: String, summary: &ImportSummary) -> Preview {
    let c = ctx.t.cat;
    let view = |r: &crate::backend::ImportRow| RowView {
        row: r.row,
        local_id: r.local_id.clone(),
        name: r.name_zh.clone(),
        change: match r.change.as_str() {
            "new" => c.change_new,
            "changed" => c.change_changed,
            _ => c.change_unchanged,
        },
        problems: r
            .errors
            .iter()
            .map(|e| {
                if e.column.is_empty() {
                    e.message.clone()
                } else {
                    format!("{}：{}", e.column, e.message)
                }
            })
            .collect(),
    };
    Preview {
        file_name: file_name.to_owned(),
        token,
        good: summary.good,
        bad: summary.bad,
        to_import: summary
            .rows
            .iter()
            .filter(|r| r.errors.is_empty() && r.change != "unchanged")
            .count(),
        good_rows: summary
            .rows
            .iter()
            .filter(|r| r.errors.is_empty())
            .map(view)
            .collect(),
        bad_rows: summary
            .rows
            .iter()
            .filter(|r| !r.errors.is_empty())
            .map(view)
            .collect(),
    }
}

/// `POST /admin/instruments/import` (multipart: `csrf`, then `file`): checks the file.
pub(super) async fn check<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    mut multipart: Multipart,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let Ok(bytes) = field.bytes().await else {
                    return Err(ctx.refuse(ErrorKind::BadRequest));
                };
                match name.as_str() {
                    "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
                    "file" => file = Some((file_name, bytes.to_vec())),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(error = %e, "unreadable upload");
                return Err(ctx.refuse(ErrorKind::BadRequest));
            }
        }
    }
    ctx.check_csrf(session, &csrf)?;
    let c = ctx.t.cat;
    let Some((file_name, bytes)) = file.filter(|(name, _)| !name.is_empty()) else {
        return Ok(page(
            &ctx,
            &session.csrf_token,
            Some(c.err_required.to_owned()),
            None,
        ));
    };
    match state
        .backend
        .import_instruments(&session.account.username, &file_name, bytes.clone(), true)
        .await
    {
        Ok(summary) => {
            let token = state
                .uploads
                .put(&session.account.username, &file_name, bytes);
            let result = preview(&ctx, &file_name, token, &summary);
            Ok(page(&ctx, &session.csrf_token, None, Some(result)))
        }
        Err(CatalogueFailure::BadFile(reason)) => Ok(page(
            &ctx,
            &session.csrf_token,
            Some(format!("{}{reason}", c.import_bad_file)),
            None,
        )),
        Err(e) => {
            tracing::error!(error = %e, "import check failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}

/// The confirmation form.
#[derive(Debug, Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

/// `POST /admin/instruments/import/confirm`: imports the good rows of the checked file.
pub(super) async fn confirm<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    ctx.check_csrf(session, &form.csrf)?;
    let Some(upload) = state.uploads.take(&session.account.username, &form.token) else {
        return Ok(page(
            &ctx,
            &session.csrf_token,
            Some(ctx.t.cat.import_expired.to_owned()),
            None,
        ));
    };
    match state
        .backend
        .import_instruments(
            &session.account.username,
            &upload.file_name,
            upload.bytes,
            false,
        )
        .await
    {
        Ok(summary) => Ok(Redirect::to(&format!(
            "/admin/instruments?notice=imported&count={}",
            summary.imported
        ))
        .into_response()),
        Err(e) => {
            tracing::error!(error = %e, "import failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}

/// `GET /admin/instruments/template?format=xlsx|csv`: the empty template.
pub(super) async fn template<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<FormatQuery>,
) -> Result<Response, Refusal> {
    let format = sheet_format(query.format()).map_err(|_| ctx.refuse(ErrorKind::BadRequest))?;
    match state.backend.import_template(format).await {
        Ok(file) => Ok(download(file)),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}
