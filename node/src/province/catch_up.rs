//! A province restored from a backup catches up with what it issued after the backup.
//!
//! Every roster the authority issued reached the members, and the network installs any
//! newer root-signed roster it meets into the store (`Space::Roster`): after a restore, the
//! members hand the newest one back. Before it allocates a serial or a roster version, the
//! authority takes in what that roster shows and its own records lack: certificates it
//! has no record of (root-signed, so its own), revocations, and counters past both. So a
//! restored province neither reuses a serial (revocation is by serial) nor signs a roster
//! the members would ignore as not newer.

use alliance_protocol::{SignedRoster, UnixTime};

use super::{AuthorityState, IssuedCertificate, ProvinceAuthority, ProvinceError, serial_key};
use crate::{
    net::ROSTER_KEY,
    store::{Batch, Space},
};

impl ProvinceAuthority {
    /// Brings `state` and `issued` up to the newest roster held, recording what it adds
    /// in `batch`. Returns whether the roster held was newer than the records.
    pub(super) fn catch_up(
        &self,
        state: &mut AuthorityState,
        issued: &mut Vec<IssuedCertificate>,
        batch: &mut Batch,
    ) -> Result<bool, ProvinceError> {
        let Some(bytes) = self.store.get(Space::Roster, ROSTER_KEY)? else {
            return Ok(false);
        };
        let Ok(held) = SignedRoster::decode(&bytes, &self.root.public()) else {
            tracing::error!("the roster held does not verify under the root key");
            return Ok(false);
        };
        let roster = held.roster();
        if roster.version <= state.roster_version {
            return Ok(false);
        }
        for signed in &roster.certificates {
            let cert = signed.certificate();
            if issued.iter().any(|c| c.serial == cert.serial) {
                continue;
            }
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
            batch.put_json(Space::Certificates, serial_key(record.serial), &record)?;
            issued.push(record);
        }
        for serial in &roster.revoked_serials {
            if let Some(record) = issued.iter_mut().find(|c| c.serial == *serial)
                && !record.revoked
            {
                record.revoked = true;
                record.revoked_at = Some(roster.issued_at.min(UnixTime::now()));
                batch.put_json(Space::Certificates, serial_key(*serial), &*record)?;
            }
        }
        let highest = roster
            .certificates
            .iter()
            .map(|c| c.certificate().serial)
            .chain(roster.revoked_serials.iter().copied())
            .max()
            .unwrap_or(0);
        state.roster_version = roster.version;
        state.next_serial = state.next_serial.max(highest + 1);
        issued.sort_by_key(|c| c.serial);
        Ok(true)
    }
}
