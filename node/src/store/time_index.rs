//! Ids listed by a group and a time, so a page of a long list is read from keys alone:
//! `group ‖ 0 ‖ time (u64 BE, counted down when newest first) ‖ id`, valued empty, in a
//! space of their own. A group never holds a 0 byte; the id may.
//!
//! The index lives beside what it lists and is changed in the same batch, so a crash
//! leaves both or neither. Counting a span reads its keys (no values): cheap, though it
//! grows with the span.

use alliance_protocol::UnixTime;

use super::{Batch, Space, Store, StoreError};

/// The order a group's ids are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

/// One index: where its keys are and in which order they list.
#[derive(Debug, Clone, Copy)]
pub struct TimeIndex {
    pub space: Space,
    pub order: Order,
}

/// Times before 1970 count as 1970: nothing listed here happened then.
fn time_part(order: Order, at: i64) -> [u8; 8] {
    let up = at.max(0) as u64;
    match order {
        Order::OldestFirst => up,
        Order::NewestFirst => u64::MAX - up,
    }
    .to_be_bytes()
}

impl TimeIndex {
    fn prefix(group: &[u8]) -> Vec<u8> {
        let mut key = Vec::with_capacity(group.len() + 1 + 8 + 32);
        key.extend_from_slice(group);
        key.push(0);
        key
    }

    fn at(self, group: &[u8], at: i64) -> Vec<u8> {
        let mut key = Self::prefix(group);
        key.extend_from_slice(&time_part(self.order, at));
        key
    }

    /// The key of `id` at `at` in `group`.
    pub fn key(self, group: &[u8], at: UnixTime, id: &[u8]) -> Vec<u8> {
        let mut key = self.at(group, at.0);
        key.extend_from_slice(id);
        key
    }

    /// Lists `id` at `at` in `group`, in `batch`.
    pub fn put(self, batch: &mut Batch, group: &[u8], at: UnixTime, id: &[u8]) {
        batch.put(self.space, self.key(group, at, id), Vec::new());
    }

    /// Takes `id` at `at` out of `group`, in `batch` (nothing if it was not listed).
    pub fn delete(self, batch: &mut Batch, group: &[u8], at: UnixTime, id: &[u8]) {
        batch.delete(self.space, self.key(group, at, id));
    }

    /// The bounds of `group`'s keys from `from` to `to` (inclusive, either open).
    fn range(self, group: &[u8], (from, to): Span) -> (Vec<u8>, Vec<u8>) {
        let end_of_group = || {
            let mut k = group.to_vec();
            k.push(1);
            k
        };
        // The first time listed, and the first one past the span, in key order.
        let (first, past) = match self.order {
            Order::OldestFirst => (from, to.and_then(|t| t.0.checked_add(1))),
            Order::NewestFirst => (to, from.and_then(|f| f.0.checked_sub(1))),
        };
        let start = match first {
            Some(t) => self.at(group, t.0),
            None => Self::prefix(group),
        };
        let end = match (self.order, past) {
            (_, Some(t)) if t >= 0 => self.at(group, t),
            // A span ending before 1970 holds nothing (all is filed at 1970 or later).
            (Order::OldestFirst, Some(_)) => Self::prefix(group),
            // Nothing lies past an open end, or (newest first) before 1970.
            _ => end_of_group(),
        };
        (start, end)
    }

    /// How many ids `group` lists from `from` to `to`.
    pub fn count(self, store: &Store, group: &[u8], span: Span) -> Result<usize, StoreError> {
        let (start, end) = self.range(group, span);
        if start >= end {
            return Ok(0);
        }
        store.count_range(self.space, &start, &end)
    }

    /// The ids of `limit` of `group`'s entries from `from` to `to`, in the index's order,
    /// after skipping `offset`.
    pub fn page(
        self,
        store: &Store,
        group: &[u8],
        span: Span,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let (start, end) = self.range(group, span);
        if start >= end || limit == 0 {
            return Ok(Vec::new());
        }
        let skip = group.len() + 1 + 8;
        Ok(store
            .keys_in_range_after(self.space, &start, &end, offset, limit)?
            .into_iter()
            .filter_map(|k| k.get(skip..).map(<[u8]>::to_vec))
            .collect())
    }

    /// Every key of the index's space: for rebuilding it.
    pub fn all_keys(self, store: &Store) -> Result<Vec<Vec<u8>>, StoreError> {
        store.keys_with_prefix(self.space, b"")
    }
}

/// A span of time, inclusive, either end open.
pub type Span = (Option<UnixTime>, Option<UnixTime>);

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(found: Vec<Vec<u8>>) -> Vec<String> {
        found
            .into_iter()
            .map(|id| String::from_utf8(id).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn lists_in_order_and_within_a_span_in_both_orders() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let newest = TimeIndex {
            space: Space::IssuedByTime,
            order: Order::NewestFirst,
        };
        let oldest = TimeIndex {
            space: Space::IssuedByTime,
            order: Order::OldestFirst,
        };
        let mut batch = Batch::new();
        for (i, at) in [100, 300, 200, 300].into_iter().enumerate() {
            newest.put(&mut batch, b"n", UnixTime(at), format!("n{i}").as_bytes());
            oldest.put(&mut batch, b"o", UnixTime(at), format!("o{i}").as_bytes());
        }
        // Another group, which neither sees.
        newest.put(&mut batch, b"x", UnixTime(200), b"x0");
        store.commit(batch).await.unwrap();
        let all = (None, None);
        assert_eq!(
            ids(newest.page(&store, b"n", all, 0, 10).unwrap()),
            ["n1", "n3", "n2", "n0"]
        );
        assert_eq!(
            ids(oldest.page(&store, b"o", all, 0, 10).unwrap()),
            ["o0", "o2", "o1", "o3"]
        );
        let span = (Some(UnixTime(200)), Some(UnixTime(299)));
        assert_eq!(ids(newest.page(&store, b"n", span, 0, 10).unwrap()), ["n2"]);
        assert_eq!(ids(oldest.page(&store, b"o", span, 0, 10).unwrap()), ["o2"]);
        let from = (Some(UnixTime(200)), None);
        assert_eq!(newest.count(&store, b"n", from).unwrap(), 3);
        assert_eq!(oldest.count(&store, b"o", from).unwrap(), 3);
        let to = (None, Some(UnixTime(200)));
        assert_eq!(newest.count(&store, b"n", to).unwrap(), 2);
        assert_eq!(
            ids(oldest.page(&store, b"o", to, 1, 10).unwrap()),
            ["o2"],
            "the offset skips within the span"
        );
        // A span ending before 1970 lists nothing in either order.
        let before_1970 = (None, Some(UnixTime(-28_801)));
        assert_eq!(oldest.count(&store, b"o", before_1970).unwrap(), 0);
        assert_eq!(newest.count(&store, b"n", before_1970).unwrap(), 0);
        // A span that ends before it starts lists nothing.
        let empty = (Some(UnixTime(300)), Some(UnixTime(100)));
        assert_eq!(newest.count(&store, b"n", empty).unwrap(), 0);
        assert!(oldest.page(&store, b"o", empty, 0, 10).unwrap().is_empty());
        // Moved out of a group, it is no longer listed.
        let mut batch = Batch::new();
        newest.delete(&mut batch, b"n", UnixTime(300), b"n1");
        store.commit(batch).await.unwrap();
        assert_eq!(newest.count(&store, b"n", all).unwrap(), 3);
    }
}
