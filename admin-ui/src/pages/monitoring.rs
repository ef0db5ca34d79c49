//! `/manage/monitoring`: for instrument managers and institution admins, this
//! institution's instruments with the state their agents last reported, and each
//! instrument's agent token — issued (or replaced) and revoked here. A new token is shown
//! once, on the page answering the form, with the command that starts the agent.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{
        HeaderMap, StatusCode,
        header::{HOST, HeaderName},
    },
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Ctx, Layout, PageForm, Refusal, encode_component, instruments::pick};
use crate::{
    AppState,
    auth::BOOKING_MANAGERS,
    backend::{AgentStateView, Backend},
    i18n::Strings,
    render::Page,
    time,
};

/// The agent script as it ships with the node software.
const AGENT_SCRIPT: &str = "instrument-agent.py";

struct Row {
    local_id: String,
    name: String,
    href: String,
    /// The reported state in words, or "not reported".
    state: String,
    state_class: &'static str,
    note: String,
    reported_at: String,
    has_token: bool,
    token_action: String,
    revoke_action: String,
}

/// A token just issued, with the commands that start its agent.
struct NewToken {
    local_id: String,
    name: String,
    token: String,
    command_once: String,
    command_run: String,
}

#[derive(Template)]
#[template(path = "monitoring.html")]
struct MonitoringPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    new_token: Option<NewToken>,
    rows: Vec<Row>,
}

/// The badge class of a reported state (`None`: not reported).
pub(super) fn state_class(state: Option<&str>) -> &'static str {
    match state {
        Some("idle") => "state-idle",
        Some("running") => "state-running",
        Some("maintenance") => "state-maintenance",
        Some("fault") => "state-fault",
        _ => "disabled",
    }
}

fn row(ctx: &Ctx, institution: &str, view: &AgentStateView) -> Row {
    let t = ctx.t.monitoring;
    let local = encode_component(&view.local_id);
    Row {
        local_id: view.local_id.clone(),
        name: pick(ctx.lang, &view.instrument_name_zh, &view.instrument_name_en),
        href: if institution.is_empty() {
            String::new()
        } else {
            format!("/instruments/{}/{local}", encode_component(institution))
        },
        state: view
            .state
            .as_deref()
            .map_or(t.state_none, |s| t.state(s))
            .to_owned(),
        state_class: state_class(view.state.as_deref()),
        note: view.note.clone(),
        reported_at: view
            .reported_at
            .map(|at| time::format_unix(at, ctx.lang))
            .unwrap_or_default(),
        has_token: view.has_token,
        token_action: format!("/manage/monitoring/{local}/token"),
        revoke_action: format!("/manage/monitoring/{local}/revoke"),
    }
}

/// The node's address as the manager reached it — the agent on the instrument's PC posts
/// there; a placeholder when the request does not say.
fn node_url(headers: &HeaderMap, secure: bool) -> String {
    let header = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let forwarded_host = HeaderName::from_static("x-forwarded-host");
    let forwarded_proto = HeaderName::from_static("x-forwarded-proto");
    // Only characters of a host and port, so the command stays safe to paste in a shell.
    let host = header(&forwarded_host)
        .or_else(|| header(&HOST))
        .filter(|h| {
            h.len() <= 255
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        });
    let scheme = match header(&forwarded_proto) {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        Some(proto) if proto.eq_ignore_ascii_case("http") => "http",
        _ if secure => "https",
        _ => "http",
    };
    match host {
        Some(host) => format!("{scheme}://{host}"),
        None => format!("{scheme}://NODE-ADDRESS"),
    }
}

/// What the page shows besides the instruments.
#[derive(Default)]
struct View {
    notice: Option<&'static str>,
    /// A refusal by the node, with its status.
    error: Option<(StatusCode, String)>,
    /// `(local_id, token)` just issued.
    issued: Option<(String, String)>,
    node: String,
}

