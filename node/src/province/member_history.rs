//! Who was a member when, and who owns which instrument, as the province's receipt log
//! checks them: from the certificates the authority issued (with their revocation
//! times) and from the province's copy of the catalogue.

use alliance_protocol::{InstitutionId, PublicKey, SignedCertificate, UnixTime};

use super::{
    ProvinceAuthority, ProvinceError,
    receipt_log::{InstrumentOwners, MemberHistory},
};
use crate::catalogue::Catalogue;

/// One certificate's span of membership.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Era {
    key: PublicKey,
    institution: InstitutionId,
    from: UnixTime,
    /// Exclusive: the certificate's expiry or its revocation, whichever came first.
    until: UnixTime,
}

/// The spans of every certificate the province issued.
#[derive(Debug, Clone, Default)]
pub struct CertificateEras(Vec<Era>);

impl MemberHistory for CertificateEras {
    fn institution_at(&self, key: &PublicKey, at: UnixTime) -> Option<InstitutionId> {
        self.0
            .iter()
            .find(|era| &era.key == key && era.from <= at && at < era.until)
            .map(|era| era.institution.clone())
    }

    fn was_member(&self, institution: &InstitutionId, at: UnixTime) -> bool {
        self.0
            .iter()
            .any(|era| &era.institution == institution && era.from <= at && at < era.until)
    }
}

impl ProvinceAuthority {
    /// The spans of membership of every certificate issued. A certificate revoked before
    /// revocation times were kept counts as never valid.
    pub fn member_history(&self) -> Result<CertificateEras, ProvinceError> {
        let mut eras = Vec::new();
        // With the certificates a newer roster held shows (issued after a backup this
        // province was restored from), recorded or not yet.
        let mut state = self.state()?;
        let mut all = self.issued()?;
        self.catch_up(&mut state, &mut all, &mut crate::store::Batch::new())?;
        for issued in all {
            if issued.revoked && issued.revoked_at.is_none() {
                continue;
            }
            let bytes = hex::decode(&issued.signed)
                .map_err(|e| ProvinceError::Corrupt(issued.serial, e.to_string()))?;
            let signed = SignedCertificate::decode(&bytes, &self.root_public_key())
                .map_err(|e| ProvinceError::Corrupt(issued.serial, e.to_string()))?;
            let cert = signed.certificate();
            let until = match issued.revoked_at {
                Some(revoked) if revoked < cert.not_after => revoked,
                _ => cert.not_after,
            };
            eras.push(Era {
                key: cert.node_public_key,
                institution: cert.institution_id.clone(),
                from: cert.not_before,
                until,
            });
        }
        Ok(CertificateEras(eras))
    }
}

/// Ownership as the catalogue shows it: an instrument's record is signed by its owner.
#[derive(Debug, Clone)]
pub struct CatalogueOwners(pub Catalogue);

impl InstrumentOwners for CatalogueOwners {
    fn owns(&self, institution: &InstitutionId, local_id: &str) -> bool {
        self.0
            .instrument_unfiltered(&format!("{institution}/{local_id}"))
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alliance_protocol::{Role, SecretKey};

    use super::*;
    use crate::{province::IssueRequest, store::Store};

    #[tokio::test]
    async fn a_revoked_member_was_one_until_its_revocation_only() {
        let dir = tempfile::tempdir().unwrap();
        let authority =
            ProvinceAuthority::new(SecretKey::generate(), Store::open(dir.path()).unwrap());
        let node = SecretKey::generate();
        let (cert, _) = authority
            .issue(IssueRequest {
                institution_id: "dlut".parse().unwrap(),
                name_zh: "大连理工大学".into(),
                name_en: "DUT".into(),
                region: "大连".into(),
                node_public_key: node.public(),
                role: Role::Member,
                valid_days: 365,
                member_since: None,
            })
            .await
            .unwrap();
        let issued_at = cert.certificate().not_before;
        let during = UnixTime(issued_at.0 + 1_800);
        let history = authority.member_history().unwrap();
        assert_eq!(
            history
                .institution_at(&node.public(), during)
                .unwrap()
                .as_str(),
            "dlut"
        );
        assert!(
            history
                .institution_at(&SecretKey::generate().public(), during)
                .is_none()
        );
        assert!(
            history
                .institution_at(&node.public(), UnixTime(issued_at.0 - 1))
                .is_none()
        );

        authority.revoke(cert.certificate().serial).await.unwrap();
        let history = authority.member_history().unwrap();
        let now = UnixTime::now();
        // Before the revocation it was a member; from it on, not.
        assert!(history.institution_at(&node.public(), during).is_some());
        assert!(
            history
                .institution_at(&node.public(), UnixTime(now.0 + 60))
                .is_none()
        );
    }
}
