//! Web UI and JSON API of an alliance node: every HTTP route a node serves to people and
//! programs, generic over the [`Backend`] the node implements. (The crate lives in the
//! repository's `admin-ui/` directory; it is named `alliance-web` because it is the whole
//! of a node's HTTP face — public pages, researchers' and managers' pages, the JSON API —
//! not only its administration.)
//!
//! Accounts and sessions (who may sign in to this node's pages and API, with which role)
//! are this crate's own vocabulary: they never leave the node, so they are not in
//! `alliance_protocol`; the node's `accounts` module is their durable store behind
//! [`Backend`].
//!
//! ```text
//! let options = WebOptions { secure_cookies: true, ..WebOptions::default() };
//! let app: axum::Router = alliance_web::router(backend, options);
//! // Serve it with the client's address, for the limits per client:
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! ```
//!
//! # Routes
//!
//! | Route | Who | What |
//! |---|---|---|
//! | `GET /healthz` | anyone | `ok`; `503` with one line per problem while the store refuses writes or a background task has stopped |
//! | `GET /` | anyone | node status page |
//! | `GET, POST /login` | anyone | sign-in form (`?next=/path` returns there); `429` with `Retry-After` while the name or the client's address is locked out |
//! | `POST /logout` | signed in | sign out |
//! | `GET, POST /register` | anyone | self-registration of outside users (pending) |
//! | `GET /me` | signed in | own account |
//! | `POST /me/password` | signed in | change one's password (current, new, new again); ends one's other sessions |
//! | `GET, POST /admin/accounts` | admins | account list, create an account |
//! | `POST /admin/accounts/{username}/state` | admins | approve (an outside user with a price category) / disable / enable |
//! | `POST /admin/accounts/{username}/password` | admins | reset an account's password: a random one, shown once on the answer page; ends the account's sessions |
//! | `GET /api/v1/status` | anyone | [`NodeStatus`](backend::NodeStatus) as JSON |
//! | `POST, DELETE /api/v1/session` | anyone / signed in | sign in (`{csrf_token, account, expires_at}`; `429 too_many_attempts` with `Retry-After` while locked out, even for the right password), sign out |
//! | `GET /api/v1/me` | signed in | own [`Account`](backend::Account) |
//! | `POST /api/v1/me/password` | signed in | `{"current_password", "new_password"}` → `204`; ends every other session of the account |
//! | `GET, PUT /api/v1/me/notifications` | signed in | which notices (e-mail, webhook) one receives: `{"language": "zh" or "en", "off": [kinds]}`, kinds `booking_request`, `hold_lapsing`, `booking_decision`, `booking_tomorrow`, `receipt_to_confirm`; `PUT` → `204` |
//! | `POST /api/v1/register` | anyone | register; `202` with `{"status": "pending", "username"}`, the same whether or not the name was free (a taken name stores nothing); `429 rate_limited` past the registrations allowed per address, `503 registrations_closed` while the pending queue is full |
//! | `GET, POST /api/v1/accounts` | admins | list, create |
//! | `POST /api/v1/accounts/{username}/state` | admins | `{"state": "active"}` etc.; approving an outside user adds `"price_category"` (`outside_academic`, `enterprise` with `"credit_code"`, `individual`) |
//! | `POST /api/v1/accounts/{username}/password` | admins | reset: `{"username", "password"}` with a new random password, shown once; ends the account's sessions |
//! | `GET /guide` | anyone | guide for outside users: register, find, book, fees, contacts |
//! | `GET /instruments/{institution}/{local_id}` | anyone | an instrument; the booking form when signed in (`?start=` prefills it) |
//! | `GET /photos/{institution}/{local_id}/{sha256}` | whoever may see the instrument | a photo or thumbnail its signed record names, `image/jpeg`, cached for good; fetched from the owner or another member if not held here (`503` with `Retry-After` when none could give it) |
//! | `POST /admin/instruments/{local_id}/photos`, `POST /admin/instruments/{local_id}/photos/{sha256}/delete` | institution admins | add a photo (multipart: `csrf`, `file`; JPEG or PNG up to 10 MB, at most 4; a wrong file is `422` beside the field) or remove one; answer: back to the edit page (API: `POST /api/v1/own/instruments/{local_id}/photos` with the photo as the body, `DELETE …/photos/{sha256}`) |
//! | `GET /bookings`, `POST /bookings` | signed in | my bookings, notifications, calendar feed; book (answer page) |
//! | `POST /bookings/{booking_id}/cancel` | signed in | cancel one of my bookings |
//! | `GET /manage/bookings`, `POST /manage/bookings/{home}/{booking_id}` | instrument managers, institution admins | decide on this institution's bookings |
//! | `GET, POST /manage/instruments/{local_id}/rules` | instrument managers, institution admins | an instrument's booking rules: notice, lengths, approval by user category, blackouts |
//! | `GET, POST /manage/trainings` | instrument managers, institution admins | training certifications recorded here; record one |
//! | `GET /receipts`, `POST /receipts/{owner}/{receipt_id}/confirm` | signed in | my usage receipts, unconfirmed first; confirm one with a rating (1–5 stars) and a comment |
//! | `GET /publications`, `POST /publications` | signed in | my publications (papers, patents, reports that used alliance instruments: DOI as a link, the instruments, whether the province has it); register one (answer: back to the page with a notice; bad input is `422` and nothing is registered) |
//! | `GET /needs`, `POST /needs` | anyone; posting signed in | the board of needs (a visitor sees no one's institution; `?q=`, `?state=all`, `?offset=`), my needs, post one (answer: back with a notice) |
//! | `GET /needs/{home}/{id}` | anyone | a need; for the person who posted it, every offer side by side with a button to accept one; for managers, their offer and the form; instruments proposed |
//! | `POST /needs/{home}/{id}/withdraw`, `/accept` | the person who posted it | take it back; accept an institution's offer (`institution`) |
//! | `POST /needs/{home}/{id}/offer`, `/offer/withdraw` | instrument managers, institution admins | make or revise this institution's offer (by the fee schedule, or `quoted_price` in yuan with `price_reason`); take it back |
//! | `GET /orders`, `GET /orders/{id}/report` | signed in | my entrusted-testing orders with each step, the report to download (through this node, checked against the SHA-256 its owner signed) |
//! | `GET /manage/orders`, `POST /manage/orders/{home}/{id}/state`, `POST /manage/orders/{home}/{id}/report` | instrument managers, institution admins | the orders placed with this institution with whom to contact; the next step (intake notes, testing, closed, refused with a reason); the report (multipart: `csrf`, `start`, `end`, `file`) |
//! | `GET /manage/receipts` | instrument managers, institution admins | the province's log as this node checked it; the receipts issued here, their confirmation and submission; the mail this node gave up (dead letters), 20 a page (`?dead=` skips the newest) |
//! | `GET, POST /manage/bookings/{home}/{booking_id}/complete` | instrument managers, institution admins | record what happened in a booked use (prefilled from the booking); issues its receipt |
//! | `GET, POST /manage/sessions/new` | instrument managers, institution admins | record a walk-in or internal session without a booking; issues its receipt |
//! | `GET /manage/monitoring` | instrument managers, institution admins | this institution's instruments with the state their agents last reported (R6) and whether each has an agent token |
//! | `POST /manage/monitoring/{local_id}/token`, `POST /manage/monitoring/{local_id}/revoke` | instrument managers, institution admins | issue (or replace) an instrument's agent token — shown once, on the answer page, with the command that starts the agent — or revoke it |
//! | `GET /feeds/{token}.ics` | holder of the token | the user's bookings as `text/calendar` |
//! | `GET /feeds/instruments/{local_id}.ics` | anyone | an instrument's bookings as `text/calendar` |
//! | `GET, POST /api/v1/bookings` | signed in | my bookings (`?from=&to=&offset=&limit=`, `X-Total-Count`); book (instrument, start `YYYY-MM-DDTHH:MM` Beijing, minutes, mode, `service_item` where the instrument offers several → [`BookingOutcome`](backend::BookingOutcome)) |
//! | `POST /api/v1/bookings/{booking_id}/cancel` | signed in | `{"reason"}` → the cancelled booking |
//! | `GET /api/v1/notifications` | signed in | newest first (`?offset=&limit=`, `X-Total-Count`) |
//! | `GET /api/v1/manage/bookings`, `POST /api/v1/manage/bookings/{home}/{booking_id}` | instrument managers, institution admins | list (`?section=waiting\|active\|closed&from=&to=&offset=&limit=`, `X-Total-Count`); `{"decision", "note"}` |
//! | `GET /api/v1/receipts` | signed in | my receipts ([`MyReceipt`](backend::MyReceipt)), newest use first (`?offset=&limit=`, `X-Total-Count`) |
//! | `POST /api/v1/receipts/{owner}/{receipt_id}/confirm` | signed in | `{"rating": 1–5, "comment"}` → the confirmed [`MyReceipt`](backend::MyReceipt) |
//! | `GET, POST /api/v1/publications` | signed in | my publications ([`PublicationView`](backend::PublicationView)), newest first; register one ([`PublicationForm`](backend::PublicationForm) → `201` with the [`PublicationView`](backend::PublicationView); a paper's DOI may be a `https://doi.org/` link and is kept bare, in lowercase) |
//! | `GET /api/v1/needs`, `POST /api/v1/needs`, `GET /api/v1/needs/mine` | anyone; posting signed in | a page of needs ([`NeedPageView`](backend::NeedPageView)); post one ([`NeedForm`](backend::NeedForm) → `201` with the [`NeedView`](backend::NeedView)); mine |
//! | `GET /api/v1/needs/{home}/{local_id}` and `POST …/withdraw`, `…/accept`, `…/offer`, `…/offer/withdraw` | as the pages | [`NeedDetail`](backend::NeedDetail); the actions, `need_closed` (`409`) once a need is withdrawn or accepted |
//! | `GET /api/v1/orders`, `GET /api/v1/orders/{order_id}/report`, `POST /api/v1/orders/{order_id}/cancel` | signed in | my entrusted-testing orders ([`OrderView`](backend::OrderView)) with their steps; a report's file, through this node, checked against the SHA-256 its owner signed; take one back before the samples arrive (`{"reason"}` → `204`, `409 out_of_order` after) |
//! | `GET /api/v1/manage/orders`, `POST /api/v1/manage/orders/{home}/{order_id}/state`, `POST …/report?file_name=&start=&end=` | instrument managers, institution admins | the orders placed with this institution, with whom to contact ([`ManagedOrderView`](backend::ManagedOrderView)); one step (`{"state", "note"}`, `409 out_of_order` if not the next); the report's file as the body, with the measurement's times (Beijing) |
//! | `GET /api/v1/manage/dead-letters?offset=&limit=` | instrument managers, institution admins | [`DeadLetterPage`](backend::DeadLetterPage): the mail this node gave up, newest first (`limit` 1–100, default 50) |
//! | `GET /api/v1/manage/receipts` | instrument managers, institution admins | `{"log": LogWatchView, "issued": [IssuedReceipt]}` ([`LogWatchView`](backend::LogWatchView), [`IssuedReceipt`](backend::IssuedReceipt)) |
//! | `POST /api/v1/manage/bookings/{home}/{booking_id}/complete` | instrument managers, institution admins | the facts of the session (times as `YYYY-MM-DDTHH:MM`, Beijing) → the completed [`ManagedBooking`](backend::ManagedBooking) |
//! | `POST /api/v1/manage/sessions` | instrument managers, institution admins | the session (instrument, user, tier, mode, facts) → `201` with the issued [`ReceiptView`](backend::ReceiptView) |
//! | `POST /api/v1/agent/instruments/{local_id}/state` | an instrument's agent, `Authorization: Bearer <token>` (no session, no CSRF token) | `{"state": "idle\|running\|maintenance\|fault", "note"}` (at most 4 KiB) → `204`; no or a malformed token, or a wrong or revoked one, is `401` with `WWW-Authenticate: Bearer` |
//! | `GET /results?period=` | anyone | the province's evaluation results of a year (`2026`) or quarter (`2026-Q3`; empty: this year): the log they come from, the rule, each institution with its instruments, the sanctions list; a bad period is `400`; a member's node says the province publishes them |
//! | `GET /results.csv?period=`, `GET /results.json?period=` | anyone | the same to download (`results-2026.csv`, UTF-8 with a byte order mark; the [`ResultsView`](backend::ResultsView) as JSON); `404` on a member's node |
//! | `GET /province/subsidy?period=&budget=` | province admins | shares a budget in yuan (`1,000,000.50`) out by the results, with the rule; a `GET` form since it only computes (no CSRF token); bad input is `422` and nothing is computed |
//! | `GET /province/compliance` | province admins | instruments networked late, not networked, or beyond the known official calendar (R7), by institution |
//! | `GET /province/monitoring` | province admins | the live monitoring board: alerts first (instruments open for booking that are silent or faulty), then every monitored instrument; refreshes itself; `404` on a member's node |
//! | `GET /api/v1/results?period=` | anyone | [`ResultsView`](backend::ResultsView) |
//! | `GET /api/v1/log/entries?from=&limit=` | anyone | a page of the province's receipt log with its signed tree head ([`LogPage`](backend::LogPage)) |
//! | `GET /api/v1/province/subsidy?period=&budget_fen=` | province admins | [`AllocationView`](backend::AllocationView)s adding up to the budget |
//! | `GET /api/v1/province/compliance` | province admins | [`ComplianceRow`](backend::ComplianceRow)s |
//! | `GET /api/v1/province/monitoring` | province admins | [`BoardView`](backend::BoardView); `404` on a member's node |
//! | `GET /static/…`, `/manifest.webmanifest`, `/sw.js` | anyone | embedded assets |
//!
//! API errors are `{"error": {"code", "message", "field"?}}` with 400 / 401 / 403 / 404 /
//! 409 / 429 / 500, 503 `busy` (with `Retry-After`) when too many password checks are
//! already queued, and 503 `unreachable` when an instrument's owner cannot be reached (a refusal
//! by the owner is 409 with the owner's code, e.g. `too_late`; results asked of a member's
//! node are 404 `not_found`, saying the province's node publishes them). A POST, PUT or DELETE made with a live session needs the session's CSRF token
//! (`X-CSRF-Token` header for the API, a hidden `csrf` field in forms; an instrument
//! agent's report carries its instrument's bearer token instead and needs none); the anonymous
//! sign-in and registration forms use a double-submit `csrf` cookie. State-changing requests
//! whose `Origin` is another site are refused. Every response carries a strict
//! Content-Security-Policy and the usual security headers.
//!
//! # Layout
//!
//! - `backend/` — the [`Backend`] trait and the view types it speaks in.
//! - `i18n/` — `Lang` (zh-CN default, en), every UI string, the `lang` choice.
//! - `auth.rs` — session lookup per request, CSRF tokens, who may manage which role.
//! - `client.rs` — the client's address (`ClientAddr`), behind trusted reverse proxies.
//! - `throttle.rs` — failed sign-ins counted per account and per address, growing lock-out.
//! - `rate.rs` — a keyed rate limit (registrations per client address).
//! - `expensive.rs` — answers that cost real work (results, searches by free time): a
//!   limit per client address, and an `ETag` on the downloads.
//! - `cookies.rs` — reading `Cookie`, building `Set-Cookie`.
//! - `security.rs` — security headers, same-origin check.
//! - `validate.rs` — field checks of registrations and new accounts.
//! - `booking_input.rs` — the booking form as typed and its checks.
//! - `instrument_input.rs` — an instrument record as typed (entry form and import rows)
//!   and its checks.
//! - `search_query.rs` — the catalogue search as typed in the query string (API and page).
//! - `uploads.rs` — spreadsheets kept in memory between an import's preview and its
//!   confirmation.
//! - `rules_input.rs` — an instrument's booking rules form as typed and its checks.
//! - `receipt_input.rs` — the facts of a use, a walk-in session and a receipt's rating as
//!   typed, and their checks.
//! - `publication_input.rs` — a publication as typed (kind, title, authors, DOI or
//!   number, acknowledgement, instruments, date) and its checks.
//! - `results_input.rs` — the period of the province's results and a subsidy budget as
//!   typed, and their checks.
//! - `alarm.rs` — the province's-log alarm every page shows while the node holds evidence.
//! - `actions.rs` — account actions shared by the API and the pages.
//! - `time.rs` — times shown in, and read from forms as, Asia/Shanghai.
//! - `links.rs`, `downloads.rs` — percent-encoded links and attachments, shared by pages
//!   and the API.
//! - `render.rs` — the one `IntoResponse` wrapper for templates.
//! - `api/` — the `/api/v1` JSON routes and their error mapping.
//! - `pages/` — the server-rendered pages, one file per page.
//! - `assets.rs` — embedded static files; `templates/` (askama) and `static/` beside `src/`.
//! - `fuzzing` — the properties the form and query fuzz targets check (testing support).

