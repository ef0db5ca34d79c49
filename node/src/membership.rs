//! Who belongs: this node's view of alliance membership.
//!
//! A peer is admitted when it presents a certificate signed by the root key, inside its
//! validity window, not revoked by the newest roster held, and naming the very key the
//! transport authenticated. Pure state, no I/O: the network task drives it.

use std::collections::HashMap;

use alliance_protocol::{
    CertificateError, MembershipCertificate, PublicKey, Roster, RosterError, SignedCertificate,
    SignedRoster, UnixTime, rpc::Hello,
};
use libp2p::PeerId;

use crate::identity;

/// Why a peer was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error("certificate is for {certified}, not for the connected peer")]
    NotThisPeer { certified: String },
    /// Every certificate the province issues is in the roster it signs, which every
    /// member holds: one that is not could only have been handed out in secret.
    #[error(
        "certificate {serial} is not in the roster held (version {version}), where the province publishes every certificate it issues"
    )]
    NotListed { serial: u64, version: u64 },
}

/// What a roster offer changed.
#[derive(Debug, PartialEq, Eq)]
pub enum RosterOutcome {
    /// A newer roster was installed; these connected peers are now revoked, and these
    /// are not in it (admitted before this node held any roster).
    Installed {
        version: u64,
        revoked: Vec<PeerId>,
        unlisted: Vec<PeerId>,
    },
    /// The offer was not newer than the held roster.
    NotNewer,
}

/// This node's membership state.
#[derive(Debug)]
pub struct Membership {
    root: PublicKey,
    own: SignedCertificate,
    roster: Option<SignedRoster>,
    verified: HashMap<PeerId, MembershipCertificate>,
}

impl Membership {
    /// Starts with this node's own certificate and the roster last stored, if any.
    pub fn new(root: PublicKey, own: SignedCertificate, roster: Option<SignedRoster>) -> Self {
        Membership {
            root,
            own,
            roster,
            verified: HashMap::new(),
        }
    }

    /// The root public key.
    pub fn root(&self) -> &PublicKey {
        &self.root
    }

    /// This node's certificate.
    pub fn own(&self) -> &MembershipCertificate {
        self.own.certificate()
    }

    /// Certificates naming this node's institution with a node key that is not this
    /// node's, in the roster held or shown by a peer: whoever holds their keys can answer
    /// bookings and issue receipts as this institution. Unless the institution moved to a
    /// new node itself, the root key has been misused — the institution must be told.
    pub fn impostors(&self) -> Vec<MembershipCertificate> {
        let own = self.own();
        let mut found: Vec<MembershipCertificate> = self
            .roster
            .iter()
            .flat_map(|r| {
                r.roster()
                    .certificates
                    .iter()
                    .map(|c| c.certificate().clone())
            })
            .chain(self.verified.values().cloned())
            .filter(|c| {
                c.institution_id == own.institution_id && c.node_public_key != own.node_public_key
            })
            .collect();
        found.sort_by_key(|c| c.serial);
        found.dedup_by_key(|c| c.serial);
        found
    }

    /// Our side of the handshake.
    pub fn hello(&self) -> Hello {
        Hello {
            certificate: self.own.encode(),
            roster_version: self.roster_version(),
            head: Vec::new(),
        }
    }

    /// Version of the roster held; 0 when none.
    pub fn roster_version(&self) -> u64 {
        self.roster.as_ref().map_or(0, |r| r.roster().version)
    }

    /// The held roster's signed bytes.
    pub fn roster_bytes(&self) -> Option<Vec<u8>> {
        self.roster.as_ref().map(SignedRoster::encode)
    }

    /// Checks a peer's hello without admitting it.
    pub fn check(
        &self,
        peer: &PeerId,
        hello: &Hello,
        now: UnixTime,
    ) -> Result<MembershipCertificate, AdmissionError> {
        let cert = SignedCertificate::decode(&hello.certificate, &self.root)?;
        Roster::check(self.roster.as_ref().map(|r| r.roster()), &cert, now, None)?;
        let certified = cert.certificate().node_public_key;
        if identity::peer_id(&certified).as_ref() != Some(peer) {
            return Err(AdmissionError::NotThisPeer {
                certified: certified.to_string(),
            });
        }
        // A node that holds no roster yet (just set up) admits on the root's signature
        // alone, to fetch one; peers not in it are cut off once it arrives.
        if let Some(roster) = &self.roster
            && !listed(roster.roster(), cert.certificate())
        {
            return Err(AdmissionError::NotListed {
                serial: cert.certificate().serial,
                version: roster.roster().version,
            });
        }
        Ok(cert.certificate().clone())
    }

