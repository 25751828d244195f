//! Gradient-boosted decision trees for binary classification (logistic
//! loss), written for the behavior models: features are binned into
//! quantile histograms once, trees grow leaf-wise (best gain first) under a
//! depth and a leaf limit, leaf values are Newton steps with L2
//! regularisation, shrunk by the learning rate, and boosting stops early
//! when the log-loss on an internal validation split stops improving.
//!
//! A trained [`Gbt`] keeps raw-value thresholds (not bins), so it scores raw
//! feature rows and serialises to versioned JSON ([`Gbt::to_json`],
//! [`Gbt::from_json`]).

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::log_loss;

/// Current artifact format version written by [`Gbt::to_json`].
pub const GBT_FORMAT_VERSION: u32 = 1;

/// Training settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GbtParams {
    /// Maximum boosting rounds (trees).
    pub max_trees: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    pub max_leaves: usize,
    /// Minimum hessian sum in a child.
    pub min_child_weight: f64,
    /// Minimum rows in a child.
    pub min_samples_leaf: usize,
    /// L2 penalty on leaf values.
    pub lambda: f64,
    /// Minimum gain for a split.
    pub min_gain: f64,
    /// Histogram bins per feature (≤ 256).
    pub max_bins: usize,
    /// Share of rows held out for early stopping (0 disables it).
    pub validation_fraction: f64,
    /// Stop after this many rounds without a better validation loss.
    pub early_stopping_rounds: usize,
    /// Row subsampling per tree (1 = all rows).
    pub subsample: f64,
    pub seed: u64,
}

impl Default for GbtParams {
    fn default() -> Self {
        Self {
            max_trees: 500,
            learning_rate: 0.05,
            max_depth: 6,
            max_leaves: 31,
            min_child_weight: 1.0,
            min_samples_leaf: 20,
            lambda: 1.0,
            min_gain: 0.0,
            max_bins: 255,
            validation_fraction: 0.15,
            early_stopping_rounds: 40,
            subsample: 0.8,
            seed: 42,
        }
    }
}

/// A tree node: a split on `feature` (rows with value ≤ `threshold` or
/// missing go left) or a leaf holding a margin contribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
    Leaf {
        value: f64,
    },
}

/// One regression tree; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    fn predict(&self, row: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            match &self.nodes[i] {
                Node::Leaf { value } => return *value,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    let v = row[*feature];
                    i = if v.is_nan() || v <= *threshold {
                        *left
                    } else {
                        *right
                    };
                }
            }
        }
    }
}

/// A trained binary classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gbt {
    /// Artifact format version.
    pub version: u32,
    pub feature_names: Vec<String>,
    /// Initial margin (log-odds of the training base rate).
    pub base_margin: f64,
    pub trees: Vec<Tree>,
    /// Total split gain per feature (a global importance).
    pub feature_gain: Vec<f64>,
    /// Decision threshold on the probability, chosen by the caller (0.5 by default).
    pub threshold: f64,
    /// Validation log-loss at the kept iteration (NaN without early stopping).
    pub validation_log_loss: f64,
}

/// A dense row-major feature matrix with 0/1 labels.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub feature_names: Vec<String>,
    /// Row-major values; NaN means missing.
    pub values: Vec<f64>,
    pub labels: Vec<bool>,
}

