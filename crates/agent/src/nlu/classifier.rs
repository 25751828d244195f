//! A trained intent classifier: multinomial logistic regression (softmax)
//! over hashed sparse text features, fitted by SGD with L2 regularisation.
//!
//! Text is NFKD-normalised, stripped of combining marks and lower-cased, then
//! split into words. Features are word unigrams, word bigrams and character
//! 3- to 5-grams of each word with `<`/`>` boundary markers, hashed with
//! FNV-1a into `2^buckets_log2` buckets (stable across runs and platforms),
//! weighted by sublinear term frequency and L2-normalised. Training is
//! deterministic for a given [`TrainConfig::seed`].
//!
//! After training only the weight rows of buckets that were ever seen are
//! kept, so a model costs memory in proportion to its vocabulary rather than
//! to the bucket count.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Version of the feature extraction; stored in saved models so a model is
/// never applied to features it was not trained on.
const FEATURES_VERSION: u32 = 1;
/// Character n-gram lengths, in characters including boundary markers.
const CHAR_NGRAMS: std::ops::RangeInclusive<usize> = 3..=5;
/// Marks a bucket that holds no trained row.
const NO_ROW: u32 = u32::MAX;

/// Why training, loading or evaluating a classifier failed.
#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    #[error("no labelled examples to train on")]
    Empty,
    #[error("need at least 2 distinct labels to train a classifier, found {0}")]
    TooFewLabels(usize),
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    #[error("bad CSV: {0}")]
    Csv(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Hyper-parameters for [`TextClassifier::train`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Initial SGD step size; decays linearly to zero over training.
    pub learning_rate: f32,
    /// L2 penalty per example step (weight decay factor `1 - lr * l2`).
    pub l2: f32,
    /// Feature hash space is `2^buckets_log2` buckets (1..=24).
    pub buckets_log2: u32,
    /// Seed for the example shuffle; the same seed gives the same model.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 12,
            learning_rate: 1.0,
            l2: 1e-6,
            buckets_log2: 18,
            seed: 0x5eed_cafe,
        }
    }
}

/// The classifier's best label for a text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub label: String,
    /// Softmax probability of `label`, in (0, 1].
    pub confidence: f32,
    /// The next (up to) two labels with their probabilities, most likely first.
    pub alternatives: Vec<(String, f32)>,
}

/// Accuracy and macro-averaged F1 on a labelled set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub n: usize,
}

