//! `/admin/accounts`: administrators approve registrations, disable and enable accounts,
//! reset passwords, and create accounts with a role.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Ctx, ErrorKind, FormErrors, Layout, PageForm, Refusal, password_url, state_url};
use crate::{
    AppState,
    actions::{self, ActionError},
    auth,
    backend::{Account, AccountRole, AccountState, Backend, NewAccount, PriceCategory, Session},
    i18n::Strings,
    render::Page,
    time,
    validate::{self, FieldError, Problem},
};

/// Fields the create form shows.
const SHOWN: [&str; 7] = [
    "username",
    "password",
    "display_name",
    "role",
    "organization",
    "email",
    "phone",
];

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    /// A password just reset: (username, new password), shown this once.
    reset: Option<(String, String)>,
    pending: usize,
    rows: Vec<Row>,
    roles: Vec<RoleOption>,
    form: CreateForm,
    errors: FormErrors,
    other_errors: Vec<String>,
}

struct Row {
    username: String,
    display_name: String,
    role: &'static str,
    state: &'static str,
    /// CSS modifier of the state badge: `active`, `pending` or `disabled`.
    state_class: &'static str,
    organization: String,
    email: String,
    phone: String,
    created_at: String,
    is_self: bool,
    state_url: String,
    actions: Vec<StateAction>,
    /// Where the reset-password button posts, when the admin may reset this account.
    password_url: Option<String>,
    /// An outside user's price category in words (empty: none set).
    price: String,
    /// Whether approving asks for a price category (an outside user without one).
    asks_price: bool,
}

struct StateAction {
    /// The state the button sets.
    state: &'static str,
    label: &'static str,
    /// Ask before submitting (disabling ends the account's sessions).
    confirm: bool,
}