async fn render<B: Backend>(state: &AppState<B>, ctx: &Ctx, csrf: &str, view: View) -> Response {
    let (status, states) = tokio::join!(state.backend.status(), state.backend.agent_states());
    let mut rows: Vec<Row> = states
        .iter()
        .map(|s| row(ctx, &status.institution_id, s))
        .collect();
    rows.sort_by(|a, b| a.local_id.cmp(&b.local_id));
    let new_token = view.issued.map(|(local_id, token)| {
        let name = rows
            .iter()
            .find(|r| r.local_id == local_id)
            .map_or_else(|| local_id.clone(), |r| r.name.clone());
        let env = format!(
            "ALLIANCE_NODE={} ALLIANCE_INSTRUMENT={local_id} ALLIANCE_AGENT_TOKEN={token}",
            view.node
        );
        NewToken {
            command_once: format!("{env} python3 {AGENT_SCRIPT} --state idle --once"),
            command_run: format!(
                "{env} python3 {AGENT_SCRIPT} --state-command 'cat /var/run/instrument.state'"
            ),
            local_id,
            name,
            token,
        }
    });
    let status = view.error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let page = MonitoringPage {
        layout: ctx.layout("manage"),
        t: ctx.t,
        csrf: csrf.to_owned(),
        notice: view.notice,
        error: view.error.map(|(_, message)| message),
        new_token,
        rows,
    };
    Page::with_status(status, page).into_response()
}

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// The issue and revoke forms: their CSRF field only.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TokenForm {
    csrf: String,
}

/// `GET /manage/monitoring`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(notice): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    let view = View {
        notice: (notice.notice == "revoked").then_some(ctx.t.monitoring.revoked_notice),
        ..View::default()
    };
    Ok(render(&state, &ctx, &session.csrf_token, view).await)
}

/// `POST /manage/monitoring/{local_id}/token`: issues a new token (the old one stops
/// working) and shows it this once.
pub(super) async fn issue<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(local_id): Path<String>,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    ctx.check_csrf(session, &form.csrf)?;
    let view = match state
        .backend
        .issue_agent_token(&session.account, &local_id)
        .await
    {
        Ok(token) => View {
            issued: Some((local_id, token)),
            node: node_url(&headers, state.options.secure_cookies),
            ..View::default()
        },
        Err(failure) => View {
            error: Some(super::bookings::failure_message(
                &ctx,
                failure,
                "agent token",
            )?),
            ..View::default()
        },
    };
    Ok(render(&state, &ctx, &session.csrf_token, view).await)
}

/// `POST /manage/monitoring/{local_id}/revoke`.
pub(super) async fn revoke<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(local_id): Path<String>,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, Refusal> {
    let session = ctx.with_any_role(&BOOKING_MANAGERS)?;
    ctx.check_csrf(session, &form.csrf)?;
    match state
        .backend
        .revoke_agent_token(&session.account, &local_id)
        .await
    {
        Ok(()) => Ok(Redirect::to("/manage/monitoring?notice=revoked").into_response()),
        Err(failure) => {
            let error = super::bookings::failure_message(&ctx, failure, "agent token")?;
            let view = View {
                error: Some(error),
                ..View::default()
            };
            Ok(render(&state, &ctx, &session.csrf_token, view).await)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_node_url_is_the_address_the_manager_used() {
        assert_eq!(
            node_url(&headers(&[("host", "lab.dlut.edu.cn")]), true),
            "https://lab.dlut.edu.cn"
        );
        assert_eq!(
            node_url(&headers(&[("host", "127.0.0.1:8080")]), false),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            node_url(
                &headers(&[
                    ("host", "10.0.0.5:8080"),
                    ("x-forwarded-host", "lab.dlut.edu.cn"),
                    ("x-forwarded-proto", "https"),
                ]),
                false
            ),
            "https://lab.dlut.edu.cn"
        );
        // Nothing a shell would read as more than an address.
        assert_eq!(
            node_url(&headers(&[("host", "evil;rm -rf ~")]), true),
            "https://NODE-ADDRESS"
        );
        assert_eq!(node_url(&HeaderMap::new(), true), "https://NODE-ADDRESS");
    }
}
