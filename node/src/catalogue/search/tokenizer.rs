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
pub(super) const INDEX_ANALYZER: &str = "alliance_cjk_index";

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

    /// The byte spans of the tokens of `text`, in order.
    pub fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        let mut chars = text.char_indices().peekable();
        // The previous character of the current CJK run, for bigrams.
        let mut previous: Option<usize> = None;
        let mut run_length = 0usize;
        while let Some((at, c)) = chars.next() {
            let end = at + c.len_utf8();
            if is_cjk(c) {
                if let Some(start) = previous {
                    spans.push((start, end));
                }
                if !self.for_query {
                    spans.push((at, end));
                }
                previous = Some(at);
                run_length += 1;
                let run_ends = chars.peek().is_none_or(|(_, next)| !is_cjk(*next));
                if run_ends && self.for_query && run_length == 1 {
                    spans.push((at, end));
                }
                if run_ends {
                    previous = None;
                    run_length = 0;
                }
            } else if c.is_alphanumeric() {
                let mut word_end = end;
                while let Some((next_at, next)) = chars.peek().copied() {
                    if !next.is_alphanumeric() || is_cjk(next) {
                        break;
                    }
                    word_end = next_at + next.len_utf8();
                    chars.next();
                }
                spans.push((at, word_end));
            }
        }
        spans
    }

    /// The tokens of `text`, in order.
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        self.spans(text)
            .into_iter()
            .enumerate()
            .map(|(position, (from, to))| Token {
                offset_from: from,
                offset_to: to,
                position,
                text: text[from..to].to_owned(),
                position_length: 1,
            })
            .collect()
    }
}

/// A stream over precomputed spans; one token buffer is reused for every token, so
/// indexing allocates per document, not per token.
#[derive(Debug)]
pub struct SpanTokenStream<'a> {
    text: &'a str,
    spans: Vec<(usize, usize)>,
    next: usize,
    token: Token,
}

impl TokenStream for SpanTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&(from, to)) = self.spans.get(self.next) else {
            return false;
        };
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = self.next;
        self.token.text.clear();
        self.token
            .text
            .push_str(self.text.get(from..to).unwrap_or_default());
        self.next += 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for CjkTokenizer {
    type TokenStream<'a> = SpanTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SpanTokenStream<'a> {
        SpanTokenStream {
            spans: self.spans(text),
            text,
            next: 0,
            token: Token::default(),
        }
    }
}

/// The analyzer of `tokenizer`: lowercased, English-stemmed.
pub(super) fn analyzer(tokenizer: CjkTokenizer) -> TextAnalyzer {
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
