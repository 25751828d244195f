//! Long-term customer memory: facts the agent learned about a customer from
//! their orders and conversations (sizes, colours, past issues, satisfaction),
//! kept per tenant and used in later conversations. [`merge_fact`] is the one
//! statement of the retention rules; the stores implement the same rules.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// What a fact is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// The size last chosen for a product type (`subject`), e.g. `M` for `Jacket`.
    Size,
    /// The colour last chosen for a product type.
    Color,
    /// A stated or observed preference (e.g. refunds to a gift card).
    Preference,
    /// Something that went wrong: a return, exchange, cancellation or escalation.
    Issue,
    /// The last rating the customer gave, `N/5`.
    Satisfaction,
    /// Anything else worth keeping (e.g. written by staff).
    Note,
}

impl FactKind {
    pub const ALL: [FactKind; 6] = [
        FactKind::Size,
        FactKind::Color,
        FactKind::Preference,
        FactKind::Issue,
        FactKind::Satisfaction,
        FactKind::Note,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::Size => "size",
            FactKind::Color => "color",
            FactKind::Preference => "preference",
            FactKind::Issue => "issue",
            FactKind::Satisfaction => "satisfaction",
            FactKind::Note => "note",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Whether several facts of this kind are kept per subject (the last
    /// [`CustomerFact::MAX_ISSUES`]) instead of the newest one only.
    pub fn is_history(self) -> bool {
        self == FactKind::Issue
    }
}

impl fmt::Display for FactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing known about a customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerFact {
    pub user_id: UserId,
    pub kind: FactKind,
    /// What the fact is about, e.g. the product type `Jacket`; empty for general facts.
    #[serde(default)]
    pub subject: String,
    /// E.g. `M`, `blue`, `returned 1 item: no longer needed`, `4/5`.
    pub value: String,
    /// Where it was learned: `order:#W1234567` or `conversation:conv_…`.
    pub source: String,
    pub learned_at_ms: i64,
}

impl CustomerFact {
    /// Issues kept per customer (the newest).
    pub const MAX_ISSUES: usize = 5;
    /// Longest stored subject, value or source, in characters.
    pub const MAX_TEXT: usize = 200;

    /// A fact with its texts trimmed and cut to [`Self::MAX_TEXT`] characters.
    pub fn new(
        user_id: UserId,
        kind: FactKind,
        subject: &str,
        value: &str,
        source: &str,
        learned_at_ms: i64,
    ) -> Self {
        let cut = |s: &str| s.trim().chars().take(Self::MAX_TEXT).collect::<String>();
        Self {
            user_id,
            kind,
            subject: cut(subject),
            value: cut(value),
            source: cut(source),
            learned_at_ms,
        }
    }

    /// Facts that replace each other share this key (issues never do).
    pub fn same_slot(&self, other: &CustomerFact) -> bool {
        !self.kind.is_history()
            && self.user_id == other.user_id
            && self.kind == other.kind
            && self.subject.eq_ignore_ascii_case(&other.subject)
    }
}

/// Adds `fact` to one customer's `facts` under the retention rules: at most
/// one fact per (user, kind, subject), the newer replacing the older (an
/// older fact arriving late is dropped); issues accumulate, the newest
/// [`CustomerFact::MAX_ISSUES`] per customer kept.
pub fn merge_fact(facts: &mut Vec<CustomerFact>, fact: CustomerFact) {
    if let Some(existing) = facts.iter_mut().find(|f| f.same_slot(&fact)) {
        if fact.learned_at_ms >= existing.learned_at_ms {
            *existing = fact;
        }
        return;
    }
    if fact.kind.is_history() && facts.contains(&fact) {
        return;
    }
    let user = fact.user_id.clone();
    let history = fact.kind.is_history();
    facts.push(fact);
    if history {
        // The newest first; among equal times the one stored last.
        let mut issues: Vec<(i64, usize)> = facts
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind.is_history() && f.user_id == user)
            .map(|(i, f)| (f.learned_at_ms, i))
            .collect();
        issues.sort_unstable_by(|a, b| b.cmp(a));
        let mut dropped: Vec<usize> = issues
            .iter()
            .skip(CustomerFact::MAX_ISSUES)
            .map(|(_, i)| *i)
            .collect();
        dropped.sort_unstable_by(|a, b| b.cmp(a));
        for i in dropped {
            facts.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(kind: FactKind, subject: &str, value: &str, at: i64) -> CustomerFact {
        CustomerFact::new(
            UserId::parse("ava_moore_2033").unwrap(),
            kind,
            subject,
            value,
            "order:#W1",
            at,
        )
    }

    #[test]
    fn a_newer_fact_replaces_the_older_one_of_the_same_kind_and_subject() {
        let mut facts = Vec::new();
        merge_fact(&mut facts, fact(FactKind::Size, "Jacket", "M", 10));
        merge_fact(&mut facts, fact(FactKind::Size, "T-Shirt", "L", 11));
        merge_fact(&mut facts, fact(FactKind::Color, "Jacket", "navy", 12));
        merge_fact(&mut facts, fact(FactKind::Size, "jacket", "L", 20));
        assert_eq!(facts.len(), 3);
        let jacket = facts
            .iter()
            .find(|f| f.kind == FactKind::Size && f.subject.eq_ignore_ascii_case("jacket"))
            .unwrap();
        assert_eq!(jacket.value, "L");
        // An older fact arriving late does not win.
        merge_fact(&mut facts, fact(FactKind::Size, "Jacket", "S", 5));
        assert_eq!(facts.iter().filter(|f| f.value == "S").count(), 0);
    }

    #[test]
    fn issues_accumulate_up_to_the_newest_five() {
        let mut facts = vec![fact(FactKind::Satisfaction, "", "2/5", 1)];
        for i in 0..8 {
            merge_fact(
                &mut facts,
                fact(FactKind::Issue, "", &format!("issue {i}"), 100 + i),
            );
        }
        let issues: Vec<&str> = facts
            .iter()
            .filter(|f| f.kind == FactKind::Issue)
            .map(|f| f.value.as_str())
            .collect();
        assert_eq!(
            issues,
            vec!["issue 3", "issue 4", "issue 5", "issue 6", "issue 7"]
        );
        assert!(facts.iter().any(|f| f.kind == FactKind::Satisfaction));
        // The same issue twice is stored once.
        merge_fact(&mut facts, fact(FactKind::Issue, "", "issue 7", 107));
        assert_eq!(
            facts.iter().filter(|f| f.kind == FactKind::Issue).count(),
            5
        );
    }

    #[test]
    fn texts_are_trimmed_and_bounded_and_kinds_round_trip() {
        let f = fact(FactKind::Note, "  ", &"x".repeat(500), 1);
        assert_eq!(f.subject, "");
        assert_eq!(f.value.chars().count(), CustomerFact::MAX_TEXT);
        for k in FactKind::ALL {
            assert_eq!(FactKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(FactKind::parse("shoe"), None);
    }
}
