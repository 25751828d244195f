//! SASRec-style self-attentive next-item model (Kang & McAuley, 2018),
//! trained on CPU with burn's pure-Rust Flex backend (cargo feature
//! `sasrec`).
//!
//! - Input: the session's last `max_len` known items; each position is the
//!   item's embedding × √dim plus a learned position embedding (position
//!   counted from the session start).
//! - `layers` pre-norm Transformer blocks: layer norm → causal multi-head
//!   self-attention → dropout → residual, layer norm → ReLU feed-forward
//!   (width `dim`) → dropout → residual; a final layer norm.
//! - Output: the last position's state dotted with the item embeddings
//!   (shared between input and output).
//! - Training: every position of a session predicts the item after it
//!   (causal attention keeps it from seeing the answer). The loss is a
//!   sampled softmax: the true next item against `negatives` items drawn
//!   uniformly per batch (shared by its positions; a drawn item equal to
//!   a position's target is masked out for that position). Adam, learning
//!   rate decayed linearly to a tenth over the run. Sessions are batched
//!   by length (right-padded: with causal attention, padding after the
//!   last real click never reaches it).
//! - Serving does not touch burn: the weights are copied into plain
//!   vectors and the forward pass is ordinary Rust (so the trained model is
//!   `Send + Sync` and cheap per query). A test checks it against burn's.
//!
//! The artifact is JSON with a `format_version`; another version is refused.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use burn::module::Param;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{log_softmax, relu, softmax};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Artifact format written by [`SasRec::to_json`]; loading refuses any other.
pub const FORMAT_VERSION: u32 = 1;

const LN_EPS: f32 = 1e-5;
const MASKED: f32 = -1e9;

/// Model and training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SasRecConfig {
    /// Embedding and hidden width.
    pub dim: usize,
    /// Self-attention blocks.
    pub layers: usize,
    /// Attention heads (must divide `dim`).
    pub heads: usize,
    /// Longest input: a session's last `max_len` items are read.
    pub max_len: usize,
    /// Dropout on the embeddings, attention weights and block outputs.
    pub dropout: f64,
    /// Passes over the training sessions.
    pub epochs: usize,
    /// Sessions per batch.
    pub batch_size: usize,
    /// Adam's initial learning rate (decays linearly to a tenth).
    pub lr: f64,
    /// Uniformly drawn negative items per batch (sampled softmax).
    pub negatives: usize,
    /// Seeds initialisation, shuffling, negatives and dropout.
    pub seed: u64,
    /// Train on the most recent `recent_sessions` sessions only (0 = all).
    pub recent_sessions: usize,
    /// Stop after this many seconds of training (checked between batches;
    /// makes the result depend on the machine's speed).
    pub max_seconds: Option<f64>,
}

impl Default for SasRecConfig {
    fn default() -> Self {
        Self {
            dim: 64,
            layers: 2,
            heads: 1,
            max_len: 20,
            dropout: 0.2,
            epochs: 5,
            batch_size: 256,
            lr: 2e-3,
            negatives: 1024,
            seed: 7,
            recent_sessions: 0,
            max_seconds: None,
        }
    }
}

impl SasRecConfig {
    /// Refuses settings the model cannot be built or trained with.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("dim", self.dim),
            ("layers", self.layers),
            ("heads", self.heads),
            ("max_len", self.max_len),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("negatives", self.negatives),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(Error::Invalid(format!("sasrec {name} must be positive")));
            }
        }
        if !self.dim.is_multiple_of(self.heads) {
            return Err(Error::Invalid(format!(
                "sasrec heads ({}) must divide dim ({})",
                self.heads, self.dim
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Invalid("sasrec dropout must be in [0, 1)".into()));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::Invalid("sasrec lr must be positive".into()));
        }
        if let Some(s) = self.max_seconds
            && !(s.is_finite() && s > 0.0)
        {
            return Err(Error::Invalid("sasrec max_seconds must be positive".into()));
        }
        Ok(())
    }
}

/// What training did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub sessions: usize,
    /// (prefix, next item) pairs per epoch.
    pub examples_per_epoch: usize,
    /// Epochs started (the last may be partial when `max_seconds` stopped it).
    pub epochs_run: usize,
    pub batches: usize,
    pub seconds: f64,
    /// Mean sampled-softmax loss of each epoch.
    pub epoch_loss: Vec<f64>,
    pub stopped_by_time: bool,
}

