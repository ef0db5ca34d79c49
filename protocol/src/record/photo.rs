//! Photos of an instrument. The owner resizes each upload to a JPEG (at most
//! [`MAX_PHOTO_SIDE`] pixels a side) and a thumbnail, and signs both SHA-256 into the
//! record; the bytes travel apart, fetched by hash from the owner or from any member
//! holding a copy ([`PhotoFetch`]), and are kept only if they hash right.

use prost::Message;

use super::{RecordError, field};
use crate::{
    envelope::{Domain, SignedEnvelope},
    keys::{PublicKey, SecretKey},
    proto,
};

impl Domain {
    /// A member's node asking another for a photo by its SHA-256.
    pub const PHOTO_FETCH: Domain = Domain("alliance/photo-fetch/v1");
}

/// Most photos per instrument.
pub const MAX_PHOTOS: usize = 4;
/// Longest side of a photo as published, in pixels.
pub const MAX_PHOTO_SIDE: u32 = 1600;
/// Longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;
/// Largest photo as published.
pub const MAX_PHOTO_BYTES: u32 = 1024 * 1024;
/// Largest thumbnail.
pub const MAX_THUMB_BYTES: u32 = 128 * 1024;

/// One photo as the record names it (always a JPEG, and so its thumbnail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct InstrumentPhoto {
    #[serde(with = "crate::transparency::hex_root")]
    pub sha256: [u8; 32],
    pub size: u32,
    pub width: u32,
    pub height: u32,
    #[serde(with = "crate::transparency::hex_root")]
    pub thumb_sha256: [u8; 32],
    pub thumb_size: u32,
}

impl InstrumentPhoto {
    /// The photo's SHA-256 in lowercase hex: how pages and fetches name it.
    pub fn hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// The thumbnail's SHA-256 in lowercase hex.
    pub fn thumb_hex(&self) -> String {
        hex::encode(self.thumb_sha256)
    }
}

pub(super) fn photo_to_proto(p: &InstrumentPhoto) -> proto::InstrumentPhoto {
    proto::InstrumentPhoto {
        sha256: p.sha256.to_vec(),
        size: p.size,
        width: p.width,
        height: p.height,
        thumb_sha256: p.thumb_sha256.to_vec(),
        thumb_size: p.thumb_size,
    }
}

fn digest(bytes: &[u8]) -> Result<[u8; 32], RecordError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| field("photos", "a SHA-256 is 32 bytes"))
}

/// Checks the photos of a record: how many, their sizes, no photo twice.
pub(super) fn photos_from_proto(
    raw: Vec<proto::InstrumentPhoto>,
) -> Result<Vec<InstrumentPhoto>, RecordError> {
    if raw.len() > MAX_PHOTOS {
        return Err(field("photos", format!("at most {MAX_PHOTOS} photos")));
    }
    let mut photos: Vec<InstrumentPhoto> = Vec::with_capacity(raw.len());
    for p in raw {
        let photo = InstrumentPhoto {
            sha256: digest(&p.sha256)?,
            size: p.size,
            width: p.width,
            height: p.height,
            thumb_sha256: digest(&p.thumb_sha256)?,
            thumb_size: p.thumb_size,
        };
        if !(1..=MAX_PHOTO_BYTES).contains(&photo.size)
            || !(1..=MAX_THUMB_BYTES).contains(&photo.thumb_size)
        {
            return Err(field(
                "photos",
                format!(
                    "a photo is 1 to {MAX_PHOTO_BYTES} bytes, its thumbnail 1 to {MAX_THUMB_BYTES}"
                ),
            ));
        }
        if !(1..=MAX_PHOTO_SIDE).contains(&photo.width)
            || !(1..=MAX_PHOTO_SIDE).contains(&photo.height)
        {
            return Err(field(
                "photos",
                format!("a photo is 1 to {MAX_PHOTO_SIDE} pixels a side"),
            ));
        }
        if photos.iter().any(|q| q.sha256 == photo.sha256) {
            return Err(field("photos", "the same photo twice"));
        }
        photos.push(photo);
    }
    Ok(photos)
}

/// "Send me the photo (or thumbnail) with this SHA-256", signed by the asking node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoFetch {
    pub sha256: [u8; 32],
}

impl PhotoFetch {
    /// Signs with the asking node's key.
    pub fn seal(&self, asker: &SecretKey) -> Vec<u8> {
        let raw = proto::PhotoFetch {
            sha256: self.sha256.to_vec(),
        };
        SignedEnvelope::seal(asker, Domain::PHOTO_FETCH, raw.encode_to_vec()).encode()
    }

    /// Opens a fetch `asker` signed.
    pub fn open(bytes: &[u8], asker: &PublicKey) -> Result<Self, RecordError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let raw = proto::PhotoFetch::decode(envelope.open_from(Domain::PHOTO_FETCH, asker)?)
            .map_err(|e| RecordError::Malformed(e.to_string()))?;
        Ok(PhotoFetch {
            sha256: digest(&raw.sha256)?,
        })
    }
}
