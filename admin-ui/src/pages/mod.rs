//! The server-rendered pages: status, sign-in, registration, account administration, the
//! catalogue, booking and the signed-in user's own pages. Plain HTML forms; a little
//! optional JavaScript.
//!
//! Every page gets a [`Ctx`] (language, strings and session) and builds its template with
//! [`Ctx::layout`]. Pages that need a signed-in user redirect to `/login?next=…`; a wrong
//! role gets a 403 page. Every form carries a CSRF token: the session's own for signed-in
//! users, the anonymous double-submit token for sign-in and registration.

mod accounts;
mod api_docs;
mod board;
mod book;
mod booking_form;
mod bookings;
mod complete;
mod compliance;
mod feeds;
mod guide;
mod import;
mod instruments;
mod issued;
mod labels;
mod login;
mod manage;
mod me;
mod monitoring;
mod overview;
mod own;
mod publications;
mod receipt_view;
mod receipts;
mod register;
mod results;
mod reviews;
mod rules;
mod sessions;
mod status;
mod subsidy;
mod trainings;

use std::convert::Infallible;

pub(crate) use import::MAX_UPLOAD_BYTES;

use askama::Template;
use axum::{
    Form, Router,
    extract::{FromRequest, FromRequestParts, Request},
    http::{Extensions, HeaderMap, StatusCode, Uri, header::SET_COOKIE, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::de::DeserializeOwned;

use crate::{
    AppState,
    alarm::LogAlarm,
    auth::{self, Visitor},
    backend::{AccountRole, Backend, Session},
    cookies,
    i18n::{Lang, Strings},
    render::Page,
    validate::FieldError,
};

/// The page routes.
pub(crate) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/", get(status::page::<B>))
        .route("/login", get(login::form::<B>).post(login::submit::<B>))
        .route("/logout", post(login::logout::<B>))
        .route(
            "/register",
            get(register::form::<B>).post(register::submit::<B>),
        )
        .route("/me", get(me::page))
        .route("/me/password", post(me::change_password::<B>))
        .route("/instruments", get(instruments::search::<B>))
        .route(
            "/instruments/{institution}/{local_id}",
            get(instruments::detail::<B>),
        )
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
            "/receipts/{owner}/{receipt_id}/confirm",
            post(receipts::confirm::<B>),
        )
        .route(
            "/publications",
            get(publications::page::<B>).post(publications::register::<B>),
        )
        .route("/feeds/{file}", get(feeds::user::<B>))
        .route("/feeds/instruments/{file}", get(feeds::instrument::<B>))
        .route("/guide", get(guide::page::<B>))
        .route("/api/docs", get(api_docs::page::<B>))
        .route(
            "/admin/instruments",
            get(own::list::<B>).post(own::create::<B>),
        )
        .route("/admin/instruments/new", get(own::new::<B>))
        .route(
            "/admin/instruments/import",
            get(import::form)
                .post(import::check::<B>)
                .layer(axum::extract::DefaultBodyLimit::max(
                    import::MAX_UPLOAD_BYTES + 64 * 1024,
                )),
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
        .route("/results", get(results::page::<B>))
        .route("/results.csv", get(results::csv::<B>))
        .route("/results.json", get(results::json::<B>))
        .route("/province/subsidy", get(subsidy::page::<B>))
        .route("/province/compliance", get(compliance::page::<B>))
        .route("/province/monitoring", get(board::page::<B>))
        .route("/admin/instruments/export", get(own::export::<B>))
        .route("/admin/instruments/{local_id}", post(own::update::<B>))
        .route("/admin/instruments/{local_id}/edit", get(own::edit::<B>))
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

/// What every page handler knows about its request.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub lang: Lang,
    pub t: &'static Strings,
    pub session: Option<Session>,
    /// Whether the node holds evidence of an inconsistent province log (banner).
    pub log_alarm: bool,
    /// Path and query of the request, for the language switch and `next=`.
    uri: Uri,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Ctx::new(&parts.extensions, parts.uri.clone()))
    }
}

