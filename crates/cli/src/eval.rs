//! `hypercommerce eval`: offline evaluations of the agent's trained models,
//! printed as JSON on stdout.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use hc_agent::nlu::classifier::{
    TextClassifier, TrainConfig, cross_validate, evaluate, load_labelled_csv,
};
use serde_json::json;

#[derive(clap::Subcommand, Debug)]
pub enum EvalCommand {
    /// Train the intent classifier on one labelled CSV and report on another (or k-fold CV on the training file when --test is omitted).
    Nlu(NluArgs),
    /// Run scripted multi-turn conversations against a fresh copy of a τ-retail database and report the pass rate.
    Agent(crate::eval_agent::AgentArgs),
    /// Fit BG/NBD and Gamma-Gamma on calibration purchases (CDNOW layout); with a holdout, predicted vs actual repeat purchases.
    Clv(crate::eval_behavior::ClvArgs),
    /// Purchase intent (gradient-boosted trees) on the Online Shoppers layout: holdout figures with --test, else k-fold CV.
    Intent(crate::eval_behavior::IntentArgs),
    /// Churn from transaction history (Online Retail layout): AUC and Brier score on who comes back.
    Churn(crate::eval_behavior::ChurnArgs),
    /// Session-based next-item recommendation: P@20 and MRR@20 over all items.
    Recs(crate::eval_behavior::RecsArgs),
    /// Customer segments (k-means on RFM) of an Online Retail history, with names.
    Segments(crate::eval_behavior::SegmentsArgs),
    /// Pricing policies in a simulated market: revenue as a share of the LP bound or the clairvoyant, regret, price changes.
    Pricing(crate::eval_pricing::PricingArgs),
}

#[derive(clap::Args, Debug)]
pub struct NluArgs {
    /// Labelled training CSV (header row required).
    #[arg(long)]
    pub train: PathBuf,
    /// Labelled test CSV; without it, k-fold cross-validation on `--train`.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Column holding the text.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// Column holding the label.
    #[arg(long, default_value = "category")]
    pub label_column: String,
    /// Folds for cross-validation.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
}

pub async fn run(cmd: EvalCommand) -> Result<()> {
    match cmd {
        EvalCommand::Nlu(args) => nlu(&args),
        EvalCommand::Agent(args) => crate::eval_agent::run(&args).await,
        EvalCommand::Clv(args) => crate::eval_behavior::clv(&args),
        EvalCommand::Intent(args) => crate::eval_behavior::intent(&args),
        EvalCommand::Churn(args) => crate::eval_behavior::churn(&args),
        EvalCommand::Recs(args) => crate::eval_behavior::recs(&args),
        EvalCommand::Segments(args) => crate::eval_behavior::segments(&args),
        EvalCommand::Pricing(args) => crate::eval_pricing::pricing(&args),
    }
}

/// `seconds` covers training and evaluation, not CSV loading.
fn nlu(args: &NluArgs) -> Result<()> {
    let load = |path: &PathBuf| {
        load_labelled_csv(path, &args.text_column, &args.label_column)
            .with_context(|| format!("loading {}", path.display()))
    };
    let train = load(&args.train)?;
    let config = TrainConfig::default();
    let report = match &args.test {
        Some(test_path) => {
            let test = load(test_path)?;
            let started = Instant::now();
            let model = TextClassifier::train(&train, &config).context("training")?;
            let m = evaluate(&model, &test);
            json!({
                "accuracy": m.accuracy,
                "macro_f1": m.macro_f1,
                "n": m.n,
                "mode": "holdout",
                "folds": null,
                "train_rows": train.len(),
                "seconds": started.elapsed().as_secs_f64(),
            })
        }
        None => {
            let started = Instant::now();
            let m = cross_validate(&train, args.folds, &config).context("cross-validating")?;
            json!({
                "accuracy": m.accuracy,
                "macro_f1": m.macro_f1,
                "n": m.n,
                "mode": "cross_validation",
                "folds": args.folds,
                "train_rows": train.len(),
                "seconds": started.elapsed().as_secs_f64(),
            })
        }
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
