//! The demo's own mail server: takes every message its nodes send (SMTP on loopback) and
//! shows them on a page, so a visitor reads the notices the demo sent without a real
//! mail server. Keeps the newest [`KEPT`] messages in memory.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{Router, extract::State, response::Html, routing::get};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};
use tokio_util::sync::CancellationToken;

/// Messages kept, newest first.
const KEPT: usize = 500;
/// The longest line and message taken (the demo's notices are a few kilobytes), and the
/// most recipients of one message.
const MAX_LINE: usize = 4 * 1024;
const MAX_MESSAGE: usize = 256 * 1024;
const MAX_RECIPIENTS: usize = 100;

/// One message as caught.
#[derive(Debug, Clone)]
struct Caught {
    to: Vec<String>,
    at: chrono::DateTime<chrono::Utc>,
    raw: Vec<u8>,
}

type Inbox = Arc<Mutex<VecDeque<Caught>>>;

/// The running catcher.
#[derive(Debug, Clone)]
pub(super) struct MailCatcher {
    /// What the demo's nodes send to: `smtp://127.0.0.1:<port>`.
    pub(super) smtp_url: String,
    /// Where a visitor reads the mail.
    pub(super) page_url: String,
}

/// Starts the SMTP server and the page on loopback, until `cancel`.
pub(super) async fn start(cancel: CancellationToken) -> std::io::Result<MailCatcher> {
    let inbox: Inbox = Arc::default();
    let smtp = TcpListener::bind("127.0.0.1:0").await?;
    let page = TcpListener::bind("127.0.0.1:0").await?;
    let catcher = MailCatcher {
        smtp_url: format!("smtp://{}", smtp.local_addr()?),
        page_url: format!("http://{}/", page.local_addr()?),
    };
    let kept = inbox.clone();
    let stop = cancel.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                accepted = smtp.accept() => if let Ok((stream, _)) = accepted {
                    let kept = kept.clone();
                    tokio::spawn(async move {
                        if let Err(e) = session(stream, &kept).await {
                            tracing::debug!(error = %e, "demo mail session ended");
                        }
                    });
                },
            }
        }
    });
    let app = Router::new().route("/", get(list)).with_state(inbox);
    tokio::spawn(async move {
        let served = axum::serve(
            page,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "the demo's mail page stopped");
        }
    });
    Ok(catcher)
}

/// One SMTP session: greeting, envelope, data, as many messages as the client sends.
async fn session(stream: TcpStream, inbox: &Inbox) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 alliance-demo ESMTP\r\n").await?;
    let mut to = Vec::new();
    loop {
        let Some(line) = read_line(&mut lines).await? else {
            return Ok(());
        };
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-alliance-demo\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "MAIL" => {
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" if to.len() >= MAX_RECIPIENTS => b"452 too many recipients\r\n",
            "RCPT" => {
                // `RCPT TO:<address> [parameters]`
                let address = line
                    .split_once('<')
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map(|(address, _)| address.trim())
                    .unwrap_or_default();
                to.push(address.to_owned());
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                match read_data(&mut lines).await? {
                    Some(raw) => {
                        keep(
                            inbox,
                            Caught {
                                to: std::mem::take(&mut to),
                                at: chrono::Utc::now(),
                                raw,
                            },
                        );
                        b"250 OK\r\n"
                    }
                    None => {
                        to.clear();
                        b"552 message too large\r\n"
                    }
                }
            }
            "RSET" => {
                to.clear();
                b"250 OK\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// A line without its end, at most [`MAX_LINE`] bytes (longer ends the session).
async fn read_line(
    lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = (&mut *lines)
        .take(u64::try_from(MAX_LINE).unwrap_or(u64::MAX))
        .read_until(b'\n', &mut line)
        .await?;
    if read == 0 || !line.ends_with(b"\n") {
        return Ok(None);
    }
    Ok(Some(
        String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
    ))
}

/// The message after `DATA`, up to the line holding one dot, dots unstuffed; `None` if
/// it was larger than [`MAX_MESSAGE`] (read to its end, not kept).
async fn read_data(
    lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    let mut too_large = false;
    loop {
        let Some(line) = read_line(lines).await? else {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        };
        if line == "." {
            return Ok((!too_large).then_some(raw));
        }
        let line = line.strip_prefix('.').unwrap_or(&line);
        too_large |= raw.len() + line.len() >= MAX_MESSAGE;
        if !too_large {
            raw.extend_from_slice(line.as_bytes());
            raw.extend_from_slice(b"\r\n");
        }
    }
}

fn keep(inbox: &Inbox, caught: Caught) {
    let mut inbox = inbox
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    inbox.push_front(caught);
    inbox.truncate(KEPT);
}

/// `GET /`: the messages, newest first, as a plain page.
async fn list(State(inbox): State<Inbox>) -> Html<String> {
    let messages: Vec<Caught> = inbox
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .cloned()
        .collect();
    let mut page = String::from(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>演示邮件 · Demo mail</title>\
         <style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:1rem auto;padding:0 1rem}\
         article{border:1px solid #d0d5dd;border-radius:6px;padding:.75rem 1rem;margin:.75rem 0}\
         pre{white-space:pre-wrap;margin:.5rem 0 0}small{color:#475467}</style></head><body>\
         <h1>演示邮件 · Demo mail</h1>\
         <p>演示联盟各节点发出的通知邮件（最新在前）。Notices the demo's nodes sent, newest first.</p>",
    );
    if messages.is_empty() {
        page.push_str("<p><em>尚无邮件 · No mail yet.</em></p>");
    }
    for message in &messages {
        let parsed = mail_parser::MessageParser::default().parse(&message.raw);
        let subject = parsed
            .as_ref()
            .and_then(|m| m.subject())
            .unwrap_or_default()
            .to_owned();
        let body = parsed
            .as_ref()
            .and_then(|m| m.body_text(0))
            .map(|b| b.into_owned())
            .unwrap_or_default();
        let at = message
            .at
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%d %H:%M:%S");
        page.push_str(&format!(
            "<article><strong>{}</strong><br><small>{} · {at}</small><pre>{}</pre></article>",
            escape(&subject),
            escape(&message.to.join(", ")),
            escape(&body)
        ));
    }
    page.push_str("</body></html>");
    Html(page)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