mod actions;
mod alarm;
mod api;
mod assets;
mod auth;
pub mod backend;
mod booking_input;
mod charts;
mod client;
mod cookies;
mod downloads;
mod event_input;
mod expensive;
mod i18n;
pub mod instrument_input;
mod links;
mod pages;
mod publication_input;
mod rate;
mod receipt_input;
mod render;
mod results_input;
mod rules_input;
mod search_query;
mod security;
mod throttle;
mod time;
mod uploads;
pub mod validate;

use std::{net::IpAddr, sync::Arc, time::Duration};

use axum::{Router, middleware, routing::get};

pub use crate::{backend::Backend, client::client_bucket};

/// The properties the fuzz targets in `fuzz/` check of the form and query parsers: not an
/// API, and free to change with them.
#[doc(hidden)]
pub mod fuzzing;

/// How the node serves the web layer.
#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// Mark cookies `Secure` and send `Strict-Transport-Security`. Set it whenever the UI is
    /// reached over HTTPS; leave it off only for plain-HTTP loopback use.
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client. Requests from any other
    /// peer are counted under the peer's own address.
    pub trusted_proxies: Vec<IpAddr>,
    /// Sign-in lock-out and registration limits.
    pub sign_in: SignInOptions,
    /// Expensive anonymous answers (results, searches by free time) one client address may
    /// ask for a minute; `None` takes the default of 60.
    pub expensive_per_minute: Option<u32>,
}

