//! `/register`: self-registration of outside users (firms, individuals, other
//! organisations). The account waits for an administrator's approval.

use std::time::Duration;

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{Ctx, ErrorKind, FormErrors, Layout, PageForm, with_anonymous_token};
use crate::{
    AppState,
    actions::{self, ActionError},
    auth,
    backend::{Backend, Registration},
    client::ClientAddr,
    i18n::Strings,
    render::Page,
    throttle::retry_after_secs,
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
    /// Why nothing was registered, when it is not the fields (limits).
    refusal: Option<String>,
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

/// The form shown again, with what went wrong.
struct Shown {
    status: StatusCode,
    form: RegisterForm,
    errors: FormErrors,
    refusal: Option<String>,
    /// For `Retry-After`.
    retry_after: Option<Duration>,
}

fn render(ctx: &Ctx, headers: &HeaderMap, secure: bool, shown: Shown) -> Response {
    let Shown {
        status,
        mut form,
        errors,
        refusal,
        retry_after,
    } = shown;
    form.password.clear();
    let mut response = with_anonymous_token(headers, secure, |csrf| {
        let page = RegisterPage {
            layout: ctx.layout("register"),
            t: ctx.t,
            csrf,
            form,
            other_errors: errors.other(&SHOWN),
            errors,
            refusal,
        };
        Page::with_status(status, page).into_response()
    });
    if let Some(wait) = retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs(wait)));
    }
    response
}

/// `GET /register`.
pub(super) async fn form<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Response {
    let secure = state.options.secure_cookies;
    let shown = Shown {
        status: StatusCode::OK,
        form: RegisterForm::default(),
        errors: FormErrors::none(ctx.t),
        refusal: None,
        retry_after: None,
    };
    render(&ctx, &headers, secure, shown)
}

/// `POST /register`: creates the pending account and says it waits for approval (`202`,
/// the same page when the name was taken and nothing was stored); shows the form again
/// with every problem otherwise.
pub(super) async fn submit<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    headers: HeaderMap,
    client: ClientAddr,
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
    let t = ctx.t;
    let registered =
        actions::register(&state.backend, &state.registrations, client, registration).await;
    let shown = |status, errors, refusal: &str, retry_after| Shown {
        status,
        form: form.clone(),
        errors,
        refusal: (!refusal.is_empty()).then(|| refusal.to_owned()),
        retry_after,
    };
    let none = || FormErrors::none(t);
    let shown = match registered {
        Ok(username) => {
            let page = DonePage {
                layout: ctx.layout("register"),
                t,
                username,
            };
            return Page::with_status(StatusCode::ACCEPTED, page).into_response();
        }
        Err(ActionError::Fields(errors)) => shown(
            StatusCode::BAD_REQUEST,
            FormErrors::new(t, errors),
            "",
            None,
        ),
        Err(ActionError::RateLimited(wait)) => shown(
            StatusCode::TOO_MANY_REQUESTS,
            none(),
            &t.with_wait(t.register_rate_limited, wait),
            Some(wait),
        ),
        Err(ActionError::RegistrationsClosed) => shown(
            StatusCode::SERVICE_UNAVAILABLE,
            none(),
            t.register_closed,
            None,
        ),
        Err(ActionError::Busy) => shown(
            StatusCode::SERVICE_UNAVAILABLE,
            none(),
            t.busy,
            Some(Duration::from_secs(1)),
        ),
        Err(ActionError::Internal) => return ctx.error(ErrorKind::Internal),
        Err(other) => {
            tracing::error!(error = ?other, "unexpected registration failure");
            return ctx.error(ErrorKind::Internal);
        }
    };
    render(&ctx, &headers, secure, shown)
}
