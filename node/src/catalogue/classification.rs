//! The instrument classification (R9): top-level categories and their subcategories, in
//! Chinese and English. The default is `configs/categories.toml`, embedded at build time.

use std::collections::HashMap;

use serde::Deserialize;

/// The classification shipped with the node.
pub const DEFAULT: &str = include_str!("../../../configs/categories.toml");

/// Why a classification file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClassificationError {
    #[error("classification is not valid TOML: {0}")]
    Parse(String),
    #[error("classification code {0:?} is used twice")]
    Duplicate(String),
    #[error("classification code {code:?} must be {digits} digits{under}")]
    BadCode {
        code: String,
        digits: usize,
        under: String,
    },
    #[error("classification has no categories")]
    Empty,
}

/// One category or subcategory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Subcategories (second level).
    #[serde(default)]
    pub sub: Vec<Category>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    category: Vec<Category>,
}

/// The loaded classification with a lookup by code.
#[derive(Debug, Clone)]
pub struct Classification {
    top: Vec<Category>,
    by_code: HashMap<String, Category>,
}

fn check_code(code: &str, digits: usize, parent: Option<&str>) -> Result<(), ClassificationError> {
    let ok = code.len() == digits
        && code.bytes().all(|b| b.is_ascii_digit())
        && parent.is_none_or(|p| code.starts_with(p));
    if ok {
        Ok(())
    } else {
        Err(ClassificationError::BadCode {
            code: code.to_owned(),
            digits,
            under: parent
                .map(|p| format!(" starting with {p}"))
                .unwrap_or_default(),
        })
    }
}

impl Classification {
    /// Parses and checks a classification: two-digit top-level codes, four-digit
    /// subcategory codes that start with their parent's, no duplicates.
    pub fn parse(text: &str) -> Result<Self, ClassificationError> {
        let file: File =
            toml::from_str(text).map_err(|e| ClassificationError::Parse(e.to_string()))?;
        if file.category.is_empty() {
            return Err(ClassificationError::Empty);
        }
        let mut by_code = HashMap::new();
        for top in &file.category {
            check_code(&top.code, 2, None)?;
            let entries = std::iter::once(top).chain(top.sub.iter());
            for (i, entry) in entries.enumerate() {
                if i > 0 {
                    check_code(&entry.code, 4, Some(&top.code))?;
                }
                if by_code.insert(entry.code.clone(), entry.clone()).is_some() {
                    return Err(ClassificationError::Duplicate(entry.code.clone()));
                }
            }
        }
        Ok(Classification {
            top: file.category,
            by_code,
        })
    }

    /// The classification shipped with the node.
    pub fn default_set() -> Result<Self, ClassificationError> {
        Self::parse(DEFAULT)
    }

    /// Top-level categories in order.
    pub fn top_level(&self) -> &[Category] {
        &self.top
    }

    /// A category or subcategory by code.
    pub fn get(&self, code: &str) -> Option<&Category> {
        self.by_code.get(code)
    }

    /// The top-level category a code belongs to (itself for a top-level code).
    pub fn top_of(&self, code: &str) -> Option<&Category> {
        code.get(..2).and_then(|top| self.by_code.get(top))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_classification_has_the_national_categories() {
        let c = Classification::default_set().unwrap();
        assert_eq!(c.top_level().len(), 15);
        assert_eq!(c.get("01").unwrap().name_zh, "分析仪器");
        assert_eq!(c.get("01").unwrap().sub.len(), 13);
        assert_eq!(c.get("0102").unwrap().name_zh, "质谱仪器");
        assert_eq!(c.top_of("0102").unwrap().code, "01");
        assert_eq!(c.get("14").unwrap().name_en, "Lasers");
        assert!(c.get("99").is_none());
    }

    #[test]
    fn bad_codes_and_duplicates_are_refused() {
        let dup = "[[category]]\ncode = \"01\"\nname_zh = \"a\"\nname_en = \"a\"\n".repeat(2);
        assert!(matches!(
            Classification::parse(&dup),
            Err(ClassificationError::Duplicate(_))
        ));
        let stray = "[[category]]\ncode = \"01\"\nname_zh = \"a\"\nname_en = \"a\"\n\
                     [[category.sub]]\ncode = \"0201\"\nname_zh = \"b\"\nname_en = \"b\"\n";
        assert!(matches!(
            Classification::parse(stray),
            Err(ClassificationError::BadCode { .. })
        ));
        assert!(matches!(
            Classification::parse("category = []"),
            Err(ClassificationError::Empty)
        ));
    }
}
