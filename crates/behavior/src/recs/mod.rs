//! Session-based next-item recommendation.
//!
//! - [`Catalog`]: item ids ↔ dense indexes, popularity (the fallback).
//! - [`knn::SessionKnn`]: session-kNN over an inverted index from items to
//!   the (chronologically ordered) training sessions holding them. One
//!   scorer covers SKNN (cosine, no weights) and the weighted variants
//!   (V-SKNN/STAN-style: recent items of the current session count more,
//!   recent neighbour sessions count more, neighbour items close to the
//!   match count more, rare items count more).
//! - [`rules::SequentialRules`]: "b follows a within n steps" rules weighted
//!   by 1/distance, read for the session's last items.
//! - `sasrec::SasRec` (cargo feature `sasrec`): a self-attentive sequence
//!   model trained on CPU; an optional third component of the blend.
//! - [`Recommender`]: a weighted blend of the component scores (each scaled
//!   to its own maximum), filled up with popular items.
//!
//! Sessions are slices of item ids (`u32`), oldest click first; training
//! sessions are given in chronological order.

pub mod knn;
pub mod rules;
#[cfg(feature = "sasrec")]
pub mod sasrec;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A next-item test case: the session so far and the item clicked next.
pub type Case = (Vec<u32>, u32);

/// An item and its score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scored {
    pub item: u32,
    pub score: f32,
}

/// Item id ↔ dense index, and click counts.
#[derive(Debug, Clone)]
pub struct Catalog {
    ids: Vec<u32>,
    index: HashMap<u32, u32>,
    clicks: Vec<u32>,
    /// Dense indexes by clicks, most popular first.
    by_popularity: Vec<u32>,
}

impl Catalog {
    /// Builds the catalogue from training sessions.
    pub fn new(sessions: &[Vec<u32>]) -> Catalog {
        let mut ids = Vec::new();
        let mut index = HashMap::new();
        let mut clicks: Vec<u32> = Vec::new();
        for s in sessions {
            for &item in s {
                let next = ids.len() as u32;
                let i = *index.entry(item).or_insert_with(|| {
                    ids.push(item);
                    clicks.push(0);
                    next
                });
                clicks[i as usize] += 1;
            }
        }
        let mut by_popularity: Vec<u32> = (0..ids.len() as u32).collect();
        by_popularity.sort_by(|&a, &b| clicks[b as usize].cmp(&clicks[a as usize]).then(a.cmp(&b)));
        Catalog {
            ids,
            index,
            clicks,
            by_popularity,
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn dense(&self, item: u32) -> Option<u32> {
        self.index.get(&item).copied()
    }

    pub fn id(&self, dense: u32) -> u32 {
        self.ids[dense as usize]
    }

    pub fn clicks(&self, dense: u32) -> u32 {
        self.clicks[dense as usize]
    }

    /// Dense indexes of a session's known items (unknown ones dropped).
    pub fn encode(&self, session: &[u32]) -> Vec<u32> {
        session.iter().filter_map(|&i| self.dense(i)).collect()
    }

    pub fn by_popularity(&self) -> &[u32] {
        &self.by_popularity
    }
}

/// Blend weights of the components (0 switches one off).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlendWeights {
    pub knn: f32,
    pub rules: f32,
    /// The SASRec component; used only when a model is attached
    /// (`Recommender::with_sasrec`, feature `sasrec`).
    #[serde(default = "default_sasrec_weight")]
    pub sasrec: f32,
}

fn default_sasrec_weight() -> f32 {
    BlendWeights::default().sasrec
}

impl Default for BlendWeights {
    /// Tuned on the Diginetica validation split (docs/BEHAVIOR.md).
    fn default() -> Self {
        Self {
            knn: 1.0,
            rules: 0.25,
            sasrec: 1.0,
        }
    }
}

/// Settings of the whole recommender.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecConfig {
    pub knn: knn::KnnParams,
    pub rules: rules::RuleParams,
    pub weights: BlendWeights,
}

/// A trained session recommender: kNN + sequential rules (+ SASRec when
/// attached) + popularity.
#[derive(Debug, Clone)]
pub struct Recommender {
    pub catalog: Catalog,
    pub knn: knn::SessionKnn,
    pub rules: rules::SequentialRules,
    /// The optional self-attentive component (shared, read-only).
    #[cfg(feature = "sasrec")]
    pub sasrec: Option<std::sync::Arc<sasrec::SasRec>>,
    pub config: RecConfig,
}

/// Component scores of one query, each as (dense item, score) scaled so the
/// component's best item scores 1.
#[derive(Debug, Clone, Default)]
pub struct Components {
    pub knn: Vec<(u32, f32)>,
    pub rules: Vec<(u32, f32)>,
    /// Empty unless a SASRec model is attached (feature `sasrec`).
    pub sasrec: Vec<(u32, f32)>,
}

