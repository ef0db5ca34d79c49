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
    /// Not an address (checked here, before any server is asked).
    #[error("the account's e-mail address is not an address")]
    Address,
    #[error("the SMTP server: {0}")]
    Smtp(String),
    #[error("the webhook: {0}")]
    Webhook(String),
    /// The server or gateway refused it for good (an SMTP 5xx, an HTTP 4xx other than
    /// 408 and 429): asking again would be refused again.
    #[error("refused for good: {0}")]
    Refused(String),
}

impl ChannelError {
    /// Whether trying again cannot help.
    pub fn is_final(&self) -> bool {
        matches!(self, ChannelError::Address | ChannelError::Refused(_))
    }
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

    /// Sends `text` to `to`, within [`TIMEOUT`] for the whole exchange (lettre's own
    /// timeout bounds the connection only: a server that accepts and never answers must
    /// not hold every other notice up).
    pub(super) async fn send(&self, to: &str, text: &Text) -> Result<(), ChannelError> {
        let to: Mailbox = to.parse().map_err(|_| ChannelError::Address)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(text.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(text.body.clone())
            .map_err(|e| ChannelError::Smtp(e.to_string()))?;
        match tokio::time::timeout(TIMEOUT, self.transport.send(message)).await {
            Err(_) => Err(ChannelError::Smtp("no answer in time".into())),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(ChannelError::Refused(e.to_string())),
            Ok(Err(e)) => Err(ChannelError::Smtp(e.to_string())),
        }
    }
}

/// The webhook: each notice POSTed as JSON.
#[derive(Clone)]
pub struct Webhook {
    url: String,
    secret: Vec<u8>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the secret nor the URL (gateways often carry a token in it).
        f.debug_struct("Webhook").finish_non_exhaustive()
    }
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
        if secret.is_empty() {
            return Err(ChannelError::Config(
                "notify.webhook_secret_file is empty".into(),
            ));
        }
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
            // Without the URL: it may carry the gateway's token.
            .map_err(|e| ChannelError::Webhook(e.without_url().to_string()))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else if status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Err(ChannelError::Refused(format!(
                "the webhook answered {status}"
            )))
        } else {
            Err(ChannelError::Webhook(format!("answered {status}")))
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

    #[tokio::test]
    async fn an_https_gateway_is_reached_over_tls_and_a_refusal_is_retried() {
        let config = NotifySection {
            // Nothing listens there: the connection is refused, after TLS was set up
            // for it (a client without TLS would refuse the scheme itself).
            webhook_url: Some("https://127.0.0.1:9/hook?key=token-in-url".into()),
            webhook_secret_file: Some("secret".into()),
            ..NotifySection::default()
        };
        let webhook = Webhook::from_config(&config, Some(b"s".to_vec()))
            .unwrap()
            .unwrap();
        let error = webhook.send(&serde_json::json!({})).await.unwrap_err();
        assert!(!error.is_final(), "{error}");
        let text = error.to_string();
        assert!(!text.contains("scheme"), "{text}");
        assert!(!text.contains("token-in-url"), "the URL was logged: {text}");
        assert!(!format!("{webhook:?}").contains("token-in-url"));
        let empty = Webhook::from_config(&config, Some(Vec::new()));
        assert!(empty.is_err(), "an empty secret is refused");
    }

    #[test]
    fn the_webhook_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?").unwrap(),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
