//! Test helpers: an in-memory [`Backend`] and small request/response helpers around
//! `tower::ServiceExt::oneshot`. The real backend (argon2, the store) is tested in the node.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod board;
pub(crate) mod booking;
mod catalogue;
mod events;
mod help;
pub(crate) mod monitoring;
mod orders;
pub(crate) mod publications;
pub(crate) mod receipts;
pub(crate) mod results;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use alliance_web::{
    WebOptions,
    backend::{
        Account, AccountError, AccountRole, AccountState, Backend, ConnectedMember, NewAccount,
        NodeStatus, PriceCategory, Registration, Session,
    },
    router,
};
use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use tower::ServiceExt;

/// 2026-11-27 01:05:00 UTC, 09:05 in Beijing.
pub(crate) const STARTED_AT: i64 = 1_795_741_500;
/// Password of every account the helpers create.
pub(crate) const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Default)]
struct Inner {
    accounts: HashMap<String, (Account, String)>,
    sessions: HashMap<String, Session>,
    issued: u64,
    fail: bool,
    records: HashMap<String, alliance_protocol::InstrumentRecord>,
    /// Photo and thumbnail bytes by SHA-256 (hex).
    photos: HashMap<String, Vec<u8>>,
    reviews: Vec<(String, alliance_protocol::ReviewVerdict, String)>,
    /// Records as last approved, by id (JSON).
    approved: HashMap<String, serde_json::Value>,
    imports: usize,
    /// Imports done, newest first.
    import_history: Vec<alliance_web::backend::ImportRecordView>,
    bookings: Vec<booking::Stored>,
    /// (username, notification), oldest first.
    notifications: Vec<(String, alliance_web::backend::NotificationView)>,
    /// username → calendar feed token.
    feed_tokens: HashMap<String, String>,
    /// username → their choice of notices.
    notice_prefs: HashMap<String, alliance_web::backend::NoticePrefs>,
    owner_offline: bool,
    /// Booking rules set by managers, by local id.
    rules: HashMap<String, alliance_protocol::booking::BookingRules>,
    trainings: Vec<alliance_protocol::booking::Training>,
    /// Receipts this institution issued, oldest first.
    issued_receipts: Vec<alliance_web::backend::IssuedReceipt>,
    /// Mail given up, newest first.
    dead_letters: Vec<alliance_web::backend::DeadLetterView>,
    /// (username, receipt) of this node's users, from every owner, oldest first.
    user_receipts: Vec<(String, alliance_web::backend::MyReceipt)>,
    /// What `log_watch` answers.
    log_watch: alliance_web::backend::LogWatchView,
    /// What `trust_warnings` answers.
    trust_warnings: alliance_web::backend::TrustWarnings,
    /// What the province publishes; `None` on a member's node.
    province: Option<results::Province>,
    /// Agent tokens, reports and the province's board.
    monitoring: monitoring::Monitoring,
    /// Publications users registered, and a refusal a test set.
    publications: publications::Publications,
    board: board::Board,
    /// What `health_problems` answers.
    health_problems: Vec<String>,
    /// A calendar around today instead of the fixed week (see `live_calendar`).
    live_calendar: Option<booking::LiveCalendar>,
}

