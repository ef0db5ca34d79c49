//! `/register`: self-registration of outside users (firms, individuals, other
//! organisations). The account waits for an administrator's approval.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{Ctx, ErrorKind, FormErrors, Layout, PageForm, with_anonymous_token};
use crate::{
    AppState,
    actions::{self, ActionError},
    auth,
    backend::{Backend, Registration},
    i18n::Strings,
    render::Page,
};

/// Fields the registration form shows.
const SHOWN: [&str; 6] = [
    "username",
    "password",
    "display_name",
    "organization",
    "email",
    "phone",
];

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    t: &'static Strings,
    csrf: String,
    form: RegisterForm,
    errors: FormErrors,
    other_errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "register_done.html")]
struct DonePage {
    layout: Layout,
    t: &'static Strings,
    username: String,
}

/// The registration form as submitted (the password is never shown again).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct RegisterForm {
    csrf: String,
    username: String,
    password: String,
    display_name: String,
    organization: String,
    email: String,
    phone: String,
}

fn render(
    ctx: &Ctx,
    headers: &HeaderMap,
    secure: bool,
    status: StatusCode,
    mut form: RegisterForm,
    errors: FormErrors,
) -> Response {
    form.password.clear();
    with_anonymous_token(headers, secure, |csrf| {
        let page = RegisterPage {
            layout: ctx.layout("register"),
            t: ctx.t,
            csrf,
            form,
            other_errors: errors.other(&SHOWN),
            errors,
        };
        Page::with_status(status, page).into_response()
    })
}

/// `GET /register`.
pub(super) async fn form<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Response {
    let secure = state.options.secure_cookies;
    let errors = FormErrors::none(ctx.t);
    render(
        &ctx,
        &headers,
        secure,
        StatusCode::OK,
        RegisterForm::default(),
        errors,
    )
}

/// `POST /register`: creates the pending account and says it waits for approval; shows
/// the form again with every problem otherwise.
pub(super) async fn submit<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    headers: HeaderMap,
    PageForm(form): PageForm<RegisterForm>,
) -> Response {
    if !auth::anonymous_csrf_ok(&headers, &form.csrf) {
        tracing::warn!("registration form without a valid CSRF token refused");
        return ctx.error(ErrorKind::Csrf);
    }
    let registration = Registration {
        username: form.username.clone(),
        password: form.password.clone(),
        display_name: form.display_name.clone(),
        organization: form.organization.clone(),
        email: form.email.clone(),
        phone: form.phone.clone(),
    };
    let secure = state.options.secure_cookies;
    match actions::register(&state.backend, registration).await {
        Ok(account) => {
            let page = DonePage {
                layout: ctx.layout("register"),
                t: ctx.t,
                username: account.username,
            };
            Page::with_status(StatusCode::CREATED, page).into_response()
        }
        Err(ActionError::Fields(errors)) => {
            let errors = FormErrors::new(ctx.t, errors);
            render(
                &ctx,
                &headers,
                secure,
                StatusCode::BAD_REQUEST,
                form,
                errors,
            )
        }
        Err(ActionError::Internal) => ctx.error(ErrorKind::Internal),
        Err(other) => {
            tracing::error!(error = ?other, "unexpected registration failure");
            ctx.error(ErrorKind::Internal)
        }
    }
}
