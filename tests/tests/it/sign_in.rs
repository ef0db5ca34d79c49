//! Sign-in and registration against a real node over HTTP, where a user meets them:
//! lock-out, registration limits, answers that do not reveal accounts, changing and
//! resetting passwords, the idle timeout. Lock-outs and timeouts are configured to a few
//! seconds so the tests can wait them out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use alliance_node::NodeHandle;
use alliance_tests::{http::*, *};
use alliance_web::backend::{AccountRole, NewAccount};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Signs in and returns the session's CSRF token.
async fn signed_in(
    client: &reqwest::Client,
    node: &NodeHandle,
    user: &str,
    password: &str,
) -> String {
    let reply = sign_in(client, node, user, password).await;
    assert_eq!(reply.status(), StatusCode::OK);
    let body: Value = reply.json().await.unwrap();
    body["csrf_token"].as_str().unwrap().to_owned()
}

async fn me(client: &reqwest::Client, node: &NodeHandle) -> StatusCode {
    client
        .get(format!("{}api/v1/me", node.url()))
        .send()
        .await
        .unwrap()
        .status()
}

fn retry_after(reply: &reqwest::Response) -> u64 {
    reply
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn add_researcher(node: &NodeHandle, username: &str) {
    node.accounts()
        .create(NewAccount {
            username: username.into(),
            password: PASSWORD.into(),
            display_name: "张研究员".into(),
            role: AccountRole::Researcher,
            organization: "测试单位".into(),
            email: String::new(),
            phone: String::new(),
        })
        .await
        .unwrap();
}

async fn register(node: &NodeHandle, username: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}api/v1/register", node.url()))
        .json(&json!({
            "username": username,
            "password": "a long enough password",
            "display_name": "大连某某检测有限公司",
            "organization": "大连某某检测有限公司",
            "email": "lab@example.cn",
        }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_wrong_passwords_lock_the_account_and_the_right_one_waits_for_the_lapse() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province_with(dir.path(), "lnsti", |config| {
        config.sign_in.lockout_base = Duration::from_secs(2);
        config.sign_in.lockout_max = Duration::from_secs(4);
        // Held refusals are tested below; here 30 guesses should fit in the lock.
        config.sign_in.locked_answer_delay = Duration::from_millis(20);
    })
    .await;
    add_researcher(&node, "zhang").await;
    let guesser = client();
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let reply = sign_in(&guesser, &node, "zhang", "wrong password").await;
        if reply.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!((1..=4).contains(&retry_after(&reply)));
            let body: Value = reply.json().await.unwrap();
            assert_eq!(body["error"]["code"], "too_many_attempts");
            statuses.push(429);
        } else {
            statuses.push(reply.status().as_u16());
        }
    }
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(statuses[5], 429, "locked after five: {statuses:?}");
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        locked >= 20,
        "most guesses never reached the password: {statuses:?}"
    );

    // The right password, from another client, is refused while the lock runs.
    let owner = client();
    let refused = sign_in(&owner, &node, "zhang", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&refused);
    assert!((1..=4).contains(&wait));
    assert_eq!(me(&owner, &node).await, StatusCode::UNAUTHORIZED);

    // Once it lapses, the right password is accepted.
    let started = Instant::now();
    let accepted = tokio::time::timeout(DEADLINE, async {
        loop {
            let reply = sign_in(&owner, &node, "zhang", PASSWORD).await;
            match reply.status() {
                StatusCode::OK => return,
                StatusCode::TOO_MANY_REQUESTS => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => panic!("unexpected {other}"),
            }
        }
    })
    .await;
    assert!(
        accepted.is_ok(),
        "the right password is accepted once the lock lapses"
    );
    assert!(started.elapsed() <= Duration::from_secs(wait + 5));
    assert_eq!(me(&owner, &node).await, StatusCode::OK);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_out_guess_is_held_before_its_refusal_leaves() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let hold = Duration::from_millis(800);
    let node = start_province_with(dir.path(), "lnsti", |config| {
        config.sign_in.locked_answer_delay = hold;
    })
    .await;
    let guesser = client();
    for _ in 0..5 {
        let reply = sign_in(&guesser, &node, "admin", "wrong password").await;
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked now: each further guess waits out the hold, so a loop of guesses cannot
    // spin on cheap refusals.
    for _ in 0..2 {
        let started = Instant::now();
        let reply = sign_in(&guesser, &node, "admin", "wrong password").await;
        assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            started.elapsed() >= hold,
            "answered after {:?}",
            started.elapsed()
        );
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_address_is_locked_whatever_names_it_tries() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province_with(dir.path(), "lnsti", |config| {
        config.sign_in.address_lockout_after = 10;
    })
    .await;
    let guesser = client();
    for i in 0..10 {
        let reply = sign_in(&guesser, &node, &format!("guess-{i}"), "wrong password").await;
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{i}");
    }
    let fresh = sign_in(&guesser, &node, "admin", PASSWORD).await;
    assert_eq!(fresh.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&fresh) >= 1);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_beyond_the_rate_per_address_are_429() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province_with(dir.path(), "lnsti", |config| {
        config.sign_in.registrations_per_address = 3;
    })
    .await;
    for i in 0..3 {
        let reply = register(&node, &format!("firm-{i}")).await;
        assert_eq!(reply.status(), StatusCode::ACCEPTED, "{i}");
    }
    let refused = register(&node, "firm-3").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&refused) > 60, "one more per 20 minutes");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    let names: Vec<String> = node
        .accounts()
        .list()
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert!(!names.contains(&"firm-3".to_owned()), "{names:?}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pending_queue_refuses_registrations_with_a_clear_error() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province_with(dir.path(), "lnsti", |config| {
        config.sign_in.max_pending_registrations = 2;
    })
    .await;
    for name in ["firm-a", "firm-b"] {
        assert_eq!(register(&node, name).await.status(), StatusCode::ACCEPTED);
    }
    let refused = register(&node, "firm-c").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "registrations_closed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("full"), "{message}");

    // An administrator approves one: there is room again.
    let admin = client();
    let csrf = signed_in(&admin, &node, "admin", PASSWORD).await;
    let approved = admin
        .post(format!("{}api/v1/accounts/firm-a/state", node.url()))
        .header("X-CSRF-Token", csrf)
        .json(&json!({ "state": "active", "price_category": "individual" }))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::OK);
    assert_eq!(
        register(&node, "firm-c").await.status(),
        StatusCode::ACCEPTED
    );
    node.shutdown().await;
}