/// Accounts and sessions in a `Mutex<HashMap>`. No field validation: the web layer's own
/// checks are what the tests exercise.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemoryBackend {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryBackend {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// Adds an account with [`PASSWORD`].
    pub(crate) fn with(self, username: &str, role: AccountRole, state: AccountState) -> Self {
        let account = Account {
            username: username.to_owned(),
            display_name: format!("{username} 的名字"),
            role,
            state,
            // Outside users of the usual cast are firms; the rest belong to the institution.
            organization: if role == AccountRole::ExternalUser {
                format!("{username} 科技有限公司")
            } else {
                "大连理工大学".to_owned()
            },
            email: format!("{username}@example.cn"),
            phone: String::new(),
            // An active outside user was approved as a firm; a pending one awaits that.
            price_category: (role == AccountRole::ExternalUser && state == AccountState::Active)
                .then(|| PriceCategory::Enterprise {
                    credit_code: "91350100M000100Y43".into(),
                }),
            created_at: STARTED_AT,
        };
        self.lock()
            .accounts
            .insert(username.to_owned(), (account, PASSWORD.to_owned()));
        self
    }

    /// Makes the node report `problem` on `/healthz`.
    pub(crate) fn set_unhealthy(&self, problem: &str) {
        self.lock().health_problems.push(problem.to_owned());
    }

    /// The usual cast: an institution admin, a researcher, a pending outside user.
    pub(crate) fn seeded() -> Self {
        MemoryBackend::default()
            .with("admin", AccountRole::InstitutionAdmin, AccountState::Active)
            .with("li", AccountRole::Researcher, AccountState::Active)
            .with("firm", AccountRole::ExternalUser, AccountState::Pending)
            .with("gone", AccountRole::Researcher, AccountState::Disabled)
    }

    /// Makes every account operation fail with an internal error carrying a secret detail.
    pub(crate) fn fail_internally(&self) {
        self.lock().fail = true;
    }

    pub(crate) fn account(&self, username: &str) -> Option<Account> {
        self.lock().accounts.get(username).map(|(a, _)| a.clone())
    }

    pub(crate) fn account_count(&self) -> usize {
        self.lock().accounts.len()
    }

    pub(crate) fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    fn check_failure(&self) -> Result<(), AccountError> {
        if self.lock().fail {
            Err(AccountError::Internal(
                "fjall: I/O error at /var/lib/alliance/secret-path".to_owned(),
            ))
        } else {
            Ok(())
        }
    }
}

impl Backend for MemoryBackend {
    async fn status(&self) -> NodeStatus {
        NodeStatus {
            peer_id: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo".to_owned(),
            institution_id: "dlut".to_owned(),
            name_zh: "大连理工大学".to_owned(),
            name_en: "Dalian University of Technology".to_owned(),
            role: "member".to_owned(),
            roster_version: 7,
            members_connected: 1,
            members: vec![ConnectedMember {
                peer_id: "12D3KooWProvincePeer".to_owned(),
                institution_id: "lnsti".to_owned(),
                name_zh: "辽宁省科学技术厅".to_owned(),
                name_en: "Liaoning Provincial Department of Science and Technology".to_owned(),
                role: "aggregator".to_owned(),
            }],
            listen_addrs: vec!["/ip4/127.0.0.1/tcp/4100".to_owned()],
            started_at: STARTED_AT,
            log_alarm: self.lock().log_watch.alarm.clone(),
            impostors: Vec::new(),
            log_stale_seconds: None,
        }
    }

    async fn health_problems(&self) -> Vec<String> {
        self.lock().health_problems.clone()
    }

    async fn login(&self, username: &str, password: &str) -> Result<Session, AccountError> {
        self.check_failure()?;
        let mut inner = self.lock();
        let account = match inner.accounts.get(username) {
            Some((account, stored)) if stored == password => account.clone(),
            _ => return Err(AccountError::InvalidCredentials),
        };
        match account.state {
            AccountState::Active => {}
            AccountState::Pending => return Err(AccountError::Pending),
            AccountState::Disabled => return Err(AccountError::Disabled),
        }
        inner.issued += 1;
        let session = Session {
            token: format!("{:064x}", inner.issued),
            csrf_token: format!("{:064x}", inner.issued + 1_000_000),
            account,
            expires_at: chrono_now() + 3600,
        };
        inner
            .sessions
            .insert(session.token.clone(), session.clone());
        Ok(session)
    }

