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

/// A person signed in at a node, with their session cookie and CSRF token.
#[derive(Debug)]
pub struct Signed {
    client: reqwest::Client,
    base: String,
    csrf: String,
}

impl Signed {
    /// Signs `user` in at `node` with the test password.
    pub async fn as_user(node: &NodeHandle, user: &str) -> Signed {
        let client = client();
        let session: serde_json::Value = sign_in(&client, node, user, crate::PASSWORD)
            .await
            .json()
            .await
            .unwrap();
        Signed {
            client,
            base: node.url(),
            csrf: session["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// `GET path`: the status and the JSON answer (null if none).
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let answer = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or_default())
    }

    /// `POST path` with `body` and the CSRF token: the status and the JSON answer.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// `DELETE path` with the CSRF token: the status and the JSON answer.
    pub async fn delete(&self, path: &str) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::DELETE, path, serde_json::Value::Null)
            .await
    }

    /// `POST path` with raw `bytes` as the body and the CSRF token: the status and the
    /// JSON answer.
    pub async fn post_bytes(&self, path: &str, bytes: Vec<u8>) -> (u16, serde_json::Value) {
        let answer = self
            .client
            .post(format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .header("Content-Type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or_default())
    }

    /// `GET path` as raw bytes: the status, the content type and the bytes.
    pub async fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let answer = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let media = answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, media, answer.bytes().await.unwrap().to_vec())
    }

    /// `GET path` as a page: the status and the HTML.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let answer = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.text().await.unwrap_or_default())
    }

    /// Submits a page's form to `path` with `fields` and the session's CSRF token,
    /// following the redirect: the final status and HTML.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let answer = self
            .client
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.text().await.unwrap_or_default())
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let answer = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or_default())
    }
}

/// `GET url` with `client`'s session: the status and the JSON answer (null if none).
pub async fn get_json_status(client: &reqwest::Client, url: &str) -> (u16, serde_json::Value) {
    let answer = client.get(url).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or_default())
}
