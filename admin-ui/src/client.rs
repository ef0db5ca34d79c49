//! Which address a request comes from, for limits per client ([`ClientAddr`]).
//!
//! The address is the TCP peer, which the server puts in the request's extensions as
//! `ConnectInfo<SocketAddr>` (serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()`). Only when that peer is one of
//! [`WebOptions::trusted_proxies`](crate::WebOptions) is `X-Forwarded-For` believed, and
//! then only its rightmost address that is not itself a trusted proxy: every address left
//! of it was written by the client and may be forged. Without `ConnectInfo` (router tests
//! that call `oneshot`) the address is the unspecified `0.0.0.0`.

use std::{
    convert::Infallible,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};

use crate::{AppState, backend::Backend};

/// The header a reverse proxy appends the client's address to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The address of the client a request comes from, after any trusted reverse proxy.
///
/// Extract it in a handler (`ClientAddr(addr): ClientAddr`); limits should count per
/// [`ClientAddr::bucket`], not per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key a limit per client counts under (see [`client_bucket`]).
    pub(crate) fn bucket(self) -> IpAddr {
        client_bucket(self.0)
    }
}

/// The key a limit per client counts under, for the web layer and the HTTP server alike:
/// an IPv4 address (also when written as IPv4-mapped IPv6), or the /64 network of an IPv6
/// address (one subscriber usually holds a whole /64, so counting single IPv6 addresses
/// would let one client appear as billions).
pub fn client_bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        },
    }
}

impl<B: Backend> FromRequestParts<AppState<B>> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<B>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientAddr(resolve(
            peer,
            &parts.headers,
            &state.options.trusted_proxies,
        )))
    }
}

/// The client's address: the peer, or what trusted proxies say stands behind it.
fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let Some(peer) = peer.map(|ip| ip.to_canonical()) else {
        return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| t.to_canonical() == *ip);
    if !is_trusted(&peer) {
        return peer;
    }
    // Several headers count as one list, in order.
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            // Garbage where an address belongs: the last trusted hop is all we know.
            None => return client,
        }
    }
    client
}

/// An address in `X-Forwarded-For`: `192.0.2.1`, `2001:db8::1`, or with a port
/// (`192.0.2.1:5000`, `[2001:db8::1]:5000`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            if let Ok(value) = value.parse() {
                headers.append(FORWARDED_FOR, value);
            }
        }
        headers
    }

    #[test]
    fn without_a_trusted_proxy_the_peer_is_the_client() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            resolve(Some(ip("198.51.100.7")), &headers, &[]),
            ip("198.51.100.7"),
            "a client cannot name its own address"
        );
        assert_eq!(
            resolve(None, &headers, &[]),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        let peer = Some(ip("10.0.0.2"));
        // The client forged the first entry; the proxies appended the real one.
        let headers = forwarded(&["1.1.1.1, 203.0.113.9", "10.0.0.1"]);
        assert_eq!(resolve(peer, &headers, &proxies), ip("203.0.113.9"));
        let headers = forwarded(&["[2001:db8::5]:4711"]);
        assert_eq!(resolve(peer, &headers, &proxies), ip("2001:db8::5"));
        // Nothing usable: the nearest trusted hop.
        assert_eq!(resolve(peer, &forwarded(&[]), &proxies), ip("10.0.0.2"));
        let headers = forwarded(&["203.0.113.9, nonsense, 10.0.0.1"]);
        assert_eq!(resolve(peer, &headers, &proxies), ip("10.0.0.1"));
        // A mapped IPv4 peer matches its IPv4 proxy entry.
        assert_eq!(
            resolve(
                Some(ip("::ffff:10.0.0.1")),
                &forwarded(&["203.0.113.9"]),
                &proxies
            ),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ipv6_clients_count_per_64_network() {
        let a = ClientAddr(ip("2001:db8:1:2:aaaa::1")).bucket();
        let b = ClientAddr(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")).bucket();
        let c = ClientAddr(ip("2001:db8:1:3::1")).bucket();
        assert_eq!(a, b);
        assert_eq!(a, ip("2001:db8:1:2::"));
        assert_ne!(a, c);
        assert_eq!(ClientAddr(ip("192.0.2.1")).bucket(), ip("192.0.2.1"));
        assert_eq!(client_bucket(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }
}
