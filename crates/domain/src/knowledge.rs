//! The merchant's knowledge base: articles (shipping, returns, FAQs) written
//! in Markdown, and the search hits the agent cites. The index and its rules
//! live in `hc-knowledge`; these types are here because the store, the agent
//! and the server exchange them without depending on the search engine.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::ids::{ArticleId, TenantId};

/// Longest slug, in characters.
pub const MAX_SLUG_LEN: usize = 80;

/// An article's URL name: 1 to 80 of `a-z`, `0-9` and `-`. Unique per tenant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ArticleSlug(String);

impl ArticleSlug {
    pub fn parse(raw: impl Into<String>) -> Result<Self> {
        let raw = raw.into();
        let ok_len = (1..=MAX_SLUG_LEN).contains(&raw.len());
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok_len || !ok_chars {
            return Err(Error::invalid(
                "slug",
                "use 1 to 80 lowercase letters, digits or '-'",
            ));
        }
        Ok(Self(raw))
    }

    /// Derives a slug from a title: ASCII letters and digits lowercased, every
    /// other run of characters one `-` ("Returns & refunds" → `returns-refunds`).
    /// Fails when the title has no ASCII letter or digit.
    pub fn from_title(title: &str) -> Result<Self> {
        let mut slug = String::new();
        for c in title.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
            if slug.len() >= MAX_SLUG_LEN {
                break;
            }
        }
        slug.truncate(MAX_SLUG_LEN);
        let slug = slug.trim_end_matches('-');
        if slug.is_empty() {
            return Err(Error::invalid(
                "slug",
                "the title has no letters or digits to derive a slug from; give one",
            ));
        }
        Self::parse(slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArticleSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ArticleSlug {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Self::parse(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A knowledge-base article as stored: the Markdown source is the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: ArticleId,
    pub tenant_id: TenantId,
    pub slug: ArticleSlug,
    pub title: String,
    pub body_markdown: String,
    pub tags: Vec<String>,
    pub updated_at_ms: i64,
}

/// One search result: the article it comes from and the passage that matched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeHit {
    pub slug: ArticleSlug,
    pub title: String,
    /// Plain text around the best-matching words of the body.
    pub snippet: String,
    /// Relevance (BM25); only comparable within one search.
    pub score: f32,
    /// Share of the query's searchable words (after stop words and
    /// stemming) that the article contains, from 0 to 1.
    pub coverage: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_ascii_words_joined_by_dashes() {
        assert!(ArticleSlug::parse("returns-and-refunds").is_ok());
        assert!(ArticleSlug::parse("Returns").is_err());
        assert!(ArticleSlug::parse("a/b").is_err());
        assert!(ArticleSlug::parse("").is_err());
        assert!(ArticleSlug::parse("x".repeat(81)).is_err());
        assert_eq!(
            ArticleSlug::from_title("  Returns & Refunds (2026)!")
                .unwrap()
                .as_str(),
            "returns-refunds-2026"
        );
        assert_eq!(
            ArticleSlug::from_title(&"abc ".repeat(30))
                .unwrap()
                .as_str()
                .len(),
            80 - 1,
            "cut at 80 characters without a trailing dash"
        );
        assert!(ArticleSlug::from_title("返品について").is_err());
    }
}
