//! `/api/docs`: the operations of `/api/v1` as a plain page, read from the OpenAPI
//! document the routes were built with (public). Rendered on the server, since the pages'
//! content security policy loads no scripts or styles from elsewhere.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use utoipa::openapi::{
    OpenApi, RefOr, Required,
    content::Content,
    path::{Operation, Parameter, ParameterIn},
};

use super::{Ctx, Layout};
use crate::{
    AppState,
    api::openapi::{AGENT_AUTH, CSRF_AUTH, SESSION_AUTH},
    backend::Backend,
    i18n::Strings,
    render::Page,
};

#[derive(Template)]
#[template(path = "api_docs.html")]
struct ApiDocsPage {
    layout: Layout,
    t: &'static Strings,
    version: String,
    groups: Vec<Group>,
}

/// The operations of one tag.
struct Group {
    tag: String,
    operations: Vec<OperationRow>,
}

struct OperationRow {
    /// `get-api-v1-status`, for links.
    anchor: String,
    method: &'static str,
    path: String,
    summary: String,
    description: String,
    auth: Vec<&'static str>,
    parameters: Vec<ParameterRow>,
    /// `content type: schema`, one per content type.
    body: Vec<String>,
    responses: Vec<ResponseRow>,
}

struct ParameterRow {
    name: String,
    location: &'static str,
    required: bool,
    description: String,
}

struct ResponseRow {
    status: String,
    description: String,
    schema: String,
}

/// `GET /api/docs` (public).
pub(super) async fn page<B: Backend>(State(state): State<AppState<B>>, ctx: Ctx) -> Response {
    let doc = &state.api_doc.doc;
    let page = ApiDocsPage {
        layout: ctx.layout("api_docs"),
        t: ctx.t,
        version: doc.info.version.clone(),
        groups: groups(doc, ctx.t),
    };
    Page::ok(page).into_response()
}

fn groups(doc: &OpenApi, t: &'static Strings) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let tag = operation
                .tags
                .as_ref()
                .and_then(|tags| tags.first().cloned())
                .unwrap_or_default();
            let row = operation_row(method, path, operation, t);
            match groups.iter_mut().find(|g| g.tag == tag) {
                Some(group) => group.operations.push(row),
                None => groups.push(Group {
                    tag,
                    operations: vec![row],
                }),
            }
        }
    }
    groups
}

fn operation_row(
    method: &'static str,
    path: &str,
    operation: &Operation,
    t: &'static Strings,
) -> OperationRow {
    let anchor = format!("{method}{path}")
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    OperationRow {
        anchor,
        method,
        path: path.to_owned(),
        summary: operation.summary.clone().unwrap_or_default(),
        description: operation.description.clone().unwrap_or_default(),
        auth: auth(operation, t),
        parameters: operation
            .parameters
            .iter()
            .flatten()
            .filter_map(|p| match p {
                RefOr::T(parameter) => Some(parameter_row(parameter)),
                RefOr::Ref(_) => None,
            })
            .collect(),
        body: operation
            .request_body
            .iter()
            .flat_map(|body| match body {
                RefOr::T(body) => body.content.iter().collect(),
                RefOr::Ref(_) => Vec::new(),
            })
            .map(|(kind, content)| match content_schema(content) {
                Some(schema) => format!("{kind}: {schema}"),
                None => kind.clone(),
            })
            .collect(),
        responses: operation
            .responses
            .responses
            .iter()
            .map(|(status, response)| match response {
                RefOr::T(response) => ResponseRow {
                    status: status.clone(),
                    description: response.description.clone(),
                    schema: response
                        .content
                        .values()
                        .find_map(content_schema)
                        .unwrap_or_default(),
                },
                RefOr::Ref(reference) => ResponseRow {
                    status: status.clone(),
                    description: reference.ref_location.clone(),
                    schema: String::new(),
                },
            })
            .collect(),
    }
}

/// Who may call: each alternative of the operation's security requirements.
fn auth(operation: &Operation, t: &'static Strings) -> Vec<&'static str> {
    let Some(requirements) = &operation.security else {
        return vec![t.api_docs.auth_public];
    };
    let mut labels = Vec::new();
    for requirement in requirements {
        let names = serde_json::to_value(requirement).unwrap_or_default();
        let names = names
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>());
        let names = names.unwrap_or_default();
        if names.is_empty() {
            labels.push(t.api_docs.auth_public);
        }
        for name in names {
            labels.push(match name.as_str() {
                SESSION_AUTH => t.api_docs.auth_session,
                CSRF_AUTH => t.api_docs.auth_csrf,
                AGENT_AUTH => t.api_docs.auth_agent,
                _ => t.api_docs.auth_public,
            });
        }
    }
    labels.dedup();
    labels
}

fn parameter_row(parameter: &Parameter) -> ParameterRow {
    ParameterRow {
        name: parameter.name.clone(),
        location: match parameter.parameter_in {
            ParameterIn::Path => "path",
            ParameterIn::Query | ParameterIn::QueryString => "query",
            ParameterIn::Header => "header",
            ParameterIn::Cookie => "cookie",
        },
        required: matches!(parameter.required, Required::True),
        description: parameter.description.clone().unwrap_or_default(),
    }
}

fn content_schema(content: &RefOr<Content>) -> Option<String> {
    match content {
        RefOr::T(content) => schema_name(content.schema.as_ref()),
        RefOr::Ref(_) => None,
    }
}

/// The name of a referenced schema, `[Name]` for an array of them, or the plain type.
fn schema_name(schema: Option<&RefOr<utoipa::openapi::Schema>>) -> Option<String> {
    let value = serde_json::to_value(schema?).ok()?;
    let name = |v: &serde_json::Value| {
        v.get("$ref")
            .and_then(|r| r.as_str())
            .and_then(|r| r.rsplit('/').next())
            .map(str::to_owned)
    };
    if let Some(found) = name(&value) {
        return Some(found);
    }
    if let Some(items) = value.get("items")
        && let Some(found) = name(items)
    {
        return Some(format!("[{found}]"));
    }
    value.get("type").map(|kind| match kind {
        serde_json::Value::String(kind) => kind.clone(),
        other => other.to_string(),
    })
}
