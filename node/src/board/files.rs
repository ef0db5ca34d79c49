//! Files attached to needs (a sample photo, a method): the person who posted a need
//! attaches up to three while it is open; the home keeps them and signs their SHA-256
//! into a new version of the need. A member's node fetches a file from the home
//! (`alliance/need-file-fetch/v1`, any member may ask), keeps it only if it hashes to the
//! signed value, and serves it to its own signed-in people.

use alliance_protocol::{
    Domain, MembershipCertificate, NeedAttachment,
    board::{MAX_NEED_ATTACHMENTS, MAX_NEED_FILE_BYTES, NeedFileFetch},
};
use futures::future::BoxFuture;
use sha2::Digest;

use super::{Board, BoardError, invalid};
use crate::{
    files::{self, Kind},
    mail,
    net::Refusal,
    store::{Batch, Space},
};

/// Copies of other homes' files kept at once: they can be fetched again, so beyond this
/// the copies of needs no longer open go first, then the first in key order.
pub(crate) const MAX_KEPT_COPIES: usize = 300;

fn file_key(home: &str, local_id: &str, index: usize) -> Vec<u8> {
    format!("{home}\0{local_id}\0{index}").into_bytes()
}

/// A file as served: its name, media type and bytes.
pub(crate) type NeedFile = (String, String, Vec<u8>);

/// Which of `copies` to delete so that one more fits under `cap`: those `still_open`
/// says no to first, then the first in key order.
fn to_evict(copies: Vec<Vec<u8>>, still_open: impl Fn(&[u8]) -> bool, cap: usize) -> Vec<Vec<u8>> {
    let excess = (copies.len() + 1).saturating_sub(cap);
    let (closed, open): (Vec<_>, Vec<_>) = copies.into_iter().partition(|k| !still_open(k));
    closed.into_iter().chain(open).take(excess).collect()
}