impl Dataset {
    pub fn n_rows(&self) -> usize {
        self.labels.len()
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    pub fn row(&self, i: usize) -> &[f64] {
        let f = self.n_features();
        &self.values[i * f..(i + 1) * f]
    }

    /// The rows at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut values = Vec::with_capacity(indices.len() * self.n_features());
        for &i in indices {
            values.extend_from_slice(self.row(i));
        }
        Dataset {
            feature_names: self.feature_names.clone(),
            values,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    fn check(&self) -> Result<()> {
        if self.values.len() != self.n_rows() * self.n_features() {
            return Err(Error::Invalid(
                "feature matrix shape does not match labels".into(),
            ));
        }
        if self.values.iter().any(|v| v.is_infinite()) {
            return Err(Error::Invalid(
                "feature values must be finite or NaN".into(),
            ));
        }
        Ok(())
    }
}

/// Stratified k-fold assignment: `folds[i]` is row i's fold, classes spread evenly.
pub fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut folds = vec![0; labels.len()];
    for class in [false, true] {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        idx.shuffle(&mut rng);
        for (j, i) in idx.into_iter().enumerate() {
            folds[i] = j % k;
        }
    }
    folds
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Per-feature cut points: value ≤ cuts[k] falls in bin ≤ k.
fn bin_cuts(column: &[f64], max_bins: usize) -> Vec<f64> {
    let mut v: Vec<f64> = column.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    if v.len() <= 1 {
        return Vec::new();
    }
    if v.len() <= max_bins {
        return v.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    }
    // Quantiles over the sorted column (with repeats) so frequent values get their own bins.
    let mut all: Vec<f64> = column.iter().copied().filter(|x| !x.is_nan()).collect();
    all.sort_by(f64::total_cmp);
    let mut cuts = Vec::with_capacity(max_bins);
    for k in 1..max_bins {
        let i = k * all.len() / max_bins;
        let (lo, hi) = (all[i.saturating_sub(1)], all[i]);
        if lo < hi {
            let c = (lo + hi) / 2.0;
            if cuts.last().is_none_or(|&last| c > last) {
                cuts.push(c);
            }
        }
    }
    cuts
}

fn bin_of(cuts: &[f64], x: f64) -> u8 {
    if x.is_nan() {
        return 0;
    }
    cuts.partition_point(|&c| c < x) as u8
}

struct Binned {
    /// Column-major bins.
    bins: Vec<Vec<u8>>,
    cuts: Vec<Vec<f64>>,
}

impl Binned {
    fn new(data: &Dataset, max_bins: usize) -> Binned {
        let (n, f) = (data.n_rows(), data.n_features());
        let mut bins = Vec::with_capacity(f);
        let mut cuts = Vec::with_capacity(f);
        for j in 0..f {
            let column: Vec<f64> = (0..n).map(|i| data.values[i * f + j]).collect();
            let c = bin_cuts(&column, max_bins.clamp(2, 256));
            bins.push(column.iter().map(|&x| bin_of(&c, x)).collect());
            cuts.push(c);
        }
        Binned { bins, cuts }
    }
}

#[derive(Clone, Copy, Default)]
struct Bucket {
    g: f64,
    h: f64,
    n: u32,
}

struct Candidate {
    gain: f64,
    feature: usize,
    bin: usize,
}

struct Leaf {
    node: usize,
    rows: Vec<u32>,
    depth: usize,
    g: f64,
    h: f64,
    best: Option<Candidate>,
}

struct Grower<'a> {
    binned: &'a Binned,
    grad: &'a [f64],
    hess: &'a [f64],
    params: &'a GbtParams,
}

impl Grower<'_> {
    fn best_split(&self, rows: &[u32], g_total: f64, h_total: f64) -> Option<Candidate> {
        let p = self.params;
        let parent = g_total * g_total / (h_total + p.lambda);
        let mut best: Option<Candidate> = None;
        let mut hist = [Bucket::default(); 256];
        for (feature, column) in self.binned.bins.iter().enumerate() {
            let n_bins = self.binned.cuts[feature].len() + 1;
            if n_bins < 2 {
                continue;
            }
            hist[..n_bins].fill(Bucket::default());
            for &r in rows {
                let b = &mut hist[column[r as usize] as usize];
                b.g += self.grad[r as usize];
                b.h += self.hess[r as usize];
                b.n += 1;
            }
            let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0usize);
            for (bin, bucket) in hist[..n_bins - 1].iter().enumerate() {
                gl += bucket.g;
                hl += bucket.h;
                nl += bucket.n as usize;
                let nr = rows.len() - nl;
                let (gr, hr) = (g_total - gl, h_total - hl);
                if nl < p.min_samples_leaf || nr < p.min_samples_leaf {
                    continue;
                }
                if hl < p.min_child_weight || hr < p.min_child_weight {
                    continue;
                }
                let gain = gl * gl / (hl + p.lambda) + gr * gr / (hr + p.lambda) - parent;
                if gain > p.min_gain && best.as_ref().is_none_or(|b| gain > b.gain) {
                    best = Some(Candidate { gain, feature, bin });
                }
            }
        }
        best
    }

    fn leaf(&self, node: usize, rows: Vec<u32>, depth: usize) -> Leaf {
        let g: f64 = rows.iter().map(|&r| self.grad[r as usize]).sum();
        let h: f64 = rows.iter().map(|&r| self.hess[r as usize]).sum();
        let best = if depth < self.params.max_depth {
            self.best_split(&rows, g, h)
        } else {
            None
        };
        Leaf {
            node,
            rows,
            depth,
            g,
            h,
            best,
        }
    }

    /// Grows one tree; returns it and adds each split's gain to `gains`.
    fn grow(&self, rows: Vec<u32>, gains: &mut [f64]) -> Tree {
        let p = self.params;
        let mut nodes = vec![Node::Leaf { value: 0.0 }];
        let mut open = vec![self.leaf(0, rows, 0)];
        let mut leaves = 1;
        while leaves < p.max_leaves {
            let pick = open
                .iter()
                .enumerate()
                .filter_map(|(i, l)| l.best.as_ref().map(|b| (i, b.gain)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let Some((i, _)) = pick else { break };
            let leaf = open.swap_remove(i);
            let Candidate { gain, feature, bin } = leaf.best.expect("picked a splittable leaf");
            gains[feature] += gain;
            let column = &self.binned.bins[feature];
            let (left_rows, right_rows): (Vec<u32>, Vec<u32>) = leaf
                .rows
                .iter()
                .partition(|&&r| (column[r as usize] as usize) <= bin);
            let (left, right) = (nodes.len(), nodes.len() + 1);
            nodes.push(Node::Leaf { value: 0.0 });
            nodes.push(Node::Leaf { value: 0.0 });
            nodes[leaf.node] = Node::Split {
                feature,
                threshold: self.binned.cuts[feature][bin],
                left,
                right,
            };
            open.push(self.leaf(left, left_rows, leaf.depth + 1));
            open.push(self.leaf(right, right_rows, leaf.depth + 1));
            leaves += 1;
        }
        for l in open {
            nodes[l.node] = Node::Leaf {
                value: -p.learning_rate * l.g / (l.h + p.lambda),
            };
        }
        Tree { nodes }
    }
}

impl Gbt {
    /// Trains on `data`. With `validation_fraction > 0`, a stratified share
    /// of the rows is held out and boosting keeps the round with the lowest
    /// validation log-loss.
    pub fn train(data: &Dataset, params: &GbtParams) -> Result<Gbt> {
        data.check()?;
        let positives = data.labels.iter().filter(|&&y| y).count();
        if positives == 0 || positives == data.n_rows() {
            return Err(Error::InsufficientData(
                "training data needs both classes".into(),
            ));
        }
        if !(0.0..1.0).contains(&params.validation_fraction)
            || params.learning_rate <= 0.0
            || params.max_leaves < 2
            || !(0.0..=1.0).contains(&params.subsample)
            || params.subsample == 0.0
        {
            return Err(Error::Invalid(format!("bad GBT parameters {params:?}")));
        }
        let (fit_rows, valid_rows) = if params.validation_fraction > 0.0 {
            let k = (1.0 / params.validation_fraction).round().max(2.0) as usize;
            let folds = stratified_folds(&data.labels, k, params.seed);
            let fit: Vec<usize> = (0..data.n_rows()).filter(|&i| folds[i] != 0).collect();
            let valid: Vec<usize> = (0..data.n_rows()).filter(|&i| folds[i] == 0).collect();
            (fit, valid)
        } else {
            ((0..data.n_rows()).collect(), Vec::new())
        };
        let fit = data.subset(&fit_rows);
        let valid = data.subset(&valid_rows);
        let fit_pos = fit.labels.iter().filter(|&&y| y).count() as f64;
        let rate = (fit_pos / fit.n_rows() as f64).clamp(1e-6, 1.0 - 1e-6);
        let base_margin = (rate / (1.0 - rate)).ln();

        let binned = Binned::new(&fit, params.max_bins);
        let mut margin = vec![base_margin; fit.n_rows()];
        let mut valid_margin = vec![base_margin; valid.n_rows()];
        let mut grad = vec![0.0; fit.n_rows()];
        let mut hess = vec![0.0; fit.n_rows()];
        let mut gains = vec![0.0; fit.n_features()];
        let mut trees = Vec::new();
        let mut gains_at: Vec<Vec<f64>> = Vec::new();
        let (mut best_loss, mut best_round) = (f64::INFINITY, 0);
        let mut rng = StdRng::seed_from_u64(params.seed.wrapping_add(1));
        let all_rows: Vec<u32> = (0..fit.n_rows() as u32).collect();
        for round in 0..params.max_trees {
            for i in 0..fit.n_rows() {
                let p = sigmoid(margin[i]);
                grad[i] = p - f64::from(u8::from(fit.labels[i]));
                hess[i] = (p * (1.0 - p)).max(1e-12);
            }
            let rows = if params.subsample < 1.0 {
                let mut r = all_rows.clone();
                r.shuffle(&mut rng);
                r.truncate(((fit.n_rows() as f64) * params.subsample).ceil() as usize);
                r
            } else {
                all_rows.clone()
            };
            let grower = Grower {
                binned: &binned,
                grad: &grad,
                hess: &hess,
                params,
            };
            let tree = grower.grow(rows, &mut gains);
            for (i, m) in margin.iter_mut().enumerate() {
                *m += tree.predict(fit.row(i));
            }
            for (i, m) in valid_margin.iter_mut().enumerate() {
                *m += tree.predict(valid.row(i));
            }
            trees.push(tree);
            gains_at.push(gains.clone());
            if !valid_rows.is_empty() {
                let probs: Vec<f64> = valid_margin.iter().map(|&m| sigmoid(m)).collect();
                let loss = log_loss(&probs, &valid.labels);
                if loss < best_loss - 1e-9 {
                    best_loss = loss;
                    best_round = round;
                } else if round - best_round >= params.early_stopping_rounds {
                    break;
                }
            } else {
                best_round = round;
            }
        }
        trees.truncate(best_round + 1);
        let feature_gain = gains_at
            .get(best_round)
            .cloned()
            .unwrap_or_else(|| vec![0.0; fit.n_features()]);
        Ok(Gbt {
            version: GBT_FORMAT_VERSION,
            feature_names: data.feature_names.clone(),
            base_margin,
            trees,
            feature_gain,
            threshold: 0.5,
            validation_log_loss: if valid_rows.is_empty() {
                f64::NAN
            } else {
                best_loss
            },
        })
    }

    /// Raw margin (log-odds) of one row.
    pub fn margin(&self, row: &[f64]) -> f64 {
        self.base_margin + self.trees.iter().map(|t| t.predict(row)).sum::<f64>()
    }

    /// Probability of the positive class for one row (`row.len()` must equal
    /// the number of features).
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        sigmoid(self.margin(row))
    }

    /// Probabilities for every row of a dataset.
    pub fn predict_dataset(&self, data: &Dataset) -> Vec<f64> {
        (0..data.n_rows())
            .map(|i| self.predict_proba(data.row(i)))
            .collect()
    }

    /// The features that moved this row's score most: along the row's path
    /// in each tree, the change in the mean leaf value at each split is
    /// credited to the split's feature (Saabas-style attributions). Returns
    /// (feature name, margin contribution), largest absolute value first.
    pub fn explain(&self, row: &[f64], top: usize) -> Vec<(String, f64)> {
        let mut contrib = vec![0.0; self.feature_names.len()];
        for tree in &self.trees {
            let values = node_means(tree);
            let mut i = 0;
            while let Node::Split {
                feature,
                threshold,
                left,
                right,
            } = &tree.nodes[i]
            {
                let v = row[*feature];
                let next = if v.is_nan() || v <= *threshold {
                    *left
                } else {
                    *right
                };
                contrib[*feature] += values[next] - values[i];
                i = next;
            }
        }
        let mut out: Vec<(String, f64)> = self
            .feature_names
            .iter()
            .cloned()
            .zip(contrib)
            .filter(|(_, c)| *c != 0.0)
            .collect();
        out.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        out.truncate(top);
        out
    }

    /// Versioned JSON artifact.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model always serialises")
    }

    /// Loads an artifact written by this or an earlier format version.
    pub fn from_json(text: &str) -> Result<Gbt> {
        #[derive(Deserialize)]
        struct Probe {
            version: u32,
        }
        let probe: Probe = serde_json::from_str(text)
            .map_err(|e| Error::Artifact(format!("not a GBT artifact: {e}")))?;
        if probe.version == 0 || probe.version > GBT_FORMAT_VERSION {
            return Err(Error::Artifact(format!(
                "GBT artifact version {} is not supported (this build reads 1..={GBT_FORMAT_VERSION})",
                probe.version
            )));
        }
        let model: Gbt = serde_json::from_str(text)
            .map_err(|e| Error::Artifact(format!("corrupt GBT artifact: {e}")))?;
        model.validate()?;
        Ok(model)
    }

    fn validate(&self) -> Result<()> {
        let f = self.feature_names.len();
        for (t, tree) in self.trees.iter().enumerate() {
            for node in &tree.nodes {
                if let Node::Split {
                    feature,
                    left,
                    right,
                    ..
                } = node
                    && (*feature >= f || *left >= tree.nodes.len() || *right >= tree.nodes.len())
                {
                    return Err(Error::Artifact(format!(
                        "tree {t} has an out-of-range reference"
                    )));
                }
            }
            // Children always come after their parent, so a walk cannot loop.
            for (i, node) in tree.nodes.iter().enumerate() {
                if let Node::Split { left, right, .. } = node
                    && (*left <= i || *right <= i)
                {
                    return Err(Error::Artifact(format!("tree {t} is not a tree")));
                }
            }
            if tree.nodes.is_empty() {
                return Err(Error::Artifact(format!("tree {t} is empty")));
            }
        }
        Ok(())
    }
}