/// One block's weights, matrices row-major `[in, out]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BlockWeights {
    ln1_g: Vec<f32>,
    ln1_b: Vec<f32>,
    wq: Vec<f32>,
    bq: Vec<f32>,
    wk: Vec<f32>,
    bk: Vec<f32>,
    wv: Vec<f32>,
    bv: Vec<f32>,
    wo: Vec<f32>,
    bo: Vec<f32>,
    ln2_g: Vec<f32>,
    ln2_b: Vec<f32>,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

/// All weights. Row 0 of `items` is padding; row `i` is model item `i`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Weights {
    items: Vec<f32>,
    positions: Vec<f32>,
    blocks: Vec<BlockWeights>,
    norm_g: Vec<f32>,
    norm_b: Vec<f32>,
}

impl Weights {
    fn init(n_items: usize, c: &SasRecConfig, rng: &mut StdRng) -> Weights {
        let d = c.dim;
        let normal = |rng: &mut StdRng, n: usize, std: f32| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    // Box–Muller.
                    let u1: f32 = rng.gen_range(f32::EPSILON..1.0);
                    let u2: f32 = rng.r#gen();
                    std * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
                })
                .collect()
        };
        let uniform = |rng: &mut StdRng, n: usize, fan_in: usize| -> Vec<f32> {
            let k = 1.0 / (fan_in as f32).sqrt();
            (0..n).map(|_| rng.gen_range(-k..k)).collect()
        };
        let emb_std = 1.0 / (d as f32).sqrt();
        let mut items = normal(rng, (n_items + 1) * d, emb_std);
        items[..d].fill(0.0);
        let positions = normal(rng, c.max_len * d, emb_std);
        let blocks = (0..c.layers)
            .map(|_| BlockWeights {
                ln1_g: vec![1.0; d],
                ln1_b: vec![0.0; d],
                wq: uniform(rng, d * d, d),
                bq: vec![0.0; d],
                wk: uniform(rng, d * d, d),
                bk: vec![0.0; d],
                wv: uniform(rng, d * d, d),
                bv: vec![0.0; d],
                wo: uniform(rng, d * d, d),
                bo: vec![0.0; d],
                ln2_g: vec![1.0; d],
                ln2_b: vec![0.0; d],
                w1: uniform(rng, d * d, d),
                b1: vec![0.0; d],
                w2: uniform(rng, d * d, d),
                b2: vec![0.0; d],
            })
            .collect();
        Weights {
            items,
            positions,
            blocks,
            norm_g: vec![1.0; d],
            norm_b: vec![0.0; d],
        }
    }

    fn check(&self, n_items: usize, c: &SasRecConfig) -> Result<()> {
        let d = c.dim;
        let bad = |what: &str| {
            Err(Error::Artifact(format!(
                "sasrec weights: {what} has the wrong size"
            )))
        };
        if self.items.len() != (n_items + 1) * d {
            return bad("items");
        }
        if self.positions.len() != c.max_len * d {
            return bad("positions");
        }
        if self.norm_g.len() != d || self.norm_b.len() != d {
            return bad("final norm");
        }
        if self.blocks.len() != c.layers {
            return bad("blocks");
        }
        for b in &self.blocks {
            let vectors = [
                &b.ln1_g, &b.ln1_b, &b.bq, &b.bk, &b.bv, &b.bo, &b.ln2_g, &b.ln2_b, &b.b1, &b.b2,
            ];
            let matrices = [&b.wq, &b.wk, &b.wv, &b.wo, &b.w1, &b.w2];
            if vectors.iter().any(|v| v.len() != d) || matrices.iter().any(|m| m.len() != d * d) {
                return bad("a block");
            }
        }
        let finite = self
            .items
            .iter()
            .chain(&self.positions)
            .all(|x| x.is_finite());
        if !finite {
            return Err(Error::Artifact("sasrec weights are not finite".into()));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Training network (burn).

#[derive(Module, Debug)]
struct Block {
    ln1_g: Param<Tensor<1>>,
    ln1_b: Param<Tensor<1>>,
    wq: Param<Tensor<2>>,
    bq: Param<Tensor<1>>,
    wk: Param<Tensor<2>>,
    bk: Param<Tensor<1>>,
    wv: Param<Tensor<2>>,
    bv: Param<Tensor<1>>,
    wo: Param<Tensor<2>>,
    bo: Param<Tensor<1>>,
    ln2_g: Param<Tensor<1>>,
    ln2_b: Param<Tensor<1>>,
    w1: Param<Tensor<2>>,
    b1: Param<Tensor<1>>,
    w2: Param<Tensor<2>>,
    b2: Param<Tensor<1>>,
}

#[derive(Module, Debug)]
struct Net {
    items: Param<Tensor<2>>,
    positions: Param<Tensor<2>>,
    blocks: Vec<Block>,
    norm_g: Param<Tensor<1>>,
    norm_b: Param<Tensor<1>>,
}

fn param1(v: &[f32], device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::from_data(
        TensorData::new(v.to_vec(), [v.len()]),
        device,
    ))
}

fn param2(v: &[f32], rows: usize, cols: usize, device: &Device) -> Param<Tensor<2>> {
    Param::from_tensor(Tensor::from_data(
        TensorData::new(v.to_vec(), [rows, cols]),
        device,
    ))
}

fn values<const D: usize>(p: &Param<Tensor<D>>) -> Vec<f32> {
    p.val()
        .into_data()
        .try_to_vec::<f32>()
        .expect("float parameters hold f32")
}

fn int_tensor(v: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// `[b, l, in] × [in, out] + [out]`.
fn linear(x: Tensor<3>, w: &Param<Tensor<2>>, b: &Param<Tensor<1>>) -> Tensor<3> {
    let [bs, l, d_in] = x.dims();
    let w = w.val();
    let [_, d_out] = w.dims();
    (x.reshape([bs * l, d_in]).matmul(w) + b.val().unsqueeze::<2>()).reshape([bs, l, d_out])
}

fn layer_norm(x: Tensor<3>, g: &Param<Tensor<1>>, b: &Param<Tensor<1>>) -> Tensor<3> {
    let mean = x.clone().mean_dim(2);
    let centred = x - mean;
    let var = centred.clone().powi_scalar(2).mean_dim(2);
    centred / (var + LN_EPS).sqrt() * g.val().unsqueeze::<3>() + b.val().unsqueeze::<3>()
}

struct Forward<'a> {
    config: &'a SasRecConfig,
    /// Dropout on (training only).
    train: bool,
}

impl Forward<'_> {
    fn dropout<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let p = self.config.dropout;
        if !self.train || p == 0.0 {
            return x;
        }
        let keep = x.random_like(Distribution::Bernoulli(1.0 - p));
        x * keep * (1.0 / (1.0 - p))
    }

    /// Hidden states `[b, l, dim]` of right-padded item indexes `[b, l]`.
    fn hidden(&self, net: &Net, input: Tensor<2, Int>) -> Tensor<3> {
        let c = self.config;
        let d = c.dim;
        let [bs, l] = input.dims();
        let device = input.device();
        let emb = net
            .items
            .val()
            .select(0, input.reshape([bs * l]))
            .reshape([bs, l, d]);
        let pos = net.positions.val().narrow(0, 0, l).unsqueeze::<3>();
        let mut x = self.dropout(emb * (d as f32).sqrt() + pos);
        let mask: Vec<f32> = (0..l * l)
            .map(|ij| if ij % l > ij / l { MASKED } else { 0.0 })
            .collect();
        let mask = Tensor::<2>::from_data(TensorData::new(mask, [l, l]), &device).unsqueeze::<4>();
        let h = c.heads;
        let dh = d / h;
        let scale = 1.0 / (dh as f32).sqrt();
        for b in &net.blocks {
            let y = layer_norm(x.clone(), &b.ln1_g, &b.ln1_b);
            let heads = |t: Tensor<3>| t.reshape([bs, l, h, dh]).swap_dims(1, 2);
            let q = heads(linear(y.clone(), &b.wq, &b.bq));
            let k = heads(linear(y.clone(), &b.wk, &b.bk));
            let v = heads(linear(y, &b.wv, &b.bv));
            let scores = q.matmul(k.swap_dims(2, 3)) * scale + mask.clone();
            let att = self.dropout(softmax(scores, 3));
            let out = att.matmul(v).swap_dims(1, 2).reshape([bs, l, d]);
            x = x + self.dropout(linear(out, &b.wo, &b.bo));
            let y = layer_norm(x.clone(), &b.ln2_g, &b.ln2_b);
            let f = linear(relu(linear(y, &b.w1, &b.b1)), &b.w2, &b.b2);
            x = x + self.dropout(f);
        }
        layer_norm(x, &net.norm_g, &net.norm_b)
    }
}

