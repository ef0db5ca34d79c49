//! An outside user's price category, set by the administrator who approves the account:
//! a firm with its unified social credit code (统一社会信用代码), an academic institution,
//! or an individual. Never guessed from the organisation's name: the category decides
//! what the user pays.

use alliance_protocol::UserTier;
use serde::{Deserialize, Serialize};

/// What an approving administrator decided an outside user pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "category")]
pub enum PriceCategory {
    /// A university, college or research institute outside the alliance.
    OutsideAcademic,
    /// A firm, identified by its unified social credit code.
    Enterprise { credit_code: String },
    /// A private person: the enterprise price, as on provincial platforms.
    Individual,
}

impl PriceCategory {
    /// The tier the user's bookings are priced at.
    pub fn tier(&self) -> UserTier {
        match self {
            PriceCategory::OutsideAcademic => UserTier::OutsideAcademic,
            PriceCategory::Enterprise { .. } | PriceCategory::Individual => UserTier::Enterprise,
        }
    }

    /// Its name in forms and the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            PriceCategory::OutsideAcademic => "outside_academic",
            PriceCategory::Enterprise { .. } => "enterprise",
            PriceCategory::Individual => "individual",
        }
    }

    /// The category named `name` (a firm with `credit_code`), if the name is known and
    /// a firm's code is a valid one.
    pub fn parse(name: &str, credit_code: &str) -> Result<PriceCategory, PriceCategoryError> {
        match name.trim() {
            "outside_academic" => Ok(PriceCategory::OutsideAcademic),
            "individual" => Ok(PriceCategory::Individual),
            "enterprise" => {
                let code = credit_code.trim().to_uppercase();
                if is_credit_code(&code) {
                    Ok(PriceCategory::Enterprise { credit_code: code })
                } else {
                    Err(PriceCategoryError::CreditCode)
                }
            }
            _ => Err(PriceCategoryError::Unknown),
        }
    }
}

/// Why a price category was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PriceCategoryError {
    #[error("price_category: outside_academic, enterprise or individual")]
    Unknown,
    #[error("credit_code: a firm's 18-character unified social credit code, check digit included")]
    CreditCode,
}

/// The characters of a unified social credit code (GB 32100-2015): digits and capitals
/// but I, O, S, V and Z.
const CODE_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// The weights of its first 17 characters.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Whether `code` is a unified social credit code with a correct check character.
pub fn is_credit_code(code: &str) -> bool {
    let values: Option<Vec<u32>> = code
        .chars()
        .map(|c| CODE_CHARS.find(c).and_then(|i| u32::try_from(i).ok()))
        .collect();
    let Some(values) = values.filter(|v| v.len() == 18) else {
        return false;
    };
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    values[17] == check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes_are_checked_by_their_check_character() {
        // Well-formed codes with their check characters right.
        for good in ["91350100M000100Y43", "91110108551385082Q"] {
            assert!(is_credit_code(good), "{good}");
        }
        for bad in [
            "91350100M000100Y44", // wrong check character
            "91350100M000100Y4",  // too short
            "91350100M00O100Y43", // O is not used
            "",
        ] {
            assert!(!is_credit_code(bad), "{bad}");
        }
    }

    #[test]
    fn a_category_decides_the_tier_and_a_firm_needs_its_code() {
        assert_eq!(
            PriceCategory::parse("outside_academic", "").unwrap().tier(),
            UserTier::OutsideAcademic
        );
        assert_eq!(
            PriceCategory::parse("individual", "").unwrap().tier(),
            UserTier::Enterprise
        );
        let firm = PriceCategory::parse("enterprise", " 91350100m000100y43 ").unwrap();
        assert_eq!(
            firm,
            PriceCategory::Enterprise {
                credit_code: "91350100M000100Y43".into()
            }
        );
        assert_eq!(
            PriceCategory::parse("enterprise", "").unwrap_err(),
            PriceCategoryError::CreditCode
        );
        assert_eq!(
            PriceCategory::parse("university", "").unwrap_err(),
            PriceCategoryError::Unknown
        );
    }
}
