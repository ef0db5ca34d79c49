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

/// Parses yuan written like `1234`, `1,234.5`, `.5` or `12.30` (a leading `¥`, and
/// thousands commas between proper groups of three, allowed) into fen. Trailing zeros
/// carry no precision: `12.300` is 12.30 yuan.
pub fn parse_yuan(text: &str) -> Result<i64, MoneyError> {
    let text = text.trim();
    let text = text.strip_prefix(['¥', '￥']).map_or(text, str::trim_start);
    if let Some(rest) = text.strip_prefix('-') {
        // Only call it negative if it is a number at all; "-0" is zero.
        return match parse_yuan(rest) {
            Ok(0) => Ok(0),
            Ok(_) | Err(MoneyError::TooPrecise | MoneyError::TooLarge) => Err(MoneyError::Negative),
            Err(e) => Err(e),
        };
    }
    let (whole, decimals) = text.split_once('.').unwrap_or((text, ""));
    let whole = plain_digits(whole)?;
    if !decimals.bytes().all(|b| b.is_ascii_digit()) || (whole.is_empty() && decimals.is_empty()) {
        return Err(MoneyError::NotANumber);
    }
    let decimals = decimals.trim_end_matches('0');
    if decimals.len() > 2 {
        return Err(MoneyError::TooPrecise);
    }
    let mut fen: i64 = 0;
    for b in whole.bytes().chain(format!("{decimals:0<2}").bytes()) {
        fen = fen
            .checked_mul(10)
            .and_then(|f| f.checked_add(i64::from(b - b'0')))
            .ok_or(MoneyError::TooLarge)?;
    }
    Ok(fen)
}

/// The digits of the whole part without thousands commas; "" stays "" (for ".5").
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
        assert_eq!(parse_yuan(".5"), Ok(50));
        assert_eq!(parse_yuan("12.300"), Ok(1230));
    }

    #[test]
    fn bad_amounts_say_why() {
        assert_eq!(parse_yuan("1.234"), Err(MoneyError::TooPrecise));
        assert_eq!(parse_yuan("-5"), Err(MoneyError::Negative));
        assert_eq!(parse_yuan("abc"), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan(""), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan("1e5"), Err(MoneyError::NotANumber));
        assert_eq!(parse_yuan("12,34"), Err(MoneyError::NotANumber));
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