fn top_scaled(scores: HashMap<u32, f32>, keep: usize) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = scores.into_iter().filter(|s| s.1 > 0.0).collect();
    let keep = keep.min(v.len());
    if keep == 0 {
        return Vec::new();
    }
    let cmp = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if v.len() > keep {
        v.select_nth_unstable_by(keep - 1, cmp);
        v.truncate(keep);
    }
    v.sort_by(cmp);
    let max = v[0].1;
    for s in &mut v {
        s.1 /= max;
    }
    v
}

impl Recommender {
    /// Builds every index from chronologically ordered training sessions.
    pub fn train(sessions: &[Vec<u32>], config: RecConfig) -> Result<Recommender> {
        if sessions.iter().all(|s| s.is_empty()) {
            return Err(Error::InsufficientData("no training sessions".into()));
        }
        let catalog = Catalog::new(sessions);
        let encoded: Vec<Vec<u32>> = sessions.iter().map(|s| catalog.encode(s)).collect();
        let knn = knn::SessionKnn::new(&encoded, catalog.len(), config.knn.clone())?;
        let rules = rules::SequentialRules::new(&encoded, catalog.len(), &config.rules);
        Ok(Recommender {
            catalog,
            knn,
            rules,
            #[cfg(feature = "sasrec")]
            sasrec: None,
            config,
        })
    }

    /// Adds a trained SASRec model as a blend component (weighted by
    /// `config.weights.sasrec`). Its items unknown to the catalogue are
    /// never recommended through it.
    #[cfg(feature = "sasrec")]
    pub fn with_sasrec(mut self, model: std::sync::Arc<sasrec::SasRec>) -> Recommender {
        self.sasrec = Some(model);
        self
    }

    /// The attached SASRec model's top `keep` items (dense indexes), best 1.
    fn sasrec_top(&self, _session: &[u32], _keep: usize) -> Vec<(u32, f32)> {
        #[cfg(feature = "sasrec")]
        if let Some(model) = &self.sasrec {
            return model
                .top(_session, _keep)
                .into_iter()
                .filter_map(|(id, s)| self.catalog.dense(id).map(|d| (d, s)))
                .collect();
        }
        Vec::new()
    }

    /// Each component's top `keep` items for a session (dense indexes).
    pub fn components(&self, session: &[u32], keep: usize) -> Components {
        let s = self.catalog.encode(session);
        if s.is_empty() {
            return Components::default();
        }
        Components {
            knn: top_scaled(self.knn.score(&s), keep),
            rules: top_scaled(self.rules.score(&s), keep),
            sasrec: self.sasrec_top(session, keep),
        }
    }

    /// Blends precomputed components and fills with popular items; returns
    /// `k` dense indexes, best first, skipping those `allow` refuses.
    pub fn blend(
        &self,
        c: &Components,
        weights: &BlendWeights,
        k: usize,
        allow: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        let mut scores: HashMap<u32, f32> =
            HashMap::with_capacity(c.knn.len() + c.rules.len() + c.sasrec.len());
        for (component, w) in [
            (&c.knn, weights.knn),
            (&c.rules, weights.rules),
            (&c.sasrec, weights.sasrec),
        ] {
            for &(i, s) in component {
                *scores.entry(i).or_default() += w * s;
            }
        }
        let mut ranked: Vec<(u32, f32)> = scores
            .into_iter()
            .filter(|&(i, s)| s > 0.0 && allow(i))
            .collect();
        // Ties: the more popular item first, then the smaller index.
        ranked.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(self.catalog.clicks(b.0).cmp(&self.catalog.clicks(a.0)))
                .then(a.0.cmp(&b.0))
        });
        ranked.truncate(k);
        if ranked.len() < k {
            let have: std::collections::HashSet<u32> = ranked.iter().map(|r| r.0).collect();
            for &i in self.catalog.by_popularity() {
                if ranked.len() >= k {
                    break;
                }
                if !have.contains(&i) && allow(i) {
                    ranked.push((i, 0.0));
                }
            }
        }
        ranked
    }

    /// The `k` best next items for a session (item ids, best first).
    pub fn recommend(&self, session: &[u32], k: usize) -> Vec<Scored> {
        self.recommend_filtered(session, k, &|_| true)
    }

    /// As [`Recommender::recommend`], keeping only items `allow` accepts
    /// (business rules: availability, already bought, tenant filters).
    pub fn recommend_filtered(
        &self,
        session: &[u32],
        k: usize,
        allow: &dyn Fn(u32) -> bool,
    ) -> Vec<Scored> {
        let c = self.components(session, k.max(100));
        let allow_dense = |d: u32| allow(self.catalog.id(d));
        self.blend(&c, &self.config.weights, k, &allow_dense)
            .into_iter()
            .map(|(d, score)| Scored {
                item: self.catalog.id(d),
                score,
            })
            .collect()
    }
}

