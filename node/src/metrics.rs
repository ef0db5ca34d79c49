//! The node's metrics for Prometheus, at `GET /metrics` behind a bearer token (the
//! `metrics.token` file in the data dir, mode 0600, kept across restarts so a scraper's
//! configuration stays valid): HTTP requests and latencies by route, booking answers by
//! outcome, outbox depths, gossip entries accepted and refused by reason, connected
//! members, the province's log size, and whether the store and every task are healthy.
//!
//! Each node has its own figures (several nodes can share a process, as in the demo):
//! request figures are kept here; the rest are read from the node's parts at each scrape.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use subtle::ConstantTimeEq;

use crate::{
    booking::service::Bookings, catalogue::Catalogue, net::NetClient,
    province::receipt_log::ReceiptLog, receipts::Receipts, store::Store, supervisor::Supervisor,
};

const TOKEN_FILE: &str = "metrics.token";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    /// The route's template (`/instruments/{institution}/{local_id}`), never the raw
    /// path: a client cannot make up new series.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    outbox: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GossipLabels {
    result: &'static str,
    reason: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Figures about HTTP requests, kept since start.
#[derive(Debug, Clone)]
struct HttpFigures {
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
}

/// The parts of a node whose figures are read at each scrape.
#[derive(Debug, Clone)]
pub struct MetricSources {
    pub net: NetClient,
    pub catalogue: Catalogue,
    pub bookings: Bookings,
    pub receipts: Receipts,
    pub store: Store,
    pub supervisor: Supervisor,
    /// On the province's node.
    pub receipt_log: Option<ReceiptLog>,
}

/// A node's metrics. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Metrics {
    http: HttpFigures,
    sources: Arc<MetricSources>,
}

impl Metrics {
    /// Metrics of the node with these parts.
    pub fn new(sources: MetricSources) -> Self {
        Metrics {
            http: HttpFigures {
                requests: Family::default(),
                latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            },
            sources: Arc::new(sources),
        }
    }

    /// Counts one request and its latency (a middleware over every route).
    pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
        let method = method_label(request.method());
        let started = Instant::now();
        let response = next.run(request).await;
        let labels = RequestLabels {
            method,
            route: route.clone(),
            status: response.status().as_u16(),
        };
        metrics.http.requests.get_or_create(&labels).inc();
        metrics
            .http
            .latency
            .get_or_create(&RouteLabels { route })
            .observe(started.elapsed().as_secs_f64());
        response
    }

    /// Every figure in the Prometheus (OpenMetrics) text format.
    pub async fn render(&self) -> String {
        let mut registry = Registry::with_prefix("alliance");
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            self.http.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            self.http.latency.clone(),
        );
        let sources = &self.sources;

        let answers = Family::<OutcomeLabels, Counter>::default();
        for (outcome, n) in sources.bookings.answer_counts() {
            answers.get_or_create(&OutcomeLabels { outcome }).inc_by(n);
        }
        registry.register(
            "booking_answers",
            "Booking requests this owner answered since start, by outcome",
            answers,
        );

        let outboxes = Family::<OutboxLabels, Gauge>::default();
        let mail_depth = crate::mail::outbox::depth(&sources.store);
        let dead_letters = crate::mail::dead_letters::count(&sources.store);
        let receipt_depth = sources.receipts.waiting();
        for (outbox, depth) in [
            ("mail", mail_depth),
            ("dead_letters", dead_letters),
            ("receipts", receipt_depth),
        ] {
            match depth {
                Ok(depth) => {
                    outboxes
                        .get_or_create(&OutboxLabels { outbox })
                        .set(i64::try_from(depth).unwrap_or(i64::MAX));
                }
                Err(e) => tracing::warn!(error = %e, outbox, "cannot count an outbox"),
            }
        }
        registry.register(
            "outbox_depth",
            "Messages waiting for another node (mail), given up with their reason (dead_letters), or waiting for the province's proof (receipts)",
            outboxes,
        );

        let gossip = Family::<GossipLabels, Counter>::default();
        let stats = sources.catalogue.stats();
        for (result, reason, n) in [
            ("accepted", "", stats.accepted),
            ("stale", "", stats.stale),
            ("rejected", "oversized", stats.oversized),
            ("rejected", "malformed", stats.malformed),
            ("rejected", "not_member", stats.not_member),
            ("rejected", "bad_signature", stats.bad_signature),
            ("rejected", "wrong_owner", stats.wrong_owner),
            ("refused", "over_quota", stats.over_quota),
            ("refused", "full", stats.full),
        ] {
            gossip
                .get_or_create(&GossipLabels { result, reason })
                .inc_by(n);
        }
        registry.register(
            "catalogue_entries",
            "Catalogue entries received from peers, accepted, stale or rejected by reason",
            gossip,
        );

        let gauge = |value: usize| {
            let g = Gauge::<i64>::default();
            g.set(i64::try_from(value).unwrap_or(i64::MAX));
            g
        };
        registry.register(
            "members_connected",
            "Verified member nodes connected",
            gauge(sources.net.state().members.len()),
        );
        if let Some(log) = &sources.receipt_log {
            let size = log.tree_head().await.size;
            registry.register(
                "log_size",
                "Entries in the province's receipt log",
                gauge(usize::try_from(size).unwrap_or(usize::MAX)),
            );
        }
        registry.register(
            "store_accepts_writes",
            "1 while the store accepts writes, 0 after a failed write",
            gauge(usize::from(sources.store.accepts_writes())),
        );
        registry.register(
            "tasks_stopped",
            "Background tasks that stopped while the node ran",
            gauge(sources.supervisor.stopped().len()),
        );
        let mut text = String::new();
        if let Err(e) = encode(&mut text, &registry) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        text
    }
}

/// A bounded set of method labels.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Where the metrics token lives.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

/// The metrics token of a data dir, made (mode 0600) at the first start.
pub fn ensure_token(data_dir: &Path) -> std::io::Result<String> {
    let path = token_path(data_dir);
    match fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => return Ok(token.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = hex::encode(bytes);
    crate::keyfile::write_private(&path, &token)?;
    Ok(token)
}

#[derive(Debug, Clone)]
struct Scrape {
    metrics: Metrics,
    token: Arc<str>,
}

/// `GET /metrics`, answered only with `Authorization: Bearer <metrics token>`.
pub fn router(metrics: Metrics, token: String) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape {
            metrics,
            token: token.into(),
        })
}

async fn scrape(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(offered.as_bytes().ct_eq(scrape.token.as_bytes())) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "the metrics token is in the node's data dir (metrics.token)\n",
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        scrape.metrics.render().await,
    )
        .into_response()
}