impl Net {
    fn new(w: &Weights, c: &SasRecConfig, device: &Device) -> Net {
        let d = c.dim;
        let blocks = w
            .blocks
            .iter()
            .map(|b| Block {
                ln1_g: param1(&b.ln1_g, device),
                ln1_b: param1(&b.ln1_b, device),
                wq: param2(&b.wq, d, d, device),
                bq: param1(&b.bq, device),
                wk: param2(&b.wk, d, d, device),
                bk: param1(&b.bk, device),
                wv: param2(&b.wv, d, d, device),
                bv: param1(&b.bv, device),
                wo: param2(&b.wo, d, d, device),
                bo: param1(&b.bo, device),
                ln2_g: param1(&b.ln2_g, device),
                ln2_b: param1(&b.ln2_b, device),
                w1: param2(&b.w1, d, d, device),
                b1: param1(&b.b1, device),
                w2: param2(&b.w2, d, d, device),
                b2: param1(&b.b2, device),
            })
            .collect();
        Net {
            items: param2(&w.items, w.items.len() / d, d, device),
            positions: param2(&w.positions, c.max_len, d, device),
            blocks,
            norm_g: param1(&w.norm_g, device),
            norm_b: param1(&w.norm_b, device),
        }
    }

    fn weights(&self) -> Weights {
        Weights {
            items: values(&self.items),
            positions: values(&self.positions),
            blocks: self
                .blocks
                .iter()
                .map(|b| BlockWeights {
                    ln1_g: values(&b.ln1_g),
                    ln1_b: values(&b.ln1_b),
                    wq: values(&b.wq),
                    bq: values(&b.bq),
                    wk: values(&b.wk),
                    bk: values(&b.bk),
                    wv: values(&b.wv),
                    bv: values(&b.bv),
                    wo: values(&b.wo),
                    bo: values(&b.bo),
                    ln2_g: values(&b.ln2_g),
                    ln2_b: values(&b.ln2_b),
                    w1: values(&b.w1),
                    b1: values(&b.b1),
                    w2: values(&b.w2),
                    b2: values(&b.b2),
                })
                .collect(),
            norm_g: values(&self.norm_g),
            norm_b: values(&self.norm_b),
        }
    }
}

