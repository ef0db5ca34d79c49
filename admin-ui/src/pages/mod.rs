//! The server-rendered pages: status, sign-in, registration, account administration, the
//! catalogue, booking and the signed-in user's own pages. Plain HTML forms; a little
//! optional JavaScript.
//!
//! This file is the route table. Every page gets a [`Ctx`] (language, strings and session;
//! `ctx.rs`) and builds its template with [`Ctx::layout`]; what pages share besides is in
//! `toolkit.rs`. Pages that need a signed-in user redirect to `/login?next=…`; a wrong
//! role gets a 403 page. Every form carries a CSRF token: the session's own for signed-in
//! users, the anonymous double-submit token for sign-in and registration.

mod accounts;
mod api_docs;
mod board;
mod book;
mod booking_form;
mod bookings;
mod calendar;
mod complete;
mod compliance;
mod ctx;
mod day_filter;
mod events;
mod feeds;
mod guide;
mod help;
mod import;
mod institution;
mod instruments;
mod issued;
mod labels;
mod login;
mod manage;
mod me;
mod monitoring;
mod needs;
mod orders;
mod overview;
mod own;
mod photos;
mod publications;
mod receipt_view;
mod receipts;
mod record_diff;
mod register;
mod results;
mod reviews;
mod rules;
mod sessions;
mod status;
mod subsidy;
mod toolkit;
mod trainings;
mod usage;
mod work;

pub(crate) use crate::links::encode_component;
pub(crate) use ctx::{Ctx, ErrorKind, Layout};
pub(crate) use toolkit::{
    FormErrors, PageForm, Refusal, not_found, password_url, safe_next, state_url,
    with_anonymous_token,
};

use axum::{
    Router,
    routing::{get, post},
};

use crate::{AppState, backend::Backend};

