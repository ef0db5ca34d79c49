//! A node's HTTP API as a client sees it: a client that keeps cookies, and signing in.

use alliance_node::NodeHandle;
use serde_json::json;

/// A client that keeps the session cookie between requests.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

/// Signs `user` in at `node` through `POST /api/v1/session`; the answer as it came.
pub async fn sign_in(
    client: &reqwest::Client,
    node: &NodeHandle,
    user: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{}api/v1/session", node.url()))
        .json(&json!({ "username": user, "password": password }))
        .send()
        .await
        .unwrap()
}

/// `GET url` with `client`'s session, as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str) -> serde_json::Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}
