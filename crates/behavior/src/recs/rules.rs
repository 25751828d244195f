//! Sequential rules: for every pair of clicks `a … b` within `max_gap`
//! steps of one training session, the rule `a → b` gains 1/distance. A
//! session is scored from the rules of its last items (older items weigh
//! `last_item_decay` less per step back). Each item keeps only its
//! `max_rules_per_item` strongest rules.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Rule settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleParams {
    pub max_gap: usize,
    pub max_rules_per_item: usize,
    /// How many of the session's last clicks read their rules.
    pub lookback: usize,
    /// Weight factor per step back for older clicks.
    pub last_item_decay: f32,
}

impl Default for RuleParams {
    fn default() -> Self {
        Self {
            max_gap: 10,
            max_rules_per_item: 200,
            lookback: 3,
            last_item_decay: 0.3,
        }
    }
}

/// Rules per antecedent item, strongest first.
#[derive(Debug, Clone)]
pub struct SequentialRules {
    rules: Vec<Vec<(u32, f32)>>,
    lookback: usize,
    decay: f32,
}

impl SequentialRules {
    pub fn new(sessions: &[Vec<u32>], n_items: usize, params: &RuleParams) -> SequentialRules {
        let mut maps: Vec<HashMap<u32, f32>> = vec![HashMap::new(); n_items];
        for s in sessions {
            for (i, &a) in s.iter().enumerate() {
                for (d, &b) in s[i + 1..].iter().take(params.max_gap).enumerate() {
                    if a != b {
                        *maps[a as usize].entry(b).or_insert(0.0) += 1.0 / (d as f32 + 1.0);
                    }
                }
            }
        }
        let rules = maps
            .into_iter()
            .map(|m| {
                let mut v: Vec<(u32, f32)> = m.into_iter().collect();
                v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                v.truncate(params.max_rules_per_item);
                v
            })
            .collect();
        SequentialRules {
            rules,
            lookback: params.lookback.max(1),
            decay: params.last_item_decay,
        }
    }

    /// Item scores for a session of dense indexes.
    pub fn score(&self, session: &[u32]) -> HashMap<u32, f32> {
        let mut scores = HashMap::new();
        let mut w = 1.0;
        for &a in session.iter().rev().take(self.lookback) {
            if w <= 0.0 {
                break;
            }
            for &(b, s) in &self.rules[a as usize] {
                *scores.entry(b).or_insert(0.0) += w * s;
            }
            w *= self.decay;
        }
        scores
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearer_successors_score_higher() {
        let rules = SequentialRules::new(&[vec![0, 1, 2], vec![0, 1]], 3, &RuleParams::default());
        let s = rules.score(&[0]);
        assert_eq!(s[&1], 2.0);
        assert_eq!(s[&2], 0.5);
        assert!(rules.score(&[2]).is_empty());
    }
}