/// Expensive answers a client address may ask for a minute unless configured.
pub const DEFAULT_EXPENSIVE_PER_MINUTE: u32 = 60;

/// Limits on guessing passwords and on anonymous registrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInOptions {
    /// Failed sign-ins in a row that lock an account name (whether or not it exists).
    pub account_lockout_after: u32,
    /// Failed sign-ins that lock a client address (IPv6: its /64), whatever the names.
    pub address_lockout_after: u32,
    /// The first lock; each further failure doubles it.
    pub lockout_base: Duration,
    /// The longest lock.
    pub lockout_max: Duration,
    /// Registrations a client address may send per `registration_period`.
    pub registrations_per_address: u32,
    pub registration_period: Duration,
    /// How long a locked-out attempt is held before its `429` leaves (never longer than
    /// the lock itself): a guesser looping on the cheap refusal then costs the node a
    /// sleeping task instead of a turn of the runtime per answer.
    pub locked_answer_delay: Duration,
}

impl Default for SignInOptions {
    fn default() -> Self {
        SignInOptions {
            account_lockout_after: 5,
            address_lockout_after: 20,
            lockout_base: Duration::from_secs(60),
            lockout_max: Duration::from_secs(3600),
            registrations_per_address: 5,
            registration_period: Duration::from_secs(3600),
            locked_answer_delay: Duration::from_secs(1),
        }
    }
}

