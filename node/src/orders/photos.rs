//! Photos of the samples taken in (收样照片): while the samples are in (received or in
//! testing) the owner adds up to three, JPEG or PNG, each at most 2 MiB; each is kept
//! with the order and the update that names its SHA-256, in one commit. The home
//! fetches a photo from the owner when its user asks (the report's fetch, with the
//! photo's number) and keeps it only if it hashes right.

use alliance_protocol::{
    InstitutionId, NeedAttachment,
    board::MAX_NEED_FILE_BYTES,
    order::{MAX_INTAKE_PHOTOS, OrderState},
};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::{Order, OrderError, Orders, home_key, invalid, owner_key};
use crate::{
    files::{self, Kind},
    store::{Batch, Space},
};

/// A photo as an order keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: [u8; 32],
}

impl Photo {
    pub(super) fn to_protocol(&self) -> NeedAttachment {
        NeedAttachment {
            name: self.name.clone(),
            media_type: self.media_type.clone(),
            size: self.size,
            sha256: self.sha256,
        }
    }

    pub(super) fn from_protocol(p: &NeedAttachment) -> Photo {
        Photo {
            name: p.name.clone(),
            media_type: p.media_type.clone(),
            size: p.size,
            sha256: p.sha256,
        }
    }
}

/// Where file `n` of an order is kept (0: the report; n: intake photo n).
fn file_key(order_key: Vec<u8>, n: u32) -> Vec<u8> {
    if n == 0 {
        return order_key;
    }
    let mut key = order_key;
    key.extend_from_slice(format!("\0p{n}").as_bytes());
    key
}

impl Orders {
    /// The owner adds a photo of the samples to an order whose samples are in; the home
    /// hears of it with the next update, in the same commit.
    pub async fn add_intake_photo(
        &self,
        home: &InstitutionId,
        order_id: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Order, OrderError> {
        let key = owner_key(home, order_id);
        let mut order = self
            .read(&key)?
            .ok_or_else(|| OrderError::NotFound(order_id.to_owned()))?;
        if !matches!(
            order.state,
            OrderState::SamplesReceived | OrderState::Testing
        ) {
            return Err(OrderError::OutOfOrder {
                from: order.state.as_str(),
                to: "a photo of the samples",
            });
        }
        if order.photos.len() >= MAX_INTAKE_PHOTOS {
            return Err(invalid(
                "photo",
                format!("at most {MAX_INTAKE_PHOTOS} photos"),
            ));
        }
        let media_type = files::check(
            name,
            &bytes,
            MAX_NEED_FILE_BYTES,
            &[Kind::Jpeg, Kind::Png],
            "a photo",
        )
        .map_err(|m| invalid("photo", m))?;
        order.photos.push(Photo {
            name: name.trim().to_owned(),
            media_type: media_type.to_owned(),
            size: bytes.len() as u64,
            sha256: sha2::Sha256::digest(&bytes).into(),
        });
        order.version += 1;
        let n = u32::try_from(order.photos.len()).unwrap_or(u32::MAX);
        let mut batch = Batch::new();
        batch.put(Space::Reports, file_key(key.clone(), n), bytes);
        Self::put(&mut batch, key, &order)?;
        self.enqueue_update(&mut batch, &order, String::new());
        self.inner.store.commit(batch).await?;
        self.inner.mail.poke();
        Ok(order)
    }

    /// Intake photo `n` (from 1) of an order placed from here: held here, or fetched
    /// from the owner and kept if it hashes to what the owner signed.
    pub async fn photo(
        &self,
        order_id: &str,
        n: u32,
    ) -> Result<(String, String, Vec<u8>), OrderError> {
        let key = home_key(order_id);
        let order = self
            .read(&key)?
            .ok_or_else(|| OrderError::NotFound(order_id.to_owned()))?;
        let photo = n
            .checked_sub(1)
            .and_then(|i| order.photos.get(i as usize))
            .cloned()
            .ok_or_else(|| OrderError::NotFound(format!("{order_id} photo {n}")))?;
        let at = file_key(key, n);
        if let Some(bytes) = self.inner.store.get(Space::Reports, &at)? {
            return Ok((photo.name, photo.media_type, bytes));
        }
        let bytes = self.fetch_checked(&order, n, photo.sha256).await?;
        let mut batch = Batch::new();
        batch.put(Space::Reports, at, bytes.clone());
        self.inner.store.commit(batch).await?;
        Ok((photo.name, photo.media_type, bytes))
    }

    /// File `n` of an order placed with this institution by `home` (0: the report,
    /// once issued; n: intake photo n).
    pub(super) fn file_for(
        &self,
        home: &InstitutionId,
        order_id: &str,
        n: u32,
    ) -> Result<Vec<u8>, OrderError> {
        let key = owner_key(home, order_id);
        let order = self
            .read(&key)?
            .ok_or_else(|| OrderError::NotFound(order_id.to_owned()))?;
        let known = if n == 0 {
            order.report.is_some()
        } else {
            (n as usize) <= order.photos.len()
        };
        if !known {
            return Err(OrderError::NoReport);
        }
        self.inner
            .store
            .get(Space::Reports, &file_key(key, n))?
            .ok_or(OrderError::NoReport)
    }
}
