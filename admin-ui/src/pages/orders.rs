//! `/orders`: the signed-in person's entrusted-testing orders — each step with its note
//! and time, the report to download through this node with its SHA-256 (the one the
//! usage receipt names). `/manage/orders`: the orders placed with this institution, with
//! whom to contact and the sample manifest, and a form for the next step: samples
//! received (intake notes), testing, the report (file and measurement times), closed, or
//! refused with a reason.

use askama::Template;
use axum::{
    extract::{Multipart, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, ErrorKind, Layout, PageForm, Refusal, bookings::failure_message, encode_component,
};
use crate::{
    AppState,
    backend::{Backend, ManagedOrderView, OrderStepForm, OrderView, ReportFile},
    i18n::{Strings, board::BoardStrings},
    render::Page,
    time,
};
use alliance_protocol::money::format_yuan;

/// A step, ready to show.
struct StepItem {
    state: &'static str,
    note: String,
    at: String,
}

/// An order, ready to show.
struct OrderItem {
    order_id: String,
    title: String,
    owner_name: String,
    instrument_href: String,
    state_code: String,
    state: &'static str,
    steps: Vec<StepItem>,
    price: String,
    samples: u32,
    report_name: Option<String>,
    report_sha256: String,
    receipt_id: String,
    report_href: String,
    /// Photos of the samples taken in: name and link.
    photos: Vec<(String, String)>,
}

fn state_label(b: &BoardStrings, state: &str) -> &'static str {
    match state {
        "ordered" => b.order_state_ordered,
        "samples_received" => b.order_state_samples_received,
        "testing" => b.order_state_testing,
        "report_issued" => b.order_state_report_issued,
        "closed" => b.order_state_closed,
        "refused" => b.order_state_refused,
        _ => b.order_state_cancelled,
    }
}

fn order_item(ctx: &Ctx, o: &OrderView) -> OrderItem {
    let b = ctx.t.board;
    OrderItem {
        order_id: o.order_id.clone(),
        title: o.title.clone(),
        owner_name: o.owner_name.clone(),
        instrument_href: format!("/instruments/{}", encode_component(&o.instrument_id)),
        state_code: o.state.clone(),
        state: state_label(b, &o.state),
        steps: o
            .steps
            .iter()
            .map(|s| StepItem {
                state: state_label(b, &s.state),
                note: s.note.clone(),
                at: time::format_unix(s.at, ctx.lang),
            })
            .collect(),
        price: format!("¥{}", format_yuan(o.price_fen)),
        samples: o.samples,
        report_name: o.report_name.clone(),
        report_sha256: o.report_sha256.clone().unwrap_or_default(),
        receipt_id: o.receipt_id.clone().unwrap_or_default(),
        report_href: format!("/orders/{}/report", encode_component(&o.order_id)),
        photos: o
            .photos
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    name.clone(),
                    format!("/orders/{}/photos/{}", encode_component(&o.order_id), i + 1),
                )
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    error: Option<String>,
    items: Vec<OrderItem>,
}

/// `GET /orders`.
pub(super) async fn mine<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let items = state
        .backend
        .my_orders(&session.account)
        .await
        .iter()
        .map(|o| order_item(&ctx, o))
        .collect();
    Ok(Page::ok(OrdersPage {
        layout: ctx.layout("orders"),
        t: ctx.t,
        csrf: session.csrf_token.clone(),
        error: None,
        items,
    })
    .into_response())
}

/// `POST /orders/{id}/cancel` (`csrf`, `reason`).
pub(super) async fn cancel<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(order_id): Path<String>,
    PageForm(input): PageForm<StepInput>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, &input.csrf)?;
    match state
        .backend
        .cancel_order(&session.account, &order_id, &input.note)
        .await
    {
        Ok(()) => Ok(Redirect::to("/orders").into_response()),
        Err(failure) => {
            let (status, message) = failure_message(&ctx, failure, "order")?;
            let items = state
                .backend
                .my_orders(&session.account)
                .await
                .iter()
                .map(|o| order_item(&ctx, o))
                .collect();
            Ok(Page::with_status(
                status,
                OrdersPage {
                    layout: ctx.layout("orders"),
                    t: ctx.t,
                    csrf: session.csrf_token.clone(),
                    error: Some(message),
                    items,
                },
            )
            .into_response())
        }
    }
}

/// `GET /orders/{id}/report`: the report's file.
pub(super) async fn report<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(order_id): Path<String>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    match state
        .backend
        .order_report(&session.account, &order_id)
        .await
    {
        Ok(file) => Ok(crate::downloads::uploaded(file)),
        Err(failure) => {
            let (status, message) = failure_message(&ctx, failure, "report")?;
            Ok((status, message).into_response())
        }
    }
}

/// A managed order, ready to show.
struct ManagedItem {
    order: OrderItem,
    action: String,
    home_name: String,
    contact: String,
    email: String,
    phone: String,
    samples: Vec<String>,
}

#[derive(Template)]
#[template(path = "manage_orders.html")]
struct ManagePage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    items: Vec<ManagedItem>,
    now: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

