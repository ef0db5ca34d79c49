//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! attributes and the types' `ToSchema` derives as the routes are built, so a routed
//! handler is documented by construction. Served at `GET /api/v1/openapi.json` and shown
//! on the `/api/docs` page.

use axum::{
    extract::State,
    handler::Handler,
    http::header::CONTENT_TYPE,
    response::{IntoResponse, Response},
    routing::MethodRouter,
};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, RefOr,
        path::{Operation, ParameterIn, Paths},
        response::{Response as DocResponse, ResponseBuilder},
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};
use utoipa_axum::{PathItemExt, router::UtoipaMethodRouter};

use super::error::ErrorBody;
use crate::{AppState, backend::Backend, cookies};

/// Security scheme of the session cookie set by `POST /api/v1/session`.
pub(crate) const SESSION_AUTH: &str = "session";
/// Security scheme of the session's CSRF token, which state-changing calls echo.
pub(crate) const CSRF_AUTH: &str = "csrf";
/// Security scheme of an instrument agent's token.
pub(crate) const AGENT_AUTH: &str = "agent_token";

/// The document's fixed parts; the paths are added as the routes are built.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Instrument sharing alliance node API",
        description = "The JSON API of an alliance node. Sign in with `POST /api/v1/session`: \
            the answer sets the session cookie and carries the session's `csrf_token`, which \
            every POST, PUT and DELETE made with that session sends back in the `X-CSRF-Token` \
            header. Errors are `{\"error\": {\"code\", \"message\", \"field\"?, \"fields\"?}}`; \
            messages are English.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes)
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION_AUTH,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                cookies::SESSION,
                "The session cookie set by `POST /api/v1/session`.",
            ))),
        );
        components.add_security_scheme(
            CSRF_AUTH,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The `csrf_token` of the session, on every state-changing call made with it.",
            ))),
        );
        components.add_security_scheme(
            AGENT_AUTH,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The instrument's agent token, issued by its manager."))
                    .build(),
            ),
        );
    }
}

/// The document, and its JSON as served.
pub(crate) struct ApiDocument {
    pub doc: openapi::OpenApi,
    pub json: String,
}

impl std::fmt::Debug for ApiDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiDocument")
            .field("paths", &self.doc.paths.paths.len())
            .field("json_bytes", &self.json.len())
            .finish()
    }
}

impl ApiDocument {
    pub(crate) fn new(mut doc: openapi::OpenApi) -> Self {
        add_common_errors(&mut doc);
        // Serializing a document of plain maps and strings cannot fail.
        let json = serde_json::to_string(&doc).unwrap_or_default();
        ApiDocument { doc, json }
    }
}

/// An empty router that collects the documented routes.
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> utoipa_axum::router::OpenApiRouter<S> {
    utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
}

/// What `utoipa_axum::routes!` makes of one handler, for handlers generic over the
/// backend (the macro takes no turbofish): `P` is the handler's `#[utoipa::path]` marker.
pub(crate) fn method_router<P, H, T, S>(handler: H) -> UtoipaMethodRouter<S>
where
    P: utoipa::Path + utoipa::__dev::SchemaReferences,
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    let mut schemas = Vec::new();
    P::schemas(&mut schemas);
    let methods = P::methods();
    let router = methods.iter().fold(MethodRouter::new(), |router, method| {
        router.on(method.to_method_filter(), handler.clone())
    });
    let mut paths = Paths::new();
    paths.add_path_operation(P::path(), methods, P::operation());
    (schemas, paths, router)
}

/// `module::handler` routed (for backend `B` if it is generic) and documented by its
/// `#[utoipa::path]`.
macro_rules! documented {
    ($module:ident :: $handler:ident) => {
        utoipa_axum::paste! {
            $crate::api::openapi::method_router::<$module::[<__path_ $handler>], _, _, _>(
                $module::$handler,
            )
        }
    };
    ($B:ident, $module:ident :: $handler:ident) => {
        utoipa_axum::paste! {
            $crate::api::openapi::method_router::<$module::[<__path_ $handler>], _, _, _>(
                $module::$handler::<$B>,
            )
        }
    };
    ($B:ident, $handler:ident) => {
        utoipa_axum::paste! {
            $crate::api::openapi::method_router::<[<__path_ $handler>], _, _, _>($handler::<$B>)
        }
    };
}
pub(crate) use documented;

/// `GET /api/v1/openapi.json`: this document (public).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of `/api/v1`.", content_type = "application/json", body = Object))
)]
pub(crate) async fn document<B: Backend>(State(state): State<AppState<B>>) -> Response {
    (
        [(CONTENT_TYPE, "application/json")],
        state.api_doc.json.clone(),
    )
        .into_response()
}

/// Answers every route may give besides its own, added to each operation so the handlers'
/// attributes list only what is particular to them.
fn add_common_errors(doc: &mut openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            (false, item.get.as_mut()),
            (true, item.post.as_mut()),
            (true, item.put.as_mut()),
            (true, item.delete.as_mut()),
            (true, item.patch.as_mut()),
        ];
        for (unsafe_method, operation) in operations {
            if let Some(operation) = operation {
                add_errors(operation, unsafe_method);
            }
        }
    }
}

fn add_errors(operation: &mut Operation, unsafe_method: bool) {
    // The schemes of each alternative way to authorize; an empty one means "or none".
    let alternatives: Vec<Vec<String>> = operation
        .security
        .iter()
        .flatten()
        .map(|requirement| {
            serde_json::to_value(requirement)
                .ok()
                .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect()))
                .unwrap_or_default()
        })
        .collect();
    let uses = |scheme: &str| alternatives.iter().flatten().any(|s| s == scheme);
    let public = alternatives.is_empty() || alternatives.iter().any(Vec::is_empty);
    let (with_session, with_agent) = (uses(SESSION_AUTH), uses(AGENT_AUTH));
    let parameters: Vec<&openapi::path::Parameter> = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(parameter) => Some(parameter),
            RefOr::Ref(_) => None,
        })
        .collect();
    let in_path = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let json_body = matches!(&operation.request_body, Some(RefOr::T(body))
        if body.content.contains_key("application/json"));
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(description)));
    };
    if json_body {
        add(
            "400",
            "`bad_request`: the body is not JSON; or `invalid`: fields with problems \
             (`fields` lists each).",
        );
        add("413", "`bad_request`: the body is too large.");
        add("415", "`bad_request`: the body is not `application/json`.");
        add(
            "422",
            "`bad_request`: the JSON does not have the documented shape.",
        );
    }
    if !parameters.is_empty() {
        add(
            "400",
            "`bad_request`: a path or query parameter could not be read; or `invalid`.",
        );
    }
    if in_path {
        // An empty path segment matches no route.
        add("404", "`not_found`.");
    }
    if with_session && !public {
        add(
            "401",
            "`unauthorized`: not signed in, or the session expired.",
        );
    }
    if unsafe_method {
        let description = if with_agent {
            "`cross_origin`: sent by a page of another origin."
        } else {
            "`csrf`: sent with a session but without its `X-CSRF-Token`; or `cross_origin`: \
             sent by a page of another origin."
        };
        add("403", description);
    }
}

fn error_response(description: &str) -> DocResponse {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            openapi::ContentBuilder::new()
                .schema(Some(openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
