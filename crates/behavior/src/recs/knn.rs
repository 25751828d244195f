//! Session-kNN. Neighbours of the current session are found through an
//! inverted index (item → the training sessions holding it, oldest first),
//! sampling the most recent sessions per item; similarity and item scores
//! carry optional exponential weights (Garg et al.'s STAN generalises
//! SKNN/V-SKNN the same way):
//!
//! - `pos_decay`: an item `d` clicks before the end of the current session
//!   weighs `exp(−d / pos_decay)` in the similarity (∞ = all equal);
//! - `recency_decay`: a neighbour `Δ` sessions older than the newest
//!   training session weighs `exp(−Δ / recency_decay)`;
//! - `neighbour_decay`: an item `q` positions away from the neighbour's
//!   match with the current session scores `exp(−q / neighbour_decay)`;
//! - `idf_power`: shared items weigh `idf^p` (rare items say more);
//! - `cosine`: divide by √(|s|·|n|) (plain SKNN).

use std::cell::RefCell;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// kNN settings. [`KnnParams::sknn`] gives the plain SKNN baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnnParams {
    /// Neighbours kept.
    pub k: usize,
    /// Most recent candidate sessions considered.
    pub sample: usize,
    /// Only the last `max_query_items` distinct items of a session look up neighbours.
    pub max_query_items: usize,
    pub pos_decay: f64,
    pub recency_decay: f64,
    pub neighbour_decay: f64,
    pub idf_power: f64,
    pub cosine: bool,
}

impl KnnParams {
    /// Plain session-kNN (binary cosine, no weights).
    pub fn sknn() -> KnnParams {
        KnnParams {
            k: 100,
            sample: 1000,
            max_query_items: 20,
            pos_decay: f64::INFINITY,
            recency_decay: f64::INFINITY,
            neighbour_decay: f64::INFINITY,
            idf_power: 0.0,
            cosine: true,
        }
    }
}

impl Default for KnnParams {
    fn default() -> Self {
        KnnParams {
            k: 100,
            sample: 1000,
            max_query_items: 20,
            pos_decay: 2.0,
            recency_decay: 50_000.0,
            neighbour_decay: 2.0,
            idf_power: 0.5,
            cosine: false,
        }
    }
}

