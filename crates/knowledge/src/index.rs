//! One tenant's search index: tantivy in RAM, English analysis (lowercase,
//! ASCII folding, stop words, Snowball stemming), BM25 ranking with the
//! title boosted, and snippets from the body. Everything here is blocking
//! CPU work; the knowledge base runs it on the blocking thread pool.

use hc_domain::{Article, KnowledgeHit};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, TokenStream,
};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term, doc};

use crate::error::Result;
use crate::markdown;

const ANALYZER: &str = "hc_en";
/// Distinct query terms considered; the rest of a very long question is ignored.
const MAX_QUERY_TERMS: usize = 32;
/// Characters the snippet generator picks around the best match.
const SNIPPET_CHARS: usize = 220;
/// The writer's memory budget (tantivy's minimum is 15 MB); articles are small.
const WRITER_BUDGET: usize = 15_000_000;

/// Lucene's English stop words plus the question words customers type
/// ("how long do you …"), so that a question matches on its content words.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with", "i", "me", "my", "you", "your", "we", "our", "us",
    "do", "does", "did", "can", "could", "would", "should", "how", "what", "when", "where",
    "which", "who", "why", "am", "have", "has", "any", "some", "please", "hi", "hello", "thanks",
    "much", "many", "get", "its", "from", "so", "about", "s", "t", "m", "ll", "re", "ve", "d",
    "don",
];

/// Title matches count three times, tags twice, the body once.
const BOOSTS: [(FieldName, f32); 3] = [
    (FieldName::Title, 3.0),
    (FieldName::Tags, 2.0),
    (FieldName::Body, 1.0),
];

#[derive(Clone, Copy)]
enum FieldName {
    Title,
    Tags,
    Body,
}

#[derive(Clone, Copy)]
struct Fields {
    slug: Field,
    title: Field,
    body: Field,
    tags: Field,
}

impl Fields {
    fn get(&self, name: FieldName) -> Field {
        match name {
            FieldName::Title => self.title,
            FieldName::Tags => self.tags,
            FieldName::Body => self.body,
        }
    }
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| w.to_string()),
        ))
        .filter(Stemmer::new(Language::English))
        .build()
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(ANALYZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let stored_text = TextOptions::default()
        .set_indexing_options(indexing.clone())
        .set_stored();
    let fields = Fields {
        slug: b.add_text_field("slug", STRING | STORED),
        title: b.add_text_field("title", stored_text.clone()),
        body: b.add_text_field("body", stored_text),
        tags: b.add_text_field(
            "tags",
            TextOptions::default()
                .set_indexing_options(indexing)
                .set_stored(),
        ),
    };
    (b.build(), fields)
}

/// A tenant's index and a reader that sees every committed write.
pub(crate) struct TenantIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl TenantIndex {
    /// Builds the index of these articles.
    pub(crate) fn build(articles: &[Article]) -> Result<Self> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(ANALYZER, analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let me = Self {
            index,
            reader,
            fields,
        };
        me.write(articles, &[])?;
        Ok(me)
    }

    fn document(&self, a: &Article) -> TantivyDocument {
        let f = self.fields;
        let mut d = doc!(
            f.slug => a.slug.as_str(),
            f.title => a.title.as_str(),
            f.body => markdown::to_text(&a.body_markdown),
        );
        for tag in &a.tags {
            d.add_text(f.tags, tag);
        }
        d
    }

    /// Replaces `upserts` (by slug) and removes `deletes`, then makes the change visible.
    pub(crate) fn write(&self, upserts: &[Article], deletes: &[&str]) -> Result<()> {
        let mut writer = self
            .index
            .writer_with_num_threads::<TantivyDocument>(1, WRITER_BUDGET)?;
        for slug in deletes
            .iter()
            .copied()
            .chain(upserts.iter().map(|a| a.slug.as_str()))
        {
            writer.delete_term(Term::from_field_text(self.fields.slug, slug));
        }
        for a in upserts {
            writer.add_document(self.document(a))?;
        }
        writer.commit()?;
        // Let the merge policy finish, so one-article commits do not pile up segments.
        writer.wait_merging_threads()?;
        self.reader.reload()?;
        Ok(())
    }

    /// The distinct analysed terms of a text, at most `max`.
    fn terms(&self, text: &str, max: usize) -> Result<Vec<String>> {
        let mut analyzer = self.index.tokenizer_for_field(self.fields.body)?;
        let mut stream = analyzer.token_stream(text);
        let mut terms = Vec::new();
        while stream.advance() {
            let t = &stream.token().text;
            if !terms.contains(t) {
                terms.push(t.clone());
            }
            if terms.len() >= max {
                break;
            }
        }
        Ok(terms)
    }

