//! The `[notify]` config section: where e-mail and webhook notices go.

use std::{path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

/// E-mail (SMTP) and a webhook for notices to this node's people. Both are off unless
/// configured; with neither, no notice is queued.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    /// How often the node looks for reminders to send (a hold about to lapse, a booking
    /// starting within a day): 1 s to 1 h.
    #[serde(default = "default_reminder_interval", with = "humantime_serde")]
    pub reminder_interval: Duration,
    /// The SMTP server, as a URL: `smtps://host:465` (TLS), `smtp://host:587?tls=required`
    /// (STARTTLS), or `smtp://host:25` (plain, for a relay on the same host or network).
    /// No credentials in the URL: see `smtp_username` and `smtp_password_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_username: Option<String>,
    /// A file holding the SMTP password (mode 0600). Relative to `data_dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_password_file: Option<PathBuf>,
    /// The sender, e.g. `仪器共享联盟 <noreply@example.edu.cn>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The node's web address as its users reach it (behind a reverse proxy, say), for
    /// the links in notices; the address the web UI listens on when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
    /// A URL that receives each notice as JSON (for SMS or WeChat gateways), signed with
    /// HMAC-SHA256 in `X-Alliance-Signature: sha256=<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// A file holding the webhook's HMAC secret (mode 0600). Relative to `data_dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret_file: Option<PathBuf>,
}

impl Default for NotifySection {
    fn default() -> Self {
        NotifySection {
            reminder_interval: default_reminder_interval(),
            smtp_url: None,
            smtp_username: None,
            smtp_password_file: None,
            from: None,
            site_url: None,
            webhook_url: None,
            webhook_secret_file: None,
        }
    }
}

fn default_reminder_interval() -> Duration {
    Duration::from_secs(600)
}

impl NotifySection {
    /// Whether any channel is configured.
    pub fn enabled(&self) -> bool {
        self.smtp_url.is_some() || self.webhook_url.is_some()
    }

    /// Checks the section whole, naming the field at fault.
    pub fn check(&self) -> Result<(), String> {
        if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&self.reminder_interval) {
            return Err("notify.reminder_interval must be between 1s and 1h".into());
        }
        if let Some(url) = &self.smtp_url {
            let parsed =
                url::Url::parse(url).map_err(|e| format!("notify.smtp_url is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "smtp" | "smtps") {
                return Err("notify.smtp_url must start with smtp:// or smtps://".into());
            }
            if parsed.password().is_some() || !parsed.username().is_empty() {
                return Err(
                    "notify.smtp_url must not hold credentials: use notify.smtp_username and \
                     notify.smtp_password_file"
                        .into(),
                );
            }
            let Some(from) = &self.from else {
                return Err("notify.from is needed to send e-mail".into());
            };
            from.parse::<lettre::message::Mailbox>()
                .map_err(|e| format!("notify.from is not a mailbox: {e}"))?;
            if self.smtp_username.is_some() != self.smtp_password_file.is_some() {
                return Err(
                    "notify.smtp_username and notify.smtp_password_file go together".into(),
                );
            }
        }
        if let Some(url) = &self.site_url {
            let parsed =
                url::Url::parse(url).map_err(|e| format!("notify.site_url is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err("notify.site_url must start with http:// or https://".into());
            }
        }
        if let Some(url) = &self.webhook_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| format!("notify.webhook_url is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err("notify.webhook_url must start with http:// or https://".into());
            }
            if self.webhook_secret_file.is_none() {
                return Err("notify.webhook_url needs notify.webhook_secret_file".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(url: &str) -> NotifySection {
        NotifySection {
            smtp_url: Some(url.into()),
            from: Some("联盟 <noreply@example.cn>".into()),
            ..NotifySection::default()
        }
    }

    #[test]
    fn a_whole_section_is_checked_naming_the_field() {
        assert!(NotifySection::default().check().is_ok());
        assert!(!NotifySection::default().enabled());
        assert!(smtp("smtp://127.0.0.1:25").check().is_ok());
        assert!(smtp("smtps://mail.example.cn:465").check().is_ok());
        for (section, field) in [
            (
                smtp("smtp://user:secret@mail.example.cn"),
                "notify.smtp_url",
            ),
            (smtp("http://mail.example.cn"), "notify.smtp_url"),
            (
                NotifySection {
                    from: None,
                    ..smtp("smtp://127.0.0.1:25")
                },
                "notify.from",
            ),
            (
                NotifySection {
                    from: Some("not an address".into()),
                    ..smtp("smtp://127.0.0.1:25")
                },
                "notify.from",
            ),
            (
                NotifySection {
                    smtp_username: Some("alliance".into()),
                    ..smtp("smtp://127.0.0.1:25")
                },
                "notify.smtp_username",
            ),
            (
                NotifySection {
                    webhook_url: Some("https://gateway.example.cn/".into()),
                    ..NotifySection::default()
                },
                "notify.webhook_url",
            ),
            (
                NotifySection {
                    reminder_interval: Duration::ZERO,
                    ..smtp("smtp://127.0.0.1:25")
                },
                "notify.reminder_interval",
            ),
            (
                NotifySection {
                    site_url: Some("ftp://example.cn/".into()),
                    ..smtp("smtp://127.0.0.1:25")
                },
                "notify.site_url",
            ),
        ] {
            let refused = section.check().expect_err(field);
            assert!(refused.contains(field), "{refused}");
        }
    }
}