async fn render_manage<B: Backend>(
    state: &AppState<B>,
    ctx: &Ctx,
    notice: &str,
    error: Option<(StatusCode, String)>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let orders: Vec<ManagedOrderView> = match state.backend.managed_orders(&session.account).await {
        Ok(orders) => orders,
        Err(failure) => {
            let (status, message) = failure_message(ctx, failure, "orders")?;
            return Ok((status, message).into_response());
        }
    };
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let page = ManagePage {
        layout: ctx.layout("manage_orders"),
        t: ctx.t,
        csrf: session.csrf_token.clone(),
        notice: (notice == "step").then_some(ctx.t.board.step_notice),
        error: error.map(|(_, m)| m),
        items: orders
            .iter()
            .map(|m| ManagedItem {
                order: order_item(ctx, &m.order),
                action: format!(
                    "/manage/orders/{}/{}",
                    encode_component(&m.home),
                    encode_component(&m.order.order_id)
                ),
                home_name: m.home_name.clone(),
                contact: format!("{}（{}）", m.contact_name, m.organization),
                email: m.email.clone(),
                phone: m.phone.clone(),
                samples: m.samples.clone(),
            })
            .collect(),
        now: time::local_input(alliance_protocol::UnixTime::now().0),
    };
    Ok(Page::with_status(status, page).into_response())
}

/// `GET /manage/orders`.
pub(super) async fn manage<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(notice): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    if !session.account.role.manages_instruments() {
        return Err(ctx.refuse(ErrorKind::Forbidden));
    }
    render_manage(&state, &ctx, &notice.notice, None).await
}

/// The step form.
#[derive(Debug, Deserialize)]
pub(super) struct StepInput {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    note: String,
}

/// `POST /manage/orders/{home}/{id}/state`.
pub(super) async fn step<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, order_id)): Path<(String, String)>,
    PageForm(input): PageForm<StepInput>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    ctx.check_csrf(session, &input.csrf)?;
    let step = OrderStepForm {
        state: input.state,
        note: input.note,
    };
    match state
        .backend
        .advance_order(&session.account, &home, &order_id, step)
        .await
    {
        Ok(_) => Ok(Redirect::to("/manage/orders?notice=step").into_response()),
        Err(failure) => {
            let error = failure_message(&ctx, failure, "order")?;
            render_manage(&state, &ctx, "", Some(error)).await
        }
    }
}

/// `POST /manage/orders/{home}/{id}/report` (multipart: `csrf`, `start`, `end`, `file`).
pub(super) async fn upload<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, order_id)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let upload = super::toolkit::Upload::read(&mut multipart)
        .await
        .ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?;
    let value = |key: &str| upload.value(key);
    let file = upload.file.clone();
    ctx.check_csrf(session, value("csrf"))?;
    let b = ctx.t.board;
    let (Some(start), Some(end)) = (
        time::parse_local_input(value("start")),
        time::parse_local_input(value("end")),
    ) else {
        let error = (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}：{}", b.f_measured_start, b.bad_time),
        );
        return render_manage(&state, &ctx, "", Some(error)).await;
    };
    let (name, bytes) = file.unwrap_or_default();
    let report = ReportFile {
        name,
        media_type: String::new(),
        bytes,
    };
    match state
        .backend
        .issue_report(&session.account, &home, &order_id, report, (start, end))
        .await
    {
        Ok(_) => Ok(Redirect::to("/manage/orders?notice=step").into_response()),
        Err(failure) => {
            let error = failure_message(&ctx, failure, "report")?;
            render_manage(&state, &ctx, "", Some(error)).await
        }
    }
}

/// `GET /orders/{id}/photos/{n}`: an intake photo, through this node.
pub(super) async fn photo<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((order_id, n)): Path<(String, u32)>,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    match state
        .backend
        .order_photo(&session.account, &order_id, n)
        .await
    {
        Ok(file) => Ok(crate::downloads::uploaded(file)),
        Err(failure) => {
            let (status, message) = failure_message(&ctx, failure, "photo")?;
            Ok((status, message).into_response())
        }
    }
}

/// `POST /manage/orders/{home}/{id}/photos` (multipart: `csrf`, `file`): a photo of the
/// samples taken in.
pub(super) async fn add_photo<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((home, order_id)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Result<Response, Refusal> {
    let session = ctx.signed_in()?;
    let upload = super::toolkit::Upload::read(&mut multipart)
        .await
        .ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?;
    ctx.check_csrf(session, upload.value("csrf"))?;
    let (name, bytes) = upload.file.unwrap_or_default();
    let file = ReportFile {
        name,
        media_type: String::new(),
        bytes,
    };
    match state
        .backend
        .add_intake_photo(&session.account, &home, &order_id, file)
        .await
    {
        Ok(_) => Ok(Redirect::to("/manage/orders?notice=step").into_response()),
        Err(failure) => {
            let error = failure_message(&ctx, failure, "photo")?;
            render_manage(&state, &ctx, "", Some(error)).await
        }
    }
}
