//! Serves the web UI over the in-memory test backend, for working on pages and styles
//! without a node: `cargo run -p alliance-web --example preview [PORT]`, then open the
//! printed address. Accounts: `admin` (institution admin), `li` (researcher), `firm`
//! (pending), `gone` (disabled); all with the password the address line shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/ui/common/mod.rs"]
mod common;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let backend = common::MemoryBackend::seeded();
    let app = common::app(&backend);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "http://{}/  (password of every account: {})",
        listener.local_addr()?,
        common::PASSWORD
    );
    axum::serve(listener, app).await
}
