//! Reading the ledger: the slots taken on an instrument (for availability digests and
//! calendar feeds) and every booking.

use alliance_protocol::UnixTime;

use super::*;

impl Ledger {
    /// The slots taken on one instrument, as (start, end), read from the store.
    pub fn taken_spans(&self, local_id: &str) -> Result<Vec<(UnixTime, UnixTime)>, StoreError> {
        let mut prefix = local_id.as_bytes().to_vec();
        prefix.push(0);
        self.inner
            .store
            .scan_prefix(Space::BookingSlots, &prefix)?
            .into_iter()
            .map(|(key, value)| {
                let read = |bytes: Option<&[u8]>| {
                    bytes
                        .and_then(|b| <[u8; 8]>::try_from(b).ok())
                        .map(u64::from_be_bytes)
                        .ok_or_else(|| corrupt("slot"))
                };
                let start = read(key.get(prefix.len()..prefix.len() + 8))? ^ (1 << 63);
                let end = read(value.get(..8))?;
                Ok((UnixTime(start as i64), UnixTime(end as i64)))
            })
            .collect()
    }

    /// Every booking of this node's instruments, answered or not, in key order.
    pub fn all(&self) -> Result<Vec<Booking>, StoreError> {
        Ok(self
            .inner
            .store
            .scan_prefix_json::<Booking>(Space::Bookings, b"")?
            .into_iter()
            .map(|(_, b)| b)
            .collect())
    }

    /// Every booking of one instrument that takes a slot, by start.
    pub async fn taken(&self, local_id: &str) -> Result<Vec<Booking>, StoreError> {
        let calendar = self.calendar(local_id);
        let keys: Vec<Vec<u8>> = calendar
            .lock()
            .await
            .taken
            .values()
            .map(|taken| taken.key.clone())
            .collect();
        let mut bookings = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(b) = self.inner.store.get_json(Space::Bookings, &key)? {
                bookings.push(b);
            }
        }
        Ok(bookings)
    }
}