/// Mean leaf value under each node (unweighted), for path attributions.
fn node_means(tree: &Tree) -> Vec<f64> {
    let mut out = vec![0.0; tree.nodes.len()];
    for i in (0..tree.nodes.len()).rev() {
        out[i] = match &tree.nodes[i] {
            Node::Leaf { value } => *value,
            Node::Split { left, right, .. } => (out[*left] + out[*right]) / 2.0,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::auc;
    use rand::Rng;

    /// y depends on x0 > 0.5 XOR x1 > 0.5 (needs depth ≥ 2), x2 is noise.
    fn xor_data(n: usize, seed: u64) -> Dataset {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let (a, b, c): (f64, f64, f64) = (rng.r#gen(), rng.r#gen(), rng.r#gen());
            let y = (a > 0.5) ^ (b > 0.5);
            let y = if rng.r#gen::<f64>() < 0.05 { !y } else { y };
            values.extend([a, b, c]);
            labels.push(y);
        }
        Dataset {
            feature_names: vec!["a".into(), "b".into(), "noise".into()],
            values,
            labels,
        }
    }

    #[test]
    fn learns_an_interaction_a_linear_model_cannot() {
        let train = xor_data(3000, 1);
        let test = xor_data(1000, 2);
        let model = Gbt::train(
            &train,
            &GbtParams {
                max_trees: 200,
                ..GbtParams::default()
            },
        )
        .unwrap();
        let p = model.predict_dataset(&test);
        let a = auc(&p, &test.labels);
        assert!(a > 0.9, "auc {a}");
        assert!(
            model.feature_gain[2] < model.feature_gain[0] / 5.0,
            "{:?}",
            model.feature_gain
        );
    }

    #[test]
    fn early_stopping_keeps_fewer_trees_on_pure_noise() {
        let mut data = xor_data(2000, 3);
        let mut rng = StdRng::seed_from_u64(9);
        for y in data.labels.iter_mut() {
            *y = rng.r#gen::<bool>();
        }
        let model = Gbt::train(
            &data,
            &GbtParams {
                max_trees: 300,
                ..GbtParams::default()
            },
        )
        .unwrap();
        assert!(model.trees.len() < 100, "kept {} trees", model.trees.len());
    }

    #[test]
    fn artifacts_round_trip_and_bad_ones_are_refused() {
        let data = xor_data(500, 4);
        let model = Gbt::train(
            &data,
            &GbtParams {
                max_trees: 20,
                ..GbtParams::default()
            },
        )
        .unwrap();
        let json = model.to_json();
        assert!(json.contains("\"version\":1"));
        let back = Gbt::from_json(&json).unwrap();
        // Same trees; JSON float parsing may move a value by an ulp.
        assert_eq!(back.trees.len(), model.trees.len());
        for i in 0..data.n_rows() {
            let (a, b) = (
                back.predict_proba(data.row(i)),
                model.predict_proba(data.row(i)),
            );
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        let future = json.replacen("\"version\":1", "\"version\":99", 1);
        assert!(matches!(Gbt::from_json(&future), Err(Error::Artifact(_))));
        assert!(matches!(
            Gbt::from_json("{\"version\":1}"),
            Err(Error::Artifact(_))
        ));
        let looping = r#"{"version":1,"feature_names":["a"],"base_margin":0,"feature_gain":[0],"threshold":0.5,"validation_log_loss":0,
            "trees":[{"nodes":[{"kind":"split","feature":0,"threshold":1,"left":0,"right":0}]}]}"#;
        assert!(matches!(Gbt::from_json(looping), Err(Error::Artifact(_))));
    }

    #[test]
    fn one_class_training_data_is_refused() {
        let mut data = xor_data(100, 5);
        data.labels.iter_mut().for_each(|y| *y = true);
        assert!(matches!(
            Gbt::train(&data, &GbtParams::default()),
            Err(Error::InsufficientData(_))
        ));
    }

    #[test]
    fn missing_values_go_left_consistently() {
        let data = xor_data(1000, 6);
        let model = Gbt::train(
            &data,
            &GbtParams {
                max_trees: 30,
                ..GbtParams::default()
            },
        )
        .unwrap();
        let p = model.predict_proba(&[f64::NAN, 0.9, 0.5]);
        assert_eq!(p, model.predict_proba(&[-1.0, 0.9, 0.5]));
    }

    #[test]
    fn explanations_name_the_informative_features() {
        let data = xor_data(2000, 7);
        let model = Gbt::train(&data, &GbtParams::default()).unwrap();
        let reasons = model.explain(&[0.9, 0.1, 0.5], 2);
        let names: Vec<&str> = reasons.iter().map(|r| r.0.as_str()).collect();
        assert!(names.contains(&"a") && names.contains(&"b"), "{reasons:?}");
    }
}