/// The page routes.
pub(crate) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/", get(work::page::<B>))
        .route("/status", get(status::page::<B>))
        .route("/login", get(login::form::<B>).post(login::submit::<B>))
        .route("/logout", post(login::logout::<B>))
        .route(
            "/register",
            get(register::form::<B>).post(register::submit::<B>),
        )
        .route("/me", get(me::page::<B>))
        .route("/me/password", post(me::change_password::<B>))
        .route("/me/notifications", post(me::save_notices::<B>))
        .route("/instruments", get(instruments::search::<B>))
        .route(
            "/photos/{institution}/{local_id}/{sha256}",
            get(photos::serve::<B>),
        )
        .route(
            "/instruments/{institution}/{local_id}",
            get(instruments::detail::<B>),
        )
        .route("/institutions/{id}", get(institution::page::<B>))
        .route("/overview", get(overview::page::<B>))
        .route(
            "/bookings",
            get(bookings::page::<B>).post(book::submit::<B>),
        )
        .route("/bookings/{booking_id}/cancel", post(bookings::cancel::<B>))
        .route("/manage/bookings", get(manage::page::<B>))
        .route(
            "/manage/bookings/{home}/{booking_id}",
            post(manage::decide::<B>),
        )
        .route(
            "/manage/instruments/{local_id}/rules",
            get(rules::page::<B>).post(rules::save::<B>),
        )
        .route(
            "/manage/trainings",
            get(trainings::page::<B>).post(trainings::record::<B>),
        )
        .route(
            "/manage/bookings/{home}/{booking_id}/complete",
            get(complete::form::<B>).post(complete::submit::<B>),
        )
        .route(
            "/manage/sessions/new",
            get(sessions::form::<B>).post(sessions::submit::<B>),
        )
        .route("/manage/receipts", get(issued::page::<B>))
        .route("/manage/usage", get(usage::page::<B>))
        .route("/manage/monitoring", get(monitoring::page::<B>))
        .route(
            "/manage/monitoring/{local_id}/token",
            post(monitoring::issue::<B>),
        )
        .route(
            "/manage/monitoring/{local_id}/revoke",
            post(monitoring::revoke::<B>),
        )
        .route("/receipts", get(receipts::page::<B>))
        .route(
            "/receipts/confirm-selected",
            post(receipts::confirm_selected::<B>),
        )
        .route(
            "/receipts/{owner}/{receipt_id}/confirm",
            post(receipts::confirm::<B>),
        )
        .route(
            "/receipts/{owner}/{receipt_id}/dispute",
            post(receipts::dispute::<B>),
        )
        .route(
            "/publications",
            get(publications::page::<B>).post(publications::register::<B>),
        )
        .route("/feeds/{file}", get(feeds::user::<B>))
        .route("/feeds/instruments/{file}", get(feeds::instrument::<B>))
        .route(
            "/events",
            get(events::list::<B>).post(events::announce::<B>),
        )
        .route("/events/{organiser}/{id}", get(events::detail::<B>))
        .route("/events/{organiser}/{id}/{action}", post(events::act::<B>))
        .route(
            "/needs/{home}/{id}/attachments",
            post(needs::attach::<B>).layer(axum::extract::DefaultBodyLimit::max(
                alliance_protocol::board::MAX_NEED_FILE_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/needs/{home}/{id}/attachments/{index}",
            get(needs::attachment::<B>),
        )
        .route("/help", get(help::page::<B>).post(help::ask::<B>))
        .route("/help/fields", post(help::set_fields::<B>))
        .route("/help/{id}/{action}", post(help::act::<B>))
        .route("/orders", get(orders::mine::<B>))
        .route("/orders/{id}/report", get(orders::report::<B>))
        .route("/orders/{id}/cancel", post(orders::cancel::<B>))
        .route("/orders/{id}/photos/{n}", get(orders::photo::<B>))
        .route(
            "/manage/orders/{home}/{id}/photos",
            post(orders::add_photo::<B>).layer(axum::extract::DefaultBodyLimit::max(
                alliance_protocol::board::MAX_NEED_FILE_BYTES + 64 * 1024,
            )),
        )
        .route("/manage/orders", get(orders::manage::<B>))
        .route("/manage/orders/{home}/{id}/state", post(orders::step::<B>))
        .route(
            "/manage/orders/{home}/{id}/report",
            post(orders::upload::<B>).layer(axum::extract::DefaultBodyLimit::max(
                alliance_protocol::order::MAX_REPORT_BYTES + 64 * 1024,
            )),
        )
        .route("/needs", get(needs::list::<B>).post(needs::post::<B>))
        .route("/needs/{home}/{id}", get(needs::detail::<B>))
        .route("/needs/{home}/{id}/withdraw", post(needs::withdraw::<B>))
        .route("/needs/{home}/{id}/accept", post(needs::accept::<B>))
        .route("/needs/{home}/{id}/offer", post(needs::offer::<B>))
        .route(
            "/needs/{home}/{id}/offer/withdraw",
            post(needs::withdraw_offer::<B>),
        )
        .route("/guide", get(guide::page::<B>))
        .route("/api/docs", get(api_docs::page::<B>))
        .route(
            "/admin/instruments",
            get(own::list::<B>).post(own::create::<B>),
        )
        .route("/admin/instruments/new", get(own::new::<B>))
        .route(
            "/admin/instruments/import",
            get(import::form::<B>).post(import::check::<B>).layer(
                axum::extract::DefaultBodyLimit::max(crate::uploads::MAX_UPLOAD_BYTES + 64 * 1024),
            ),
        )
        .route(
            "/admin/instruments/import/confirm",
            post(import::confirm::<B>),
        )
        .route("/admin/instruments/template", get(import::template::<B>))
        .route(
            "/province/reviews",
            get(reviews::page::<B>).post(reviews::submit::<B>),
        )
        .route(
            "/province/reviews/approve-selected",
            post(reviews::approve_selected::<B>),
        )
        .route("/results", get(results::page::<B>))
        .route("/results/publish", post(results::publish::<B>))
        .route("/results.csv", get(results::csv::<B>))
        .route("/results.json", get(results::json::<B>))
        .route("/province/subsidy", get(subsidy::page::<B>))
        .route("/province/compliance", get(compliance::page::<B>))
        .route("/province/monitoring", get(board::page::<B>))
        .route("/admin/instruments/export", get(own::export::<B>))
        .route("/admin/instruments/{local_id}", post(own::update::<B>))
        .route("/admin/instruments/{local_id}/edit", get(own::edit::<B>))
        .route(
            "/admin/instruments/{local_id}/photos",
            post(photos::add::<B>).layer(axum::extract::DefaultBodyLimit::max(
                crate::uploads::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/admin/instruments/{local_id}/photos/{sha256}/delete",
            post(photos::remove::<B>),
        )
        .route(
            "/admin/instruments/{local_id}/delete",
            post(own::delete::<B>),
        )
        .route(
            "/admin/accounts",
            get(accounts::page::<B>).post(accounts::create::<B>),
        )
        .route(
            "/admin/accounts/{username}/state",
            post(accounts::set_state::<B>),
        )
        .route(
            "/admin/accounts/{username}/password",
            post(accounts::reset_password::<B>),
        )
}
