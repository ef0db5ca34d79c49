//! How the help desk keeps its requests: JSON under `r \0 id`, an index of each asker's
//! under `u \0 username \0 id`, the experts' queue newest first under
//! `t \0 (u64::MAX - created) \0 id` (so a page of it reads only that page), experts'
//! fields under `x \0 username`.

use super::HelpRequest;
use crate::store::{Batch, Space, Store, StoreError};

fn request_key(id: &str) -> Vec<u8> {
    format!("r\0{id}").into_bytes()
}

fn asker_key(username: &str, id: &str) -> Vec<u8> {
    format!("u\0{username}\0{id}").into_bytes()
}

fn queue_key(request: &HelpRequest) -> Vec<u8> {
    let newest_first = u64::MAX - u64::try_from(request.created_at.0).unwrap_or_default();
    format!("t\0{newest_first:016x}\0{}", request.id).into_bytes()
}

fn fields_key(username: &str) -> Vec<u8> {
    format!("x\0{username}").into_bytes()
}

fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Engine(format!("cannot write: {e}")))
}

pub(super) fn put(batch: &mut Batch, request: &HelpRequest) -> Result<(), StoreError> {
    batch.put(Space::Help, request_key(&request.id), json(request)?);
    batch.put(
        Space::Help,
        asker_key(&request.asker, &request.id),
        Vec::new(),
    );
    batch.put(Space::Help, queue_key(request), Vec::new());
    Ok(())
}

pub(super) fn get(store: &Store, id: &str) -> Result<Option<HelpRequest>, StoreError> {
    store
        .get(Space::Help, &request_key(id))?
        .map(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Engine(format!("a request for help is unreadable: {e}")))
        })
        .transpose()
}

fn newest_first(mut requests: Vec<HelpRequest>) -> Vec<HelpRequest> {
    requests.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    requests
}

pub(super) fn of_asker(store: &Store, username: &str) -> Result<Vec<HelpRequest>, StoreError> {
    let prefix = format!("u\0{username}\0");
    let mut requests = Vec::new();
    for (key, _) in store.scan_prefix(Space::Help, prefix.as_bytes())? {
        let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
        if let Some(request) = get(store, &id)? {
            requests.push(request);
        }
    }
    Ok(newest_first(requests))
}

/// How many requests there are, and `limit` of them after `offset`, newest first.
pub(super) fn queue_page(
    store: &Store,
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<HelpRequest>), StoreError> {
    let total = store.count_prefix(Space::Help, b"t\0")?;
    let keys = store.scan_range(Space::Help, b"t\0", b"t\x01", offset.saturating_add(limit))?;
    let mut page = Vec::new();
    for (key, _) in keys.into_iter().skip(offset) {
        let id = key.rsplit(|b| *b == 0).next().unwrap_or_default();
        if let Some(request) = get(store, &String::from_utf8_lossy(id))? {
            page.push(request);
        }
    }
    Ok((total, page))
}

/// Indexes requests kept before the queue had its index (once: afterwards every request
/// is indexed in the commit that keeps it).
pub(super) fn index_queue(store: &Store) -> Result<(), StoreError> {
    if store.count_prefix(Space::Help, b"t\0")? == store.count_prefix(Space::Help, b"r\0")? {
        return Ok(());
    }
    let mut batch = Batch::new();
    for (_, value) in store.scan_prefix(Space::Help, b"r\0")? {
        if let Ok(request) = serde_json::from_slice::<HelpRequest>(&value) {
            batch.put(Space::Help, queue_key(&request), Vec::new());
        }
    }
    store.commit_blocking(batch)
}

pub(super) fn fields_of(store: &Store, username: &str) -> Result<Vec<String>, StoreError> {
    Ok(store
        .get(Space::Help, &fields_key(username))?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default())
}

pub(super) fn put_fields(
    batch: &mut Batch,
    username: &str,
    fields: &[String],
) -> Result<(), StoreError> {
    batch.put(Space::Help, fields_key(username), json(&fields)?);
    Ok(())
}
