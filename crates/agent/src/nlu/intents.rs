//! The retail intent inventory and the project's own labelled utterance
//! corpus (`data/intents.txt`), which trains and evaluates the offline
//! classifier.
//!
//! Corpus format: a section starts with a line `# intent_name` (hash, space,
//! the snake_case name); every following non-blank line is one utterance of
//! that intent. Utterance lines may start with `#` (e.g. `#W2378156 ...`) as
//! long as no space follows the hash.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a customer message asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    OrderStatus,
    TrackOrder,
    CancelOrder,
    ReturnItems,
    ExchangeItems,
    ModifyItems,
    ModifyOrderAddress,
    ModifyPayment,
    ChangeDefaultAddress,
    ProductQuestion,
    Recommend,
    Buy,
    Loyalty,
    /// Shipping, returns and other FAQ-style policy questions.
    Policy,
    Human,
    Greeting,
    Thanks,
    Goodbye,
    Complaint,
    Affirm,
    Deny,
    /// The customer identifies themselves ("my email is …", "I'm John Doe, 12345").
    Identify,
    OutOfScope,
}

impl Intent {
    pub const ALL: [Intent; 23] = [
        Intent::OrderStatus,
        Intent::TrackOrder,
        Intent::CancelOrder,
        Intent::ReturnItems,
        Intent::ExchangeItems,
        Intent::ModifyItems,
        Intent::ModifyOrderAddress,
        Intent::ModifyPayment,
        Intent::ChangeDefaultAddress,
        Intent::ProductQuestion,
        Intent::Recommend,
        Intent::Buy,
        Intent::Loyalty,
        Intent::Policy,
        Intent::Human,
        Intent::Greeting,
        Intent::Thanks,
        Intent::Goodbye,
        Intent::Complaint,
        Intent::Affirm,
        Intent::Deny,
        Intent::Identify,
        Intent::OutOfScope,
    ];

    /// The snake_case name, identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::OrderStatus => "order_status",
            Intent::TrackOrder => "track_order",
            Intent::CancelOrder => "cancel_order",
            Intent::ReturnItems => "return_items",
            Intent::ExchangeItems => "exchange_items",
            Intent::ModifyItems => "modify_items",
            Intent::ModifyOrderAddress => "modify_order_address",
            Intent::ModifyPayment => "modify_payment",
            Intent::ChangeDefaultAddress => "change_default_address",
            Intent::ProductQuestion => "product_question",
            Intent::Recommend => "recommend",
            Intent::Buy => "buy",
            Intent::Loyalty => "loyalty",
            Intent::Policy => "policy",
            Intent::Human => "human",
            Intent::Greeting => "greeting",
            Intent::Thanks => "thanks",
            Intent::Goodbye => "goodbye",
            Intent::Complaint => "complaint",
            Intent::Affirm => "affirm",
            Intent::Deny => "deny",
            Intent::Identify => "identify",
            Intent::OutOfScope => "out_of_scope",
        }
    }

    /// Parses a snake_case name (surrounding whitespace and ASCII case ignored).
    pub fn parse(s: &str) -> Option<Intent> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|i| i.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A malformed corpus line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("intent corpus line {line}: {message}")]
pub struct CorpusError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

const CORPUS: &str = include_str!("../../data/intents.txt");

/// The project's own utterance corpus: (text, intent), parsed from
/// `data/intents.txt`, in file order.
pub fn corpus() -> Vec<(String, Intent)> {
    // The file is compiled in and validated by the tests below, so a failure
    // here is a build defect, not a runtime condition.
    parse_corpus(CORPUS).expect("data/intents.txt is well-formed")
}

/// Parses text in the corpus format (see the module docs). Useful for
/// merchant-supplied extra utterances.
pub fn parse_corpus(text: &str) -> Result<Vec<(String, Intent)>, CorpusError> {
    let mut out = Vec::new();
    let mut current = None;
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("# ") {
            current = Some(Intent::parse(name).ok_or_else(|| CorpusError {
                line: idx + 1,
                message: format!("unknown intent section `{}`", name.trim()),
            })?);
            continue;
        }
        let Some(intent) = current else {
            return Err(CorpusError {
                line: idx + 1,
                message: "utterance before the first `# intent` header".to_string(),
            });
        };
        out.push((line.to_string(), intent));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;

    #[test]
    fn intent_names_round_trip_through_parse_and_serde() {
        for intent in Intent::ALL {
            assert_eq!(Intent::parse(intent.as_str()), Some(intent));
            let json = serde_json::to_string(&intent).unwrap();
            assert_eq!(json, format!("\"{}\"", intent.as_str()));
            assert_eq!(serde_json::from_str::<Intent>(&json).unwrap(), intent);
        }
        assert_eq!(Intent::parse(" Cancel_Order "), Some(Intent::CancelOrder));
        assert_eq!(Intent::parse("cancel"), None);
        assert_eq!(Intent::parse(""), None);
    }

    #[test]
    fn all_lists_every_intent_once() {
        let unique: HashSet<Intent> = Intent::ALL.into_iter().collect();
        assert_eq!(unique.len(), Intent::ALL.len());
    }

    #[test]
    fn corpus_has_at_least_thirty_examples_per_intent() {
        let mut counts: BTreeMap<Intent, usize> = BTreeMap::new();
        for (_, intent) in corpus() {
            *counts.entry(intent).or_default() += 1;
        }
        for intent in Intent::ALL {
            let n = counts.get(&intent).copied().unwrap_or(0);
            assert!(n >= 30, "{intent} has only {n} examples");
        }
        assert!(counts.values().sum::<usize>() >= 900);
    }

    #[test]
    fn corpus_has_no_duplicate_utterances() {
        let mut seen = HashSet::new();
        for (text, intent) in corpus() {
            let key = text.to_lowercase();
            assert!(seen.insert(key), "duplicate utterance {text:?} ({intent})");
        }
    }

    #[test]
    fn corpus_utterances_are_clean_single_lines() {
        for (text, _) in corpus() {
            assert_eq!(text, text.trim());
            assert!(!text.is_empty() && text.len() < 300, "{text:?}");
            assert!(!text.starts_with("# "), "{text:?}");
        }
    }

    #[test]
    fn parse_corpus_reports_unknown_sections_and_orphan_lines() {
        let err = parse_corpus("# nonsense\nhello\n").unwrap_err();
        assert_eq!(err.line, 1);
        let err = parse_corpus("\nhello\n# greeting\n").unwrap_err();
        assert_eq!(err.line, 2);
        let ok = parse_corpus("# greeting\n\nhi\n#W1234567 status?\n# deny\nno\n").unwrap();
        assert_eq!(
            ok,
            vec![
                ("hi".to_string(), Intent::Greeting),
                ("#W1234567 status?".to_string(), Intent::Greeting),
                ("no".to_string(), Intent::Deny),
            ]
        );
    }
}
