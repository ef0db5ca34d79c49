//! Reading a statement, its evidence and the log's entries from a node's public API,
//! page by page. Nothing read sizes an allocation: pages are bounded by the server, and
//! reading stops at the counts the signed statement gives.

use std::time::Duration;

use alliance_protocol::{PublicKey, statement::ResultsStatement};
use serde::Deserialize;

use super::VerifyError;

/// What `GET /api/v1/results/statement` answers.
#[derive(Debug, Deserialize)]
struct StatementView {
    root_public_key: String,
    signed_statement: String,
    figures: String,
    evidence_digest: String,
}

#[derive(Debug, Deserialize)]
struct EvidencePage {
    items: Vec<String>,
    next: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct LogEntry {
    index: u64,
    submission: String,
}

#[derive(Debug, Deserialize)]
struct LogPage {
    entries: Vec<LogEntry>,
    next: Option<u64>,
}

/// Everything a statement is checked against.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub root: PublicKey,
    /// The root key came from the server, not from the caller.
    pub root_from_server: bool,
    pub signed_statement: Vec<u8>,
    pub figures: String,
    pub evidence: Vec<Vec<u8>>,
    pub entries: Vec<Vec<u8>>,
}

/// Most tries of a request the server rate-limits.
const TRIES: u32 = 6;

async fn get<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
) -> Result<T, VerifyError> {
    let fail = |e: reqwest::Error| VerifyError::Fetch(format!("{url}: {e}"));
    for _ in 0..TRIES {
        let response = client.get(url).send().await.map_err(fail)?;
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(5)
                .min(60);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        let response = response.error_for_status().map_err(fail)?;
        return response.json().await.map_err(fail);
    }
    Err(VerifyError::Fetch(format!("{url}: still rate-limited")))
}

fn hex_bytes(what: &str, text: &str) -> Result<Vec<u8>, VerifyError> {
    hex::decode(text).map_err(|e| VerifyError::Fetch(format!("{what} is not hex: {e}")))
}

/// Reads the statement of `period` from the node at `base` (`http://host:port`), its
/// evidence and the log entries it counts. `root` is the province's root key as the
/// caller holds it; without it the server's word is taken (and said so).
pub async fn fetch(
    base: &str,
    period: &str,
    root: Option<PublicKey>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Fetched, VerifyError> {
    let base = base.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| VerifyError::Fetch(e.to_string()))?;
    let period_q = url_component(period);
    let view: StatementView = get(
        &client,
        &format!("{base}/api/v1/results/statement?period={period_q}"),
    )
    .await?;
    let (root, root_from_server) = match root {
        Some(root) => (root, false),
        None => (
            view.root_public_key
                .parse::<PublicKey>()
                .map_err(|e| VerifyError::Fetch(format!("root_public_key: {e}")))?,
            true,
        ),
    };
    let signed_statement = hex_bytes("signed_statement", &view.signed_statement)?;
    let statement = ResultsStatement::open(&signed_statement, &root)
        .map_err(|e| VerifyError::Statement(e.to_string()))?;
    progress(&format!(
        "statement of {}: {} log entries, {} evidence items",
        statement.period, statement.log_size, statement.evidence_items
    ));
    let mut evidence = Vec::new();
    let mut from = Some(0u64);
    while let Some(at) = from {
        let page: EvidencePage = get(
            &client,
            &format!(
                "{base}/api/v1/results/evidence?period={period_q}&digest={}&from={at}&limit=1000",
                view.evidence_digest
            ),
        )
        .await?;
        evidence.extend(page.items.into_iter().map(String::into_bytes));
        if evidence.len() as u64 > statement.evidence_items {
            return Err(VerifyError::EvidenceDigest(
                "more items than the statement counts".into(),
            ));
        }
        from = page.next.filter(|next| *next > at);
    }
    let mut entries = Vec::new();
    while (entries.len() as u64) < statement.log_size {
        let at = entries.len() as u64;
        let page: LogPage = get(
            &client,
            &format!("{base}/api/v1/log/entries?from={at}&limit=1000"),
        )
        .await?;
        if page.entries.is_empty() {
            break;
        }
        for entry in page.entries {
            if entry.index != entries.len() as u64 {
                return Err(VerifyError::Fetch(format!(
                    "log entry {} where {} was expected",
                    entry.index,
                    entries.len()
                )));
            }
            if entries.len() as u64 >= statement.log_size {
                break;
            }
            entries.push(hex_bytes("a log entry", &entry.submission)?);
        }
        if entries.len() % 100_000 < 1_000 {
            progress(&format!(
                "{} of {} log entries",
                entries.len(),
                statement.log_size
            ));
        }
        if page.next.is_none() {
            break;
        }
    }
    Ok(Fetched {
        root,
        root_from_server,
        signed_statement,
        figures: view.figures,
        evidence,
        entries,
    })
}

/// `period` for a query string (periods are ASCII letters, digits and `-`).
fn url_component(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}
