//! `/api/docs` in Chinese.

use super::ApiDocsStrings;

pub(crate) const ZH: ApiDocsStrings = ApiDocsStrings {
    title: "接口文档",
    intro: "本节点的 JSON 接口位于 /api/v1 之下。先用 POST /api/v1/session 登录：应答设置会话 Cookie，并给出 csrf_token；此后每个 POST、PUT、DELETE 请求都须在 X-CSRF-Token 头中带上它。出错时返回 {\"error\": {\"code\", \"message\"}}，说明文字为英文。",
    document_link: "OpenAPI 3.1 文档（JSON）",
    auth: "认证",
    auth_public: "公开",
    auth_session: "会话 Cookie",
    auth_csrf: "X-CSRF-Token",
    auth_agent: "仪器代理令牌（Authorization: Bearer）",
    parameters: "参数",
    request_body: "请求体",
    responses: "应答",
    required: "必填",
    optional: "可选",
};
