//! `/api/docs` in English.

use super::ApiDocsStrings;

pub(crate) const EN: ApiDocsStrings = ApiDocsStrings {
    title: "API documentation",
    intro: "This node's JSON API lives under /api/v1. Sign in with POST /api/v1/session: the answer sets the session cookie and carries a csrf_token, which every later POST, PUT and DELETE sends back in the X-CSRF-Token header. Errors are {\"error\": {\"code\", \"message\"}}, with English messages.",
    document_link: "OpenAPI 3.1 document (JSON)",
    auth: "Authentication",
    auth_public: "public",
    auth_session: "session cookie",
    auth_csrf: "X-CSRF-Token",
    auth_agent: "instrument agent token (Authorization: Bearer)",
    parameters: "Parameters",
    request_body: "Request body",
    responses: "Responses",
    required: "required",
    optional: "optional",
};
