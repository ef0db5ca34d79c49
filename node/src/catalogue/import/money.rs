//! Amounts in yuan, read exactly into fen (0.01 yuan) and written back.
//!
//! Text is parsed digit by digit, never through a float (the protocol's `parse_yuan`,
//! shared with the web forms). XLSX numbers are floats: the
//! nearest fen is taken only if the float is that amount up to rounding noise, so a
//! third decimal is refused rather than rounded away.

/// Most fen in a record's original value (1,000,000,000,000 yuan, the protocol's cap).
pub(super) const MAX_VALUE_FEN: i64 = 100_000_000_000_000;
/// Most fen in one part of a price (10,000,000 yuan, the protocol's cap).
pub(super) const MAX_PRICE_FEN: i64 = 1_000_000_000;

/// Why an amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MoneyError {
    NotANumber,
    Negative,
    TooPrecise,
    TooLarge { max_fen: i64 },
}

impl MoneyError {
    /// The message for the user.
    pub(super) fn message(self) -> String {
        match self {
            MoneyError::NotANumber => "应填写以元为单位的金额，如 1234.50 或 1,234.50".to_owned(),
            MoneyError::Negative => "金额不能为负数".to_owned(),
            MoneyError::TooPrecise => "金额最多两位小数（精确到分）".to_owned(),
            MoneyError::TooLarge { max_fen } => {
                format!("金额不能超过 {} 元", group_thousands(max_fen / 100))
            }
        }
    }
}

/// Parses yuan written as text (see [`alliance_protocol::money::parse_yuan`]), up to
/// `max_fen`.
pub(super) fn parse_text(text: &str, max_fen: i64) -> Result<i64, MoneyError> {
    use alliance_protocol::money::{MoneyError as Parse, parse_yuan};
    match parse_yuan(text) {
        Ok(fen) if fen > max_fen => Err(MoneyError::TooLarge { max_fen }),
        Ok(fen) => Ok(fen),
        Err(Parse::NotANumber) => Err(MoneyError::NotANumber),
        Err(Parse::Negative) => Err(MoneyError::Negative),
        Err(Parse::TooPrecise) => Err(MoneyError::TooPrecise),
        Err(Parse::TooLarge) => Err(MoneyError::TooLarge { max_fen }),
    }
}

/// Converts an XLSX number of yuan to fen.
pub(super) fn from_number(yuan: f64, max_fen: i64) -> Result<i64, MoneyError> {
    if !yuan.is_finite() {
        return Err(MoneyError::NotANumber);
    }
    if yuan < 0.0 {
        return Err(MoneyError::Negative);
    }
    if yuan * 100.0 > max_fen as f64 + 0.5 {
        return Err(MoneyError::TooLarge { max_fen });
    }
    let fen = (yuan * 100.0).round() as i64;
    // `fen / 100` as a float is the float nearest that decimal, which is what Excel
    // stores for a typed amount; allow a few ulps for formula noise such as 0.1 + 0.2.
    let nearest = fen as f64 / 100.0;
    if (nearest - yuan).abs() > yuan * 1e-15 {
        return Err(MoneyError::TooPrecise);
    }
    if fen > max_fen {
        return Err(MoneyError::TooLarge { max_fen });
    }
    Ok(fen)
}

pub(super) use alliance_protocol::money::format_yuan;

/// Fen as yuan for an XLSX number cell.
pub(super) fn to_number(fen: i64) -> f64 {
    fen as f64 / 100.0
}

fn group_thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