// ---------------------------------------------------------------------------
// Plain-Rust forward pass (serving).

/// `x [rows, d_in] × w [d_in, d_out] + b`.
fn matvec_rows(x: &[f32], rows: usize, w: &[f32], b: &[f32]) -> Vec<f32> {
    let d_out = b.len();
    let d_in = w.len() / d_out;
    let mut out = Vec::with_capacity(rows * d_out);
    for r in 0..rows {
        let mut acc = b.to_vec();
        for (i, &xi) in x[r * d_in..(r + 1) * d_in].iter().enumerate() {
            for (a, &wij) in acc.iter_mut().zip(&w[i * d_out..(i + 1) * d_out]) {
                *a += xi * wij;
            }
        }
        out.extend_from_slice(&acc);
    }
    out
}

fn layer_norm_rows(x: &[f32], g: &[f32], b: &[f32]) -> Vec<f32> {
    let d = g.len();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(d) {
        let mean = row.iter().sum::<f32>() / d as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
        let inv = 1.0 / (var + LN_EPS).sqrt();
        out.extend(
            row.iter()
                .zip(g)
                .zip(b)
                .map(|((v, g), b)| (v - mean) * inv * g + b),
        );
    }
    out
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight accumulators let the compiler vectorise the loop.
    let mut acc = [0.0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for ((a, x), y) in acc.iter_mut().zip(x).zip(y) {
            *a += x * y;
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// A trained model.
#[derive(Debug, Clone)]
pub struct SasRec {
    config: SasRecConfig,
    /// Model item `i` (1-based) is item id `ids[i - 1]`.
    ids: Vec<u32>,
    index: HashMap<u32, u32>,
    weights: Weights,
    report: TrainReport,
}

#[derive(Serialize, Deserialize)]
struct Artifact {
    format_version: u32,
    config: SasRecConfig,
    items: Vec<u32>,
    weights: Weights,
    report: TrainReport,
}

impl SasRec {
    /// Trains on chronologically ordered sessions (item ids, oldest click first).
    pub fn train(sessions: &[Vec<u32>], config: SasRecConfig) -> Result<SasRec> {
        Self::train_with_progress(sessions, config, &mut |_, _| {})
    }

    /// As [`SasRec::train`], calling `progress(epoch, mean loss)` after each epoch.
    pub fn train_with_progress(
        sessions: &[Vec<u32>],
        config: SasRecConfig,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<SasRec> {
        config.validate()?;
        let started = Instant::now();
        let from = if config.recent_sessions == 0 {
            0
        } else {
            sessions.len().saturating_sub(config.recent_sessions)
        };
        let sessions = &sessions[from..];
        let mut ids = Vec::new();
        let mut index: HashMap<u32, u32> = HashMap::new();
        for s in sessions {
            for &item in s {
                index.entry(item).or_insert_with(|| {
                    ids.push(item);
                    ids.len() as u32
                });
            }
        }
        // Each session's last max_len + 1 clicks: max_len inputs, each
        // predicting the click after it.
        let mut seqs: Vec<Vec<u32>> = sessions
            .iter()
            .filter(|s| s.len() >= 2)
            .map(|s| {
                let from = s.len().saturating_sub(config.max_len + 1);
                s[from..].iter().map(|i| index[i]).collect()
            })
            .collect();
        if seqs.is_empty() {
            return Err(Error::InsufficientData(
                "sasrec needs sessions of at least two clicks".into(),
            ));
        }
        let n_items = ids.len();
        let mut rng = StdRng::seed_from_u64(config.seed);
        let weights = Weights::init(n_items, &config, &mut rng);
        let device = Device::flex().autodiff();
        device.seed(config.seed);
        let mut net = Net::new(&weights, &config, &device);
        let mut optim = AdamConfig::new().init();
        let fwd = Forward {
            config: &config,
            train: true,
        };

        let examples: usize = seqs.iter().map(|s| s.len() - 1).sum();
        let batches_per_epoch = seqs.len().div_ceil(config.batch_size);
        let total_steps = (batches_per_epoch * config.epochs).max(1);
        let mut report = TrainReport {
            sessions: seqs.len(),
            examples_per_epoch: examples,
            ..TrainReport::default()
        };
        let mut step = 0usize;
        'epochs: for epoch in 0..config.epochs {
            report.epochs_run = epoch + 1;
            // Shuffle, then sort by length (stable): batches of similar
            // length, different company each epoch; batch order shuffled.
            seqs.shuffle(&mut rng);
            seqs.sort_by_key(|s| s.len());
            let mut order: Vec<usize> = (0..batches_per_epoch).collect();
            order.shuffle(&mut rng);
            let (mut loss_sum, mut loss_n) = (0.0f64, 0usize);
            for b in order {
                if let Some(limit) = config.max_seconds
                    && started.elapsed().as_secs_f64() > limit
                {
                    report.stopped_by_time = true;
                    if loss_n > 0 {
                        report.epoch_loss.push(loss_sum / loss_n as f64);
                    }
                    break 'epochs;
                }
                let batch =
                    &seqs[b * config.batch_size..((b + 1) * config.batch_size).min(seqs.len())];
                let lr = config.lr * (1.0 - 0.9 * step as f64 / total_steps as f64);
                let loss = batch_loss(&fwd, &net, batch, n_items, &mut rng, &device);
                if step.is_multiple_of(20) {
                    loss_sum += f64::from(loss.clone().into_scalar::<f32>());
                    loss_n += 1;
                }
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optim.step(lr, net, grads);
                step += 1;
                report.batches += 1;
            }
            let mean = if loss_n > 0 {
                loss_sum / loss_n as f64
            } else {
                f64::NAN
            };
            report.epoch_loss.push(mean);
            progress(epoch + 1, mean);
        }
        report.seconds = started.elapsed().as_secs_f64();
        let weights = net.weights();
        weights.check(n_items, &config)?;
        Ok(SasRec {
            config,
            ids,
            index,
            weights,
            report,
        })
    }

    pub fn config(&self) -> &SasRecConfig {
        &self.config
    }

    pub fn report(&self) -> &TrainReport {
        &self.report
    }

    /// Item ids the model knows, in model order.
    pub fn items(&self) -> &[u32] {
        &self.ids
    }

    /// The session's last `max_len` known items as model indexes.
    fn encode(&self, session: &[u32]) -> Vec<u32> {
        let s: Vec<u32> = session
            .iter()
            .filter_map(|i| self.index.get(i).copied())
            .collect();
        let from = s.len().saturating_sub(self.config.max_len);
        s[from..].to_vec()
    }

    /// Final hidden state of the last position (plain Rust).
    fn last_state(&self, seq: &[u32]) -> Vec<f32> {
        let c = &self.config;
        let w = &self.weights;
        let d = c.dim;
        let l = seq.len();
        let scale = (d as f32).sqrt();
        let mut x = Vec::with_capacity(l * d);
        for (t, &i) in seq.iter().enumerate() {
            let e = &w.items[i as usize * d..(i as usize + 1) * d];
            let p = &w.positions[t * d..(t + 1) * d];
            x.extend(e.iter().zip(p).map(|(e, p)| e * scale + p));
        }
        let h = c.heads;
        let dh = d / h;
        let att_scale = 1.0 / (dh as f32).sqrt();
        for b in &w.blocks {
            let y = layer_norm_rows(&x, &b.ln1_g, &b.ln1_b);
            let q = matvec_rows(&y, l, &b.wq, &b.bq);
            let k = matvec_rows(&y, l, &b.wk, &b.bk);
            let v = matvec_rows(&y, l, &b.wv, &b.bv);
            let mut out = vec![0.0f32; l * d];
            let mut p = vec![0.0f32; l];
            for head in 0..h {
                let cols = head * dh..(head + 1) * dh;
                for i in 0..l {
                    let qi = &q[i * d..][cols.clone()];
                    for (j, pj) in p[..=i].iter_mut().enumerate() {
                        *pj = dot(qi, &k[j * d..][cols.clone()]) * att_scale;
                    }
                    let max = p[..=i].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let mut sum = 0.0;
                    for pj in &mut p[..=i] {
                        *pj = (*pj - max).exp();
                        sum += *pj;
                    }
                    let oi = &mut out[i * d..][cols.clone()];
                    for (j, pj) in p[..=i].iter().enumerate() {
                        let a = pj / sum;
                        for (o, vj) in oi.iter_mut().zip(&v[j * d..][cols.clone()]) {
                            *o += a * vj;
                        }
                    }
                }
            }
            let o = matvec_rows(&out, l, &b.wo, &b.bo);
            for (xi, oi) in x.iter_mut().zip(&o) {
                *xi += oi;
            }
            let y = layer_norm_rows(&x, &b.ln2_g, &b.ln2_b);
            let mut f = matvec_rows(&y, l, &b.w1, &b.b1);
            for v in &mut f {
                *v = v.max(0.0);
            }
            let f = matvec_rows(&f, l, &b.w2, &b.b2);
            for (xi, fi) in x.iter_mut().zip(&f) {
                *xi += fi;
            }
        }
        layer_norm_rows(&x[(l - 1) * d..], &w.norm_g, &w.norm_b)
    }

    /// Scores (logits) of every known item as the session's next click,
    /// indexed like [`SasRec::items`]; `None` if no item of the session is known.
    pub fn scores(&self, session: &[u32]) -> Option<Vec<f32>> {
        let seq = self.encode(session);
        if seq.is_empty() {
            return None;
        }
        let h = self.last_state(&seq);
        let d = self.config.dim;
        Some(
            self.weights.items[d..]
                .chunks_exact(d)
                .map(|e| dot(&h, e))
                .collect(),
        )
    }

    /// The `k` most likely next items (ids), best first, each scored
    /// `exp(logit − best logit)` (1 for the best, softmax ratios below it).
    pub fn top(&self, session: &[u32], k: usize) -> Vec<(u32, f32)> {
        let Some(scores) = self.scores(session) else {
            return Vec::new();
        };
        let mut v: Vec<(u32, f32)> = scores
            .into_iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s))
            .collect();
        let k = k.min(v.len());
        if k == 0 {
            return Vec::new();
        }
        let cmp = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if v.len() > k {
            v.select_nth_unstable_by(k - 1, cmp);
            v.truncate(k);
        }
        v.sort_by(cmp);
        let best = v[0].1;
        v.into_iter()
            .map(|(i, s)| (self.ids[i as usize], (s - best).exp()))
            .collect()
    }

    /// The versioned JSON artifact.
    pub fn to_json(&self) -> String {
        let a = Artifact {
            format_version: FORMAT_VERSION,
            config: self.config.clone(),
            items: self.ids.clone(),
            weights: self.weights.clone(),
            report: self.report.clone(),
        };
        serde_json::to_string(&a).expect("artifact serialises")
    }

    /// Loads an artifact written by [`SasRec::to_json`] (same format version only).
    pub fn from_json(text: &str) -> Result<SasRec> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::Artifact(e.to_string()))?;
        let version = value.get("format_version").and_then(|v| v.as_u64());
        if version != Some(u64::from(FORMAT_VERSION)) {
            let found = version.map_or("none".to_string(), |v| v.to_string());
            return Err(Error::Artifact(format!(
                "sasrec artifact format version {found} is not supported (this build reads version {FORMAT_VERSION}); retrain the model"
            )));
        }
        let a: Artifact =
            serde_json::from_value(value).map_err(|e| Error::Artifact(e.to_string()))?;
        a.config
            .validate()
            .map_err(|e| Error::Artifact(e.to_string()))?;
        a.weights.check(a.items.len(), &a.config)?;
        let index = a
            .items
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i as u32 + 1))
            .collect::<HashMap<_, _>>();
        if index.len() != a.items.len() {
            return Err(Error::Artifact("sasrec artifact repeats an item id".into()));
        }
        Ok(SasRec {
            config: a.config,
            ids: a.items,
            index,
            weights: a.weights,
            report: a.report,
        })
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json()).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn load(path: &Path) -> Result<SasRec> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        SasRec::from_json(&text)
    }
}

