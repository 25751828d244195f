//! `hypercommerce eval clv|intent|churn|recs|segments`: offline evaluations
//! of the behavior engine's models on public dataset layouts, printed as
//! JSON on stdout.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use hc_behavior::churn::{self, ChurnConfig, ChurnModel, Transaction};
use hc_behavior::clv::{self, BgNbd, GammaGamma};
use hc_behavior::datasets;
use hc_behavior::dates::{format_day, parse_day};
use hc_behavior::intent::{self, IntentConfig, IntentModel};
use hc_behavior::metrics::{auc, brier};
use hc_behavior::recs::{
    self, BlendWeights, Components, RankAccumulator, RecConfig, Recommender, knn::KnnParams,
};
use hc_behavior::segments::{RfmPoint, Segmentation};
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct ClvArgs {
    /// Calibration purchases (customer_id, date YYYYMMDD, dollar_value).
    #[arg(long)]
    pub calibration: PathBuf,
    /// Holdout purchases in the same layout: prints predicted vs actual repeat purchases.
    #[arg(long)]
    pub holdout: Option<PathBuf>,
    /// Last day of the calibration period (default: the file's last date).
    #[arg(long)]
    pub calibration_end: Option<String>,
    /// Last day of the holdout period (default: the holdout file's last date).
    #[arg(long)]
    pub holdout_end: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct IntentArgs {
    /// Online Shoppers layout CSV with `Revenue`.
    #[arg(long)]
    pub train: PathBuf,
    /// Test CSV; without it, stratified k-fold cross-validation on `--train`.
    #[arg(long)]
    pub test: Option<PathBuf>,
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Write the trained model artifact (JSON) here (holdout mode).
    #[arg(long)]
    pub save_model: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ChurnArgs {
    /// Transactions in the UCI Online Retail layout (gzip allowed).
    #[arg(long)]
    pub history: PathBuf,
    /// Later transactions: a customer of the history absent here churned.
    #[arg(long, conflicts_with = "cutoff")]
    pub future: Option<PathBuf>,
    /// Instead of --future: split --history at this date (YYYY-MM-DD); rows
    /// before it are the history, rows from it on the future.
    #[arg(long)]
    pub cutoff: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct RecsArgs {
    /// Training sessions: one per line, item ids separated by spaces, oldest first.
    #[arg(long)]
    pub train: PathBuf,
    /// Test cases: header, then `prefix<TAB>target` lines.
    #[arg(long, conflicts_with = "split_validation")]
    pub test: Option<PathBuf>,
    /// Instead of --test: hold out the last N training sessions and evaluate
    /// on their prefixes (SR-GNN style), training on the rest.
    #[arg(long)]
    pub split_validation: Option<usize>,
    /// With --split-validation: also report each component and a grid of blends.
    #[arg(long)]
    pub tune: bool,
    /// Cut-off of the ranking metrics.
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// Which recommender to evaluate: `knn` (session-kNN + rules, the
    /// default), `sasrec` (the self-attentive model alone) or `blend` (kNN +
    /// rules + SASRec). The last two need a build with feature `sasrec`.
    #[arg(long, value_enum, default_value_t = RecModel::Knn)]
    pub model: RecModel,
    /// SASRec: passes over the training sessions.
    #[arg(long, default_value_t = 5)]
    pub sasrec_epochs: usize,
    /// SASRec: train on the most recent N training sessions only (0 = all).
    #[arg(long, default_value_t = 0)]
    pub sasrec_sessions: usize,
    /// SASRec: stop training after this many seconds (checked between batches).
    #[arg(long)]
    pub sasrec_max_seconds: Option<f64>,
    /// SASRec: embedding width.
    #[arg(long, default_value_t = 64)]
    pub sasrec_dim: usize,
    /// SASRec: self-attention blocks.
    #[arg(long, default_value_t = 2)]
    pub sasrec_layers: usize,
    /// SASRec: negatives drawn per batch for the sampled softmax.
    #[arg(long, default_value_t = 1024)]
    pub sasrec_negatives: usize,
    /// SASRec: initial learning rate.
    #[arg(long, default_value_t = 2e-3)]
    pub sasrec_lr: f64,
    /// SASRec: weight in the blend (default: the tuned default of `BlendWeights`).
    #[arg(long)]
    pub sasrec_weight: Option<f32>,
    /// SASRec: write the trained model artifact (JSON) here.
    #[arg(long)]
    pub save_sasrec: Option<PathBuf>,
    /// SASRec: load this artifact instead of training.
    #[arg(long, conflicts_with = "save_sasrec")]
    pub load_sasrec: Option<PathBuf>,
}

/// The recommender `eval recs` scores.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecModel {
    Knn,
    Sasrec,
    Blend,
}

#[derive(clap::Args, Debug)]
pub struct SegmentsArgs {
    /// Transactions in the UCI Online Retail layout (gzip allowed).
    #[arg(long)]
    pub history: PathBuf,
    /// Number of segments (default: chosen by silhouette among 2..=6).
    #[arg(long)]
    pub k: Option<usize>,
}

fn print(v: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub fn clv(args: &ClvArgs) -> Result<()> {
    let purchases = clv::load_purchases(&args.calibration)
        .with_context(|| format!("loading {}", args.calibration.display()))?;
    let end = match &args.calibration_end {
        Some(d) => parse_day(d)?,
        None => purchases.iter().map(|p| p.day).max().unwrap_or(0),
    };
    let started = Instant::now();
    let summaries = clv::summarize(&purchases, end, 7.0);
    let s: Vec<_> = summaries.iter().map(|x| x.1).collect();
    let bg = BgNbd::fit(&s).context("fitting BG/NBD")?;
    let gg = GammaGamma::fit(&s).ok();
    let fit_seconds = started.elapsed().as_secs_f64();
    let holdout = match &args.holdout {
        Some(path) => {
            let h =
                clv::load_purchases(path).with_context(|| format!("loading {}", path.display()))?;
            let hend = match &args.holdout_end {
                Some(d) => parse_day(d)?,
                None => h.iter().map(|p| p.day).max().unwrap_or(end),
            };
            if hend <= end {
                bail!("the holdout period must end after the calibration period");
            }
            let r = clv::holdout_report(&bg, &summaries, &h, end, hend, 7.0);
            json!({
                "holdout_end": format_day(hend),
                "weeks": r.holdout_periods,
                "predicted_purchases": r.predicted_total,
                "actual_purchases": r.actual_total,
                "total_error_pct": 100.0 * (r.predicted_total - r.actual_total) / r.actual_total.max(1.0),
                "mae_per_customer": r.mae,
                "rmse_per_customer": r.rmse,
                "correlation": r.correlation,
                "n": r.n,
            })
        }
        None => Value::Null,
    };
    print(&json!({
        "customers": summaries.len(),
        "calibration_end": format_day(end),
        "bg_nbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b,
                   "log_likelihood": bg.log_likelihood(&s)},
        "gamma_gamma": gg.map(|g| json!({"p": g.p, "q": g.q, "gamma": g.gamma})),
        "holdout": holdout,
        "fit_seconds": fit_seconds,
    }))
}

pub fn intent(args: &IntentArgs) -> Result<()> {
    let (sessions, labels) = intent::load_online_shoppers(&args.train)
        .with_context(|| format!("loading {}", args.train.display()))?;
    let train = intent::dataset(&sessions, &labels)?;
    let config = IntentConfig::default();
    let started = Instant::now();
    let report = match &args.test {
        Some(test_path) => {
            let (ts, tl) = intent::load_online_shoppers(test_path)
                .with_context(|| format!("loading {}", test_path.display()))?;
            let test = intent::dataset(&ts, &tl)?;
            let model = IntentModel::train(&train, &config).context("training")?;
            if let Some(path) = &args.save_model {
                std::fs::write(path, model.to_json())
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            let m = model.evaluate(&test);
            json!({
                "accuracy": m.accuracy, "precision": m.precision, "recall": m.recall,
                "f1": m.f1, "auc": m.auc, "n": m.n,
                "mode": "holdout",
                "threshold": model.model.threshold,
                "trees": model.model.trees.len(),
                "train_rows": train.n_rows(),
                "seconds": started.elapsed().as_secs_f64(),
            })
        }
        None => {
            let cv =
                intent::cross_validate(&train, args.folds, &config).context("cross-validating")?;
            let m = cv.pooled;
            json!({
                "accuracy": m.accuracy, "precision": m.precision, "recall": m.recall,
                "f1": m.f1, "auc": m.auc, "n": m.n,
                "mode": "cross_validation",
                "folds": cv.folds,
                "per_fold": {"accuracy_mean": cv.mean_accuracy, "accuracy_std": cv.std_accuracy,
                             "f1_mean": cv.mean_f1, "f1_std": cv.std_f1, "auc_mean": cv.mean_auc},
                "seconds": started.elapsed().as_secs_f64(),
            })
        }
    };
    print(&report)
}

pub fn churn(args: &ChurnArgs) -> Result<()> {
    let all = churn::load_online_retail(&args.history)
        .with_context(|| format!("loading {}", args.history.display()))?;
    let (history, future, as_of): (Vec<Transaction>, Vec<Transaction>, f64) =
        match (&args.future, &args.cutoff) {
            (Some(path), None) => {
                let future = churn::load_online_retail(path)
                    .with_context(|| format!("loading {}", path.display()))?;
                let as_of = all.iter().map(|t| t.at).fold(f64::MIN, f64::max).floor() + 1.0;
                (all, future, as_of)
            }
            (None, Some(cutoff)) => {
                let as_of = parse_day(cutoff)? as f64;
                let (h, f) = all.into_iter().partition(|t| t.at < as_of);
                (h, f, as_of)
            }
            _ => bail!("give either --future FILE or --cutoff DATE"),
        };
    if history.is_empty() || future.is_empty() {
        bail!("both the history and the future must hold transactions with customer ids");
    }
    let future_end = future.iter().map(|t| t.at).fold(f64::MIN, f64::max).floor() + 1.0;
    let horizon = future_end - as_of;
    if horizon <= 0.0 {
        bail!("the future transactions must come after the history");
    }
    let started = Instant::now();
    let model = ChurnModel::train(&history, as_of, horizon, &ChurnConfig::default())
        .context("training the churn model")?;
    let features = churn::customer_features(&history, as_of, horizon)?;
    let present: std::collections::HashSet<&str> =
        future.iter().map(|t| t.customer.as_str()).collect();
    let labels: Vec<bool> = features
        .iter()
        .map(|f| !present.contains(f.customer.as_str()))
        .collect();
    let probs: Vec<f64> = features.iter().map(|f| model.score(f)).collect();
    let recency: Vec<f64> = features.iter().map(|f| f.recency_days).collect();
    // BG/NBD alone: fewer expected orders in the horizon = more likely gone.
    let bg_only: Vec<f64> = features
        .iter()
        .map(|f| {
            if f.expected_orders.is_nan() {
                0.0
            } else {
                -f.expected_orders
            }
        })
        .collect();
    let churned = labels.iter().filter(|&&y| y).count();
    print(&json!({
        "auc": auc(&probs, &labels),
        "brier": brier(&probs, &labels),
        "n": labels.len(),
        "churn_rate": churned as f64 / labels.len().max(1) as f64,
        "as_of": format_day(as_of as i64),
        "horizon_days": horizon,
        "baselines": {
            "recency_auc": auc(&recency, &labels),
            "bg_nbd_expected_orders_auc": auc(&bg_only, &labels),
            "base_rate_brier": brier(&vec![churned as f64 / labels.len().max(1) as f64; labels.len()], &labels),
        },
        "trees": model.model.trees.len(),
        "seconds": started.elapsed().as_secs_f64(),
    }))
}

fn rank_of(list: &[(u32, f32)], target: Option<u32>) -> Option<usize> {
    let t = target?;
    list.iter().position(|x| x.0 == t).map(|p| p + 1)
}

fn latency_percentiles(rec: &Recommender, cases: &[(Vec<u32>, u32)], k: usize) -> Value {
    percentiles(cases.iter().take(5000).map(|(prefix, _)| {
        let t = Instant::now();
        std::hint::black_box(rec.recommend(prefix, k));
        t.elapsed().as_secs_f64() * 1e6
    }))
}

/// p50/p99/max in ms of durations given in µs.
fn percentiles(us: impl Iterator<Item = f64>) -> Value {
    let mut us: Vec<f64> = us.collect();
    us.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        us.get(((us.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
            / 1000.0
    };
    json!({"p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": pct(1.0), "queries": us.len()})
}

pub fn recs(args: &RecsArgs) -> Result<()> {
    let sessions = datasets::read_sessions(&args.train)
        .with_context(|| format!("loading {}", args.train.display()))?;
    let (train, cases, mode) = match (&args.test, args.split_validation) {
        (Some(path), None) => (
            sessions,
            datasets::read_test_cases(path)
                .with_context(|| format!("loading {}", path.display()))?,
            "test",
        ),
        (None, Some(n)) => {
            let (t, c) = recs::split_validation(&sessions, n)?;
            (t, c, "validation")
        }
        _ => bail!("give either --test FILE or --split-validation N"),
    };
    if args.model != RecModel::Knn {
        return recs_sasrec(args, &train, &cases, mode);
    }
    let started = Instant::now();
    let rec = Recommender::train(&train, RecConfig::default()).context("training")?;
    let train_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let m = recs::evaluate(&rec, &cases, args.k);
    let eval_seconds = started.elapsed().as_secs_f64();
    let mut report = json!({
        "p_at_20": if args.k == 20 { json!(100.0 * m.p_at_k) } else { Value::Null },
        "mrr_at_20": if args.k == 20 { json!(100.0 * m.mrr_at_k) } else { Value::Null },
        "p_at_k": 100.0 * m.p_at_k, "mrr_at_k": 100.0 * m.mrr_at_k, "k": args.k,
        "n": m.n,
        "mode": mode,
        "train_sessions": train.len(),
        "items": rec.catalog.len(),
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "latency": latency_percentiles(&rec, &cases, args.k),
        "config": rec.config,
    });
    if args.tune {
        report["tuning"] = tune(&rec, &train, &cases, args.k)?;
    }
    print(&report)
}

#[cfg(not(feature = "sasrec"))]
fn recs_sasrec(
    args: &RecsArgs,
    _train: &[Vec<u32>],
    _cases: &[(Vec<u32>, u32)],
    _mode: &str,
) -> Result<()> {
    bail!(
        "--model {:?} needs the SASRec model: build with `--features sasrec`",
        args.model
    )
}

/// `--model sasrec|blend`: trains (or loads) SASRec, computes every
/// component once per case and ranks SASRec alone, kNN + rules, and their
/// blends from them.
#[cfg(feature = "sasrec")]
fn recs_sasrec(
    args: &RecsArgs,
    train: &[Vec<u32>],
    cases: &[(Vec<u32>, u32)],
    mode: &str,
) -> Result<()> {
    use hc_behavior::recs::sasrec::{SasRec, SasRecConfig};
    use std::sync::Arc;

    let mut config = RecConfig::default();
    if let Some(w) = args.sasrec_weight {
        config.weights.sasrec = w;
    }
    let started = Instant::now();
    let base = Recommender::train(train, config.clone()).context("training kNN and rules")?;
    let knn_seconds = started.elapsed().as_secs_f64();
    let model = match &args.load_sasrec {
        Some(path) => SasRec::load(path).with_context(|| format!("loading {}", path.display()))?,
        None => {
            let sconfig = SasRecConfig {
                epochs: args.sasrec_epochs,
                recent_sessions: args.sasrec_sessions,
                max_seconds: args.sasrec_max_seconds,
                dim: args.sasrec_dim,
                layers: args.sasrec_layers,
                negatives: args.sasrec_negatives,
                lr: args.sasrec_lr,
                ..SasRecConfig::default()
            };
            let model = SasRec::train_with_progress(train, sconfig, &mut |epoch, loss| {
                eprintln!("sasrec epoch {epoch}: mean loss {loss:.4}");
            })
            .context("training SASRec")?;
            if let Some(path) = &args.save_sasrec {
                model
                    .save(path)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            model
        }
    };
    let model = Arc::new(model);
    let rec = base.with_sasrec(model.clone());

    let keep = 100;
    let allow = |_: u32| true;
    let started = Instant::now();
    let comps: Vec<Components> = cases.iter().map(|(p, _)| rec.components(p, keep)).collect();
    let components_seconds = started.elapsed().as_secs_f64();
    let score = |w: &BlendWeights| {
        let mut acc = RankAccumulator::default();
        for (c, (_, target)) in comps.iter().zip(cases) {
            let list = rec.blend(c, w, args.k, &allow);
            acc.add(rank_of(&list, rec.catalog.dense(*target)));
        }
        acc.finish()
    };
    let figures =
        |m: recs::RankMetrics| json!({"p_at_k": 100.0 * m.p_at_k, "mrr_at_k": 100.0 * m.mrr_at_k});
    let w = rec.config.weights;
    let only = |knn: f32, rules: f32, sasrec: f32| BlendWeights { knn, rules, sasrec };
    let sasrec_alone = score(&only(0.0, 0.0, 1.0));
    let knn_rules = score(&only(w.knn, w.rules, 0.0));
    let blend = score(&w);
    let mut grid = serde_json::Map::new();
    for ws in [0.1, 0.25, 0.5, 1.0, 2.0] {
        grid.insert(
            format!("knn{}_rules{}_sasrec{ws}", w.knn, w.rules),
            figures(score(&only(w.knn, w.rules, ws))),
        );
    }
    let m = if args.model == RecModel::Sasrec {
        sasrec_alone
    } else {
        blend
    };

    // Latency of one query: SASRec alone, and the whole blend.
    let sasrec_latency = percentiles(cases.iter().take(5000).map(|(prefix, _)| {
        let t = Instant::now();
        std::hint::black_box(model.top(prefix, args.k));
        t.elapsed().as_secs_f64() * 1e6
    }));
    print(&json!({
        "p_at_20": if args.k == 20 { json!(100.0 * m.p_at_k) } else { Value::Null },
        "mrr_at_20": if args.k == 20 { json!(100.0 * m.mrr_at_k) } else { Value::Null },
        "p_at_k": 100.0 * m.p_at_k, "mrr_at_k": 100.0 * m.mrr_at_k, "k": args.k,
        "n": m.n,
        "mode": mode,
        "model": format!("{:?}", args.model).to_lowercase(),
        "train_sessions": train.len(),
        "items": rec.catalog.len(),
        "knn_train_seconds": knn_seconds,
        "sasrec": {
            "config": model.config(),
            "training": model.report(),
            "loaded": args.load_sasrec.is_some(),
            "latency": sasrec_latency,
        },
        "components_seconds": components_seconds,
        "figures": {
            "sasrec": figures(sasrec_alone),
            "knn_rules": figures(knn_rules),
            "blend": figures(blend),
            "blend_grid": grid,
        },
        "latency": latency_percentiles(&rec, cases, args.k),
        "config": rec.config,
    }))
}

/// Component and blend figures on the validation cases (components are
/// computed once per kNN variant, blends re-ranked from them).
fn tune(
    rec: &Recommender,
    train: &[Vec<u32>],
    cases: &[(Vec<u32>, u32)],
    k: usize,
) -> Result<Value> {
    let keep = 100;
    let allow = |_: u32| true;
    let score = |rec: &Recommender, comps: &[Components], w: &BlendWeights| {
        let mut acc = RankAccumulator::default();
        for (c, (_, target)) in comps.iter().zip(cases) {
            let list = rec.blend(c, w, k, &allow);
            acc.add(rank_of(&list, rec.catalog.dense(*target)));
        }
        let m = acc.finish();
        json!({"p_at_k": 100.0 * m.p_at_k, "mrr_at_k": 100.0 * m.mrr_at_k})
    };
    let mut out = serde_json::Map::new();
    let variants: Vec<(&str, KnnParams)> = vec![
        ("default", rec.config.knn.clone()),
        ("sknn", KnnParams::sknn()),
        (
            "vsknn_no_recency",
            KnnParams {
                recency_decay: f64::INFINITY,
                ..rec.config.knn.clone()
            },
        ),
        (
            "no_idf",
            KnnParams {
                idf_power: 0.0,
                ..rec.config.knn.clone()
            },
        ),
        (
            "k200_sample2000",
            KnnParams {
                k: 200,
                sample: 2000,
                ..rec.config.knn.clone()
            },
        ),
        (
            "k50",
            KnnParams {
                k: 50,
                ..rec.config.knn.clone()
            },
        ),
        (
            "pos_decay_4",
            KnnParams {
                pos_decay: 4.0,
                ..rec.config.knn.clone()
            },
        ),
        (
            "neighbour_decay_1",
            KnnParams {
                neighbour_decay: 1.0,
                ..rec.config.knn.clone()
            },
        ),
        (
            "recency_20k",
            KnnParams {
                recency_decay: 20_000.0,
                ..rec.config.knn.clone()
            },
        ),
    ];
    for (name, params) in variants {
        let config = RecConfig {
            knn: params,
            ..rec.config.clone()
        };
        let r = Recommender::train(train, config)?;
        let comps: Vec<Components> = cases.iter().map(|(p, _)| r.components(p, keep)).collect();
        let mut grid = serde_json::Map::new();
        for (wk, wr) in [
            (1.0, 0.0),
            (0.0, 1.0),
            (1.0, 0.1),
            (1.0, 0.25),
            (1.0, 0.5),
            (1.0, 1.0),
        ] {
            let w = BlendWeights {
                knn: wk,
                rules: wr,
                sasrec: 0.0,
            };
            grid.insert(format!("knn{wk}_rules{wr}"), score(&r, &comps, &w));
        }
        eprintln!("tuned {name}");
        out.insert(name.to_string(), Value::Object(grid));
    }
    Ok(Value::Object(out))
}

pub fn segments(args: &SegmentsArgs) -> Result<()> {
    let tx = churn::load_online_retail(&args.history)
        .with_context(|| format!("loading {}", args.history.display()))?;
    let as_of = tx.iter().map(|t| t.at).fold(f64::MIN, f64::max).floor() + 1.0;
    let features = churn::customer_features(&tx, as_of, 90.0)?;
    let points: Vec<RfmPoint> = features
        .iter()
        .map(|f| RfmPoint {
            recency_days: f.recency_days,
            frequency: f.frequency,
            monetary: f.monetary.max(0.0),
            tenure_days: f.tenure_days,
        })
        .collect();
    let seg = Segmentation::fit(&points, args.k, 42)?;
    let mut groups: HashMap<usize, Vec<&RfmPoint>> = HashMap::new();
    for (p, &a) in points.iter().zip(&seg.assignments) {
        groups.entry(a).or_default().push(p);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let segments: Vec<Value> = (0..seg.k)
        .map(|j| {
            let g = groups.get(&j).cloned().unwrap_or_default();
            json!({
                "name": seg.names[j],
                "customers": seg.sizes[j],
                "median_recency_days": median(g.iter().map(|p| p.recency_days).collect()),
                "median_orders": median(g.iter().map(|p| p.frequency).collect()),
                "median_monetary": median(g.iter().map(|p| p.monetary).collect()),
                "median_tenure_days": median(g.iter().map(|p| p.tenure_days).collect()),
            })
        })
        .collect();
    print(&json!({
        "k": seg.k,
        "silhouette": seg.silhouette,
        "customers": points.len(),
        "as_of": format_day(as_of as i64),
        "segments": segments,
    }))
}
