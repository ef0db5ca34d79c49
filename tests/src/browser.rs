//! A real headless Chromium driven over WebDriver, for UI tests.
//!
//! Each [`Browser`] starts its own `chromedriver` on a free loopback port with a fresh
//! profile, and stops it when dropped.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// A browser session and the driver process behind it.
#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session; the window is phone-sized when
    /// `phone` is set.
    pub async fn start(phone: bool) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver not installed: apt-get install chromium chromium-driver");
        let profile = tempfile::tempdir().unwrap();
        let size = if phone { "390,844" } else { "1280,900" };
        let args = serde_json::json!([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--lang=zh-CN",
            format!("--window-size={size}"),
            format!("--user-data-dir={}", profile.path().display()),
        ]);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "args": args, "binary": "/usr/bin/chromium" }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    // The driver is still starting: there is no readiness event to wait on.
                    tracing::debug!(error = %e, "chromedriver not ready yet");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot start a browser session: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

// Page helpers shared by the browser tests.

/// Types `value` into the input with id `field`, replacing what it held.
pub async fn fill(client: &Client, field: &str, value: &str) {
    let input = client.find(Locator::Id(field)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Clicks and waits until the browser has left the page it was on.
pub async fn click_and_wait(client: &Client, selector: &str) {
    let page = client.find(Locator::Css("html")).await.unwrap();
    client
        .find(Locator::Css(selector))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + crate::DEADLINE;
    // WebDriver has no navigation event: the old page's root goes stale when the new
    // page replaces it.
    while page.tag_name().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "clicking {selector} never navigated"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Submits the form with this action.
pub async fn submit(client: &Client, form_action: &str) {
    click_and_wait(
        client,
        &format!("form[action='{form_action}'] button[type=submit]"),
    )
    .await;
}

/// Signs in through the login page.
pub async fn sign_in(client: &Client, base: &str, user: &str, password: &str) {
    client.goto(&format!("{base}login")).await.unwrap();
    fill(client, "username", user).await;
    fill(client, "password", password).await;
    submit(client, "/login").await;
}

/// The page's `lang`.
pub async fn html_lang(client: &Client) -> String {
    client
        .find(Locator::Css("html"))
        .await
        .unwrap()
        .attr("lang")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Whether the page fits the window's width (no sideways scrolling).
pub async fn fits_the_screen(client: &Client) -> bool {
    let fits = client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    fits == serde_json::Value::Bool(true)
}

/// The page's visible text.
pub async fn body_text(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