    /// Ranks articles for free text. The text is never parsed as query
    /// syntax: it is analysed like the documents and every term becomes an
    /// optional clause, so no input can make the search fail.
    ///
    /// With `strict`, only articles that contain enough of the query's words
    /// are kept (all of one or two words, else at least a third and at least
    /// two): what an answer may be based on, as opposed to a ranked list.
    pub(crate) fn search(
        &self,
        text: &str,
        limit: usize,
        strict: bool,
    ) -> Result<Vec<KnowledgeHit>> {
        let terms = self.terms(text, MAX_QUERY_TERMS)?;
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in &terms {
            for (name, boost) in BOOSTS {
                let term = Term::from_field_text(self.fields.get(name), t);
                let q = TermQuery::new(term, IndexRecordOption::WithFreqs);
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
            }
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut snippets = SnippetGenerator::create(&searcher, &query, self.fields.body)?;
        snippets.set_max_num_chars(SNIPPET_CHARS);
        let needed = terms.len().min(2.max(terms.len().div_ceil(3)));
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let d: TantivyDocument = searcher.doc(address)?;
            let all = |f: Field| {
                d.get_all(f)
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let body = all(self.fields.body);
            let Ok(slug) = hc_domain::ArticleSlug::parse(all(self.fields.slug)) else {
                continue;
            };
            let title = all(self.fields.title);
            let words = format!("{title}\n{}\n{body}", all(self.fields.tags));
            let present = self.terms(&words, usize::MAX)?;
            let matched = terms.iter().filter(|t| present.contains(t)).count();
            if strict && matched < needed {
                continue;
            }
            hits.push(KnowledgeHit {
                slug,
                title,
                snippet: self.passage(&body, &snippets)?,
                score,
                coverage: matched as f32 / terms.len() as f32,
            });
        }
        Ok(hits)
    }

    /// The passage to quote: the body's sentence with the most distinct
    /// query words (as found by tantivy's snippet generator), then the most
    /// matches, continued with the sentences after it in the same paragraph
    /// while short; the start of the body when only the title or tags matched.
    fn passage(&self, body: &str, snippets: &SnippetGenerator) -> Result<String> {
        let paragraphs: Vec<Vec<&str>> = body.lines().map(sentences).collect();
        let mut best: Option<((usize, bool, usize), usize, usize)> = None;
        for (p, paragraph) in paragraphs.iter().enumerate() {
            for (i, sentence) in paragraph.iter().enumerate() {
                let snippet = snippets.snippet(sentence);
                if snippet.is_empty() {
                    continue;
                }
                let words: Vec<&str> = snippet
                    .highlighted()
                    .iter()
                    .map(|r| &snippet.fragment()[r.clone()])
                    .collect();
                let distinct = self.terms(&words.join(" "), usize::MAX)?.len();
                // Headings and other fragments lose ties to real sentences.
                let key = (distinct, sentence.len() >= 30, words.len());
                if best.as_ref().is_none_or(|(k, _, _)| key > *k) {
                    best = Some((key, p, i));
                }
            }
        }
        let (p, i) = best.map_or((0, 0), |(_, p, i)| (p, i));
        let mut out = String::new();
        let following = paragraphs.get(p).map_or(&[][..], |s| &s[i..]);
        for (n, sentence) in following.iter().enumerate() {
            if n > 0 && out.len() + sentence.len() > PASSAGE_CHARS {
                break;
            }
            push_sentence(&mut out, sentence);
        }
        if best.is_none() {
            // Only the title or tags matched: the body's opening, as much as fits.
            for sentence in paragraphs.iter().skip(1).flatten() {
                if out.len() + sentence.len() > PASSAGE_CHARS {
                    break;
                }
                push_sentence(&mut out, sentence);
            }
        }
        Ok(cap(out))
    }
}

/// Longest passage before it stops taking whole sentences.
const PASSAGE_CHARS: usize = 300;

/// The sentences of one line: split after `.`, `!` or `?` followed by a space.
fn sentences(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1) == Some(&b' ') {
            out.push(line[start..=i].trim());
            start = i + 1;
        }
    }
    out.push(line[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

/// Appends a sentence; a heading or list item without end punctuation gets a period.
fn push_sentence(out: &mut String, sentence: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(sentence);
    if !sentence.ends_with(['.', '!', '?', ':', ';']) {
        out.push('.');
    }
}

/// At most twice the passage length, cut at a word.
fn cap(text: String) -> String {
    const MAX: usize = 2 * PASSAGE_CHARS;
    if text.len() <= MAX {
        return text;
    }
    let mut cut = MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = text[..cut].rfind(' ').unwrap_or(cut);
    format!("{}…", &text[..cut])
}
