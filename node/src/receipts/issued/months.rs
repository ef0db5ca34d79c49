//! The owner's figures per month and instrument, kept as receipts are issued (and taken
//! back when a user disputes one), so a manager's monthly page reads a year of rows, not
//! every receipt ever issued. A month is the one (Asia/Shanghai) the use started in.

use alliance_protocol::{UnixTime, receipt::UsageReceipt};
use chrono::{DateTime, Datelike};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

use crate::store::{Batch, Space, Store, StoreError};

/// One instrument's month: what its receipts add up to (disputed ones count for nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthFigures {
    pub receipts: u32,
    /// Effective machine time (有效机时).
    pub effective_minutes: u64,
    /// Of which for users from outside the institution.
    pub external_minutes: u64,
    pub samples: u64,
    /// Fees charged, in fen.
    pub revenue_fen: i64,
    /// Of which charged to users from outside the institution.
    pub external_revenue_fen: i64,
}

impl MonthFigures {
    /// Adds (`sign` 1) or takes back (`sign` -1) one receipt.
    fn count(&mut self, r: &UsageReceipt, sign: i64) {
        let minutes = r.effective_minutes();
        let fen = r.fees.total_fen();
        let external = r.is_external();
        let add_u64 = |to: &mut u64, by: u64| {
            *to = if sign > 0 {
                to.saturating_add(by)
            } else {
                to.saturating_sub(by)
            };
        };
        self.receipts = if sign > 0 {
            self.receipts.saturating_add(1)
        } else {
            self.receipts.saturating_sub(1)
        };
        add_u64(&mut self.effective_minutes, minutes);
        add_u64(&mut self.samples, u64::from(r.samples));
        self.revenue_fen = self.revenue_fen.saturating_add(sign * fen);
        if external {
            add_u64(&mut self.external_minutes, minutes);
            self.external_revenue_fen = self.external_revenue_fen.saturating_add(sign * fen);
        }
    }
}

/// `YYYY-MM` of `t` in Asia/Shanghai.
pub fn month_of(t: UnixTime) -> String {
    DateTime::from_timestamp(t.0, 0)
        .map(|d| d.with_timezone(&Shanghai))
        .map_or_else(
            || "1970-01".to_owned(),
            |d| format!("{:04}-{:02}", d.year(), d.month()),
        )
}

fn key(month: &str, local_id: &str) -> Vec<u8> {
    format!("{month}\0{local_id}").into_bytes()
}

/// Adds `receipt` to its month's figures (`sign` -1: takes it back), in `batch`. The
/// caller holds the book's lock, so nothing else changes the figures in between.
pub(super) fn count_in(
    store: &Store,
    batch: &mut Batch,
    receipt: &UsageReceipt,
    sign: i64,
) -> Result<(), StoreError> {
    let key = key(&month_of(receipt.start), &receipt.local_id);
    let mut figures: MonthFigures = store
        .get_json(Space::IssuedMonths, &key)?
        .unwrap_or_default();
    figures.count(receipt, sign);
    batch.put_json(Space::IssuedMonths, key, &figures)?;
    Ok(())
}

/// The figures of every instrument in the months `from` to `to` (`YYYY-MM`, inclusive),
/// by month then instrument.
pub(super) fn between(
    store: &Store,
    from: &str,
    to: &str,
) -> Result<Vec<(String, String, MonthFigures)>, StoreError> {
    // Bounded by months × instruments; the upper bound is past every key of `to`.
    let end = format!("{to}\u{1}");
    store
        .scan_range(
            Space::IssuedMonths,
            from.as_bytes(),
            end.as_bytes(),
            100_000,
        )?
        .into_iter()
        .map(|(key, value)| {
            let text = String::from_utf8_lossy(&key);
            let (month, local_id) = text.split_once('\0').unwrap_or((&text, ""));
            Ok((
                month.to_owned(),
                local_id.to_owned(),
                serde_json::from_slice(&value)?,
            ))
        })
        .collect()
}

/// The figures of `receipts` from scratch, replacing whatever was kept (the index of a
/// node that issued receipts before it was kept).
pub(super) fn rebuild_in<'a>(
    store: &Store,
    batch: &mut Batch,
    receipts: impl Iterator<Item = &'a UsageReceipt>,
) -> Result<(), StoreError> {
    for key in store.keys_with_prefix(Space::IssuedMonths, b"")? {
        batch.delete(Space::IssuedMonths, key);
    }
    let mut all: std::collections::BTreeMap<Vec<u8>, MonthFigures> = Default::default();
    for r in receipts {
        all.entry(key(&month_of(r.start), &r.local_id))
            .or_default()
            .count(r, 1);
    }
    for (key, figures) in all {
        batch.put_json(Space::IssuedMonths, key, &figures)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_the_one_in_shanghai() {
        // 2026-10-31 17:30 UTC is 1 November 01:30 in Shanghai.
        assert_eq!(month_of(UnixTime(1_793_467_800)), "2026-11");
        assert_eq!(month_of(UnixTime(1_793_437_200)), "2026-10");
    }
}