/// Which error page to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    BadRequest,
    Csrf,
    Forbidden,
    NotFound,
    AccountNotFound,
    Internal,
}

/// The page chrome: language, navigation, the signed-in user.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub lang_tag: &'static str,
    pub switch_href: String,
    pub switch_lang_tag: &'static str,
    pub user: Option<NavUser>,
    /// Which navigation entry is the current page (`status`, `accounts`, `me`, `login`,
    /// `register`, `search`, `bookings`, `receipts`, `publications`, `manage`, `guide`…, or
    /// empty).
    pub current: &'static str,
    /// Appended to asset URLs so a new release is fetched at once.
    pub version: &'static str,
    /// Show the province's-log alarm banner (to everyone, whatever their role).
    pub log_alarm: bool,
}

/// The signed-in user as the navigation shows them.
#[derive(Debug, Clone)]
pub(crate) struct NavUser {
    pub display_name: String,
    pub is_admin: bool,
    /// Manages this institution's catalogue.
    pub is_institution_admin: bool,
    /// Reviews records (province node).
    pub is_province_admin: bool,
    /// Decides on bookings of this institution's instruments.
    pub manages_bookings: bool,
    /// For the sign-out form.
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    t: &'static Strings,
    title: &'static str,
    message: &'static str,
}

impl Ctx {
    /// The context of a request whose extensions went through the crate's middleware.
    pub(crate) fn new(extensions: &Extensions, uri: Uri) -> Self {
        let lang = extensions.get::<Lang>().copied().unwrap_or_default();
        let session = extensions.get::<Visitor>().and_then(|v| v.session.clone());
        let log_alarm = extensions.get::<LogAlarm>().is_some_and(|a| a.0);
        Ctx {
            lang,
            t: lang.strings(),
            session,
            log_alarm,
            uri,
        }
    }

    /// The chrome of a page whose navigation entry is `current`.
    pub(crate) fn layout(&self, current: &'static str) -> Layout {
        let other = self.lang.other();
        Layout {
            lang_tag: self.lang.tag(),
            switch_href: switch_href(&self.uri, other),
            switch_lang_tag: other.tag(),
            user: self.session.as_ref().map(|s| NavUser {
                display_name: if s.account.display_name.is_empty() {
                    s.account.username.clone()
                } else {
                    s.account.display_name.clone()
                },
                is_admin: s.account.role.is_admin(),
                is_institution_admin: s.account.role == AccountRole::InstitutionAdmin,
                is_province_admin: s.account.role == AccountRole::ProvinceAdmin,
                manages_bookings: auth::decides_bookings(s.account.role),
                csrf: s.csrf_token.clone(),
            }),
            current,
            version: env!("CARGO_PKG_VERSION"),
            log_alarm: self.log_alarm,
        }
    }

    /// The signed-in session, or a redirect to the sign-in page that comes back here.
    pub(crate) fn signed_in(&self) -> Result<&Session, Refusal> {
        self.session
            .as_ref()
            .ok_or_else(|| Refusal::from(login_redirect(&self.uri)))
    }

    /// A link to the sign-in page that comes back here.
    pub(crate) fn login_href(&self) -> String {
        login_href(&self.uri)
    }

    /// The session of a signed-in administrator; a redirect or a 403 page otherwise.
    pub(crate) fn admin(&self) -> Result<&Session, Refusal> {
        let session = self.signed_in()?;
        if session.account.role.is_admin() {
            Ok(session)
        } else {
            Err(self.refuse(ErrorKind::Forbidden))
        }
    }

    /// The session of a signed-in user with `role`; a redirect or a 403 page otherwise.
    pub(crate) fn with_role(&self, role: AccountRole) -> Result<&Session, Refusal> {
        let session = self.signed_in()?;
        if session.account.role == role {
            Ok(session)
        } else {
            Err(self.refuse(ErrorKind::Forbidden))
        }
    }

