//! The province's certificate authority: issues membership certificates, revokes them, and
//! signs each new roster. Runs only on the aggregator node, which holds the root key.
//!
//! Every change produces a new roster version, persisted with the authority's state before
//! it is handed to the network, so a restart never reuses a serial or a roster version.
//!
//! Everything else only the province runs (the receipt log and its service, the published
//! results) is assembled with the authority in [`role::ProvinceRole`].

mod catch_up;
pub mod evidence;
pub mod log_service;
pub mod member_history;
pub mod publication;
mod publish;
pub mod read_limit;
pub mod receipt_log;
pub mod results;
pub mod role;
pub mod statement;

use std::collections::BTreeSet;

use alliance_protocol::{
    InstitutionId, MembershipCertificate, PublicKey, Role, Roster, SecretKey, SignedCertificate,
    SignedRoster, UnixTime,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::{
    net::ROSTER_KEY,
    store::{Batch, Space, Store, StoreError},
};

const STATE_KEY: &[u8] = b"authority";

/// Why the authority refused.
#[derive(Debug, thiserror::Error)]
pub enum ProvinceError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("no certificate with serial {0}")]
    UnknownSerial(u64),
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(u64),
    #[error("a certificate must be valid for 1 to 3650 days, not {0}")]
    Validity(u32),
    #[error("stored certificate {0} no longer verifies: {1}")]
    Corrupt(u64, String),
}

/// What to certify.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssueRequest {
    pub institution_id: InstitutionId,
    pub name_zh: String,
    pub name_en: String,
    pub region: String,
    pub node_public_key: PublicKey,
    pub role: Role,
    pub valid_days: u32,
    /// Membership since this time instead of now: for an institution that joins with its
    /// history from the platform it used before (the province vouches for it), so that
    /// receipts of its earlier uses count.
    #[serde(default)]
    pub member_since: Option<UnixTime>,
}

/// A certificate as the authority remembers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedCertificate {
    pub serial: u64,
    pub institution_id: InstitutionId,
    pub name_zh: String,
    pub role: Role,
    pub node_public_key: PublicKey,
    pub not_after: UnixTime,
    pub revoked: bool,
    /// When it was revoked (absent in records from before revocation times were kept).
    #[serde(default)]
    pub revoked_at: Option<UnixTime>,
    /// The signed certificate, hex-encoded.
    pub signed: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AuthorityState {
    next_serial: u64,
    roster_version: u64,
}

/// The province's authority over membership.
#[derive(Debug)]
pub struct ProvinceAuthority {
    root: SecretKey,
    store: Store,
    /// Serialises changes: serials and roster versions are allocated one at a time.
    lock: Mutex<()>,
}

const SERIAL_PREFIX: &[u8] = b"serial/";

fn serial_key(serial: u64) -> Vec<u8> {
    [SERIAL_PREFIX, &serial.to_be_bytes()].concat()
}

impl ProvinceAuthority {
    /// The authority over `store`, signing with `root`.
    pub fn new(root: SecretKey, store: Store) -> Self {
        ProvinceAuthority {
            root,
            store,
            lock: Mutex::new(()),
        }
    }

    /// The root public key.
    pub fn root_public_key(&self) -> PublicKey {
        self.root.public()
    }

    /// The root key, to sign the province's statements.
    pub(crate) fn root_key(&self) -> &SecretKey {
        &self.root
    }

    /// The store the authority keeps its certificates in (the province's).
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    fn state(&self) -> Result<AuthorityState, ProvinceError> {
        Ok(self
            .store
            .get_json(Space::Certificates, STATE_KEY)?
            .unwrap_or(AuthorityState {
                next_serial: 1,
                roster_version: 0,
            }))
    }

    /// Every certificate issued, by serial.
    pub fn issued(&self) -> Result<Vec<IssuedCertificate>, ProvinceError> {
        Ok(self
            .store
            .scan_prefix_json::<IssuedCertificate>(Space::Certificates, SERIAL_PREFIX)?
            .into_iter()
            .map(|(_, cert)| cert)
            .collect())
    }