impl Board {
    /// `username` attaches a file to their open need: kept here, its SHA-256 signed into
    /// a new version of the need.
    pub async fn attach(
        &self,
        username: &str,
        local_id: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<alliance_protocol::Need, BoardError> {
        let _writing = self.inner.need_writes.lock().await;
        let mut need = self.own_open_need(username, local_id)?;
        if need.attachments.len() >= MAX_NEED_ATTACHMENTS {
            return Err(BoardError::Full(format!(
                "a need has at most {MAX_NEED_ATTACHMENTS} files"
            )));
        }
        let media_type = files::check(
            name,
            &bytes,
            MAX_NEED_FILE_BYTES,
            &[Kind::Jpeg, Kind::Png, Kind::Pdf, Kind::Text],
            "an attachment",
        )
        .map_err(|m| invalid("file", m))?;
        let index = need.attachments.len();
        // The file is kept before the need names it: a crash in between leaves a file
        // nothing names, which the next attachment replaces.
        let mut batch = Batch::new();
        batch.put(
            Space::NeedFiles,
            file_key(self.inner.own.as_str(), local_id, index),
            bytes.clone(),
        );
        self.inner.store.commit(batch).await?;
        need.attachments.push(NeedAttachment {
            name: name.trim().to_owned(),
            media_type: media_type.to_owned(),
            size: bytes.len() as u64,
            sha256: sha2::Sha256::digest(&bytes).into(),
        });
        self.sign_need(need).await
    }

    /// Attachment `index` of need `need_id`: held here, or fetched from the need's home
    /// and kept if it hashes to the signed value.
    pub async fn attachment(&self, need_id: &str, index: usize) -> Result<NeedFile, BoardError> {
        let need = self
            .view()
            .need(need_id)
            .ok_or_else(|| BoardError::NoNeed(need_id.to_owned()))?;
        let attached = need
            .attachments
            .get(index)
            .ok_or_else(|| BoardError::NoNeed(format!("{need_id} file {index}")))?;
        let key = file_key(need.home.as_str(), &need.local_id, index);
        let matches =
            |bytes: &[u8]| <[u8; 32]>::from(sha2::Sha256::digest(bytes)) == attached.sha256;
        if let Some(bytes) = self.inner.store.get(Space::NeedFiles, &key)?
            && matches(&bytes)
        {
            return Ok((attached.name.clone(), attached.media_type.clone(), bytes));
        }
        if need.home == self.inner.own {
            return Err(BoardError::NoNeed(format!("{need_id} file {index}")));
        }
        let fetch = NeedFileFetch {
            need_home: need.home.clone(),
            need_id: need.local_id.clone(),
            index: u32::try_from(index).unwrap_or(u32::MAX),
        };
        let bytes = self
            .inner
            .net
            .send_mail(&need.home, fetch.seal(&self.inner.catalogue.signing_key()))
            .await
            .map_err(|e| BoardError::Unreachable(e.to_string()))?;
        // The hash vouches for the bytes; the type served is read from them again, not
        // taken from the home's word.
        let read_type = files::check(
            &attached.name,
            &bytes,
            MAX_NEED_FILE_BYTES,
            &[Kind::Jpeg, Kind::Png, Kind::Pdf, Kind::Text],
            "an attachment",
        );
        if !matches(&bytes) || read_type != Ok(attached.media_type.as_str()) {
            tracing::warn!(
                need = need_id,
                index,
                "an attachment did not match what its home signed"
            );
            return Err(BoardError::Tampered);
        }
        let mut batch = Batch::new();
        self.make_room(&mut batch)?;
        batch.put(Space::NeedFiles, key, bytes.clone());
        self.inner.store.commit(batch).await?;
        Ok((attached.name.clone(), attached.media_type.clone(), bytes))
    }

    /// Deletes copies of other homes' files, in `batch`, until one more fits under
    /// [`MAX_KEPT_COPIES`]: those of needs no longer open first.
    fn make_room(&self, batch: &mut Batch) -> Result<(), BoardError> {
        let own = format!("{}\0", self.inner.own);
        let copies: Vec<Vec<u8>> = self
            .inner
            .store
            .keys_with_prefix(Space::NeedFiles, b"")?
            .into_iter()
            .filter(|key| !key.starts_with(own.as_bytes()))
            .collect();
        if copies.len() < MAX_KEPT_COPIES {
            return Ok(());
        }
        let today = super::today();
        let still_open = |key: &[u8]| {
            let text = String::from_utf8_lossy(key);
            let mut parts = text.split('\0');
            let (Some(home), Some(local_id)) = (parts.next(), parts.next()) else {
                return false;
            };
            self.view()
                .need(&format!("{home}/{local_id}"))
                .is_some_and(|n| n.is_open() && n.deadline >= today)
        };
        for key in to_evict(copies, still_open, MAX_KEPT_COPIES) {
            batch.delete(Space::NeedFiles, key);
        }
        Ok(())
    }

    async fn on_file_fetch(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let fetch = NeedFileFetch::open(bytes, &from.node_public_key)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if fetch.need_home != self.inner.own {
            return Err(Refusal::BadRequest("the need is another home's".into()));
        }
        let index = usize::try_from(fetch.index).unwrap_or(usize::MAX);
        let need_id = format!("{}/{}", fetch.need_home, fetch.need_id);
        let known = self
            .view()
            .need(&need_id)
            .is_some_and(|n| index < n.attachments.len());
        if !known {
            return Err(Refusal::BadRequest(format!("no file {index} of {need_id}")));
        }
        self.inner
            .store
            .get(
                Space::NeedFiles,
                &file_key(fetch.need_home.as_str(), &fetch.need_id, index),
            )
            .map_err(|e| Refusal::Internal(e.to_string()))?
            .ok_or_else(|| Refusal::BadRequest(format!("no file {index} of {need_id}")))
    }
}

const BOARD_MAIL: &[Domain] = &[Domain::NEED_FILE_FETCH];

impl mail::Handler for Board {
    fn kinds(&self) -> &'static [Domain] {
        BOARD_MAIL
    }

    fn receive<'a>(
        &'a self,
        from: &'a MembershipCertificate,
        _kind: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Refusal>> {
        Box::pin(self.on_file_fetch(from, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_of_closed_needs_go_first_and_only_as_many_as_needed() {
        let copies: Vec<Vec<u8>> = (0..5)
            .map(|n| file_key("dlut", &format!("n{n}"), 0))
            .collect();
        let closed = file_key("dlut", "n3", 0);
        let open = |key: &[u8]| key != closed.as_slice();
        assert!(to_evict(copies.clone(), open, 6).is_empty());
        assert_eq!(to_evict(copies.clone(), open, 5), vec![closed.clone()]);
        assert_eq!(
            to_evict(copies.clone(), open, 4),
            vec![closed, copies[0].clone()]
        );
    }
}