/// The `value` of the hidden input `name` in an HTML page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap() + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_owned()
}

/// Registers through the page (form and CSRF cookie); the status and the page.
async fn register_page(node: &NodeHandle, username: &str) -> (StatusCode, String) {
    let browser = client();
    let form = browser
        .get(format!("{}register", node.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reply = browser
        .post(format!("{}register", node.url()))
        .form(&[
            ("csrf", hidden(&form, "csrf").as_str()),
            ("username", username),
            ("password", "a long enough password"),
            ("display_name", "大连某某检测有限公司"),
            ("email", "lab@example.cn"),
        ])
        .send()
        .await
        .unwrap();
    (reply.status(), reply.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_username_registers_like_a_free_one_and_changes_nothing() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province(dir.path(), "lnsti").await;
    add_researcher(&node, "zhang").await;

    let answer = |reply: reqwest::Response| async move {
        let status = reply.status();
        let mut headers: Vec<String> = reply
            .headers()
            .keys()
            .filter(|k| *k != "date")
            .map(|k| k.to_string())
            .collect();
        headers.sort();
        (status, headers, reply.text().await.unwrap())
    };
    let taken = answer(register(&node, "zhang").await).await;
    let free = answer(register(&node, "newfirm").await).await;
    assert_eq!(taken.0, StatusCode::ACCEPTED);
    assert_eq!(
        (taken.0, taken.1, taken.2.replace("zhang", "newfirm")),
        free,
        "the answers differ only by the name"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&free.2).unwrap(),
        json!({ "status": "pending", "username": "newfirm" })
    );
    let (taken_status, taken_page) = register_page(&node, "zhang").await;
    let (free_status, free_page) = register_page(&node, "otherfirm").await;
    assert_eq!(taken_status, StatusCode::ACCEPTED);
    assert_eq!(taken_status, free_status);
    assert_eq!(taken_page.replace(">zhang<", ">otherfirm<"), free_page);

    // Nothing was stored over the existing account: it signs in as before, as a researcher.
    let accounts = node.accounts().list().unwrap();
    let zhang = accounts.iter().find(|a| a.username == "zhang").unwrap();
    assert_eq!(zhang.role, AccountRole::Researcher);
    assert_eq!(zhang.display_name, "张研究员");
    signed_in(&client(), &node, "zhang", PASSWORD).await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_ends_the_users_other_sessions() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province(dir.path(), "lnsti").await;
    add_researcher(&node, "zhang").await;
    let (laptop, phone) = (client(), client());
    let csrf = signed_in(&laptop, &node, "zhang", PASSWORD).await;
    signed_in(&phone, &node, "zhang", PASSWORD).await;
    let change = |current: &'static str| {
        laptop
            .post(format!("{}api/v1/me/password", node.url()))
            .header("X-CSRF-Token", &csrf)
            .json(&json!({ "current_password": current, "new_password": "a brand new secret" }))
            .send()
    };
    let wrong = change("not the password").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        me(&phone, &node).await,
        StatusCode::OK,
        "nothing changed yet"
    );

    let changed = change(PASSWORD).await.unwrap();
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        me(&laptop, &node).await,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        me(&phone, &node).await,
        StatusCode::UNAUTHORIZED,
        "the other one ends"
    );
    assert_eq!(
        sign_in(&client(), &node, "zhang", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    signed_in(&phone, &node, "zhang", "a brand new secret").await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reset_gives_a_working_password_and_ends_the_sessions() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province(dir.path(), "lnsti").await;
    add_researcher(&node, "zhang").await;
    let user = client();
    let user_csrf = signed_in(&user, &node, "zhang", PASSWORD).await;

    // A researcher may not reset anyone.
    let refused = user
        .post(format!("{}api/v1/accounts/admin/password", node.url()))
        .header("X-CSRF-Token", &user_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let admin = client();
    let csrf = signed_in(&admin, &node, "admin", PASSWORD).await;
    let reset = admin
        .post(format!("{}api/v1/accounts/zhang/password", node.url()))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::OK);
    let body: Value = reset.json().await.unwrap();
    assert_eq!(body["username"], "zhang");
    let password = body["password"].as_str().unwrap().to_owned();
    assert_eq!(
        me(&user, &node).await,
        StatusCode::UNAUTHORIZED,
        "sessions ended"
    );
    assert_eq!(
        sign_in(&client(), &node, "zhang", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
    signed_in(&user, &node, "zhang", &password).await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_left_unused_past_the_idle_timeout_ends() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let idle = Duration::from_secs(2);
    let node = start_province_with(dir.path(), "lnsti", |config| {
        config.sign_in.idle_timeout = idle;
    })
    .await;
    add_researcher(&node, "zhang").await;
    let user = client();
    signed_in(&user, &node, "zhang", PASSWORD).await;
    // In use for twice the idle timeout: it stays.
    let busy_until = Instant::now() + 2 * idle;
    let mut every = tokio::time::interval(Duration::from_millis(250));
    while Instant::now() < busy_until {
        every.tick().await;
        assert_eq!(me(&user, &node).await, StatusCode::OK);
    }
    // Then left alone past the timeout (measured in whole seconds, so up to one more).
    tokio::time::sleep(idle + Duration::from_millis(2500)).await;
    assert_eq!(me(&user, &node).await, StatusCode::UNAUTHORIZED);
    node.shutdown().await;
}
