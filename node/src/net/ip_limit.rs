//! A connection gate per remote IP address: at most so many inbound connections (being
//! set up or established) from one address, so that one host cannot take every slot of
//! the total connection limit. Outbound connections are ours and are not counted.

use std::{
    collections::HashMap,
    convert::Infallible,
    net::IpAddr,
    task::{Context, Poll},
};

use libp2p::{
    Multiaddr, PeerId,
    core::{Endpoint, transport::PortUse},
    multiaddr::Protocol,
    swarm::{
        ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm, ListenFailure,
        NetworkBehaviour, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm, dummy,
    },
};

/// An inbound connection was refused: its address already has `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{ip} already has {limit} inbound connections")]
pub struct TooManyFromIp {
    pub ip: IpAddr,
    pub limit: u32,
}

/// The behaviour. Holds no handler of its own (`dummy`).
#[derive(Debug)]
pub struct Behaviour {
    limit: u32,
    /// Inbound connections counted, with their address.
    connections: HashMap<ConnectionId, IpAddr>,
    per_ip: HashMap<IpAddr, u32>,
}

/// The IP address a multiaddress starts with, if any.
fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    match addr.iter().next()? {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

impl Behaviour {
    /// At most `limit` inbound connections per remote IP address.
    pub fn new(limit: u32) -> Self {
        Behaviour {
            limit,
            connections: HashMap::new(),
            per_ip: HashMap::new(),
        }
    }

    /// Inbound connections counted for `ip`.
    pub fn count(&self, ip: &IpAddr) -> u32 {
        self.per_ip.get(ip).copied().unwrap_or(0)
    }

    fn release(&mut self, connection: ConnectionId) {
        let Some(ip) = self.connections.remove(&connection) else {
            return;
        };
        if let Some(n) = self.per_ip.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_ip.remove(&ip);
            }
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        // Addresses without an IP (relayed, memory) are not ours to count.
        let Some(ip) = ip_of(remote_addr) else {
            return Ok(());
        };
        let count = self.per_ip.entry(ip).or_insert(0);
        if *count >= self.limit {
            return Err(ConnectionDenied::new(TooManyFromIp {
                ip,
                limit: self.limit,
            }));
        }
        *count += 1;
        self.connections.insert(connection_id, ip);
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _local_addr: &Multiaddr,
        _remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            // A connection counted while pending stays counted until it closes or fails.
            FromSwarm::ConnectionClosed(ConnectionClosed { connection_id, .. })
            | FromSwarm::ListenFailure(ListenFailure { connection_id, .. }) => {
                self.release(connection_id);
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _connection: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn addr(text: &str) -> Multiaddr {
        text.parse().unwrap()
    }

    fn fail(gate: &mut Behaviour, connection_id: ConnectionId) {
        let local = addr("/ip4/127.0.0.1/tcp/4100");
        let error = libp2p::swarm::ListenError::Aborted;
        gate.on_swarm_event(FromSwarm::ListenFailure(ListenFailure {
            local_addr: &local,
            send_back_addr: &local,
            error: &error,
            connection_id,
            peer_id: None,
        }));
    }

    #[test]
    fn an_address_gets_at_most_its_limit_and_a_freed_slot_is_reusable() {
        let mut gate = Behaviour::new(2);
        let local = addr("/ip4/127.0.0.1/tcp/4100");
        let host = addr("/ip4/203.0.113.7/tcp/50000");
        let other = addr("/ip6/2001:db8::1/tcp/50000");
        let ids: Vec<ConnectionId> = (0..5).map(ConnectionId::new_unchecked).collect();
        assert!(
            gate.handle_pending_inbound_connection(ids[0], &local, &host)
                .is_ok()
        );
        assert!(
            gate.handle_pending_inbound_connection(ids[1], &local, &host)
                .is_ok()
        );
        let refused = gate
            .handle_pending_inbound_connection(ids[2], &local, &host)
            .unwrap_err();
        let reason = refused.downcast::<TooManyFromIp>().unwrap();
        assert_eq!(reason.limit, 2);
        // Another address is not affected.
        assert!(
            gate.handle_pending_inbound_connection(ids[3], &local, &other)
                .is_ok()
        );
        // The refused connection's failure frees nothing; a real one's does.
        fail(&mut gate, ids[2]);
        assert_eq!(gate.count(&ip_of(&host).unwrap()), 2);
        fail(&mut gate, ids[0]);
        assert_eq!(gate.count(&ip_of(&host).unwrap()), 1);
        assert!(
            gate.handle_pending_inbound_connection(ids[4], &local, &host)
                .is_ok()
        );
    }
}