/// A trained softmax text classifier. Serialise it with serde to save it.
#[derive(Clone, Debug)]
pub struct TextClassifier {
    labels: Vec<String>,
    config: TrainConfig,
    /// Bucket → row in `weights`, or [`NO_ROW`].
    row_of: Vec<u32>,
    /// Row-major: `rows × labels.len()`.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl TextClassifier {
    /// Trains on `(text, label)` pairs.
    #[tracing::instrument(skip_all, fields(examples = examples.len()))]
    pub fn train(
        examples: &[(String, String)],
        config: &TrainConfig,
    ) -> Result<Self, ClassifierError> {
        if examples.is_empty() {
            return Err(ClassifierError::Empty);
        }
        if !(1..=24).contains(&config.buckets_log2) {
            return Err(ClassifierError::InvalidConfig(format!(
                "buckets_log2 must be in 1..=24, got {}",
                config.buckets_log2
            )));
        }
        if !(config.learning_rate.is_finite() && config.learning_rate > 0.0) {
            return Err(ClassifierError::InvalidConfig(
                "learning_rate must be positive".into(),
            ));
        }
        if !(config.l2.is_finite() && config.l2 >= 0.0) {
            return Err(ClassifierError::InvalidConfig(
                "l2 must be non-negative".into(),
            ));
        }
        let labels: Vec<String> = examples
            .iter()
            .map(|(_, l)| l.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if labels.len() < 2 {
            return Err(ClassifierError::TooFewLabels(labels.len()));
        }
        let label_index: HashMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();

        let mask = (1u32 << config.buckets_log2) - 1;
        let mut featurizer = Featurizer::default();
        let mut data = SparseRows::default();
        let mut targets = Vec::with_capacity(examples.len());
        for (text, label) in examples {
            data.push(featurizer.features(text, mask));
            targets.push(label_index[label.as_str()]);
        }

        let n_labels = labels.len();
        let buckets = 1usize << config.buckets_log2;
        // True weights are `scale * w`, so the L2 decay of every weight is one
        // multiplication per step instead of a pass over the whole matrix.
        let mut w = vec![0f32; buckets * n_labels];
        let mut scale = 1f32;
        let mut bias = vec![0f32; n_labels];
        let mut grad = vec![0f32; n_labels];
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let mut rng = SplitMix64(config.seed);
        let total_steps = (config.epochs * examples.len()).max(1) as f32;
        let mut step = 0usize;
        for _ in 0..config.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let lr = config.learning_rate * (1.0 - step as f32 / total_steps).max(1e-4);
                step += 1;
                let x = data.get(i);
                scores_into(x, &w, n_labels, |j| j as usize, &mut grad);
                for (g, b) in grad.iter_mut().zip(&bias) {
                    *g = *g * scale + b;
                }
                softmax(&mut grad);
                grad[targets[i]] -= 1.0;

                scale *= 1.0 - lr * config.l2;
                let step_size = lr / scale;
                for &(j, v) in x {
                    let row = &mut w[j as usize * n_labels..][..n_labels];
                    let c = step_size * v;
                    for (wk, gk) in row.iter_mut().zip(&grad) {
                        *wk -= c * gk;
                    }
                }
                for (b, g) in bias.iter_mut().zip(&grad) {
                    *b -= lr * g;
                }
                if scale < 1e-3 {
                    w.iter_mut().for_each(|v| *v *= scale);
                    scale = 1.0;
                }
            }
        }

        let mut row_of = vec![NO_ROW; buckets];
        let mut weights = Vec::new();
        for (bucket, row) in w.chunks_exact(n_labels).enumerate() {
            if row.iter().any(|&v| v != 0.0) {
                row_of[bucket] = (weights.len() / n_labels) as u32;
                weights.extend(row.iter().map(|v| v * scale));
            }
        }
        tracing::debug!(
            labels = n_labels,
            rows = weights.len() / n_labels,
            "trained text classifier"
        );
        Ok(Self {
            labels,
            config: config.clone(),
            row_of,
            weights,
            bias,
        })
    }

    /// The most likely label for `text`, its probability and the runners-up.
    pub fn predict(&self, text: &str) -> Prediction {
        thread_local! {
            static SCRATCH: RefCell<(Featurizer, Vec<f32>)> = RefCell::default();
        }
        SCRATCH.with_borrow_mut(|(featurizer, probs)| {
            let mask = (self.row_of.len() - 1) as u32;
            let x = featurizer.features(text, mask);
            let n_labels = self.labels.len();
            probs.clear();
            probs.resize(n_labels, 0.0);
            let lookup = |j: u32| match self.row_of[j as usize] {
                NO_ROW => usize::MAX,
                r => r as usize,
            };
            scores_into(x, &self.weights, n_labels, lookup, probs);
            for (p, b) in probs.iter_mut().zip(&self.bias) {
                *p += b;
            }
            softmax(probs);

            // Top three by probability; ties go to the earlier label.
            let mut top: [Option<usize>; 3] = [None; 3];
            for k in 0..n_labels {
                let mut candidate = k;
                for slot in &mut top {
                    match *slot {
                        Some(t) if probs[t] >= probs[candidate] => {}
                        Some(t) => {
                            *slot = Some(candidate);
                            candidate = t;
                        }
                        None => {
                            *slot = Some(candidate);
                            break;
                        }
                    }
                }
            }
            let best = top[0].unwrap_or(0);
            Prediction {
                label: self.labels[best].clone(),
                confidence: probs[best],
                alternatives: top[1..]
                    .iter()
                    .flatten()
                    .map(|&k| (self.labels[k].clone(), probs[k]))
                    .collect(),
            }
        })
    }

    /// The labels this model can predict, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The configuration the model was trained with.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }
}

