//! The two ways a notice leaves the node: e-mail over SMTP (lettre), and a webhook
//! signed with HMAC-SHA256 for SMS or WeChat gateways.

use std::time::Duration;

use hmac::{KeyInit, Mac};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};

use super::{config::NotifySection, text::Text};

/// How long one SMTP exchange or webhook call may take.
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("{0}")]
    Config(String),
    #[error("the address {0:?} is not an e-mail address")]
    Address(String),
    #[error("the SMTP server: {0}")]
    Smtp(String),
    #[error("the webhook: {0}")]
    Webhook(String),
}

/// E-mail through the configured server.
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("from", &self.from).finish()
    }
}

impl Smtp {
    /// The SMTP channel of `config` (checked), if configured; `password` read from its
    /// file.
    pub fn from_config(
        config: &NotifySection,
        password: Option<String>,
    ) -> Result<Option<Smtp>, ChannelError> {
        let Some(url) = &config.smtp_url else {
            return Ok(None);
        };
        let from = config
            .from
            .as_deref()
            .unwrap_or_default()
            .parse::<Mailbox>()
            .map_err(|e| ChannelError::Config(format!("notify.from: {e}")))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| ChannelError::Config(format!("notify.smtp_url: {e}")))?
            .timeout(Some(TIMEOUT));
        if let (Some(user), Some(password)) = (&config.smtp_username, password) {
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Some(Smtp {
            transport: builder.build(),
            from,
        }))
    }

    /// Sends `text` to `to`.
    pub(super) async fn send(&self, to: &str, text: &Text) -> Result<(), ChannelError> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| ChannelError::Address(to.to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(text.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(text.body.clone())
            .map_err(|e| ChannelError::Smtp(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| ChannelError::Smtp(e.to_string()))
    }
}

/// The webhook: each notice POSTed as JSON.
#[derive(Debug, Clone)]
pub struct Webhook {
    url: String,
    secret: Vec<u8>,
    client: reqwest::Client,
}

/// The header carrying `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub const SIGNATURE_HEADER: &str = "X-Alliance-Signature";

impl Webhook {
    pub fn from_config(
        config: &NotifySection,
        secret: Option<Vec<u8>>,
    ) -> Result<Option<Webhook>, ChannelError> {
        let (Some(url), Some(secret)) = (&config.webhook_url, secret) else {
            return Ok(None);
        };
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ChannelError::Config(e.to_string()))?;
        Ok(Some(Webhook {
            url: url.clone(),
            secret,
            client,
        }))
    }

    /// POSTs `body`, signed; any 2xx answer takes it.
    pub async fn send(&self, body: &serde_json::Value) -> Result<(), ChannelError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ChannelError::Webhook(e.to_string()))?;
        let answer = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(&self.secret, &bytes)?)
            .body(bytes)
            .send()
            .await
            .map_err(|e| ChannelError::Webhook(e.to_string()))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(ChannelError::Webhook(format!(
                "answered {}",
                answer.status()
            )))
        }
    }
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> Result<String, ChannelError> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
        .map_err(|e| ChannelError::Config(format!("notify.webhook_secret_file: {e}")))?;
    mac.update(body);
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_webhook_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?").unwrap(),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
