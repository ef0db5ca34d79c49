//! The one way a template becomes a response.

use askama::Template;
use axum::{
    http::{StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};

/// A rendered HTML page with a status code. A template that fails to render is logged and
/// answered with a plain 500, never with half a page.
#[derive(Debug)]
pub(crate) struct Page<T> {
    status: StatusCode,
    template: T,
}

impl<T: Template> Page<T> {
    /// A page answered with `200 OK`.
    pub(crate) fn ok(template: T) -> Self {
        Page::with_status(StatusCode::OK, template)
    }

    /// A page answered with `status`.
    pub(crate) fn with_status(status: StatusCode, template: T) -> Self {
        Page { status, template }
    }
}

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        match self.template.render() {
            Ok(html) => (
                self.status,
                [(CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "template rendering failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "internal server error",
                )
                    .into_response()
            }
        }
    }
}