    /// Records a peer as a verified member.
    pub fn admit(&mut self, peer: PeerId, cert: MembershipCertificate) {
        self.verified.insert(peer, cert);
    }

    /// Forgets a peer (disconnected or refused).
    pub fn remove(&mut self, peer: &PeerId) -> Option<MembershipCertificate> {
        self.verified.remove(peer)
    }

    /// The verified certificate of a connected peer.
    pub fn verified(&self, peer: &PeerId) -> Option<&MembershipCertificate> {
        self.verified.get(peer)
    }

    /// All verified connected peers.
    pub fn verified_peers(&self) -> impl Iterator<Item = (&PeerId, &MembershipCertificate)> {
        self.verified.iter()
    }

    /// The certificate of a current member, connected or not: verified here, or listed in
    /// the held roster with a live, unrevoked certificate. Used for gossip authors, who may
    /// be several hops away.
    pub fn certificate_of(&self, peer: &PeerId, now: UnixTime) -> Option<&MembershipCertificate> {
        if let Some(cert) = self.verified.get(peer) {
            return Some(cert);
        }
        let roster = self.roster.as_ref()?.roster();
        roster
            .certificates
            .iter()
            .find(|cert| {
                identity::peer_id(&cert.certificate().node_public_key).as_ref() == Some(peer)
                    && Roster::check(Some(roster), cert, now, None).is_ok()
            })
            .map(SignedCertificate::certificate)
    }

    /// The certified keys of every current member known here: the held roster's live,
    /// unrevoked certificates, verified peers, and this node.
    pub fn key_directory(&self, now: UnixTime) -> crate::catalogue::admission::KeyDirectory {
        let mut certs: Vec<&MembershipCertificate> = vec![self.own()];
        certs.extend(self.verified.values());
        if let Some(signed) = &self.roster {
            let roster = signed.roster();
            certs.extend(
                roster
                    .certificates
                    .iter()
                    .filter(|c| Roster::check(Some(roster), c, now, None).is_ok())
                    .map(SignedCertificate::certificate),
            );
        }
        crate::catalogue::admission::KeyDirectory::new(certs)
    }

    /// Whether `peer` is a current member (see [`Membership::certificate_of`]).
    pub fn is_member(&self, peer: &PeerId, now: UnixTime) -> bool {
        self.certificate_of(peer, now).is_some()
    }

    /// Offers a roster (from gossip, a peer or the province itself). Installs it if it is
    /// signed by the root and newer than the held one, and returns the connected peers it
    /// revokes, who are dropped from the verified set. The version is read before any
    /// signature is checked, so a replay costs no verification.
    pub fn offer_roster(&mut self, bytes: &[u8]) -> Result<RosterOutcome, RosterError> {
        let Some(signed) = SignedRoster::decode_if_newer(bytes, &self.root, self.roster_version())?
        else {
            return Ok(RosterOutcome::NotNewer);
        };
        let version = signed.roster().version;
        let revoked: Vec<PeerId> = self
            .verified
            .iter()
            .filter(|(_, cert)| signed.roster().is_revoked(cert.serial))
            .map(|(peer, _)| *peer)
            .collect();
        let unlisted: Vec<PeerId> = self
            .verified
            .iter()
            .filter(|(peer, cert)| !revoked.contains(peer) && !listed(signed.roster(), cert))
            .map(|(peer, _)| *peer)
            .collect();
        for peer in revoked.iter().chain(&unlisted) {
            self.verified.remove(peer);
        }
        if signed.roster().is_revoked(self.own().serial) {
            tracing::error!(
                serial = self.own().serial,
                "this node's own certificate has been revoked by the province; peers will refuse it"
            );
        }
        self.roster = Some(signed);
        Ok(RosterOutcome::Installed {
            version,
            revoked,
            unlisted,
        })
    }
}

