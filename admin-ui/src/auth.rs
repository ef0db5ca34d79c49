//! Who is asking, and may they: the session behind the cookie, CSRF tokens and role rules.
//!
//! [`resolve_session`] looks the session cookie up once per request and leaves a
//! [`Visitor`] in the request's extensions; the API and the pages read it through their own
//! extractors (401 JSON there, a redirect to the sign-in page here). Two kinds of CSRF
//! token exist: a signed-in session's own `csrf_token` (hidden form field or the
//! `X-CSRF-Token` header) and, for the anonymous sign-in and registration forms, a random
//! double-submit token kept in the `csrf` cookie. Both are compared in constant time.

use std::convert::Infallible;

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, Method, header::SET_COOKIE, request::Parts},
    middleware::Next,
    response::Response,
};
use subtle::ConstantTimeEq;

use crate::{
    AppState,
    backend::{AccountRole, Backend, Session},
    cookies,
};

/// Longest cookie token looked up at the backend; longer values are ignored.
const MAX_TOKEN_LEN: usize = 256;

/// The session of the current request, if it carries a live one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Visitor {
    pub session: Option<Session>,
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .unwrap_or_default())
    }
}

/// Resolves the session cookie into a [`Visitor`]; clears a cookie whose session is gone
/// (expired, signed out, or the account disabled).
pub(crate) async fn resolve_session<B: Backend>(
    State(state): State<AppState<B>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = cookies::get(request.headers(), cookies::SESSION)
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_LEN);
    let session = match &token {
        Some(token) => state.backend.session(token).await,
        None => None,
    };
    let stale = token.is_some() && session.is_none();
    request.extensions_mut().insert(Visitor { session });
    let mut response = next.run(request).await;
    if stale && !cookies::is_set(response.headers(), cookies::SESSION) {
        response.headers_mut().append(
            SET_COOKIE,
            cookies::clear_session(state.options.secure_cookies),
        );
    }
    response
}

/// A fresh random token: 32 bytes, hex.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// Whether `given` equals a non-empty `expected`, compared in constant time.
pub(crate) fn tokens_match(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Whether a method changes state (and so needs a CSRF token).
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a signed-in form or API call carries the session's CSRF token.
pub(crate) fn session_csrf_ok(session: &Session, given: &str) -> bool {
    tokens_match(&session.csrf_token, given)
}

/// The anonymous double-submit token of a request: the `csrf` cookie if it holds a
/// well-formed token, else a new one, and whether that new one must be set.
pub(crate) fn anonymous_csrf(headers: &HeaderMap) -> (String, bool) {
    match cookies::get(headers, cookies::FORM_CSRF).filter(|t| well_formed(t)) {
        Some(token) => (token, false),
        None => (random_token(), true),
    }
}

/// Whether an anonymous form echoes the token of its `csrf` cookie.
pub(crate) fn anonymous_csrf_ok(headers: &HeaderMap, given: &str) -> bool {
    cookies::get(headers, cookies::FORM_CSRF)
        .filter(|t| well_formed(t))
        .is_some_and(|cookie| tokens_match(&cookie, given))
}

fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `actor` may create accounts with, or change the state of accounts with, the role
/// `target`: administrators only, and only a province admin handles province admins.
pub(crate) fn may_manage(actor: AccountRole, target: AccountRole) -> bool {
    match actor {
        AccountRole::ProvinceAdmin => true,
        AccountRole::InstitutionAdmin => target != AccountRole::ProvinceAdmin,
        _ => false,
    }
}

/// Roles that decide on the bookings of this institution's instruments.
pub(crate) const BOOKING_MANAGERS: [AccountRole; 2] = [
    AccountRole::InstrumentManager,
    AccountRole::InstitutionAdmin,
];

/// Whether `role` decides on the bookings of this institution's instruments.
pub(crate) fn decides_bookings(role: AccountRole) -> bool {
    role.manages_instruments()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_match_exactly_and_not_be_empty() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
        assert!(!tokens_match("", ""));
    }

    #[test]
    fn random_tokens_are_well_formed_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn only_admins_manage_and_only_province_admins_manage_province_admins() {
        use AccountRole::*;
        assert!(may_manage(ProvinceAdmin, ProvinceAdmin));
        assert!(may_manage(InstitutionAdmin, InstitutionAdmin));
        assert!(may_manage(InstitutionAdmin, ExternalUser));
        assert!(!may_manage(InstitutionAdmin, ProvinceAdmin));
        assert!(!may_manage(InstrumentManager, Researcher));
        assert!(!may_manage(Researcher, Researcher));
    }
}