/// `out[k] = Σ_j x_j · w[row(j), k]`, skipping features whose row is `usize::MAX`.
fn scores_into(
    x: &[(u32, f32)],
    w: &[f32],
    n_labels: usize,
    row: impl Fn(u32) -> usize,
    out: &mut [f32],
) {
    out.fill(0.0);
    for &(j, v) in x {
        let r = row(j);
        if r == usize::MAX {
            continue;
        }
        for (o, wk) in out.iter_mut().zip(&w[r * n_labels..][..n_labels]) {
            *o += v * wk;
        }
    }
}

fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

/// Many sparse vectors stored back to back.
#[derive(Default)]
struct SparseRows {
    entries: Vec<(u32, f32)>,
    ends: Vec<usize>,
}

impl SparseRows {
    fn push(&mut self, row: &[(u32, f32)]) {
        self.entries.extend_from_slice(row);
        self.ends.push(self.entries.len());
    }

    fn get(&self, i: usize) -> &[(u32, f32)] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.entries[start..self.ends[i]]
    }
}

/// Feature extraction with reusable buffers.
#[derive(Default)]
struct Featurizer {
    text: String,
    words: Vec<(usize, usize)>,
    char_ends: Vec<usize>,
    hashes: Vec<u32>,
    features: Vec<(u32, f32)>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn bucket(h: u64, mask: u32) -> u32 {
    // Fold the high bits in: FNV's low bits alone mix poorly.
    ((h ^ (h >> 29) ^ (h >> 47)) as u32) & mask
}

impl Featurizer {
    /// The L2-normalised sparse feature vector of `raw`, sorted by bucket.
    fn features(&mut self, raw: &str, mask: u32) -> &[(u32, f32)] {
        self.normalise(raw);
        self.hashes.clear();
        let text = self.text.as_bytes();
        for (n, &(start, end)) in self.words.iter().enumerate() {
            let word = &text[start..end];
            let h = fnv(fnv(FNV_OFFSET, b"u"), word);
            self.hashes.push(bucket(h, mask));
            if let Some(&(next_start, next_end)) = self.words.get(n + 1) {
                let h = fnv(fnv(fnv(FNV_OFFSET, b"b"), word), b" ");
                self.hashes
                    .push(bucket(fnv(h, &text[next_start..next_end]), mask));
            }

            // Character n-grams over `<word>`: positions 0 and m+1 are the
            // markers, position p in 1..=m is the word's (p-1)-th char.
            self.char_ends.clear();
            self.char_ends.push(0);
            let word_str = &self.text[start..end];
            self.char_ends
                .extend(word_str.char_indices().skip(1).map(|(i, _)| i));
            self.char_ends.push(word.len());
            let m = self.char_ends.len() - 1;
            for n in CHAR_NGRAMS {
                for i in 0..(m + 3).saturating_sub(n) {
                    let mut h = fnv(FNV_OFFSET, b"c");
                    if i == 0 {
                        h = fnv(h, b"<");
                    }
                    let lo = i.max(1) - 1;
                    let hi = (i + n).min(m + 1) - 1;
                    h = fnv(h, &word[self.char_ends[lo]..self.char_ends[hi]]);
                    if i + n == m + 2 {
                        h = fnv(h, b">");
                    }
                    self.hashes.push(bucket(h, mask));
                }
            }
        }

        self.hashes.sort_unstable();
        self.features.clear();
        let mut norm = 0f32;
        for chunk in self.hashes.chunk_by(|a, b| a == b) {
            let v = 1.0 + (chunk.len() as f32).ln();
            norm += v * v;
            self.features.push((chunk[0], v));
        }
        if norm > 0.0 {
            let inv = norm.sqrt().recip();
            self.features.iter_mut().for_each(|(_, v)| *v *= inv);
        }
        &self.features
    }