    /// The session of a signed-in user with one of `roles`; a redirect or a 403 page
    /// otherwise.
    pub(crate) fn with_any_role(&self, roles: &[AccountRole]) -> Result<&Session, Refusal> {
        let session = self.signed_in()?;
        if roles.contains(&session.account.role) {
            Ok(session)
        } else {
            Err(self.refuse(ErrorKind::Forbidden))
        }
    }

    /// Checks the CSRF field of a signed-in user's form; a 403 page otherwise.
    pub(crate) fn check_csrf(&self, session: &Session, given: &str) -> Result<(), Refusal> {
        if auth::session_csrf_ok(session, given) {
            Ok(())
        } else {
            tracing::warn!(
                username = %session.account.username,
                path = %self.uri.path(),
                "form without a valid CSRF token refused"
            );
            Err(self.refuse(ErrorKind::Csrf))
        }
    }

    /// An error page that ends a handler early.
    pub(crate) fn refuse(&self, kind: ErrorKind) -> Refusal {
        Refusal::from(self.error(kind))
    }

    /// An error page.
    pub(crate) fn error(&self, kind: ErrorKind) -> Response {
        let t = self.t;
        let (status, title, message) = match kind {
            ErrorKind::BadRequest => (
                StatusCode::BAD_REQUEST,
                t.error_bad_request_title,
                t.error_bad_request,
            ),
            ErrorKind::Csrf => (StatusCode::FORBIDDEN, t.error_csrf_title, t.error_csrf),
            ErrorKind::Forbidden => (
                StatusCode::FORBIDDEN,
                t.error_forbidden_title,
                t.error_forbidden,
            ),
            ErrorKind::NotFound => (
                StatusCode::NOT_FOUND,
                t.error_not_found_title,
                t.error_not_found,
            ),
            ErrorKind::AccountNotFound => (
                StatusCode::NOT_FOUND,
                t.error_not_found_title,
                t.error_account_not_found,
            ),
            ErrorKind::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                t.error_internal_title,
                t.error_internal,
            ),
        };
        let page = ErrorPage {
            layout: self.layout(""),
            t,
            title,
            message,
        };
        Page::with_status(status, page).into_response()
    }
}

/// An answer that ends a page handler early: a redirect to the sign-in page or an error
/// page. Handlers return `Result<Response, Refusal>` and use `?`.
#[derive(Debug)]
pub(crate) struct Refusal(Box<Response>);

impl From<Response> for Refusal {
    fn from(response: Response) -> Self {
        Refusal(Box::new(response))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The fallback: a JSON 404 under `/api/`, a 404 page elsewhere.
pub(crate) async fn not_found(ctx: Ctx) -> Response {
    if ctx.uri.path().starts_with("/api/") {
        crate::api::ApiError::NotFound.into_response()
    } else {
        ctx.error(ErrorKind::NotFound)
    }
}

/// A URL-encoded form body whose rejection is a 400 page. Fields a handler must check
/// itself (like `csrf`) should be `#[serde(default)]` so their absence reaches it.
#[derive(Debug)]
pub(crate) struct PageForm<T>(pub T);

impl<S, T> FromRequest<S> for PageForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::new(request.extensions(), request.uri().clone());
        match Form::<T>::from_request(request, state).await {
            Ok(Form(value)) => Ok(PageForm(value)),
            Err(rejection) => {
                tracing::debug!(error = %rejection.body_text(), "unreadable form");
                Err(ctx.error(ErrorKind::BadRequest))
            }
        }
    }
}

