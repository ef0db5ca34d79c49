//! How the help desk keeps its requests: JSON under `r \0 id`, an index of each asker's
//! under `u \0 username \0 id`, experts' fields under `x \0 username`.

use super::HelpRequest;
use crate::store::{Batch, Space, Store, StoreError};

fn request_key(id: &str) -> Vec<u8> {
    format!("r\0{id}").into_bytes()
}

fn asker_key(username: &str, id: &str) -> Vec<u8> {
    format!("u\0{username}\0{id}").into_bytes()
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

pub(super) fn all(store: &Store) -> Result<Vec<HelpRequest>, StoreError> {
    let requests = store
        .scan_prefix(Space::Help, b"r\0")?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
        .collect();
    Ok(newest_first(requests))
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