thread_local! {
    /// Per-thread similarity accumulator, one slot per training session,
    /// left all zero between queries.
    static SIMS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

fn decay(distance: f64, scale: f64) -> f64 {
    if scale.is_infinite() {
        1.0
    } else {
        (-distance / scale).exp()
    }
}

/// The trained index.
#[derive(Debug, Clone)]
pub struct SessionKnn {
    /// Sessions as dense item indexes (oldest session first).
    sessions: Vec<Vec<u32>>,
    /// Distinct items per session, for cosine norms.
    distinct: Vec<u32>,
    /// item → sessions holding it, ascending (oldest first), no repeats.
    postings: Vec<Vec<u32>>,
    idf: Vec<f32>,
    params: KnnParams,
}

impl SessionKnn {
    pub fn new(sessions: &[Vec<u32>], n_items: usize, params: KnnParams) -> Result<SessionKnn> {
        if params.k == 0 || params.sample == 0 || params.max_query_items == 0 {
            return Err(Error::Invalid(
                "k, sample and max_query_items must be positive".into(),
            ));
        }
        for d in [
            params.pos_decay,
            params.recency_decay,
            params.neighbour_decay,
        ] {
            if d.is_nan() || d <= 0.0 {
                return Err(Error::Invalid(
                    "decays must be positive (∞ disables)".into(),
                ));
            }
        }
        let mut postings: Vec<Vec<u32>> = vec![Vec::new(); n_items];
        let mut distinct = Vec::with_capacity(sessions.len());
        for (sid, s) in sessions.iter().enumerate() {
            let mut seen: Vec<u32> = s.clone();
            seen.sort_unstable();
            seen.dedup();
            distinct.push(seen.len() as u32);
            for &i in &seen {
                postings[i as usize].push(sid as u32);
            }
        }
        let n = sessions.len().max(1) as f64;
        let idf = postings
            .iter()
            .map(|p| (n / (p.len() as f64 + 1.0)).ln().max(0.0) as f32 + 1.0)
            .collect();
        Ok(SessionKnn {
            sessions: sessions.to_vec(),
            distinct,
            postings,
            idf,
            params,
        })
    }

    pub fn params(&self) -> &KnnParams {
        &self.params
    }

    pub fn n_sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Item scores (dense indexes) for a session of dense indexes.
    pub fn score(&self, session: &[u32]) -> HashMap<u32, f32> {
        let p = &self.params;
        // Weight of each distinct item of the current session: by its last position.
        let len = session.len();
        let mut weight: HashMap<u32, f64> = HashMap::new();
        for (pos, &item) in session.iter().enumerate() {
            let w = decay((len - 1 - pos) as f64, p.pos_decay);
            let e = weight.entry(item).or_insert(0.0);
            *e = e.max(w);
        }
        let mut query: Vec<(u32, f64)> = weight.into_iter().collect();
        query.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        query.truncate(p.max_query_items);

        // Candidates: the most recent `sample` sessions per query item, then
        // overall. Similarities accumulate in a dense per-thread buffer (a
        // hash map here dominated the latency of long sessions).
        let mut neighbours: Vec<(u32, f64)> = SIMS.with(|cell| {
            let mut buf = cell.borrow_mut();
            if buf.len() < self.sessions.len() {
                buf.resize(self.sessions.len(), 0.0);
            }
            let mut touched: Vec<u32> = Vec::new();
            for &(item, w) in &query {
                let w = w * f64::from(self.idf[item as usize]).powf(p.idf_power);
                let posting = &self.postings[item as usize];
                let from = posting.len().saturating_sub(p.sample);
                for &sid in &posting[from..] {
                    let slot = &mut buf[sid as usize];
                    if *slot == 0.0 {
                        touched.push(sid);
                    }
                    *slot += w;
                }
            }
            touched
                .into_iter()
                .map(|sid| {
                    let v = std::mem::take(&mut buf[sid as usize]);
                    (sid, v)
                })
                .collect()
        });
        if neighbours.len() > p.sample {
            // Keep the most recent sessions (largest ids).
            neighbours.select_nth_unstable_by(p.sample - 1, |a, b| b.0.cmp(&a.0));
            neighbours.truncate(p.sample);
        }
        let newest = self.sessions.len().saturating_sub(1) as f64;
        let qn = query.len() as f64;
        for (sid, sim) in &mut neighbours {
            if p.cosine {
                *sim /= (qn * f64::from(self.distinct[*sid as usize])).sqrt();
            }
            *sim *= decay(newest - f64::from(*sid), p.recency_decay);
        }
        let cmp = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0));
        if neighbours.len() > p.k {
            neighbours.select_nth_unstable_by(p.k - 1, cmp);
            neighbours.truncate(p.k);
        }

        let query_weight: HashMap<u32, f64> = query.iter().copied().collect();
        let mut scores: HashMap<u32, f32> = HashMap::with_capacity(p.k * 8);
        for (sid, sim) in neighbours {
            let n = &self.sessions[sid as usize];
            // The neighbour's match: its position of the current session's most
            // heavily weighted shared item (last occurrence).
            let mut anchor = 0;
            let mut best = -1.0;
            for (q, item) in n.iter().enumerate() {
                if let Some(&w) = query_weight.get(item)
                    && w >= best
                {
                    best = w;
                    anchor = q;
                }
            }
            for (q, &item) in n.iter().enumerate() {
                let d = (q as f64 - anchor as f64).abs();
                let w = if p.neighbour_decay.is_infinite() {
                    1.0
                } else if q == anchor {
                    // The matched item itself: the shopper has just seen it.
                    decay(1.0, p.neighbour_decay)
                } else {
                    decay(d - 1.0, p.neighbour_decay)
                };
                *scores.entry(item).or_insert(0.0) += (sim * w) as f32;
            }
        }
        scores
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_session_decides_and_recency_weights_apply() {
        // Sessions: 0: [0,1,2]  1: [0,3]  2: [4,5]
        let s = vec![vec![0, 1, 2], vec![0, 3], vec![4, 5]];
        let knn = SessionKnn::new(&s, 6, KnnParams::sknn()).unwrap();
        let scores = knn.score(&[1]);
        assert!(scores[&2] > 0.0 && !scores.contains_key(&3) && !scores.contains_key(&5));

        // With a strong recency decay, the newer session sharing item 0 wins.
        let params = KnnParams {
            recency_decay: 0.5,
            neighbour_decay: f64::INFINITY,
            ..KnnParams::sknn()
        };
        let knn = SessionKnn::new(&s, 6, params).unwrap();
        let scores = knn.score(&[0]);
        assert!(scores[&3] > scores[&2], "{scores:?}");
    }

    #[test]
    fn recent_clicks_of_the_current_session_count_more() {
        let s = vec![vec![0, 10], vec![1, 11]];
        let params = KnnParams {
            pos_decay: 1.0,
            ..KnnParams::default()
        };
        let knn = SessionKnn::new(&s, 12, params).unwrap();
        let scores = knn.score(&[0, 1]);
        assert!(scores[&11] > scores[&10], "{scores:?}");
    }

    #[test]
    fn bad_parameters_are_refused() {
        let bad = KnnParams {
            k: 0,
            ..KnnParams::default()
        };
        assert!(SessionKnn::new(&[vec![0]], 1, bad).is_err());
    }
}