    /// Fills `self.text` with the normalised text and `self.words` with the
    /// byte ranges of its words (runs of alphanumerics; apostrophes inside a
    /// word are dropped so "isn't" is one word).
    fn normalise(&mut self, raw: &str) {
        self.text.clear();
        self.words.clear();
        let mut word_start = None;
        for c in raw.nfkd().filter(|&c| !is_combining_mark(c)) {
            if c == '\'' || c == '\u{2019}' {
                continue;
            }
            for c in c.to_lowercase() {
                if c.is_alphanumeric() {
                    word_start.get_or_insert(self.text.len());
                    self.text.push(c);
                } else if let Some(start) = word_start.take() {
                    self.words.push((start, self.text.len()));
                }
            }
        }
        if let Some(start) = word_start {
            self.words.push((start, self.text.len()));
        }
    }
}

/// splitmix64: a small, fast, seedable PRNG (not cryptographic).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher–Yates shuffle.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// On-disk form: only the stored rows, keyed by bucket.
#[derive(Serialize)]
struct ModelRef<'a> {
    features_version: u32,
    labels: &'a [String],
    config: &'a TrainConfig,
    buckets_log2: u32,
    rows: Vec<u32>,
    weights: &'a [f32],
    bias: &'a [f32],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelOwned {
    features_version: u32,
    labels: Vec<String>,
    config: TrainConfig,
    buckets_log2: u32,
    rows: Vec<u32>,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl Serialize for TextClassifier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut rows = vec![0u32; self.weights.len() / self.labels.len()];
        for (bucket, &r) in self.row_of.iter().enumerate() {
            if r != NO_ROW {
                rows[r as usize] = bucket as u32;
            }
        }
        ModelRef {
            features_version: FEATURES_VERSION,
            labels: &self.labels,
            config: &self.config,
            buckets_log2: self.row_of.len().trailing_zeros(),
            rows,
            weights: &self.weights,
            bias: &self.bias,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TextClassifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let m = ModelOwned::deserialize(deserializer)?;
        if m.features_version != FEATURES_VERSION {
            return Err(D::Error::custom(format!(
                "model uses feature version {}, this build extracts version {FEATURES_VERSION}",
                m.features_version
            )));
        }
        let n_labels = m.labels.len();
        if n_labels < 2 || m.bias.len() != n_labels {
            return Err(D::Error::custom("model needs ≥ 2 labels and one bias each"));
        }
        if !(1..=24).contains(&m.buckets_log2) || m.weights.len() != m.rows.len() * n_labels {
            return Err(D::Error::custom("model weights do not match its shape"));
        }
        let mut row_of = vec![NO_ROW; 1 << m.buckets_log2];
        for (r, &bucket) in m.rows.iter().enumerate() {
            let slot = row_of
                .get_mut(bucket as usize)
                .filter(|slot| **slot == NO_ROW)
                .ok_or_else(|| D::Error::custom("model rows are out of range or repeated"))?;
            *slot = r as u32;
        }
        Ok(Self {
            labels: m.labels,
            config: m.config,
            row_of,
            weights: m.weights,
            bias: m.bias,
        })
    }
}

/// Accuracy and macro-F1 of `model` on `test`. Macro-F1 averages over the
/// labels present in `test`; a label never predicted scores precision 0.
pub fn evaluate(model: &TextClassifier, test: &[(String, String)]) -> Metrics {
    let predicted: Vec<String> = test.iter().map(|(t, _)| model.predict(t).label).collect();
    let gold: Vec<&str> = test.iter().map(|(_, l)| l.as_str()).collect();
    metrics(&gold, &predicted)
}

