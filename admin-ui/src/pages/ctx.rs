//! [`Ctx`]: what every page handler knows about its request (language, strings, session,
//! the log alarm), and the page chrome and error pages built from it.

use std::convert::Infallible;

use askama::Template;
use axum::{
    extract::FromRequestParts,
    http::{Extensions, StatusCode, Uri, request::Parts},
    response::{IntoResponse, Response},
};

use crate::{
    alarm::LogAlarm,
    auth::{self, Visitor},
    backend::{AccountRole, Session},
    i18n::{Lang, Strings},
    render::Page,
};

use super::toolkit::{Refusal, login_href, login_redirect, switch_href};

/// What every page handler knows about its request.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub lang: Lang,
    pub t: &'static Strings,
    pub session: Option<Session>,
    /// Whether the node holds evidence of an inconsistent province log (banner).
    pub log_alarm: bool,
    /// A stale log, or certificates of this institution for other keys (banners).
    pub warnings: crate::backend::TrustWarnings,
    /// Path and query of the request, for the language switch and `next=`.
    pub(super) uri: Uri,
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
    /// Minutes the province's log has been stale, if it is (banner).
    pub log_stale_minutes: Option<u64>,
    /// Show the banner of certificates of this institution for other keys.
    pub impostors: bool,
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
        let alarm = extensions.get::<LogAlarm>().copied().unwrap_or_default();
        Ctx {
            lang,
            t: lang.strings(),
            session,
            log_alarm: alarm.0,
            warnings: alarm.1,
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
            log_stale_minutes: self.warnings.log_stale_minutes,
            impostors: self.warnings.impostors > 0,
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
