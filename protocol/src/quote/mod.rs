//! Fee quotes (R11): what a booking will cost a user of a given tier, broken down into
//! materials, operating costs (water, electricity) and labour, line by line.
//!
//! Which fee items apply depends on the service mode, as Chinese sharing platforms list
//! them: self-operated use is charged by machine time (per-hour items); staff-run sample
//! testing by the sample (per-sample items), or by machine time when the instrument only
//! lists hourly prices. Per-session items (set-up, a booking fee) apply to both.
//!
//! Money is integer fen. An hourly price is charged per minute booked, each component
//! rounded half up to the fen separately, so the parts always add up to the total.

use crate::record::{FeeComponents, FeeItem, FeeUnit, ServiceMode, UserTier};

/// How much of a fee item a booking uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "unit", content = "count")]
pub enum Quantity {
    Minutes(u32),
    Samples(u32),
    Sessions(u32),
}

/// One fee item as charged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QuoteLine {
    pub item_zh: String,
    pub item_en: String,
    pub quantity: Quantity,
    /// The tier's price per unit.
    pub unit_price: FeeComponents,
    /// What this line costs.
    pub amount: FeeComponents,
}

/// What a booking costs one user tier.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Quote {
    pub tier: UserTier,
    pub lines: Vec<QuoteLine>,
    pub total: FeeComponents,
}

/// What is being booked, as far as its price goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub mode: ServiceMode,
    /// Machine time booked.
    pub minutes: u32,
    /// Samples brought (staff-run testing).
    pub samples: u32,
}

/// `fen × minutes / 60`, rounded half up (prices are never negative).
fn per_minutes(fen: i64, minutes: u32) -> i64 {
    let exact = i128::from(fen) * i128::from(minutes);
    let rounded = (exact + 30).div_euclid(60);
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

fn times(fen: i64, count: u32) -> i64 {
    fen.saturating_mul(i64::from(count))
}

fn scale(price: &FeeComponents, quantity: Quantity) -> FeeComponents {
    let apply = |fen: i64| match quantity {
        Quantity::Minutes(m) => per_minutes(fen, m),
        Quantity::Samples(n) | Quantity::Sessions(n) => times(fen, n),
    };
    FeeComponents {
        materials_fen: apply(price.materials_fen),
        operating_fen: apply(price.operating_fen),
        labour_fen: apply(price.labour_fen),
    }
}

fn add(a: &FeeComponents, b: &FeeComponents) -> FeeComponents {
    FeeComponents {
        materials_fen: a.materials_fen.saturating_add(b.materials_fen),
        operating_fen: a.operating_fen.saturating_add(b.operating_fen),
        labour_fen: a.labour_fen.saturating_add(b.labour_fen),
    }
}

/// The quantity of `item` a booking uses, if the item applies to it.
fn quantity(item: &FeeItem, usage: &Usage, has_sample_items: bool) -> Option<Quantity> {
    match (item.unit, usage.mode) {
        (FeeUnit::Session, _) => Some(Quantity::Sessions(1)),
        (FeeUnit::Hour, ServiceMode::SelfOperated) => Some(Quantity::Minutes(usage.minutes)),
        (FeeUnit::Hour, ServiceMode::StaffRun) if !has_sample_items => {
            Some(Quantity::Minutes(usage.minutes))
        }
        (FeeUnit::Sample, ServiceMode::StaffRun) => Some(Quantity::Samples(usage.samples)),
        _ => None,
    }
}

/// The fee items a user must choose between for `mode`: those priced by the hour or the
/// sample that apply to it (per-session items come with any of them).
pub fn service_items(fees: &[FeeItem], mode: ServiceMode) -> Vec<&FeeItem> {
    let usage = Usage {
        mode,
        minutes: 0,
        samples: 0,
    };
    let has_sample_items = fees.iter().any(|f| f.unit == FeeUnit::Sample);
    fees.iter()
        .filter(|item| item.unit != FeeUnit::Session)
        .filter(|item| quantity(item, &usage, has_sample_items).is_some())
        .collect()
}

/// Why a chosen service item cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("no fee item {0:?} for this service mode")]
    Unknown(String),
    #[error("choose one of the service items: {0}")]
    Required(String),
}

/// Prices `usage` of the service item named `item` (a fee item's Chinese name) for a user
/// of `tier`: that item and the per-session items, nothing else. With no item named, an
/// instrument with one service item for the mode is priced by it, and one with several
/// asks the user to choose.
pub fn quote_item(
    fees: &[FeeItem],
    tier: UserTier,
    usage: &Usage,
    item: &str,
) -> Result<Quote, ItemError> {
    let choices = service_items(fees, usage.mode);
    let chosen = if item.is_empty() {
        match choices.as_slice() {
            [] | [_] => return Ok(quote(fees, tier, usage)),
            many => {
                let names: Vec<&str> = many.iter().map(|i| i.item_zh.as_str()).collect();
                return Err(ItemError::Required(names.join("、")));
            }
        }
    } else {
        choices
            .iter()
            .find(|i| i.item_zh == item)
            .ok_or_else(|| ItemError::Unknown(item.to_owned()))?
    };
    let kept: Vec<FeeItem> = fees
        .iter()
        .filter(|i| i.unit == FeeUnit::Session || std::ptr::eq(*i, *chosen))
        .cloned()
        .collect();
    Ok(quote(&kept, tier, usage))
}

/// Prices `usage` for a user of `tier` from an instrument's fee schedule: every item that
/// applies to the mode (see [`quote_item`] for a chosen service item).
pub fn quote(fees: &[FeeItem], tier: UserTier, usage: &Usage) -> Quote {
    let has_sample_items = fees.iter().any(|f| f.unit == FeeUnit::Sample);
    let lines: Vec<QuoteLine> = fees
        .iter()
        .filter_map(|item| {
            let quantity = quantity(item, usage, has_sample_items)?;
            let unit_price = *item.price(tier);
            Some(QuoteLine {
                item_zh: item.item_zh.clone(),
                item_en: item.item_en.clone(),
                quantity,
                amount: scale(&unit_price, quantity),
                unit_price,
            })
        })
        .collect();
    let total = lines.iter().fold(FeeComponents::default(), |sum, line| {
        add(&sum, &line.amount)
    });
    Quote { tier, lines, total }
}

#[cfg(test)]
mod tests;