fn metrics(gold: &[&str], predicted: &[String]) -> Metrics {
    let n = gold.len();
    if n == 0 {
        return Metrics {
            accuracy: 0.0,
            macro_f1: 0.0,
            n: 0,
        };
    }
    // label → (true positives, predicted count, gold count)
    let mut counts: HashMap<&str, (usize, usize, usize)> = HashMap::new();
    let mut correct = 0;
    for (&g, p) in gold.iter().zip(predicted) {
        counts.entry(g).or_default().2 += 1;
        counts.entry(p.as_str()).or_default().1 += 1;
        if g == p {
            correct += 1;
            counts.entry(g).or_default().0 += 1;
        }
    }
    let mut f1_sum = 0.0;
    let mut n_gold_labels = 0;
    for &(tp, n_pred, n_gold) in counts.values() {
        if n_gold == 0 {
            continue;
        }
        n_gold_labels += 1;
        if tp > 0 {
            let precision = tp as f64 / n_pred as f64;
            let recall = tp as f64 / n_gold as f64;
            f1_sum += 2.0 * precision * recall / (precision + recall);
        }
    }
    Metrics {
        accuracy: correct as f64 / n as f64,
        macro_f1: f1_sum / n_gold_labels as f64,
        n,
    }
}

/// k-fold cross-validation: a seeded shuffle, then each label's examples are
/// dealt round-robin into `folds` folds. Returns the mean of the per-fold
/// metrics with `n` the total number of examples.
pub fn cross_validate(
    examples: &[(String, String)],
    folds: usize,
    config: &TrainConfig,
) -> Result<Metrics, ClassifierError> {
    if examples.is_empty() {
        return Err(ClassifierError::Empty);
    }
    if folds < 2 || folds > examples.len() {
        return Err(ClassifierError::InvalidConfig(format!(
            "folds must be between 2 and the number of examples ({}), got {folds}",
            examples.len()
        )));
    }
    let mut order: Vec<usize> = (0..examples.len()).collect();
    SplitMix64(config.seed ^ 0xc0ff_ee00_f01d_5eed).shuffle(&mut order);
    let mut by_label: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for i in order {
        let label = examples[i].1.as_str();
        let s = *slot.entry(label).or_insert_with(|| {
            by_label.push((label, Vec::new()));
            by_label.len() - 1
        });
        by_label[s].1.push(i);
    }
    by_label.sort_unstable_by_key(|(label, _)| *label);
    let mut fold_of = vec![0; examples.len()];
    for (k, &i) in by_label.iter().flat_map(|(_, ix)| ix).enumerate() {
        fold_of[i] = k % folds;
    }

    let (mut accuracy, mut macro_f1) = (0.0, 0.0);
    for fold in 0..folds {
        let (test, train): (Vec<_>, Vec<_>) = examples
            .iter()
            .zip(&fold_of)
            .partition(|&(_, &f)| f == fold);
        let train: Vec<(String, String)> = train.into_iter().map(|(e, _)| e.clone()).collect();
        let test: Vec<(String, String)> = test.into_iter().map(|(e, _)| e.clone()).collect();
        let model = TextClassifier::train(&train, config)?;
        let m = evaluate(&model, &test);
        accuracy += m.accuracy;
        macro_f1 += m.macro_f1;
    }
    Ok(Metrics {
        accuracy: accuracy / folds as f64,
        macro_f1: macro_f1 / folds as f64,
        n: examples.len(),
    })
}

