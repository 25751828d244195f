//! Text folding for lookups: case- and diacritic-insensitive matching, so a
//! customer who types "Vazquez" or "NOAH" is still found.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lowercases, decomposes and drops combining marks, and trims.
pub fn fold(s: &str) -> String {
    s.trim()
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Words of a shopper's query that say nothing about which product is meant.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "an",
    "and",
    "any",
    "are",
    "available",
    "be",
    "buy",
    "can",
    "could",
    "do",
    "does",
    "find",
    "for",
    "get",
    "got",
    "have",
    "has",
    "hello",
    "hey",
    "hi",
    "how",
    "i",
    "im",
    "in",
    "is",
    "it",
    "like",
    "look",
    "looking",
    "me",
    "much",
    "my",
    "need",
    "of",
    "on",
    "or",
    "please",
    "sell",
    "show",
    "some",
    "something",
    "thanks",
    "that",
    "the",
    "there",
    "this",
    "to",
    "want",
    "we",
    "what",
    "which",
    "with",
    "would",
    "you",
    "your",
];

/// A light English stemmer for catalog matching: plural endings only
/// ("boots" → "boot", "batteries" → "battery"), so it cannot merge unrelated words.
fn stem(word: &str) -> String {
    if word.len() > 4 && word.ends_with("ies") {
        format!("{}y", &word[..word.len() - 3])
    } else if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") {
        word[..word.len() - 1].to_string()
    } else {
        word.to_string()
    }
}

/// The search terms of `text`: folded, split at anything but letters and
/// digits, stop words dropped, plurals stemmed.
pub fn terms(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(stem)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{fold, terms};

    #[test]
    fn query_terms_drop_filler_and_plurals() {
        assert_eq!(
            terms("Do you have waterproof hiking BOOTS?"),
            vec!["waterproof", "hiking", "boot"]
        );
        assert_eq!(terms("spare batteries, please"), vec!["spare", "battery"]);
        assert_eq!(terms("glass"), vec!["glass"]);
        assert!(terms("what do you have?").is_empty());
    }

    #[test]
    fn folds_case_and_diacritics() {
        assert_eq!(fold("  Vázquez "), "vazquez");
        assert_eq!(fold("Noah.Brown@Example.COM"), "noah.brown@example.com");
        assert_eq!(fold("Zoë"), "zoe");
    }
}
