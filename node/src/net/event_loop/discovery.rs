//! Finding members: re-dialling bootstrap peers, the DHT lookups for members not yet
//! connected, and what a lookup's answer may make this node dial.

use alliance_protocol::UnixTime;
use libp2p::{Multiaddr, PeerId, kad};

use super::EventLoop;

/// Addresses dialled per peer found through the DHT.
const MAX_DISCOVERED_ADDRS: usize = 4;

impl EventLoop {
    /// Reconnects to bootstrap peers that went away (a restarted province, a healed
    /// network) and looks for members we are not connected to.
    pub(super) fn redial(&mut self) {
        for addr in self.config.bootstrap.clone() {
            let peer = addr.iter().find_map(|p| match p {
                libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
                _ => None,
            });
            if peer.is_some_and(|p| self.swarm.is_connected(&p)) {
                continue;
            }
            if let Err(e) = self.swarm.dial(addr.clone()) {
                tracing::debug!(%addr, error = %e, "cannot re-dial bootstrap peer");
            }
        }
        if self.membership.verified_peers().next().is_some() {
            self.discover();
        }
    }

    pub(super) fn discover(&mut self) {
        if !self.discovery_running {
            let me = *self.swarm.local_peer_id();
            self.swarm.behaviour_mut().kad.get_closest_peers(me);
            self.discovery_running = true;
        }
    }

    /// A peer told us where it listens: a verified member's addresses go into the DHT's
    /// routing table, and a lookup starts.
    pub(super) fn on_identified(&mut self, peer_id: PeerId, listen_addrs: Vec<Multiaddr>) {
        if self.membership.verified(&peer_id).is_some() {
            for addr in &listen_addrs {
                self.swarm
                    .behaviour_mut()
                    .kad
                    .add_address(&peer_id, addr.clone());
            }
            self.discover();
        }
        self.identify_addrs.insert(peer_id, listen_addrs);
    }

    /// A step of a lookup for the peers closest to this node: dial the members in it.
    pub(super) fn on_closest_peers(
        &mut self,
        result: Result<kad::GetClosestPeersOk, kad::GetClosestPeersError>,
        last: bool,
    ) {
        if last {
            self.discovery_running = false;
        }
        let peers = match result {
            Ok(ok) => ok.peers,
            Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
        };
        let now = UnixTime::now();
        let local = *self.swarm.local_peer_id();
        let wanted = |peer: &PeerId| {
            *peer != local && !self.swarm.is_connected(peer) && self.membership.is_member(peer, now)
        };
        for (peer, addrs) in worth_dialling(peers, wanted) {
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                .addresses(addrs)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(%peer, error = %e, "cannot dial discovered peer");
            }
        }
    }
}

/// The peers of a DHT lookup to dial: those `wanted` (members the roster lists, not
/// connected yet), at no more than [`MAX_DISCOVERED_ADDRS`] addresses each — a member
/// answering a lookup could otherwise make this node dial any host, or many.
fn worth_dialling(
    peers: Vec<kad::PeerInfo>,
    wanted: impl Fn(&PeerId) -> bool,
) -> Vec<(PeerId, Vec<Multiaddr>)> {
    peers
        .into_iter()
        .filter(|info| wanted(&info.peer_id))
        .map(|info| {
            let addrs = info.addrs.into_iter().take(MAX_DISCOVERED_ADDRS).collect();
            (info.peer_id, addrs)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_dials_only_wanted_peers_at_a_few_addresses() {
        let member = PeerId::random();
        let stranger = PeerId::random();
        let addrs: Vec<Multiaddr> = (1..=20)
            .map(|n| format!("/ip4/10.0.0.{n}/tcp/4001").parse().unwrap())
            .collect();
        let peers = vec![
            kad::PeerInfo {
                peer_id: stranger,
                addrs: addrs.clone(),
            },
            kad::PeerInfo {
                peer_id: member,
                addrs: addrs.clone(),
            },
        ];
        let dials = worth_dialling(peers, |p| *p == member);
        assert_eq!(
            dials,
            vec![(member, addrs[..MAX_DISCOVERED_ADDRS].to_vec())]
        );
    }
}
