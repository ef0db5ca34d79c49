//! Tokenizers that find Chinese text without spaces and English words.
//!
//! Chinese is written without spaces, so a word tokenizer sees 「液相色谱-质谱联用仪」 as one
//! token and 「质谱」 would never match. Instead every run of CJK characters is indexed as
//! its single characters and its overlapping character pairs (bigrams); a query's CJK runs
//! become their bigrams (or the character, for a one-character run), all of which must
//! match — a substring search that needs no dictionary. Latin letters and digits form
//! words, lowercased and stemmed (English), so 「Spectrometers」 finds 「spectrometer」.

use tantivy::tokenizer::{
    Language, LowerCaser, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Name of the indexing analyzer in the index's tokenizer manager.
pub const INDEX_ANALYZER: &str = "alliance_cjk_index";

/// Whether `c` is written without spaces between words (Han, kana, Hangul).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F  // Extensions B–F, compatibility supplement
    )
}

/// Splits text into tokens; `for_query` keeps only what a query needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct CjkTokenizer {
    for_query: bool,
}

impl CjkTokenizer {
    /// For documents: CJK characters and bigrams, and words.
    pub fn index() -> Self {
        CjkTokenizer { for_query: false }
    }

    /// For queries: CJK bigrams (a lone character stays itself), and words.
    pub fn query() -> Self {
        CjkTokenizer { for_query: true }
    }

    /// The tokens of `text`, in order.
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut push = |from: usize, to: usize| {
            tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position: tokens.len(),
                text: text[from..to].to_owned(),
                position_length: 1,
            });
        };
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let end_of = |i: usize| chars.get(i + 1).map_or(text.len(), |(o, _)| *o);
        let mut i = 0;
        while i < chars.len() {
            let (start, c) = chars[i];
            if is_cjk(c) {
                let mut j = i;
                while j < chars.len() && is_cjk(chars[j].1) {
                    j += 1;
                }
                let run = j - i;
                for (k, (offset, _)) in chars.iter().enumerate().take(j).skip(i) {
                    if !self.for_query || run == 1 {
                        push(*offset, end_of(k));
                    }
                    if k + 1 < j {
                        push(*offset, end_of(k + 1));
                    }
                }
                i = j;
            } else if c.is_alphanumeric() {
                let mut j = i;
                while j < chars.len() && chars[j].1.is_alphanumeric() && !is_cjk(chars[j].1) {
                    j += 1;
                }
                push(start, end_of(j - 1));
                i = j;
            } else {
                i += 1;
            }
        }
        tokens
    }
}

/// A stream over precomputed tokens.
#[derive(Debug)]
pub struct VecTokenStream {
    tokens: Vec<Token>,
    /// One past the current token; 0 before the first `advance`.
    next: usize,
    /// Returned if `token` is called before `advance` or on an empty stream.
    none: Token,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        self.next
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .unwrap_or(&self.none)
    }

    fn token_mut(&mut self) -> &mut Token {
        match self.next.checked_sub(1) {
            Some(i) if i < self.tokens.len() => &mut self.tokens[i],
            _ => &mut self.none,
        }
    }
}

impl Tokenizer for CjkTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream {
            tokens: self.tokens(text),
            next: 0,
            none: Token::default(),
        }
    }
}

/// The analyzer of `tokenizer`: lowercased, English-stemmed.
pub fn analyzer(tokenizer: CjkTokenizer) -> TextAnalyzer {
    TextAnalyzer::builder(tokenizer)
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The terms a query's text must all match.
pub fn query_terms(text: &str) -> Vec<String> {
    let mut analyzer = analyzer(CjkTokenizer::query());
    let mut stream = analyzer.token_stream(text);
    let mut terms: Vec<String> = Vec::new();
    while stream.advance() {
        let term = stream.token().text.clone();
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn texts(tokenizer: CjkTokenizer, text: &str) -> Vec<String> {
        tokenizer.tokens(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn chinese_runs_become_characters_and_pairs() {
        assert_eq!(
            texts(CjkTokenizer::index(), "质谱仪"),
            ["质", "质谱", "谱", "谱仪", "仪"]
        );
        assert_eq!(texts(CjkTokenizer::query(), "质谱仪"), ["质谱", "谱仪"]);
        assert_eq!(texts(CjkTokenizer::query(), "谱"), ["谱"]);
    }

    #[test]
    fn mixed_text_keeps_words_and_model_numbers() {
        assert_eq!(
            texts(CjkTokenizer::index(), "JEM-2100F 透射电镜"),
            [
                "JEM", "2100F", "透", "透射", "射", "射电", "电", "电镜", "镜"
            ]
        );
    }

    #[test]
    fn queries_are_lowercased_and_stemmed() {
        assert_eq!(query_terms("Mass Spectrometers"), ["mass", "spectromet"]);
        assert_eq!(query_terms("液相色谱"), ["液相", "相色", "色谱"]);
        assert!(query_terms(" -- ").is_empty());
    }
}
