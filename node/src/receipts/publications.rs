//! Publications (R13), at both ends. At the author's home: registered, signed, kept, and
//! in the same commit queued to the province through the booking outbox (retried until
//! acknowledged). At the province: checked (signed by the home's node, about the home's
//! own user) and kept, once; counted for each instrument it names, in the period it was
//! published in.

use alliance_protocol::{
    InstitutionId, MembershipCertificate, PublicKey, SecretKey, SignedRoster, UnixTime,
    publication::{Publication, PublicationError},
};
use serde::{Deserialize, Serialize};

use crate::{
    evaluation::metrics::Period,
    mail::outbox as messages,
    net::ROSTER_KEY,
    store::{Batch, Space, Store, StoreError},
};

/// A publication as its home keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub publication: Publication,
    /// The signed publication, hex.
    pub signed: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PublicationsError {
    #[error(transparent)]
    Invalid(#[from] PublicationError),
    #[error("publication {0} is already registered with other contents")]
    IdReused(String),
    #[error("the publication is of {0}'s user; only its home sends it")]
    NotYours(InstitutionId),
    #[error("no province is known yet (no roster)")]
    NoProvince,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn key(first: &str, id: &str) -> Vec<u8> {
    format!("{first}\0{id}").into_bytes()
}

/// Both ends. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Publications {
    store: Store,
    key: SecretKey,
    own: InstitutionId,
    root: PublicKey,
}

impl Publications {
    pub fn new(store: Store, key: SecretKey, own: InstitutionId, root: PublicKey) -> Self {
        Publications {
            store,
            key,
            own,
            root,
        }
    }

    /// The province's institution, from the roster this node holds.
    fn province(&self) -> Result<InstitutionId, PublicationsError> {
        let bytes = self
            .store
            .get(Space::Roster, ROSTER_KEY)?
            .ok_or(PublicationsError::NoProvince)?;
        let roster =
            SignedRoster::decode(&bytes, &self.root).map_err(|_| PublicationsError::NoProvince)?;
        roster
            .roster()
            .certificates
            .iter()
            .map(|c| c.certificate())
            .find(|c| c.role == alliance_protocol::Role::Aggregator)
            .map(|c| c.institution_id.clone())
            .ok_or(PublicationsError::NoProvince)
    }

    /// The outbox key of a publication on its way to `province`.
    fn outbox_key(province: &InstitutionId, publication_id: &str) -> Vec<u8> {
        messages::key(province, &format!("publication:{publication_id}"), 0)
    }

    /// Registers a publication of one of this node's users: checked, signed, kept and
    /// queued to the province in one commit.
    pub async fn register(
        &self,
        publication: Publication,
    ) -> Result<Registered, PublicationsError> {
        publication.validate()?;
        if publication.home_institution != self.own {
            return Err(PublicationsError::NotYours(publication.home_institution));
        }
        let k = key(&publication.user_id, &publication.publication_id);
        if let Some(existing) = self.store.get_json::<Registered>(Space::Publications, &k)? {
            return if existing.publication == publication {
                Ok(existing)
            } else {
                Err(PublicationsError::IdReused(publication.publication_id))
            };
        }
        let province = self.province()?;
        let signed = publication.seal(&self.key);
        let registered = Registered {
            signed: hex::encode(&signed),
            publication,
        };
        let mut batch = Batch::new();
        batch.put_json(Space::Publications, k, &registered)?;
        if province == self.own {
            self.keep_in(&mut batch, &registered.publication, &signed)?;
        } else {
            messages::enqueue(
                &mut batch,
                Self::outbox_key(&province, &registered.publication.publication_id),
                signed,
            );
        }
        self.store.commit(batch).await?;
        Ok(registered)
    }

    /// A user's publications, newest first, and whether the province has acknowledged
    /// each.
    pub fn of_user(&self, user_id: &str) -> Result<Vec<(Registered, bool)>, StoreError> {
        let province = self.province().ok();
        let mut all: Vec<(Registered, bool)> = self
            .store
            .scan_prefix_json::<Registered>(Space::Publications, format!("{user_id}\0").as_bytes())?
            .into_iter()
            .map(|(_, r)| {
                // Taken by the province: neither waiting nor given up.
                let delivered = province.as_ref().is_some_and(|p| {
                    let key = Self::outbox_key(p, &r.publication.publication_id);
                    crate::mail::was_taken(&self.store, &key).unwrap_or(false)
                });
                (r, delivered)
            })
            .collect();
        all.sort_by_key(|(r, _)| std::cmp::Reverse(r.publication.registered_at));
        Ok(all)
    }

    /// The province's side: a publication from a member's node.
    pub async fn received(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<(), PublicationsError> {
        let publication = Publication::open(bytes, &from.node_public_key)?;
        if publication.home_institution != from.institution_id {
            return Err(PublicationsError::NotYours(publication.home_institution));
        }
        let mut batch = Batch::new();
        self.keep_in(&mut batch, &publication, bytes)?;
        self.store.commit(batch).await?;
        Ok(())
    }

    /// Keeps a publication on the province, with its signed bytes: the evidence of the
    /// results is what the member signed, not the province's word.
    fn keep_in(
        &self,
        batch: &mut Batch,
        publication: &Publication,
        signed: &[u8],
    ) -> Result<(), PublicationsError> {
        let k = key(
            publication.home_institution.as_str(),
            &publication.publication_id,
        );
        match self
            .store
            .get_json::<Publication>(Space::RegisteredPublications, &k)?
        {
            Some(kept) if &kept == publication => Ok(()),
            Some(_) => Err(PublicationsError::IdReused(
                publication.publication_id.clone(),
            )),
            None => {
                batch.put(Space::SignedPublications, k.clone(), signed.to_vec());
                batch.put_json(Space::RegisteredPublications, k, publication)?;
                Ok(())
            }
        }
    }

    /// On the province: every publication registered with a publication date in
    /// `period` (the results count them by their rules).
    pub fn in_period(&self, period: &Period) -> Result<Vec<Publication>, StoreError> {
        Ok(self
            .store
            .scan_prefix_json::<Publication>(Space::RegisteredPublications, b"")?
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| published_in(&p.published_on, period))
            .collect())
    }

    /// On the province: the signed bytes of every publication registered with a
    /// publication date in `period`, in key order (those kept before signed bytes were
    /// are left out: they cannot be shown to be the member's word).
    pub fn signed_in_period(&self, period: &Period) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut signed = Vec::new();
        for (k, publication) in self
            .store
            .scan_prefix_json::<Publication>(Space::RegisteredPublications, b"")?
        {
            if !published_in(&publication.published_on, period) {
                continue;
            }
            if let Some(bytes) = self.store.get(Space::SignedPublications, &k)? {
                signed.push(bytes);
            }
        }
        Ok(signed)
    }

    /// On the province: publications registered with a publication date in `period`
    /// that name `instrument_id`, as registered (before the results' rules).
    pub fn count(&self, instrument_id: &str, period: &Period) -> Result<u32, StoreError> {
        Ok(self
            .in_period(period)?
            .iter()
            .filter(|p| p.instruments.iter().any(|i| i == instrument_id))
            .count() as u32)
    }
}

/// Whether a publication date (`YYYY-MM-DD`, Asia/Shanghai) falls in `period`.
pub(crate) fn published_in(date: &str, period: &Period) -> bool {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(chrono_tz::Asia::Shanghai).single())
        .is_some_and(|t| {
            let t = UnixTime(t.timestamp());
            period.from <= t && t < period.to
        })
}
