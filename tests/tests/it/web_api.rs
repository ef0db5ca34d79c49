//! Accounts and roles over a real node's HTTP API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_tests::{http::*, *};
use alliance_web::backend::{AccountRole, NewAccount};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_csrf_and_roles_are_enforced_over_http() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let member = start_member(dir.path(), &province, "dlut").await;
    member
        .accounts()
        .create(NewAccount {
            username: "zhang".into(),
            password: PASSWORD.into(),
            display_name: "张研究员".into(),
            role: AccountRole::Researcher,
            organization: "大连理工大学".into(),
            email: String::new(),
            phone: String::new(),
        })
        .await
        .unwrap();
    let base = member.url();

    let status: Value = reqwest::get(format!("{base}api/v1/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for field in [
        "peer_id",
        "institution_id",
        "role",
        "roster_version",
        "members_connected",
    ] {
        assert!(
            status.get(field).is_some(),
            "status lacks {field}: {status}"
        );
    }
    assert_eq!(status["institution_id"], "dlut");

    // Wrong password.
    let anonymous = client();
    assert_eq!(
        sign_in(&anonymous, &member, "admin", "wrong password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        anonymous
            .get(format!("{base}api/v1/accounts"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // A researcher may not call an admin endpoint.
    let researcher = client();
    assert_eq!(
        sign_in(&researcher, &member, "zhang", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        researcher
            .get(format!("{base}api/v1/accounts"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    // The admin may, but a state change without the CSRF token is refused and changes nothing.
    let admin = client();
    let session: Value = sign_in(&admin, &member, "admin", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    let disable = |token: Option<String>| {
        let mut request = admin
            .post(format!("{base}api/v1/accounts/zhang/state"))
            .json(&json!({ "state": "disabled" }));
        if let Some(token) = token {
            request = request.header("X-CSRF-Token", token);
        }
        async move { request.send().await.unwrap().status() }
    };
    let me = || async {
        researcher
            .get(format!("{base}api/v1/me"))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(disable(None).await, StatusCode::FORBIDDEN);
    assert_eq!(disable(Some("0".repeat(64))).await, StatusCode::FORBIDDEN);
    assert_eq!(
        me().await,
        StatusCode::OK,
        "the refused requests must not have disabled the researcher"
    );
    assert_eq!(disable(Some(csrf)).await, StatusCode::OK);
    assert_eq!(
        me().await,
        StatusCode::UNAUTHORIZED,
        "disabling an account ends its sessions"
    );

    member.shutdown().await;
    province.shutdown().await;
}
