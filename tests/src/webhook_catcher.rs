//! An HTTP endpoint for the webhook tests: takes each POST, keeps its signature header
//! and body, answers with the status it is told to (so a test can have it fail).

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU16, Ordering},
};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// One POST received.
#[derive(Debug, Clone)]
pub struct Hook {
    /// The `X-Alliance-Signature` header.
    pub signature: String,
    pub body: Vec<u8>,
}

/// A running endpoint on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct WebhookCatcher {
    pub url: String,
    hooks: Arc<Mutex<Vec<Hook>>>,
    status: Arc<AtomicU16>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookCatcher {
    pub async fn start() -> WebhookCatcher {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let hooks: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(204));
        let (kept, answer) = (hooks.clone(), status.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (kept, answer) = (kept.clone(), answer.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, &kept, &answer).await;
                });
            }
        });
        WebhookCatcher {
            url,
            hooks,
            status,
            task,
        }
    }

    /// Answers every POST from now on with `status` (taken only if it is a 2xx).
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// The POSTs taken so far (answered with a 2xx), in order.
    pub fn hooks(&self) -> Vec<Hook> {
        self.hooks.lock().unwrap().clone()
    }
}

impl Drop for WebhookCatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP/1.1 request (headers, then a body of `Content-Length`), answers it.
async fn serve(
    stream: tokio::net::TcpStream,
    kept: &Mutex<Vec<Hook>>,
    answer: &AtomicU16,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let (mut length, mut signature) = (0usize, String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "x-alliance-signature" => signature = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body).await?;
    let status = answer.load(Ordering::SeqCst);
    if (200..300).contains(&status) {
        kept.lock().unwrap().push(Hook { signature, body });
    }
    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    reader.get_mut().write_all(reply.as_bytes()).await
}
