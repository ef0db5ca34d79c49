//! Reading the `Cookie` header and building the `Set-Cookie` headers this crate sends.
//!
//! Every cookie is `Path=/` and `HttpOnly` (no script reads any of them); the session and
//! language cookies are `SameSite=Lax` so a link from elsewhere still finds the visitor
//! signed in, the anonymous form token is `SameSite=Strict`. `Secure` follows
//! [`WebOptions::secure_cookies`](crate::WebOptions).

use axum::http::{HeaderMap, HeaderValue, header::COOKIE};

/// The session cookie: the bearer token of a [`Session`](crate::backend::Session).
pub(crate) const SESSION: &str = "alliance_session";
/// The double-submit token of anonymous forms (sign-in, registration).
pub(crate) const FORM_CSRF: &str = "csrf";
/// The chosen UI language.
pub(crate) const LANG: &str = "lang";

/// How long the language choice is remembered.
const LANG_MAX_AGE_SECS: i64 = 365 * 24 * 3600;
/// How long an anonymous form token lives.
const FORM_CSRF_MAX_AGE_SECS: i64 = 2 * 3600;

/// The value of the first cookie called `name`, if any.
pub(crate) fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

#[derive(Debug, Clone, Copy)]
enum SameSite {
    Lax,
    Strict,
}

fn build(name: &str, value: &str, max_age: i64, same_site: SameSite, secure: bool) -> HeaderValue {
    let same_site = match same_site {
        SameSite::Lax => "Lax",
        SameSite::Strict => "Strict",
    };
    let mut cookie =
        format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}");
    if secure {
        cookie.push_str("; Secure");
    }
    // Values are hex tokens or fixed words; anything else is refused rather than sent.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| {
        tracing::error!(name, "refusing to send a cookie with an invalid value");
        HeaderValue::from_static("invalid=; Path=/; Max-Age=0")
    })
}

/// Sets the session cookie for `max_age` seconds.
pub(crate) fn session(token: &str, max_age: i64, secure: bool) -> HeaderValue {
    build(SESSION, token, max_age.max(0), SameSite::Lax, secure)
}

/// Removes the session cookie.
pub(crate) fn clear_session(secure: bool) -> HeaderValue {
    build(SESSION, "", 0, SameSite::Lax, secure)
}

/// Sets the anonymous form token.
pub(crate) fn form_csrf(token: &str, secure: bool) -> HeaderValue {
    build(
        FORM_CSRF,
        token,
        FORM_CSRF_MAX_AGE_SECS,
        SameSite::Strict,
        secure,
    )
}

/// Remembers the UI language (`zh` or `en`).
pub(crate) fn lang(code: &'static str, secure: bool) -> HeaderValue {
    build(LANG, code, LANG_MAX_AGE_SECS, SameSite::Lax, secure)
}

/// Whether a response already sets the cookie `name`.
pub(crate) fn is_set(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split_once('=').is_some_and(|(key, _)| key == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; lang=en"));
        headers.append(COOKIE, HeaderValue::from_static("alliance_session=abc"));
        assert_eq!(get(&headers, "lang").as_deref(), Some("en"));
        assert_eq!(get(&headers, SESSION).as_deref(), Some("abc"));
        assert_eq!(get(&headers, "csrf"), None);
    }

    #[test]
    fn session_cookie_has_the_security_attributes() {
        let plain = session("ab", 60, false);
        let plain = plain.to_str().unwrap();
        assert!(plain.starts_with("alliance_session=ab;"));
        for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=60"] {
            assert!(plain.contains(part), "{plain}");
        }
        assert!(!plain.contains("Secure"));
        assert!(
            session("ab", 60, true)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
