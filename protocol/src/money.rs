//! Amounts of money: stored in fen (0.01 RMB) as integers, written in yuan with at most
//! two decimals. Parsing is exact decimal arithmetic, never floating point.

/// Why an amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not an amount in yuan")]
    NotANumber,
    #[error("at most two decimals")]
    TooPrecise,
    #[error("must not be negative")]
    Negative,
    #[error("too large")]
    TooLarge,
}

/// Parses yuan written like `1234`, `1,234.5` or `12.30` (thousands commas and a leading
/// `¥` allowed) into fen.
pub fn parse_yuan(text: &str) -> Result<i64, MoneyError> {
    let text = text.trim().trim_start_matches(['¥', '￥']).trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let cleaned: String = text.chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = match cleaned.split_once('.') {
        Some((w, f)) => (w, f),
        None => (cleaned.as_str(), ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) {
        return Err(MoneyError::NotANumber);
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 2 {
        return Err(MoneyError::TooPrecise);
    }
    if negative && (whole.bytes().any(|b| b != b'0') || !fraction.is_empty()) {
        return Err(MoneyError::Negative);
    }
    let yuan: i64 = whole.parse().map_err(|_| MoneyError::TooLarge)?;
    let cents: i64 = format!("{fraction:0<2}")
        .parse()
        .map_err(|_| MoneyError::NotANumber)?;
    yuan.checked_mul(100)
        .and_then(|f| f.checked_add(cents))
        .ok_or(MoneyError::TooLarge)
}

/// Writes fen as yuan with two decimals, e.g. `1234.50`.
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_parse_exactly_to_fen() {
        assert_eq!(parse_yuan("12.3"), Ok(1230));
        assert_eq!(parse_yuan("1,234.50"), Ok(123_450));
        assert_eq!(parse_yuan(" ¥300000 "), Ok(30_000_000));
        assert_eq!(parse_yuan("0.10"), Ok(10));
        assert_eq!(parse_yuan("7"), Ok(700));
        assert_eq!(parse_yuan("-0"), Ok(0));
    }

    #[test]
    fn bad_amounts_say_why() {
        assert_eq!(parse_yuan("1.234"), Err(MoneyError::TooPrecise));
        assert_eq!(parse_yuan("-5"), Err(MoneyError::Negative));
        assert_eq!(parse_yuan("abc"), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan(""), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan("1e5"), Err(MoneyError::NotANumber));
        assert_eq!(
            parse_yuan("99999999999999999999"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn fen_format_as_yuan() {
        assert_eq!(format_yuan(123_450), "1234.50");
        assert_eq!(format_yuan(5), "0.05");
        assert_eq!(parse_yuan(&format_yuan(98_765)), Ok(98_765));
    }
}