/// Sampled-softmax loss of one batch of model-index sequences (each ≥ 2 long).
fn batch_loss(
    fwd: &Forward<'_>,
    net: &Net,
    batch: &[Vec<u32>],
    n_items: usize,
    rng: &mut StdRng,
    device: &Device,
) -> Tensor<1> {
    let bs = batch.len();
    let l = batch.iter().map(|s| s.len() - 1).max().unwrap_or(1);
    let mut input = vec![0i64; bs * l];
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    for (b, s) in batch.iter().enumerate() {
        for t in 0..s.len() - 1 {
            input[b * l + t] = i64::from(s[t]);
            rows.push((b * l + t) as i64);
            targets.push(s[t + 1]);
        }
    }
    let negatives: Vec<u32> = (0..fwd.config.negatives)
        .map(|_| rng.gen_range(1..=n_items as u32))
        .collect();
    let n = negatives.len();
    let p = rows.len();
    let mut hits = vec![false; p * n];
    for (r, &t) in targets.iter().enumerate() {
        for (j, &neg) in negatives.iter().enumerate() {
            if neg == t {
                hits[r * n + j] = true;
            }
        }
    }
    let input = int_tensor(input, device).reshape([bs, l]);
    let hidden = fwd.hidden(net, input).reshape([bs * l, fwd.config.dim]);
    let h = hidden.select(0, int_tensor(rows, device));
    let items = net.items.val();
    let pos = items.clone().select(
        0,
        int_tensor(targets.iter().map(|&t| i64::from(t)).collect(), device),
    );
    let pos_logit = (h.clone() * pos).sum_dim(1);
    let neg = items.select(
        0,
        int_tensor(negatives.iter().map(|&t| i64::from(t)).collect(), device),
    );
    let hits = Tensor::<2, Bool>::from_data(TensorData::new(hits, [p, n]), device);
    let neg_logits = h.matmul(neg.transpose()).mask_fill(hits, MASKED);
    let logits = Tensor::cat(vec![pos_logit, neg_logits], 1);
    log_softmax(logits, 1).narrow(1, 0, 1).mean().neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SasRecConfig {
        SasRecConfig {
            dim: 16,
            layers: 1,
            heads: 2,
            max_len: 8,
            dropout: 0.1,
            epochs: 6,
            batch_size: 32,
            lr: 5e-3,
            negatives: 16,
            seed: 3,
            recent_sessions: 0,
            max_seconds: None,
        }
    }

    /// Sessions walking a ring of 40 items: after item i comes i + 1 (mod
    /// 40, ids 1..=40), from random starts and of random lengths. Item 1 is
    /// made by far the most popular by extra one-click-pair sessions.
    fn ring(n: usize, seed: u64) -> Vec<Vec<u32>> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out = Vec::new();
        for _ in 0..n {
            let start = rng.gen_range(0..40u32);
            let len = rng.gen_range(2..7);
            out.push((0..len).map(|k| (start + k) % 40 + 1).collect());
        }
        for _ in 0..n / 4 {
            out.push(vec![1, 1]);
        }
        out
    }

    #[test]
    fn learns_a_deterministic_successor_far_above_popularity() {
        let sessions = ring(1200, 1);
        let model = SasRec::train(&sessions, small()).unwrap();
        let test = ring(200, 99);
        let mut hits = 0;
        let mut cases = 0;
        for s in test.iter().filter(|s| s[0] != s[1]) {
            for end in 1..s.len() {
                cases += 1;
                let top = model.top(&s[..end], 1);
                if top[0].0 == s[end] {
                    hits += 1;
                }
            }
        }
        let acc = f64::from(hits) / f64::from(cases);
        // Popularity always says item 1: right about 1 time in 40.
        assert!(acc > 0.9, "top-1 accuracy {acc} over {cases} cases");
        let r = model.report();
        assert_eq!(r.epochs_run, 6);
        assert!(
            r.epoch_loss.last() < r.epoch_loss.first(),
            "{:?}",
            r.epoch_loss
        );
    }

    #[test]
    fn the_plain_forward_pass_matches_burn() {
        let sessions = ring(100, 2);
        let config = SasRecConfig {
            epochs: 1,
            ..small()
        };
        let model = SasRec::train(&sessions, config.clone()).unwrap();
        let device = Device::flex();
        let net = Net::new(&model.weights, &config, &device);
        let seq = model.encode(&[5, 6, 7, 8, 9]);
        let input = int_tensor(seq.iter().map(|&i| i64::from(i)).collect(), &device)
            .reshape([1, seq.len()]);
        let fwd = Forward {
            config: &config,
            train: false,
        };
        let burn_state = fwd
            .hidden(&net, input)
            .narrow(1, seq.len() - 1, 1)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let plain = model.last_state(&seq);
        assert_eq!(burn_state.len(), plain.len());
        for (a, b) in burn_state.iter().zip(&plain) {
            assert!((a - b).abs() < 1e-3, "{burn_state:?} vs {plain:?}");
        }
    }

    #[test]
    fn artifact_round_trips_and_other_versions_are_refused() {
        let config = SasRecConfig {
            epochs: 1,
            ..small()
        };
        let model = SasRec::train(&ring(100, 3), config).unwrap();
        let json = model.to_json();
        let back = SasRec::from_json(&json).unwrap();
        assert_eq!(back.items(), model.items());
        assert_eq!(back.scores(&[3, 4]), model.scores(&[3, 4]));
        assert_eq!(back.top(&[3, 4], 5), model.top(&[3, 4], 5));

        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["format_version"] = serde_json::json!(FORMAT_VERSION + 1);
        let err = SasRec::from_json(&value.to_string()).unwrap_err();
        assert!(matches!(err, Error::Artifact(_)), "{err}");
        assert!(err.to_string().contains("version"), "{err}");

        value["format_version"] = serde_json::json!(FORMAT_VERSION);
        value["weights"]["positions"] = serde_json::json!([0.0]);
        assert!(SasRec::from_json(&value.to_string()).is_err());
        assert!(SasRec::from_json("not json").is_err());
    }

    #[test]
    fn bad_settings_and_data_are_refused() {
        let sessions = ring(20, 4);
        for bad in [
            SasRecConfig { dim: 0, ..small() },
            SasRecConfig {
                layers: 0,
                ..small()
            },
            SasRecConfig {
                heads: 3,
                ..small()
            },
            SasRecConfig {
                max_len: 0,
                ..small()
            },
            SasRecConfig {
                negatives: 0,
                ..small()
            },
            SasRecConfig {
                dropout: 1.0,
                ..small()
            },
            SasRecConfig {
                lr: -1.0,
                ..small()
            },
            SasRecConfig {
                epochs: 0,
                ..small()
            },
        ] {
            let err = SasRec::train(&sessions, bad.clone()).unwrap_err();
            assert!(matches!(err, Error::Invalid(_)), "{bad:?}: {err}");
        }
        let err = SasRec::train(&[vec![1], vec![2]], small()).unwrap_err();
        assert!(matches!(err, Error::InsufficientData(_)), "{err}");
    }

    #[test]
    fn unknown_sessions_get_no_scores() {
        let model = SasRec::train(
            &ring(50, 5),
            SasRecConfig {
                epochs: 1,
                ..small()
            },
        )
        .unwrap();
        assert!(model.scores(&[999]).is_none());
        assert!(model.top(&[999], 3).is_empty());
        // Unknown clicks are skipped, known ones still count.
        assert_eq!(model.top(&[999, 4], 3), model.top(&[4], 3));
    }
}
