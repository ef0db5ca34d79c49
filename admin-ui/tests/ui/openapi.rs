//! The OpenAPI document of `/api/v1`: served, complete (every routed path and method is
//! in it, so a route cannot be added undocumented), and shown on `/api/docs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use crate::common::{MemoryBackend, app, get, request, send};
use axum::{
    body::Body,
    http::{Method, StatusCode},
};

/// Every path under `/api/v1` the router knows, read from its `Debug` text (which lists
/// the routes' paths as axum registered them, `{param}` as OpenAPI writes them).
fn routed_api_paths(router: &axum::Router) -> BTreeSet<String> {
    let text = format!("{router:?}");
    let mut paths = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("\"/api/v1") {
        let after = &rest[start + 1..];
        let end = after.find('"').unwrap();
        paths.insert(after[..end].to_owned());
        rest = &after[end..];
    }
    paths
}

/// `path` with every `{param}` replaced by a plain value.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("x1");
            }
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn every_api_route_and_method_is_in_the_document() {
    let app = app(&MemoryBackend::seeded());
    let reply = get(&app, "/api/v1/openapi.json", "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let doc = reply.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let documented = doc["paths"].as_object().unwrap();

    let routed = routed_api_paths(&app);
    assert!(
        routed.len() > 30,
        "too few routes found in the router's Debug text: {routed:?}"
    );
    for path in &routed {
        assert!(
            documented.contains_key(path),
            "{path} is routed but not in the OpenAPI document"
        );
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            let uri = concrete(path);
            let reply = send(
                &app,
                request(method.clone(), &uri, "")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            if reply.status == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            let key = method.as_str().to_lowercase();
            assert!(
                documented[path].get(&key).is_some(),
                "{method} {path} answers {} but is not in the OpenAPI document",
                reply.status
            );
        }
    }
    // And nothing is documented that is not routed.
    for path in documented.keys() {
        assert!(routed.contains(path), "{path} is documented but not routed");
    }
}

#[tokio::test]
async fn the_document_describes_security_and_errors() {
    let app = app(&MemoryBackend::seeded());
    let doc = get(&app, "/api/v1/openapi.json", "").await.json();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for name in ["session", "csrf", "agent_token"] {
        assert!(schemes.contains_key(name), "{name}");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    // A state-changing call needs the session and its CSRF token, and may be refused.
    let create = &doc["paths"]["/api/v1/accounts"]["post"];
    assert_eq!(create["security"][0]["session"], serde_json::json!([]));
    assert_eq!(create["security"][0]["csrf"], serde_json::json!([]));
    for status in ["201", "400", "401", "403", "409"] {
        assert!(create["responses"][status].is_object(), "{status}");
    }
    // The agent's report takes a bearer token instead.
    let report = &doc["paths"]["/api/v1/agent/instruments/{local_id}/state"]["post"];
    assert_eq!(report["security"][0]["agent_token"], serde_json::json!([]));
    // Public calls carry no security requirement.
    assert!(
        doc["paths"]["/api/v1/status"]["get"]
            .get("security")
            .is_none()
    );
}

#[tokio::test]
async fn the_docs_page_lists_the_operations_in_both_languages() {
    let app = app(&MemoryBackend::seeded());
    let page = get(&app, "/api/docs", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("接口文档"));
    assert!(page.body.contains("POST /api/v1/session"));
    assert!(
        page.body
            .contains("GET /api/v1/instruments/{institution}/{local_id}")
    );
    assert!(page.body.contains("href=\"/api/v1/openapi.json\""));
    let english = get(&app, "/api/docs?lang=en", "").await;
    assert!(english.body.contains("API documentation"));
    assert!(english.body.contains("X-CSRF-Token"));
}

#[tokio::test]
async fn unreadable_parameters_are_json_errors_as_documented() {
    let app = app(&MemoryBackend::seeded());
    // A repeated query parameter, and a path segment that is not UTF-8 once decoded, were
    // answered by axum in plain text, which the document does not allow.
    for uri in [
        "/api/v1/instruments?page=1&page=2",
        "/api/v1/instruments/%FF",
    ] {
        let reply = get(&app, uri, "").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(reply.json()["error"]["code"], "bad_request", "{uri}");
    }
}