/// Ranking figures at a cut-off (P@k is the hit rate, as in the SR-GNN literature).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RankMetrics {
    pub p_at_k: f64,
    pub mrr_at_k: f64,
    pub n: usize,
}

/// Accumulates hits and reciprocal ranks.
#[derive(Debug, Clone, Default)]
pub struct RankAccumulator {
    hits: f64,
    rr: f64,
    n: usize,
}

impl RankAccumulator {
    /// Records one case: the 1-based rank of the target within the list, if present.
    pub fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        if let Some(r) = rank {
            self.hits += 1.0;
            self.rr += 1.0 / r as f64;
        }
    }

    pub fn finish(&self) -> RankMetrics {
        let n = self.n.max(1) as f64;
        RankMetrics {
            p_at_k: self.hits / n,
            mrr_at_k: self.rr / n,
            n: self.n,
        }
    }
}

/// P@k and MRR@k of the recommender over (prefix, target) cases.
pub fn evaluate(rec: &Recommender, cases: &[Case], k: usize) -> RankMetrics {
    let mut acc = RankAccumulator::default();
    for (prefix, target) in cases {
        let list = rec.recommend(prefix, k);
        acc.add(list.iter().position(|s| s.item == *target).map(|p| p + 1));
    }
    acc.finish()
}

/// Cuts the last `n_valid` sessions off as validation, SR-GNN style: items
/// unseen in the remaining training sessions are removed from them,
/// sessions left shorter than 2 dropped, and every prefix becomes a case
/// predicting its next item.
pub fn split_validation(
    sessions: &[Vec<u32>],
    n_valid: usize,
) -> Result<(Vec<Vec<u32>>, Vec<Case>)> {
    if n_valid == 0 || n_valid >= sessions.len() {
        return Err(Error::Invalid(format!(
            "validation size {n_valid} must be between 1 and {} sessions",
            sessions.len().saturating_sub(1)
        )));
    }
    let cut = sessions.len() - n_valid;
    let train = sessions[..cut].to_vec();
    let known: std::collections::HashSet<u32> = train.iter().flatten().copied().collect();
    let mut cases = Vec::new();
    for s in &sessions[cut..] {
        let s: Vec<u32> = s.iter().copied().filter(|i| known.contains(i)).collect();
        for end in 1..s.len() {
            cases.push((s[..end].to_vec(), s[end]));
        }
    }
    Ok((train, cases))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two disjoint "worlds": items 1..=5 always in order, items 11..=15 in order.
    fn worlds() -> Vec<Vec<u32>> {
        let mut v = Vec::new();
        for i in 0..200 {
            let start = (i % 3) as u32;
            v.push((1 + start..=5).collect());
            v.push((11 + start..=15).collect());
        }
        v.push(vec![99, 98]);
        v
    }

    #[test]
    fn predicts_the_next_item_of_a_known_sequence() {
        let rec = Recommender::train(&worlds(), RecConfig::default()).unwrap();
        let top = rec.recommend(&[1, 2, 3], 5);
        assert_eq!(top[0].item, 4, "{top:?}");
        assert!(top.iter().take(3).all(|s| s.item < 10), "{top:?}");
        let top = rec.recommend(&[12, 13], 1);
        assert_eq!(top[0].item, 14);
    }

    #[test]
    fn unknown_sessions_get_popular_items_and_filters_apply() {
        let rec = Recommender::train(&worlds(), RecConfig::default()).unwrap();
        let top = rec.recommend(&[123_456], 3);
        assert_eq!(top.len(), 3);
        assert!(top.iter().all(|s| s.score == 0.0));
        let only_odd = rec.recommend_filtered(&[1, 2, 3], 5, &|i| i % 2 == 1);
        assert!(only_odd.iter().all(|s| s.item % 2 == 1), "{only_odd:?}");
        assert_eq!(only_odd[0].item, 5);
    }

    #[test]
    fn validation_split_takes_the_last_sessions_and_drops_unknown_items() {
        let sessions = vec![vec![1, 2], vec![2, 3], vec![1, 9, 2, 3]];
        let (train, cases) = split_validation(&sessions, 1).unwrap();
        assert_eq!(train.len(), 2);
        assert_eq!(cases, vec![(vec![1], 2), (vec![1, 2], 3)]);
        assert!(split_validation(&sessions, 3).is_err());
    }

    #[test]
    fn evaluation_counts_hits_and_reciprocal_ranks() {
        let rec = Recommender::train(&worlds(), RecConfig::default()).unwrap();
        let m = evaluate(&rec, &[(vec![1, 2, 3], 4), (vec![11], 999)], 20);
        assert_eq!(m.n, 2);
        assert_eq!(m.p_at_k, 0.5);
        assert_eq!(m.mrr_at_k, 0.5);
    }
}