/// Failure counts are forgotten after this long without an attempt.
const THROTTLE_FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Most accounts, and most addresses, a limit remembers at once.
const LIMIT_MAX_KEYS: usize = 100_000;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState<B> {
    pub backend: B,
    pub options: WebOptions,
    /// Spreadsheets checked and waiting for the user to confirm the import.
    pub uploads: uploads::Uploads,
    /// Failed password checks per account name and per client address.
    pub sign_in: throttle::SignInThrottle,
    /// Registrations per client address.
    pub registrations: rate::RateLimit<IpAddr>,
    /// Expensive answers per client address.
    pub expensive: rate::RateLimit<IpAddr>,
    /// The OpenAPI document of `/api/v1`.
    pub api_doc: Arc<api::openapi::ApiDocument>,
}

fn sign_in_throttle(options: &SignInOptions) -> throttle::SignInThrottle {
    let policy = |after| throttle::Policy {
        after,
        base: options.lockout_base,
        max: options.lockout_max.max(options.lockout_base),
        forget_after: THROTTLE_FORGET_AFTER,
        max_keys: LIMIT_MAX_KEYS,
    };
    throttle::SignInThrottle::new(throttle::SignInPolicy {
        account: policy(options.account_lockout_after),
        address: policy(options.address_lockout_after),
        locked_answer_delay: options.locked_answer_delay,
    })
}