/// Whether `roster` lists `cert` (same serial, same key).
fn listed(roster: &alliance_protocol::Roster, cert: &MembershipCertificate) -> bool {
    roster.certificates.iter().any(|c| {
        let c = c.certificate();
        c.serial == cert.serial && c.node_public_key == cert.node_public_key
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alliance_protocol::{Role, SecretKey};
    use std::collections::BTreeSet;

    fn cert(root: &SecretKey, node: &SecretKey, serial: u64) -> SignedCertificate {
        MembershipCertificate {
            institution_id: "imr".parse().unwrap(),
            name_zh: "中国科学院金属研究所".into(),
            name_en: "Institute of Metal Research, CAS".into(),
            region: "辽宁省沈阳市".into(),
            node_public_key: node.public(),
            role: Role::Member,
            serial,
            not_before: UnixTime(0),
            not_after: UnixTime::now().plus_days(1),
        }
        .sign(root)
    }

    fn peer(key: &SecretKey) -> PeerId {
        identity::peer_id(&key.public()).unwrap()
    }

    #[test]
    fn a_certified_peer_is_admitted_and_a_stolen_certificate_is_not() {
        let (root, me, them, thief) = (
            SecretKey::generate(),
            SecretKey::generate(),
            SecretKey::generate(),
            SecretKey::generate(),
        );
        let state = Membership::new(root.public(), cert(&root, &me, 1), None);
        let hello = Hello {
            certificate: cert(&root, &them, 2).encode(),
            roster_version: 0,
            head: Vec::new(),
        };
        assert!(state.check(&peer(&them), &hello, UnixTime::now()).is_ok());
        assert!(matches!(
            state.check(&peer(&thief), &hello, UnixTime::now()),
            Err(AdmissionError::NotThisPeer { .. })
        ));
    }

    #[test]
    fn a_certificate_missing_from_the_roster_held_is_refused_and_cut_off_when_one_arrives() {
        let (root, me, them, secret) = (
            SecretKey::generate(),
            SecretKey::generate(),
            SecretKey::generate(),
            SecretKey::generate(),
        );
        let listed = cert(&root, &them, 2);
        // Signed by the root, never put in a roster: handed out in secret.
        let unlisted = cert(&root, &secret, 3);
        let roster = Roster {
            version: 1,
            issued_at: UnixTime::now(),
            certificates: vec![cert(&root, &me, 1), listed.clone()],
            revoked_serials: BTreeSet::new(),
        }
        .sign(&root);
        let hello = |c: &SignedCertificate| Hello {
            certificate: c.encode(),
            roster_version: 0,
            head: Vec::new(),
        };
        let state = Membership::new(root.public(), cert(&root, &me, 1), Some(roster.clone()));
        assert!(
            state
                .check(&peer(&them), &hello(&listed), UnixTime::now())
                .is_ok()
        );
        assert!(matches!(
            state.check(&peer(&secret), &hello(&unlisted), UnixTime::now()),
            Err(AdmissionError::NotListed {
                serial: 3,
                version: 1
            })
        ));
        // A node set up a moment ago holds no roster: it admits on the root's signature
        // to fetch one, and cuts off whoever the roster does not list.
        let mut fresh = Membership::new(root.public(), cert(&root, &me, 1), None);
        let admitted = fresh
            .check(&peer(&secret), &hello(&unlisted), UnixTime::now())
            .unwrap();
        fresh.admit(peer(&secret), admitted);
        assert_eq!(
            fresh.offer_roster(&roster.encode()).unwrap(),
            RosterOutcome::Installed {
                version: 1,
                revoked: vec![],
                unlisted: vec![peer(&secret)],
            }
        );
        assert!(fresh.verified(&peer(&secret)).is_none());
    }

    #[test]
    fn a_newer_roster_revokes_connected_peers_and_older_ones_are_ignored() {
        let (root, me, them) = (
            SecretKey::generate(),
            SecretKey::generate(),
            SecretKey::generate(),
        );
        let mut state = Membership::new(root.public(), cert(&root, &me, 1), None);
        let theirs = cert(&root, &them, 2);
        state.admit(peer(&them), theirs.certificate().clone());
        let roster = |version, revoked: BTreeSet<u64>| {
            Roster {
                version,
                issued_at: UnixTime::now(),
                certificates: vec![theirs.clone()],
                revoked_serials: revoked,
            }
            .sign(&root)
            .encode()
        };
        assert_eq!(
            state.offer_roster(&roster(2, [2].into())).unwrap(),
            RosterOutcome::Installed {
                version: 2,
                revoked: vec![peer(&them)],
                unlisted: vec![],
            }
        );
        assert!(!state.is_member(&peer(&them), UnixTime::now()));
        assert_eq!(
            state.offer_roster(&roster(1, BTreeSet::new())).unwrap(),
            RosterOutcome::NotNewer
        );
        let hello = Hello {
            certificate: theirs.encode(),
            roster_version: 0,
            head: Vec::new(),
        };
        assert!(matches!(
            state.check(&peer(&them), &hello, UnixTime::now()),
            Err(AdmissionError::Certificate(CertificateError::Revoked(2)))
        ));
    }

    #[test]
    fn a_roster_from_another_root_is_refused() {
        let (root, me) = (SecretKey::generate(), SecretKey::generate());
        let mut state = Membership::new(root.public(), cert(&root, &me, 1), None);
        let forged = Roster {
            version: 9,
            issued_at: UnixTime::now(),
            certificates: vec![],
            revoked_serials: BTreeSet::new(),
        }
        .sign(&SecretKey::generate())
        .encode();
        assert!(state.offer_roster(&forged).is_err());
        assert_eq!(state.roster_version(), 0);
    }
}