    fn signed_roster(
        &self,
        version: u64,
        issued: &[IssuedCertificate],
    ) -> Result<SignedRoster, ProvinceError> {
        let now = UnixTime::now();
        let mut certificates = Vec::new();
        let mut revoked_serials = BTreeSet::new();
        for cert in issued {
            if cert.revoked {
                revoked_serials.insert(cert.serial);
                continue;
            }
            if cert.not_after <= now {
                continue;
            }
            let bytes = hex::decode(&cert.signed)
                .map_err(|e| ProvinceError::Corrupt(cert.serial, e.to_string()))?;
            let signed = SignedCertificate::decode(&bytes, &self.root.public())
                .map_err(|e| ProvinceError::Corrupt(cert.serial, e.to_string()))?;
            certificates.push(signed);
        }
        Ok(Roster {
            version,
            issued_at: now,
            certificates,
            revoked_serials,
        }
        .sign(&self.root))
    }

    /// Issues a certificate and the roster that includes it.
    pub async fn issue(
        &self,
        request: IssueRequest,
    ) -> Result<(SignedCertificate, SignedRoster), ProvinceError> {
        if !(1..=3650).contains(&request.valid_days) {
            return Err(ProvinceError::Validity(request.valid_days));
        }
        let _guard = self.lock.lock().await;
        let mut state = self.state()?;
        let mut issued = self.issued()?;
        let mut batch = Batch::new();
        if self.catch_up(&mut state, &mut issued, &mut batch)? {
            tracing::warn!(
                roster_version = state.roster_version,
                next_serial = state.next_serial,
                "the members hold a newer roster than the authority's records (restored from a backup?): caught up"
            );
        }
        let now = UnixTime::now();
        let signed = MembershipCertificate {
            institution_id: request.institution_id,
            name_zh: request.name_zh,
            name_en: request.name_en,
            region: request.region,
            node_public_key: request.node_public_key,
            role: request.role,
            serial: state.next_serial,
            // A little slack for clocks that run behind.
            not_before: request
                .member_since
                .filter(|since| since.0 < now.0)
                .unwrap_or(UnixTime(now.0 - 3600)),
            not_after: now.plus_days(i64::from(request.valid_days)),
        }
        .sign(&self.root);
        let cert = signed.certificate();
        let record = IssuedCertificate {
            serial: cert.serial,
            institution_id: cert.institution_id.clone(),
            name_zh: cert.name_zh.clone(),
            role: cert.role,
            node_public_key: cert.node_public_key,
            not_after: cert.not_after,
            revoked: false,
            revoked_at: None,
            signed: hex::encode(signed.encode()),
        };
        state.next_serial += 1;
        state.roster_version += 1;
        issued.push(record.clone());
        let roster = self.signed_roster(state.roster_version, &issued)?;
        batch.put_json(Space::Certificates, serial_key(record.serial), &record)?;
        batch.put_json(Space::Certificates, STATE_KEY, &state)?;
        batch.put(Space::Roster, ROSTER_KEY, roster.encode());
        self.store.commit(batch).await?;
        tracing::info!(serial = record.serial, institution = %record.institution_id, role = %record.role, "certificate issued");
        Ok((signed, roster))
    }

    /// Revokes a certificate; returns the roster that says so.
    pub async fn revoke(&self, serial: u64) -> Result<SignedRoster, ProvinceError> {
        let _guard = self.lock.lock().await;
        let mut state = self.state()?;
        let mut issued = self.issued()?;
        let mut batch = Batch::new();
        if self.catch_up(&mut state, &mut issued, &mut batch)? {
            tracing::warn!(
                roster_version = state.roster_version,
                next_serial = state.next_serial,
                "the members hold a newer roster than the authority's records (restored from a backup?): caught up"
            );
        }
        let record = issued
            .iter_mut()
            .find(|c| c.serial == serial)
            .ok_or(ProvinceError::UnknownSerial(serial))?;
        if record.revoked {
            return Err(ProvinceError::AlreadyRevoked(serial));
        }
        record.revoked = true;
        record.revoked_at = Some(UnixTime::now());
        let record = record.clone();
        state.roster_version += 1;
        let roster = self.signed_roster(state.roster_version, &issued)?;
        batch.put_json(Space::Certificates, serial_key(serial), &record)?;
        batch.put_json(Space::Certificates, STATE_KEY, &state)?;
        batch.put(Space::Roster, ROSTER_KEY, roster.encode());
        self.store.commit(batch).await?;
        tracing::info!(serial, institution = %record.institution_id, "certificate revoked");
        Ok(roster)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::province::receipt_log::MemberHistory;

    fn request(node: &SecretKey) -> IssueRequest {
        IssueRequest {
            institution_id: "dlut".parse().unwrap(),
            name_zh: "大连理工大学".into(),
            name_en: "Dalian University of Technology".into(),
            region: "辽宁省大连市".into(),
            node_public_key: node.public(),
            role: Role::Member,
            valid_days: 365,
            member_since: None,
        }
    }

    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }

    #[tokio::test]
    async fn a_province_restored_from_a_backup_reuses_no_serial_and_its_rosters_stay_newer() {
        let dir = tempfile::tempdir().unwrap();
        let (live, backup) = (dir.path().join("live"), dir.path().join("backup"));
        let root = SecretKey::generate();
        let late_key = SecretKey::generate();
        let newest = {
            let authority = ProvinceAuthority::new(root.clone(), Store::open(&live).unwrap());
            for _ in 0..2 {
                authority
                    .issue(request(&SecretKey::generate()))
                    .await
                    .unwrap();
            }
            drop(authority);
            copy_dir(&live, &backup);
            let authority = ProvinceAuthority::new(root.clone(), Store::open(&live).unwrap());
            authority
                .issue(request(&SecretKey::generate()))
                .await
                .unwrap();
            let (_, roster) = authority.issue(request(&late_key)).await.unwrap();
            roster
        };
        assert_eq!(newest.roster().version, 4);
        // Restored: the backup knows serials 1 and 2 and roster version 2. The members
        // hand back the newest roster, which the network installs.
        let authority = ProvinceAuthority::new(root.clone(), Store::open(&backup).unwrap());
        let mut batch = Batch::new();
        batch.put(Space::Roster, ROSTER_KEY, newest.encode());
        authority.store.commit(batch).await.unwrap();
        // Receipts of a member certified after the backup still find it a member.
        let history = authority.member_history().unwrap();
        assert_eq!(
            history.institution_at(&late_key.public(), UnixTime::now()),
            Some("dlut".parse().unwrap())
        );
        let (cert, roster) = authority
            .issue(request(&SecretKey::generate()))
            .await
            .unwrap();
        assert_eq!(cert.certificate().serial, 5, "no serial reused");
        assert_eq!(roster.roster().version, 5, "newer than what members hold");
        assert_eq!(roster.roster().certificates.len(), 5);
        // A certificate learned from the roster can be revoked by its serial.
        let revoked = authority.revoke(4).await.unwrap();
        assert!(revoked.roster().is_revoked(4));
        assert_eq!(revoked.roster().version, 6);
        assert_eq!(authority.issued().unwrap().len(), 5);
    }

    #[tokio::test]
    async fn serials_and_roster_versions_only_go_forward_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let root = SecretKey::generate();
        let (first, _) = {
            let authority = ProvinceAuthority::new(root.clone(), Store::open(dir.path()).unwrap());
            authority
                .issue(request(&SecretKey::generate()))
                .await
                .unwrap()
        };
        let authority = ProvinceAuthority::new(root.clone(), Store::open(dir.path()).unwrap());
        let (second, roster) = authority
            .issue(request(&SecretKey::generate()))
            .await
            .unwrap();
        assert_eq!(first.certificate().serial, 1);
        assert_eq!(second.certificate().serial, 2);
        assert_eq!(roster.roster().version, 2);
        assert_eq!(roster.roster().certificates.len(), 2);

        let revoked = authority.revoke(1).await.unwrap();
        assert_eq!(revoked.roster().version, 3);
        assert!(revoked.roster().is_revoked(1));
        assert_eq!(revoked.roster().certificates.len(), 1);
        assert!(matches!(
            authority.revoke(1).await,
            Err(ProvinceError::AlreadyRevoked(1))
        ));
        assert!(matches!(
            authority.revoke(99).await,
            Err(ProvinceError::UnknownSerial(99))
        ));
        let stored = SignedRoster::decode(
            &authority
                .store
                .get(Space::Roster, ROSTER_KEY)
                .unwrap()
                .unwrap(),
            &root.public(),
        )
        .unwrap();
        assert_eq!(stored.roster().version, 3);
    }
}
