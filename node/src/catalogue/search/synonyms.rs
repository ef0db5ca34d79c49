//! Synonyms and abbreviations for search (`configs/synonyms.toml`): records are named in
//! full (扫描电子显微镜), people search by the trade's short names (扫描电镜, SEM, 液质,
//! "mass spec"). A query's phrases found here stand for any of their group's terms; the
//! rest of the query is searched as written.

use std::{collections::BTreeMap, sync::Arc};

use serde::Deserialize;

/// The built-in synonyms.
pub(crate) const DEFAULT: &str = include_str!("../../../../configs/synonyms.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    same: Vec<Same>,
    #[serde(default)]
    broader: Vec<Broader>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Same {
    terms: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Broader {
    terms: Vec<String>,
    covers: Vec<String>,
}

/// Why a synonyms file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("synonyms: {0}")]
pub struct SynonymsError(String);

/// A query's phrase found among the synonyms: any of these terms will do.
pub(crate) type Alternatives = Arc<Vec<String>>;

/// Terms and what each stands for. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    /// Every term, lowercased, longest first, with its alternatives.
    terms: Arc<Vec<(String, Alternatives)>>,
}

fn is_latin(term: &str) -> bool {
    term.chars().any(|c| c.is_ascii_alphanumeric())
}

impl Synonyms {
    /// The built-in file's synonyms (it is checked by a test, so it always parses).
    pub fn builtin() -> Synonyms {
        Synonyms::parse(DEFAULT).unwrap_or_default()
    }

    /// Reads a synonyms file: a term in two groups, an empty one, or a `covers` naming
    /// no group is an error.
    pub fn parse(text: &str) -> Result<Synonyms, SynonymsError> {
        let file: File = toml::from_str(text).map_err(|e| SynonymsError(e.to_string()))?;
        let lower = |terms: &[String]| -> Vec<String> {
            terms.iter().map(|t| t.trim().to_lowercase()).collect()
        };
        // The groups, by each of their terms.
        let mut group_of: BTreeMap<String, usize> = BTreeMap::new();
        let mut groups: Vec<Vec<String>> = Vec::new();
        let named = file
            .same
            .iter()
            .map(|s| lower(&s.terms))
            .chain(file.broader.iter().map(|b| lower(&b.terms)));
        for terms in named {
            if terms.is_empty() || terms.iter().any(String::is_empty) {
                return Err(SynonymsError("a group with an empty term".into()));
            }
            for term in &terms {
                if group_of.insert(term.clone(), groups.len()).is_some() {
                    return Err(SynonymsError(format!("{term:?} is in two groups")));
                }
            }
            groups.push(terms);
        }
        // A broader term stands for its own terms and those of the groups it covers.
        let mut alternatives: Vec<Vec<String>> = groups.clone();
        let first_broader = file.same.len();
        for (n, broader) in file.broader.iter().enumerate() {
            for covered in lower(&broader.covers) {
                let group = group_of.get(&covered).ok_or_else(|| {
                    SynonymsError(format!("{covered:?} is covered but in no group"))
                })?;
                let terms = groups[*group].clone();
                alternatives[first_broader + n].extend(terms);
            }
        }
        let alternatives: Vec<Alternatives> = alternatives.into_iter().map(Arc::new).collect();
        let mut terms: Vec<(String, Alternatives)> = group_of
            .into_iter()
            .map(|(term, group)| (term, alternatives[group].clone()))
            .collect();
        terms.sort_by_key(|(term, _)| std::cmp::Reverse(term.chars().count()));
        Ok(Synonyms {
            terms: Arc::new(terms),
        })
    }

    /// Each phrase of `text` found here, as the alternatives it stands for, and the rest
    /// of the text. Longest terms are taken first; Latin ones only as whole words.
    pub fn expand(&self, text: &str) -> (String, Vec<Alternatives>) {
        let mut rest = text.to_lowercase();
        let mut found = Vec::new();
        for (term, alternatives) in self.terms.iter() {
            while let Some(at) = find_term(&rest, term) {
                rest.replace_range(at..at + term.len(), " ");
                if !found.iter().any(|a| Arc::ptr_eq(a, alternatives)) {
                    found.push(alternatives.clone());
                }
            }
        }
        (rest, found)
    }

    /// Every term, lowercased, with the alternatives it stands for.
    pub fn terms(&self) -> impl Iterator<Item = (&str, &Alternatives)> {
        self.terms
            .iter()
            .map(|(term, alternatives)| (term.as_str(), alternatives))
    }
}

/// Where `term` stands in `text` (both lowercased): anywhere for Chinese, only as whole
/// words for Latin terms.
fn find_term(text: &str, term: &str) -> Option<usize> {
    let latin = is_latin(term);
    let mut from = 0;
    while let Some(found) = text[from..].find(term) {
        let at = from + found;
        let end = at + term.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let word_edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        if !latin || (word_edge(before) && word_edge(after)) {
            return Some(at);
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_file_parses() {
        assert!(
            Synonyms::parse(DEFAULT).is_ok(),
            "{:?}",
            Synonyms::parse(DEFAULT).err()
        );
    }

    #[test]
    fn the_longest_term_is_taken_first_and_latin_only_as_words() {
        let synonyms = Synonyms::builtin();
        let (rest, found) = synonyms.expand("场发射扫描电镜 Semiconductor");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains(&"扫描电子显微镜".to_owned()));
        assert!(!found[0].contains(&"透射电镜".to_owned()));
        assert!(rest.contains("场发射") && rest.contains("semiconductor"));
        let (_, found) = synonyms.expand("sem");
        assert!(found[0].contains(&"scanning electron microscope".to_owned()));
        // 电镜 covers both kinds.
        let (_, found) = synonyms.expand("电镜");
        assert!(found[0].contains(&"扫描电子显微镜".to_owned()));
        assert!(found[0].contains(&"透射电子显微镜".to_owned()));
    }

    #[test]
    fn a_bad_file_is_refused_with_its_reason() {
        let twice = "[[same]]\nterms = [\"SEM\"]\n[[same]]\nterms = [\"sem\", \"扫描电镜\"]\n";
        assert!(Synonyms::parse(twice).unwrap_err().0.contains("two groups"));
        let nowhere = "[[broader]]\nterms = [\"电镜\"]\ncovers = [\"显微镜\"]\n";
        assert!(
            Synonyms::parse(nowhere)
                .unwrap_err()
                .0
                .contains("in no group")
        );
        assert!(Synonyms::parse("[[same]]\nterms = [\" \"]\n").is_err());
        assert!(Synonyms::parse("[[same]]\nwords = []\n").is_err());
    }
}