struct RoleOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// The create form as submitted (the password is never shown again).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateForm {
    csrf: String,
    username: String,
    password: String,
    display_name: String,
    role: String,
    organization: String,
    email: String,
    phone: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StateForm {
    csrf: String,
    state: String,
    /// On approving an outside user: `outside_academic`, `enterprise` or `individual`.
    price_category: String,
    credit_code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ResetForm {
    csrf: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NoticeQuery {
    notice: String,
}

/// What to show above and in the create form.
struct View {
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    reset: Option<(String, String)>,
    form: CreateForm,
    errors: Vec<FieldError>,
}

impl View {
    fn plain(notice: Option<&'static str>) -> Self {
        View {
            status: StatusCode::OK,
            notice,
            error: None,
            reset: None,
            form: CreateForm {
                role: AccountRole::Researcher.as_str().to_owned(),
                ..CreateForm::default()
            },
            errors: Vec::new(),
        }
    }

    fn refused(status: StatusCode, error: &'static str) -> Self {
        View {
            status,
            error: Some(error),
            ..View::plain(None)
        }
    }
}

fn row(ctx: &Ctx, admin: &Account, account: Account) -> Row {
    let t = ctx.t;
    let is_self = account.username == admin.username;
    let manageable = !is_self && auth::may_manage(admin.role, account.role);
    let actions = if !manageable {
        Vec::new()
    } else {
        let action = |state, label, confirm| StateAction {
            state,
            label,
            confirm,
        };
        match account.state {
            AccountState::Pending => vec![
                action("active", t.approve, false),
                action("disabled", t.reject, false),
            ],
            AccountState::Active => vec![action("disabled", t.disable, true)],
            AccountState::Disabled => vec![action("active", t.enable, false)],
        }
    };
    Row {
        state_url: state_url(&account.username),
        password_url: manageable.then(|| password_url(&account.username)),
        role: t.role_name(account.role),
        state: t.state_name(account.state),
        state_class: match account.state {
            AccountState::Active => "active",
            AccountState::Pending => "pending",
            AccountState::Disabled => "disabled",
        },
        created_at: time::format_unix(account.created_at, ctx.lang),
        username: account.username,
        display_name: account.display_name,
        organization: account.organization,
        email: account.email,
        phone: account.phone,
        is_self,
        actions,
        price: account
            .price_category
            .as_ref()
            .map(|c| t.price_name(c))
            .unwrap_or_default(),
        asks_price: account.role == AccountRole::ExternalUser && account.price_category.is_none(),
    }
}

/// Renders the page with the current accounts.
async fn render<B: Backend>(backend: &B, ctx: &Ctx, admin: &Session, mut view: View) -> Response {
    let accounts = match actions::list(backend).await {
        Ok(accounts) => accounts,
        Err(_) => return ctx.error(ErrorKind::Internal),
    };
    let t = ctx.t;
    let pending = accounts
        .iter()
        .filter(|a| a.state == AccountState::Pending)
        .count();
    let rows = accounts
        .into_iter()
        .map(|a| row(ctx, &admin.account, a))
        .collect();
    let roles = AccountRole::ALL
        .into_iter()
        .filter(|r| auth::may_manage(admin.account.role, *r))
        .map(|r| RoleOption {
            value: r.as_str(),
            label: t.role_name(r),
            selected: r.as_str() == view.form.role,
        })
        .collect();
    view.form.password.clear();
    let errors = FormErrors::new(t, view.errors);
    let page = AccountsPage {
        layout: ctx.layout("accounts"),
        t,
        csrf: admin.csrf_token.clone(),
        notice: view.notice,
        error: view.error,
        reset: view.reset,
        pending,
        rows,
        roles,
        form: view.form,
        other_errors: errors.other(&SHOWN),
        errors,
    };
    Page::with_status(view.status, page).into_response()
}

/// `GET /admin/accounts`.
pub(super) async fn page<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, Refusal> {
    let admin = ctx.admin()?;
    let notice = match query.notice.as_str() {
        "created" => Some(ctx.t.notice_created),
        "state" => Some(ctx.t.notice_state),
        _ => None,
    };
    Ok(render(&state.backend, &ctx, admin, View::plain(notice)).await)
}

/// `POST /admin/accounts`: creates an active account.
pub(super) async fn create<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    PageForm(form): PageForm<CreateForm>,
) -> Result<Response, Refusal> {
    let admin = ctx.admin()?;
    ctx.check_csrf(admin, &form.csrf)?;
    let t = ctx.t;
    let invalid = |errors| View {
        status: StatusCode::BAD_REQUEST,
        error: Some(t.form_has_errors),
        form: form.clone(),
        errors,
        ..View::plain(None)
    };
    let Ok(role) = form.role.parse::<AccountRole>() else {
        let view = invalid(vec![FieldError::new("role", Problem::Role)]);
        return Ok(render(&state.backend, &ctx, admin, view).await);
    };
    let account = NewAccount {
        username: form.username.clone(),
        password: form.password.clone(),
        display_name: form.display_name.clone(),
        role,
        organization: form.organization.clone(),
        email: form.email.clone(),
        phone: form.phone.clone(),
    };
    let view = match actions::create(&state.backend, &admin.account, account).await {
        Ok(_) => return Ok(Redirect::to("/admin/accounts?notice=created").into_response()),
        Err(ActionError::Fields(errors)) => invalid(errors),
        Err(ActionError::RoleNotAllowed) => View {
            form: form.clone(),
            ..View::refused(StatusCode::FORBIDDEN, t.err_role_not_allowed)
        },
        Err(ActionError::Busy) => View {
            form: form.clone(),
            ..View::refused(StatusCode::SERVICE_UNAVAILABLE, t.busy)
        },
        Err(
            ActionError::Internal
            | ActionError::NotFound
            | ActionError::OwnAccount
            | ActionError::Locked(_)
            | ActionError::RateLimited(_)
            | ActionError::RegistrationsClosed,
        ) => {
            return Err(ctx.refuse(ErrorKind::Internal));
        }
    };
    Ok(render(&state.backend, &ctx, admin, view).await)
}

/// `POST /admin/accounts/{username}/state`: approves, disables or re-enables an account.
pub(super) async fn set_state<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(username): Path<String>,
    PageForm(form): PageForm<StateForm>,
) -> Result<Response, Refusal> {
    let admin = ctx.admin()?;
    ctx.check_csrf(admin, &form.csrf)?;
    let new_state =
        validate::parse_state(&form.state).ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?;
    let t = ctx.t;
    let price = if form.price_category.is_empty() {
        None
    } else {
        match PriceCategory::parse(&form.price_category, &form.credit_code) {
            Ok(price) => Some(price),
            Err(_) => {
                let view = View::refused(StatusCode::UNPROCESSABLE_ENTITY, t.err_price_category);
                return Ok(render(&state.backend, &ctx, admin, view).await);
            }
        }
    };
    let changed =
        actions::set_state(&state.backend, &admin.account, &username, new_state, price).await;
    let view = match changed {
        Ok(_) => return Ok(Redirect::to("/admin/accounts?notice=state").into_response()),
        Err(ActionError::Fields(_)) => {
            View::refused(StatusCode::UNPROCESSABLE_ENTITY, t.err_price_category)
        }
        Err(ActionError::NotFound) => return Err(ctx.refuse(ErrorKind::AccountNotFound)),
        Err(ActionError::RoleNotAllowed) => {
            View::refused(StatusCode::FORBIDDEN, t.err_role_not_allowed)
        }
        Err(ActionError::OwnAccount) => View::refused(StatusCode::CONFLICT, t.err_own_account),
        Err(_) => return Err(ctx.refuse(ErrorKind::Internal)),
    };
    Ok(render(&state.backend, &ctx, admin, view).await)
}

/// `POST /admin/accounts/{username}/password`: gives the account a new random password and
/// shows it on the answer page, this once (never in a URL); the account's sessions end.
pub(super) async fn reset_password<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(username): Path<String>,
    PageForm(form): PageForm<ResetForm>,
) -> Result<Response, Refusal> {
    let admin = ctx.admin()?;
    ctx.check_csrf(admin, &form.csrf)?;
    let t = ctx.t;
    let reset =
        actions::reset_password(&state.backend, &state.sign_in, &admin.account, &username).await;
    let view = match reset {
        Ok(password) => View {
            reset: Some((username, password)),
            ..View::plain(None)
        },
        Err(ActionError::NotFound) => return Err(ctx.refuse(ErrorKind::AccountNotFound)),
        Err(ActionError::RoleNotAllowed) => {
            View::refused(StatusCode::FORBIDDEN, t.err_role_not_allowed)
        }
        Err(ActionError::OwnAccount) => View::refused(StatusCode::CONFLICT, t.err_own_account),
        Err(ActionError::Busy) => View::refused(StatusCode::SERVICE_UNAVAILABLE, t.busy),
        Err(_) => return Err(ctx.refuse(ErrorKind::Internal)),
    };
    Ok(render(&state.backend, &ctx, admin, view).await)
}