/// Renders a page holding an anonymous form (sign-in, registration): `page` gets the
/// double-submit token of the `csrf` cookie, or a new one, which is then set as the cookie.
pub(crate) fn with_anonymous_token(
    headers: &HeaderMap,
    secure: bool,
    page: impl FnOnce(String) -> Response,
) -> Response {
    let (token, is_new) = auth::anonymous_csrf(headers);
    let cookie = is_new.then(|| cookies::form_csrf(&token, secure));
    let mut response = page(token);
    if let Some(cookie) = cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// The problems of a submitted form, looked up by field name in the templates.
#[derive(Debug, Clone)]
pub(crate) struct FormErrors {
    t: &'static Strings,
    list: Vec<FieldError>,
}

impl FormErrors {
    pub(crate) fn none(t: &'static Strings) -> Self {
        FormErrors {
            t,
            list: Vec::new(),
        }
    }

    pub(crate) fn new(t: &'static Strings, list: Vec<FieldError>) -> Self {
        FormErrors { t, list }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The status of a form page shown again: a refusal's own status, else 422 if a field
    /// has a problem, else 200.
    pub(crate) fn status(&self, refusal: Option<StatusCode>) -> StatusCode {
        match refusal {
            Some(status) => status,
            None if self.is_empty() => StatusCode::OK,
            None => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// Whether `field` has a problem.
    pub(crate) fn has(&self, field: &str) -> bool {
        self.list.iter().any(|e| e.field == field)
    }

    /// The message for `field`, if it has a problem.
    pub(crate) fn get(&self, field: &str) -> Option<String> {
        self.list
            .iter()
            .find(|e| e.field == field)
            .map(|e| self.t.problem(&e.problem))
    }

    /// Problems of fields the form does not show (reported by the node).
    pub(crate) fn other(&self, shown: &[&str]) -> Vec<String> {
        self.list
            .iter()
            .filter(|e| !shown.contains(&e.field.as_str()))
            .map(|e| self.t.problem(&e.problem))
            .collect()
    }
}

/// `303 See Other` to the sign-in page, coming back to `uri` afterwards.
fn login_redirect(uri: &Uri) -> Response {
    Redirect::to(&login_href(uri)).into_response()
}

/// The sign-in page, coming back to `uri` afterwards.
fn login_href(uri: &Uri) -> String {
    let back = uri.path_and_query().map_or("/", |pq| pq.as_str());
    format!("/login?next={}", encode_component(back))
}

/// `next` if it is a path on this site (no scheme, no `//host`), else `None`.
pub(crate) fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(next)
}

/// Percent-encodes everything but unreserved characters and `/`.
pub(crate) fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The current path with its query, `lang` replaced by `to`.
fn switch_href(uri: &Uri, to: Lang) -> String {
    let mut pairs: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("lang="))
        .collect();
    let lang = format!("lang={}", to.code());
    pairs.push(&lang);
    format!("{}?{}", uri.path(), pairs.join("&"))
}

/// The URL of the state form of an account.
pub(crate) fn state_url(username: &str) -> String {
    format!("/admin/accounts/{}/state", encode_component(username))
}

/// The URL of the password reset form of an account.
pub(crate) fn password_url(username: &str) -> String {
    format!("/admin/accounts/{}/password", encode_component(username))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(safe_next("/admin/accounts"), Some("/admin/accounts"));
        assert_eq!(safe_next("//evil.example/"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next("https://evil.example/"), None);
        assert_eq!(safe_next(""), None);
    }

    #[test]
    fn login_redirect_keeps_the_query() {
        let response = login_redirect(&Uri::from_static("/admin/accounts?notice=created"));
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()["location"],
            "/login?next=/admin/accounts%3Fnotice%3Dcreated"
        );
    }

    #[test]
    fn language_switch_keeps_other_parameters() {
        let uri = Uri::from_static("/login?next=%2Fme&lang=zh");
        assert_eq!(switch_href(&uri, Lang::En), "/login?next=%2Fme&lang=en");
        assert_eq!(switch_href(&Uri::from_static("/"), Lang::Zh), "/?lang=zh");
    }
}
