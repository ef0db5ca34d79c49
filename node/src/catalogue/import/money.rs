//! Amounts in yuan, read exactly into fen (0.01 yuan) and written back.
//!
//! Text is parsed digit by digit, never through a float. XLSX numbers are floats: the
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
    pub fn message(self) -> String {
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

/// Parses yuan written as text: digits with an optional point and at most two
/// significant decimals; thousands commas and a leading ¥ are allowed.
pub(super) fn parse_text(text: &str, max_fen: i64) -> Result<i64, MoneyError> {
    let text = text.trim();
    let text = text.strip_prefix(['¥', '￥']).map_or(text, str::trim_start);
    if let Some(rest) = text.strip_prefix('-') {
        // Only call it negative if it is a number at all.
        return match parse_text(rest, i64::MAX) {
            Ok(0) => Ok(0),
            Ok(_) | Err(MoneyError::TooPrecise | MoneyError::TooLarge { .. }) => {
                Err(MoneyError::Negative)
            }
            Err(e) => Err(e),
        };
    }
    let (whole, decimals) = text.split_once('.').unwrap_or((text, ""));
    let whole = plain_digits(whole)?;
    if !decimals.bytes().all(|b| b.is_ascii_digit()) || (whole.is_empty() && decimals.is_empty()) {
        return Err(MoneyError::NotANumber);
    }
    // Trailing zeros carry no precision: "12.300" is 12.30 yuan.
    let decimals = decimals.trim_end_matches('0');
    if decimals.len() > 2 {
        return Err(MoneyError::TooPrecise);
    }
    let mut fen: i64 = 0;
    for b in whole.bytes().chain(format!("{decimals:0<2}").bytes()) {
        fen = fen
            .checked_mul(10)
            .and_then(|f| f.checked_add(i64::from(b - b'0')))
            .ok_or(MoneyError::TooLarge { max_fen })?;
    }
    if fen > max_fen {
        return Err(MoneyError::TooLarge { max_fen });
    }
    Ok(fen)
}

/// The digits of the whole part, without thousands commas; "" stays "" (for ".5").
fn plain_digits(whole: &str) -> Result<String, MoneyError> {
    if !whole.contains(',') {
        return if whole.bytes().all(|b| b.is_ascii_digit()) {
            Ok(whole.to_owned())
        } else {
            Err(MoneyError::NotANumber)
        };
    }
    // Commas only between proper groups of three: "1,234" but not "12,34".
    let groups: Vec<&str> = whole.split(',').collect();
    let well_grouped = groups.iter().enumerate().all(|(i, g)| {
        let sizes = if i == 0 { 1..=3 } else { 3..=3 };
        sizes.contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit())
    });
    if well_grouped {
        Ok(groups.concat())
    } else {
        Err(MoneyError::NotANumber)
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

/// Fen as yuan with two decimals, e.g. `1234.50`.
pub(super) fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

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