/// Reads `(text, label)` pairs from a CSV file with a header row, skipping
/// rows whose text is blank.
pub fn load_labelled_csv(
    path: &Path,
    text_column: &str,
    label_column: &str,
) -> Result<Vec<(String, String)>, ClassifierError> {
    let csv_error = |e: csv::Error| {
        if e.is_io_error() {
            match e.into_kind() {
                csv::ErrorKind::Io(io) => ClassifierError::Io(io),
                other => ClassifierError::Csv(format!("{}: {other:?}", path.display())),
            }
        } else {
            ClassifierError::Csv(format!("{}: {e}", path.display()))
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(csv_error)?;
    let headers = reader.headers().map_err(csv_error)?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                ClassifierError::Csv(format!(
                    "{}: no column named {name:?} (columns: {})",
                    path.display(),
                    headers.iter().collect::<Vec<_>>().join(", ")
                ))
            })
    };
    let (text_ix, label_ix) = (column(text_column)?, column(label_column)?);
    let mut examples = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let text = record.get(text_ix).unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        let label = record.get(label_ix).unwrap_or("").trim();
        if label.is_empty() {
            let line = record.position().map_or(0, |p| p.line());
            return Err(ClassifierError::Csv(format!(
                "{} line {line}: empty {label_column:?}",
                path.display()
            )));
        }
        examples.push((text.to_owned(), label.to_owned()));
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intents() -> Vec<(String, String)> {
        let data: [(&str, &[&str]); 3] = [
            (
                "track_order",
                &[
                    "where is my order",
                    "track my package please",
                    "when will my parcel arrive",
                    "has my order shipped yet",
                    "what is the delivery status of my order",
                    "I want to know where my package is",
                    "my parcel still has not arrived",
                    "can you track my shipment",
                    "how long until my order is delivered",
                    "is my delivery on the way",
                    "tracking number for my order",
                    "when does my package get here",
                    "order status please",
                    "where's my stuff, it should have shipped",
                    "check the shipping status of my purchase",
                ],
            ),
            (
                "cancel_order",
                &[
                    "cancel my order",
                    "I want to cancel the purchase I made",
                    "please cancel order 1234",
                    "stop my order, I changed my mind",
                    "how do I cancel an order",
                    "I no longer want the items I ordered, cancel it",
                    "cancel the last purchase",
                    "can I call off my order",
                    "I need to cancel my subscription order",
                    "abort the order I placed yesterday",
                    "please don't send my order, cancel it",
                    "cancellation of my order",
                    "I'd like to cancel",
                    "undo my purchase before it ships",
                    "revoke my order please",
                ],
            ),
            (
                "refund",
                &[
                    "I want a refund",
                    "give me my money back",
                    "how do I get reimbursed",
                    "refund my payment please",
                    "the item was broken, I want my money returned",
                    "when will I receive my refund",
                    "request a refund for the damaged product",
                    "I was charged twice, refund me",
                    "can I get reimbursement for this",
                    "money back for the faulty item",
                    "refund status",
                    "return the money to my card",
                    "I'd like to be reimbursed for the purchase",
                    "process my refund",
                    "I expect a full refund",
                ],
            ),
        ];
        data.iter()
            .flat_map(|(label, texts)| texts.iter().map(|t| (t.to_string(), label.to_string())))
            .collect()
    }

    fn model() -> TextClassifier {
        TextClassifier::train(&intents(), &TrainConfig::default()).unwrap()
    }

    #[test]
    fn classifies_unseen_paraphrases() {
        let model = model();
        let cases = [
            ("Where is my parcel now?", "track_order"),
            ("has the package been shipped", "track_order"),
            ("Please CANCEL the order I placed", "cancel_order"),
            ("i changed my mind, cancel it", "cancel_order"),
            ("I want my money back", "refund"),
            ("Refund me for the broken item", "refund"),
        ];
        for (text, expected) in cases {
            assert_eq!(model.predict(text).label, expected, "{text}");
        }
        assert_eq!(model.labels(), ["cancel_order", "refund", "track_order"]);
    }

    #[test]
    fn normalises_case_and_accents() {
        let model = model();
        assert_eq!(
            model.predict("CÁNCEL MY ÓRDER").label,
            model.predict("cancel my order").label
        );
        let mut f = Featurizer::default();
        let a = f.features("Café ISN'T", 0xffff).to_vec();
        let b = f.features("cafe isnt", 0xffff).to_vec();
        assert_eq!(a, b);
        let norm: f32 = a.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
    }

    #[test]
    fn same_seed_gives_identical_predictions() {
        let (a, b) = (model(), model());
        assert_eq!(a.weights, b.weights);
        for text in ["where is my order", "refund please", "asdf qwerty", ""] {
            assert_eq!(a.predict(text), b.predict(text));
        }
    }

    #[test]
    fn confidence_is_a_probability_and_alternatives_are_sorted() {
        let model = model();
        for text in ["cancel it now", "money back", "", "zzz"] {
            let p = model.predict(text);
            assert!(p.confidence > 0.0 && p.confidence <= 1.0, "{p:?}");
            assert_eq!(p.alternatives.len(), 2);
            assert!(p.confidence >= p.alternatives[0].1);
            assert!(p.alternatives[0].1 >= p.alternatives[1].1);
            let total: f32 = p.confidence + p.alternatives.iter().map(|a| a.1).sum::<f32>();
            assert!((total - 1.0).abs() < 1e-4, "{p:?}");
            assert!(!p.alternatives.iter().any(|(l, _)| *l == p.label));
        }
    }

    #[test]
    fn serde_round_trip_keeps_predictions() {
        let model = model();
        let json = serde_json::to_string(&model).unwrap();
        let loaded: TextClassifier = serde_json::from_str(&json).unwrap();
        assert_eq!(loaded.labels(), model.labels());
        for text in ["where is my order", "cancel please", "refund", "hello"] {
            assert_eq!(loaded.predict(text), model.predict(text));
        }
    }

    #[test]
    fn evaluate_matches_hand_computed_metrics() {
        // gold:      a a b b c
        // predicted: a b b b a
        // a: P 1/2 R 1/2 F 1/2; b: P 2/3 R 1 F 4/5; c: never predicted, F 0.
        let gold = ["a", "a", "b", "b", "c"];
        let predicted: Vec<String> = ["a", "b", "b", "b", "a"].map(String::from).into();
        let m = metrics(&gold, &predicted);
        assert_eq!(m.n, 5);
        assert!((m.accuracy - 0.6).abs() < 1e-12);
        assert!((m.macro_f1 - (0.5 + 0.8) / 3.0).abs() < 1e-12);

        let model = model();
        let test = vec![
            ("cancel my order".to_string(), "cancel_order".to_string()),
            ("cancel my order".to_string(), "refund".to_string()),
        ];
        let m = evaluate(&model, &test);
        // cancel_order: P 1/2 R 1 F 2/3; refund: never predicted, F 0.
        assert_eq!(m.n, 2);
        assert!((m.accuracy - 0.5).abs() < 1e-12);
        assert!((m.macro_f1 - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn cross_validation_learns_the_synthetic_intents() {
        let m = cross_validate(&intents(), 5, &TrainConfig::default()).unwrap();
        assert_eq!(m.n, 45);
        assert!(m.accuracy > 0.8, "{m:?}");
        assert!(m.macro_f1 > 0.75, "{m:?}");
    }

    #[test]
    fn rejects_one_label_and_empty_data() {
        let one = vec![
            ("a".to_string(), "x".to_string()),
            ("b".to_string(), "x".to_string()),
        ];
        let config = TrainConfig::default();
        assert!(matches!(
            TextClassifier::train(&one, &config),
            Err(ClassifierError::TooFewLabels(1))
        ));
        assert!(matches!(
            TextClassifier::train(&[], &config),
            Err(ClassifierError::Empty)
        ));
        assert!(matches!(
            cross_validate(&intents(), 1, &config),
            Err(ClassifierError::InvalidConfig(_))
        ));
    }

    #[test]
    fn loads_csv_by_column_name() {
        let dir = std::env::temp_dir().join(format!("hc-classifier-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("train.csv");
        std::fs::write(
            &path,
            "id,text,category\n1,\"hello, there\",greet\n2,  ,greet\n3,bye,farewell\n",
        )
        .unwrap();
        let rows = load_labelled_csv(&path, "text", "category").unwrap();
        assert_eq!(
            rows,
            [
                ("hello, there".to_string(), "greet".to_string()),
                ("bye".to_string(), "farewell".to_string())
            ]
        );
        let err = load_labelled_csv(&path, "utterance", "category").unwrap_err();
        assert!(matches!(&err, ClassifierError::Csv(m) if m.contains("\"utterance\"")));
        let missing = load_labelled_csv(&dir.join("nope.csv"), "text", "category");
        assert!(matches!(missing, Err(ClassifierError::Io(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
