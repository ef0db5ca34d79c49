//! What pages share besides [`super::Ctx`]: refusals as responses, the form extractor and
//! its errors, the anonymous CSRF token, and safe links (`next=`, the language switch,
//! account URLs).

use axum::{
    Form,
    extract::{FromRequest, Request},
    http::{HeaderMap, StatusCode, Uri, header::SET_COOKIE},
    response::{IntoResponse, Redirect, Response},
};
use serde::de::DeserializeOwned;

use crate::{
    auth::{self},
    cookies,
    i18n::{Lang, Strings},
    validate::FieldError,
};

use super::ctx::{Ctx, ErrorKind};
use crate::links::encode_component;

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

/// The first value of `name` in a form read as pairs (forms whose checkboxes repeat a
/// name); empty when absent.
pub(crate) fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Every value of `name` in a form read as pairs (the ticked boxes).
pub(crate) fn form_values<'a>(
    pairs: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> {
    pairs
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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
pub(super) fn login_redirect(uri: &Uri) -> Response {
    Redirect::to(&login_href(uri)).into_response()
}

/// The sign-in page, coming back to `uri` afterwards.
pub(super) fn login_href(uri: &Uri) -> String {
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

/// The current path with its query, `lang` replaced by `to`.
pub(super) fn switch_href(uri: &Uri, to: Lang) -> String {
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

/// A multipart form with one file: its other fields, and the file (name and bytes).
#[derive(Debug, Default)]
pub(crate) struct Upload {
    pub fields: Vec<(String, String)>,
    pub file: Option<(String, Vec<u8>)>,
}

impl Upload {
    /// Reads a multipart form whose file is in the field `file`; `None` if it is
    /// unreadable (the body limit of the route bounds its size).
    pub(crate) async fn read(multipart: &mut axum::extract::Multipart) -> Option<Upload> {
        let mut upload = Upload::default();
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    let file_name = field.file_name().unwrap_or_default().to_owned();
                    let bytes = field.bytes().await.ok()?;
                    if name == "file" {
                        upload.file = Some((file_name, bytes.to_vec()));
                    } else {
                        upload
                            .fields
                            .push((name, String::from_utf8_lossy(&bytes).into_owned()));
                    }
                }
                Ok(None) => return Some(upload),
                Err(e) => {
                    tracing::debug!(error = %e, "unreadable upload");
                    return None;
                }
            }
        }
    }

    /// A field's value, or "".
    pub(crate) fn value(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
}