    async fn session(&self, token: &str) -> Option<Session> {
        let inner = self.lock();
        let mut session = inner.sessions.get(token)?.clone();
        let (account, _) = inner.accounts.get(&session.account.username)?;
        if account.state != AccountState::Active {
            return None;
        }
        session.account = account.clone();
        Some(session)
    }

    async fn logout(&self, token: &str) {
        self.lock().sessions.remove(token);
    }

    async fn register(&self, r: Registration) -> Result<Account, AccountError> {
        self.check_failure()?;
        let account = Account {
            username: r.username,
            display_name: r.display_name,
            role: AccountRole::ExternalUser,
            state: AccountState::Pending,
            organization: r.organization,
            email: r.email,
            phone: r.phone,
            created_at: STARTED_AT,
            price_category: None,
        };
        insert(&mut self.lock(), account, r.password)
    }

    async fn create_account(&self, a: NewAccount) -> Result<Account, AccountError> {
        self.check_failure()?;
        let account = Account {
            username: a.username,
            display_name: a.display_name,
            role: a.role,
            state: AccountState::Active,
            organization: a.organization,
            email: a.email,
            phone: a.phone,
            created_at: STARTED_AT,
            price_category: None,
        };
        insert(&mut self.lock(), account, a.password)
    }

    async fn accounts(&self) -> Result<Vec<Account>, AccountError> {
        self.check_failure()?;
        let mut list: Vec<Account> = self
            .lock()
            .accounts
            .values()
            .map(|(a, _)| a.clone())
            .collect();
        list.sort_by_key(|a| (a.state != AccountState::Pending, a.username.clone()));
        Ok(list)
    }

    async fn set_price_category(
        &self,
        username: &str,
        category: PriceCategory,
    ) -> Result<Account, AccountError> {
        self.check_failure()?;
        let mut inner = self.lock();
        let (account, _) = inner
            .accounts
            .get_mut(username)
            .ok_or(AccountError::NotFound)?;
        account.price_category = Some(category);
        Ok(account.clone())
    }

    async fn set_account_state(
        &self,
        username: &str,
        state: AccountState,
    ) -> Result<Account, AccountError> {
        self.check_failure()?;
        let mut inner = self.lock();
        let (account, _) = inner
            .accounts
            .get_mut(username)
            .ok_or(AccountError::NotFound)?;
        account.state = state;
        Ok(account.clone())
    }

    async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
    ) -> Result<(), AccountError> {
        self.check_failure()?;
        let mut inner = self.lock();
        let username = inner
            .sessions
            .get(token)
            .map(|s| s.account.username.clone())
            .ok_or(AccountError::NotFound)?;
        let (_, password) = inner
            .accounts
            .get_mut(&username)
            .ok_or(AccountError::NotFound)?;
        if password != current {
            return Err(AccountError::InvalidCredentials);
        }
        *password = new.to_owned();
        inner
            .sessions
            .retain(|t, s| t == token || s.account.username != username);
        Ok(())
    }

    async fn reset_password(&self, username: &str, new: &str) -> Result<(), AccountError> {
        self.check_failure()?;
        let mut inner = self.lock();
        let (_, password) = inner
            .accounts
            .get_mut(username)
            .ok_or(AccountError::NotFound)?;
        *password = new.to_owned();
        inner.sessions.retain(|_, s| s.account.username != username);
        Ok(())
    }

    async fn notice_prefs(
        &self,
        username: &str,
    ) -> Result<alliance_web::backend::NoticePrefs, AccountError> {
        self.check_failure()?;
        Ok(self
            .lock()
            .notice_prefs
            .get(username)
            .cloned()
            .unwrap_or_default())
    }

    async fn set_notice_prefs(
        &self,
        username: &str,
        prefs: alliance_web::backend::NoticePrefs,
    ) -> Result<(), AccountError> {
        self.check_failure()?;
        self.lock().notice_prefs.insert(username.to_owned(), prefs);
        Ok(())
    }
}

