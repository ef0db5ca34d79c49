//! Serving the web UI and API over HTTP with limits, so slow or numerous clients cannot
//! hold the node: a cap on open connections (in all and per client address), a deadline
//! for a request's headers, a time limit for each request and for each piece of its body.
//! Every request carries the client's socket address as axum's `ConnectInfo`.
//!
//! A connection over a cap is closed at once rather than queued: a queued socket would
//! still hold a file descriptor, and the client retrying is cheaper for everyone.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

/// Most bytes of a request's head (request line and headers).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How long open requests may take to finish once the node stops.
const DRAIN: Duration = Duration::from_secs(5);

/// What the server allows one client, and all of them.
#[derive(Debug, Clone)]
pub(crate) struct ServerLimits {
    /// A client must send a request's headers within this time of starting it.
    pub header_read_timeout: Duration,
    /// A request must be answered within this time (408 otherwise).
    pub request_timeout: Duration,
    /// A request's body must keep arriving: at most this long between two pieces.
    pub body_timeout: Duration,
    /// Open connections in all.
    pub max_connections: usize,
    /// Open connections from one client address (IPv6 by /64). Trusted proxies are
    /// counted only against `max_connections`.
    pub max_connections_per_address: usize,
    /// Reverse proxies whose connections carry many clients.
    pub trusted_proxies: Vec<IpAddr>,
}

/// Open connections, per client address and in all.
#[derive(Debug, Default)]
struct Tally {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A connection's place in the [`Tally`], given back when it closes.
struct Slot {
    tally: Arc<Mutex<Tally>>,
    address: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.total = tally.total.saturating_sub(1);
        if let Some(address) = self.address
            && let Some(open) = tally.by_address.get_mut(&address)
        {
            *open = open.saturating_sub(1);
            if *open == 0 {
                tally.by_address.remove(&address);
            }
        }
    }
}

/// Takes a slot for a new connection from `peer`, or `None` when a cap is reached.
fn admit(tally: &Arc<Mutex<Tally>>, limits: &ServerLimits, peer: IpAddr) -> Option<Slot> {
    let mut counts = tally.lock().unwrap_or_else(|e| e.into_inner());
    if counts.total >= limits.max_connections {
        return None;
    }
    let address =
        (!limits.trusted_proxies.contains(&peer)).then(|| alliance_web::client_bucket(peer));
    if let Some(address) = address {
        let open = counts.by_address.entry(address).or_default();
        if *open >= limits.max_connections_per_address {
            return None;
        }
        *open += 1;
    }
    counts.total += 1;
    Some(Slot {
        tally: tally.clone(),
        address,
    })
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then lets open requests
/// finish for a few seconds.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    let app = app.layer(
        ServiceBuilder::new()
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                limits.request_timeout,
            ))
            .layer(RequestBodyTimeoutLayer::new(limits.body_timeout)),
    );
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEAD_BYTES as u32)
        .max_concurrent_streams(64)
        .keep_alive_interval(Some(limits.header_read_timeout))
        .keep_alive_timeout(limits.header_read_timeout);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "cannot accept an HTTP connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(slot) = admit(&tally, &limits, peer.ip()) else {
            tracing::debug!(%peer, "HTTP connection over the cap closed");
            continue;
        };
        serve_connection(&builder, &graceful, stream, peer, app.clone(), slot);
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("HTTP connections still open at shutdown were closed");
    }
}

fn serve_connection(
    builder: &Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    slot: Slot,
) {
    let _ = stream.set_nodelay(true);
    let service = app.map_request(move |request: Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
        .into_owned();
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::trace!(%peer, error = %e, "HTTP connection ended");
        }
        drop(slot);
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limits(total: usize, per_address: usize) -> ServerLimits {
        ServerLimits {
            header_read_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            body_timeout: Duration::from_secs(1),
            max_connections: total,
            max_connections_per_address: per_address,
            trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
        }
    }

    #[test]
    fn caps_count_per_address_and_in_all_and_free_on_close() {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let limits = limits(4, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = admit(&tally, &limits, a).unwrap();
        let _second = admit(&tally, &limits, a).unwrap();
        assert!(
            admit(&tally, &limits, a).is_none(),
            "a third from one address"
        );
        let _other = admit(&tally, &limits, b).unwrap();
        // A proxy carries many clients: only the total applies to it.
        let _proxied = admit(&tally, &limits, "10.0.0.1".parse().unwrap()).unwrap();
        assert!(admit(&tally, &limits, b).is_none(), "over the total");
        drop(first);
        assert!(
            admit(&tally, &limits, a).is_some(),
            "a closed slot is free again"
        );
    }
}
