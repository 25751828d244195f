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

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_case_and_diacritics() {
        assert_eq!(fold("  Vázquez "), "vazquez");
        assert_eq!(fold("Noah.Brown@Example.COM"), "noah.brown@example.com");
        assert_eq!(fold("Zoë"), "zoe");
    }
}