fn insert(inner: &mut Inner, account: Account, password: String) -> Result<Account, AccountError> {
    if inner.accounts.contains_key(&account.username) {
        return Err(AccountError::UsernameTaken);
    }
    inner
        .accounts
        .insert(account.username.clone(), (account.clone(), password));
    Ok(account)
}

fn chrono_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The router over `backend`, plain-HTTP cookies.
pub(crate) fn app(backend: &MemoryBackend) -> Router {
    router(backend.clone(), WebOptions::default())
}

/// A response, read to the end.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The full `Set-Cookie` header for `name`, if the response sets it.
    pub(crate) fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with(&format!("{name}=")))
    }

    /// The value the response sets for cookie `name`.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        let set = self.set_cookie(name)?;
        let pair = set.split(';').next()?;
        Some(pair.split_once('=')?.1.to_owned())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub(crate) fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The `value` of the hidden input called `name` in an HTML body.
    pub(crate) fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// Sends one request through a fresh clone of `app`.
pub(crate) async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 4 << 20)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A request with optional cookies.
pub(crate) fn request(method: Method, uri: &str, cookies: &str) -> axum::http::request::Builder {
    let builder = Request::builder().method(method).uri(uri);
    if cookies.is_empty() {
        builder
    } else {
        builder.header(header::COOKIE, cookies)
    }
}

pub(crate) async fn get(app: &Router, uri: &str, cookies: &str) -> Reply {
    send(
        app,
        request(Method::GET, uri, cookies)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// A JSON request; `csrf` goes into `X-CSRF-Token` when given.
pub(crate) async fn json(
    app: &Router,
    method: Method,
    uri: &str,
    cookies: &str,
    csrf: Option<&str>,
    body: serde_json::Value,
) -> Reply {
    let mut builder =
        request(method, uri, cookies).header(header::CONTENT_TYPE, "application/json");
    if let Some(csrf) = csrf {
        builder = builder.header("x-csrf-token", csrf);
    }
    send(app, builder.body(Body::from(body.to_string())).unwrap()).await
}

/// An URL-encoded form POST.
pub(crate) async fn form(app: &Router, uri: &str, cookies: &str, fields: &[(&str, &str)]) -> Reply {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let request = request(Method::POST, uri, cookies)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(app, request).await
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs in through the API: the `Cookie` header to send and the session's CSRF token.
pub(crate) async fn api_login(app: &Router, username: &str) -> (String, String) {
    let reply = json(
        app,
        Method::POST,
        "/api/v1/session",
        "",
        None,
        serde_json::json!({ "username": username, "password": PASSWORD }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.cookie("alliance_session").unwrap();
    let csrf = reply.json()["csrf_token"].as_str().unwrap().to_owned();
    (format!("alliance_session={token}"), csrf)
}

/// The anonymous form token of a page (`/login` or `/register`): the `Cookie` header to
/// send back and the hidden field's value.
pub(crate) async fn anonymous_form(app: &Router, uri: &str) -> (String, String) {
    let page = get(app, uri, "").await;
    assert_eq!(page.status, StatusCode::OK);
    let cookie = page.cookie("csrf").expect("a csrf cookie");
    let field = page.hidden("csrf").expect("a csrf field");
    (format!("csrf={cookie}"), field)
}

/// Signs in through the sign-in form; returns the `Cookie` header of the session.
pub(crate) async fn page_login(app: &Router, username: &str) -> String {
    let (cookie, csrf) = anonymous_form(app, "/login").await;
    let reply = form(
        app,
        "/login",
        &cookie,
        &[
            ("csrf", &csrf),
            ("username", username),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    format!(
        "alliance_session={}",
        reply.cookie("alliance_session").unwrap()
    )
}

/// The session CSRF token of a signed-in page (from its sign-out form).
pub(crate) async fn session_csrf(app: &Router, cookie: &str) -> String {
    get(app, "/me", cookie).await.hidden("csrf").unwrap()
}