/// `GET /healthz`: `ok`, or 503 with what is wrong, one line each, for a load balancer or
/// a supervisor to act on.
async fn health<B: Backend>(
    axum::extract::State(state): axum::extract::State<AppState<B>>,
) -> axum::response::Response {
    use axum::{http::StatusCode, response::IntoResponse};
    let problems = state.backend.health_problems().await;
    if problems.is_empty() {
        return "ok".into_response();
    }
    let text = format!("unhealthy\n{}\n", problems.join("\n"));
    (StatusCode::SERVICE_UNAVAILABLE, text).into_response()
}

/// Every HTTP route of a node: pages, JSON API, static assets. Serve it with
/// `axum::serve` and `into_make_service_with_connect_info::<SocketAddr>()` (limits per
/// client need the peer's address); merge other routers (without their own fallback) into
/// it if needed.
pub fn router<B: Backend>(backend: B, options: WebOptions) -> Router {
    let registrations = rate::RateLimit::new(
        rate::Rate {
            burst: options.sign_in.registrations_per_address,
            period: options.sign_in.registration_period,
        },
        LIMIT_MAX_KEYS,
    );
    let expensive = rate::RateLimit::new(
        rate::Rate {
            burst: options
                .expensive_per_minute
                .unwrap_or(DEFAULT_EXPENSIVE_PER_MINUTE)
                .max(1),
            period: Duration::from_secs(60),
        },
        LIMIT_MAX_KEYS,
    );
    let (api_routes, api_doc) = api::routes::<B>();
    let state = AppState {
        backend,
        api_doc: Arc::new(api::openapi::ApiDocument::new(api_doc)),
        sign_in: sign_in_throttle(&options.sign_in),
        registrations,
        expensive,
        options,
        uploads: uploads::Uploads::default(),
    };
    let dynamic = Router::new()
        .merge(api_routes)
        .merge(pages::routes::<B>())
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            expensive::limit::<B>,
        ))
        .layer(middleware::from_fn(security::same_origin))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::resolve_session::<B>,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            i18n::negotiate::<B>,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            alarm::watch::<B>,
        ));
    Router::new()
        .route("/healthz", get(health::<B>))
        .merge(assets::routes())
        .merge(dynamic)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::headers::<B>,
        ))
        .with_state(state)
}
