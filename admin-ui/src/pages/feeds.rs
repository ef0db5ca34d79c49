//! Calendar feeds (RFC 5545) for calendar apps, which send no cookies:
//! `/feeds/{token}.ics` — a user's bookings, the unguessable token being the only key —
//! and `/feeds/instruments/{local_id}.ics` — one of this institution's instruments.

use axum::{
    extract::{Path, State},
    http::header::CONTENT_TYPE,
    response::{IntoResponse, Response},
};

use super::{Ctx, ErrorKind};
use crate::{AppState, backend::Backend};

const CALENDAR: &str = "text/calendar; charset=utf-8";

fn calendar(ctx: &Ctx, body: Option<String>) -> Response {
    match body {
        Some(body) => ([(CONTENT_TYPE, CALENDAR)], body).into_response(),
        None => ctx.error(ErrorKind::NotFound),
    }
}

/// `GET /feeds/{token}.ics`.
pub(super) async fn user<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(file): Path<String>,
) -> Response {
    let body = match file.strip_suffix(".ics") {
        Some(token) if !token.is_empty() => state.backend.user_feed(token).await,
        _ => None,
    };
    calendar(&ctx, body)
}

/// `GET /feeds/instruments/{local_id}.ics`.
pub(super) async fn instrument<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(file): Path<String>,
) -> Response {
    let body = match file.strip_suffix(".ics") {
        Some(local_id) if !local_id.is_empty() => state.backend.instrument_feed(local_id).await,
        _ => None,
    };
    calendar(&ctx, body)
}
