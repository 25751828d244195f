//! Purchase intent per session: a [`Gbt`] over the feature set of the UCI
//! "Online Shoppers Purchasing Intention" data (page counts and durations by
//! page type, bounce/exit rates, page value, calendar, traffic and visitor
//! type). [`SessionFeatures`] is the engine's own type; live sessions fill it
//! from stored events, and [`load_online_shoppers`] fills it from the public
//! CSV layout.
//!
//! The decision threshold is chosen by F1 on out-of-fold predictions of the
//! training data only ([`IntentModel::train`]); [`cross_validate`] wraps that
//! whole procedure in an outer k-fold.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::datasets::Csv;
use crate::error::{Error, Result};
use crate::gbt::{Dataset, Gbt, GbtParams, stratified_folds};
use crate::metrics::{Classification, best_f1_threshold, classification};

/// Artifact format version written by [`IntentModel::to_json`].
pub const INTENT_FORMAT_VERSION: u32 = 1;

/// Visitor type as in the Online Shoppers data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitorType {
    Returning,
    New,
    Other,
}

/// One session's aggregate behaviour. Durations are seconds; rates are
/// shares in 0..=1; `page_values` is the mean value of pages seen (the
/// Google Analytics "page value"); `month` is 1..=12; the integer codes
/// (operating system, browser, region, traffic type) are opaque categories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionFeatures {
    pub administrative: f64,
    pub administrative_duration: f64,
    pub informational: f64,
    pub informational_duration: f64,
    pub product_related: f64,
    pub product_related_duration: f64,
    pub bounce_rates: f64,
    pub exit_rates: f64,
    pub page_values: f64,
    pub special_day: f64,
    pub month: u32,
    pub operating_system: u32,
    pub browser: u32,
    pub region: u32,
    pub traffic_type: u32,
    pub visitor_type: VisitorType,
    pub weekend: bool,
}

/// Names of the model's feature columns, in [`SessionFeatures::to_row`] order.
pub const FEATURE_NAMES: [&str; 21] = [
    "administrative",
    "administrative_duration",
    "informational",
    "informational_duration",
    "product_related",
    "product_related_duration",
    "bounce_rates",
    "exit_rates",
    "page_values",
    "special_day",
    "month",
    "operating_system",
    "browser",
    "region",
    "traffic_type",
    "visitor_returning",
    "visitor_new",
    "weekend",
    "total_pages",
    "total_duration",
    "product_duration_per_page",
];

impl SessionFeatures {
    /// The model's numeric row. Month and the integer codes are ordinal
    /// splits for the trees; visitor type is one-hot; a few ratios are added.
    pub fn to_row(&self) -> Vec<f64> {
        let pages = self.administrative + self.informational + self.product_related;
        let duration = self.administrative_duration
            + self.informational_duration
            + self.product_related_duration;
        vec![
            self.administrative,
            self.administrative_duration,
            self.informational,
            self.informational_duration,
            self.product_related,
            self.product_related_duration,
            self.bounce_rates,
            self.exit_rates,
            self.page_values,
            self.special_day,
            f64::from(self.month),
            f64::from(self.operating_system),
            f64::from(self.browser),
            f64::from(self.region),
            f64::from(self.traffic_type),
            f64::from(u8::from(self.visitor_type == VisitorType::Returning)),
            f64::from(u8::from(self.visitor_type == VisitorType::New)),
            f64::from(u8::from(self.weekend)),
            pages,
            duration,
            if self.product_related > 0.0 {
                self.product_related_duration / self.product_related
            } else {
                0.0
            },
        ]
    }

    fn validate(&self) -> Result<()> {
        let counts = [
            self.administrative,
            self.administrative_duration,
            self.informational,
            self.informational_duration,
            self.product_related,
            self.product_related_duration,
            self.page_values,
        ];
        if counts.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(Error::Invalid(
                "counts, durations and page values must be ≥ 0".into(),
            ));
        }
        for rate in [self.bounce_rates, self.exit_rates, self.special_day] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::Invalid(
                    "rates and special_day must lie in 0..=1".into(),
                ));
            }
        }
        if !(1..=12).contains(&self.month) {
            return Err(Error::Invalid(format!(
                "month {} out of 1..=12",
                self.month
            )));
        }
        Ok(())
    }
}

/// Builds the training matrix.
pub fn dataset(sessions: &[SessionFeatures], labels: &[bool]) -> Result<Dataset> {
    if sessions.len() != labels.len() {
        return Err(Error::Invalid("one label per session is required".into()));
    }
    let mut values = Vec::with_capacity(sessions.len() * FEATURE_NAMES.len());
    for s in sessions {
        s.validate()?;
        values.extend(s.to_row());
    }
    Ok(Dataset {
        feature_names: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
        values,
        labels: labels.to_vec(),
    })
}

fn parse_month(text: &str) -> Option<u32> {
    let t = text.to_ascii_lowercase();
    let names = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    names
        .iter()
        .position(|m| t.starts_with(m))
        .map(|i| i as u32 + 1)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Reads the Online Shoppers CSV layout; returns sessions and `Revenue`.
pub fn load_online_shoppers(path: &Path) -> Result<(Vec<SessionFeatures>, Vec<bool>)> {
    let csv = Csv::read(path)?;
    let col = |name: &str| csv.column(&[name]);
    let numeric = [
        "Administrative",
        "Administrative_Duration",
        "Informational",
        "Informational_Duration",
        "ProductRelated",
        "ProductRelated_Duration",
        "BounceRates",
        "ExitRates",
        "PageValues",
        "SpecialDay",
    ]
    .map(col);
    let codes = ["OperatingSystems", "Browser", "Region", "TrafficType"].map(col);
    let (month, visitor, weekend, revenue) = (
        col("Month")?,
        col("VisitorType")?,
        col("Weekend")?,
        col("Revenue")?,
    );
    let mut numeric_cols = [0usize; 10];
    for (i, c) in numeric.into_iter().enumerate() {
        numeric_cols[i] = c?;
    }
    let mut code_cols = [0usize; 4];
    for (i, c) in codes.into_iter().enumerate() {
        code_cols[i] = c?;
    }
    let mut sessions = Vec::with_capacity(csv.rows.len());
    let mut labels = Vec::with_capacity(csv.rows.len());
    for r in 0..csv.rows.len() {
        let mut n = [0.0; 10];
        for (i, &c) in numeric_cols.iter().enumerate() {
            n[i] = csv.float(r, c)?;
        }
        let mut k = [0u32; 4];
        for (i, &c) in code_cols.iter().enumerate() {
            let v = csv.float(r, c)?;
            if v < 0.0 || v.fract() != 0.0 || v > f64::from(u32::MAX) {
                return Err(csv.error(
                    r,
                    format!("{} must be a non-negative integer", csv.header[c]),
                ));
            }
            k[i] = v as u32;
        }
        let visitor_type = match csv.text(r, visitor) {
            "Returning_Visitor" => VisitorType::Returning,
            "New_Visitor" => VisitorType::New,
            "Other" => VisitorType::Other,
            other => return Err(csv.error(r, format!("unknown VisitorType {other:?}"))),
        };
        let session = SessionFeatures {
            administrative: n[0],
            administrative_duration: n[1],
            informational: n[2],
            informational_duration: n[3],
            product_related: n[4],
            product_related_duration: n[5],
            bounce_rates: n[6],
            exit_rates: n[7],
            page_values: n[8],
            special_day: n[9],
            month: parse_month(csv.text(r, month))
                .ok_or_else(|| csv.error(r, format!("unknown Month {:?}", csv.text(r, month))))?,
            operating_system: k[0],
            browser: k[1],
            region: k[2],
            traffic_type: k[3],
            visitor_type,
            weekend: parse_bool(csv.text(r, weekend))
                .ok_or_else(|| csv.error(r, "Weekend must be TRUE or FALSE"))?,
        };
        session
            .validate()
            .map_err(|e| csv.error(r, e.to_string()))?;
        sessions.push(session);
        labels.push(
            parse_bool(csv.text(r, revenue))
                .ok_or_else(|| csv.error(r, "Revenue must be TRUE or FALSE"))?,
        );
    }
    Ok((sessions, labels))
}

/// How [`IntentModel::train`] fits.
#[derive(Debug, Clone)]
pub struct IntentConfig {
    pub gbt: GbtParams,
    /// Folds used on the training data to choose the decision threshold.
    pub threshold_folds: usize,
}

impl Default for IntentConfig {
    fn default() -> Self {
        Self {
            gbt: GbtParams {
                learning_rate: 0.03,
                max_depth: 4,
                max_leaves: 15,
                min_samples_leaf: 30,
                ..GbtParams::default()
            },
            threshold_folds: 3,
        }
    }
}

/// A trained purchase-intent model with its decision threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentModel {
    pub version: u32,
    pub model: Gbt,
}

impl IntentModel {
    /// Trains on labelled sessions: out-of-fold predictions on the training
    /// data choose the F1-best threshold, then the final model is fitted on
    /// all of it.
    pub fn train(data: &Dataset, config: &IntentConfig) -> Result<IntentModel> {
        let threshold = if config.threshold_folds >= 2 {
            let oof = out_of_fold(data, config.threshold_folds, &config.gbt)?;
            best_f1_threshold(&oof, &data.labels)
        } else {
            0.5
        };
        let mut model = Gbt::train(data, &config.gbt)?;
        model.threshold = threshold;
        Ok(IntentModel {
            version: INTENT_FORMAT_VERSION,
            model,
        })
    }

    /// Probability that the session ends in a purchase.
    pub fn score(&self, session: &SessionFeatures) -> f64 {
        self.model.predict_proba(&session.to_row())
    }

    /// Figures on labelled data at the model's threshold.
    pub fn evaluate(&self, data: &Dataset) -> Classification {
        classification(
            &self.model.predict_dataset(data),
            &data.labels,
            self.model.threshold,
        )
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model always serialises")
    }

    pub fn from_json(text: &str) -> Result<IntentModel> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::Artifact(e.to_string()))?;
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version == 0 || version > u64::from(INTENT_FORMAT_VERSION) {
            return Err(Error::Artifact(format!(
                "intent artifact version {version} is not supported"
            )));
        }
        let model = value
            .get("model")
            .ok_or_else(|| Error::Artifact("intent artifact has no model".into()))?;
        Ok(IntentModel {
            version: INTENT_FORMAT_VERSION,
            model: Gbt::from_json(&model.to_string())?,
        })
    }
}

/// Out-of-fold probabilities from stratified k-fold training.
pub fn out_of_fold(data: &Dataset, folds: usize, params: &GbtParams) -> Result<Vec<f64>> {
    let assignment = stratified_folds(&data.labels, folds, params.seed ^ 0x5eed);
    let mut out = vec![0.0; data.n_rows()];
    for k in 0..folds {
        let train: Vec<usize> = (0..data.n_rows()).filter(|&i| assignment[i] != k).collect();
        let test: Vec<usize> = (0..data.n_rows()).filter(|&i| assignment[i] == k).collect();
        let model = Gbt::train(&data.subset(&train), params)?;
        for i in test {
            out[i] = model.predict_proba(data.row(i));
        }
    }
    Ok(out)
}

/// Cross-validation figures: pooled over all out-of-fold rows, plus the
/// per-fold mean and spread of accuracy and F1.
#[derive(Debug, Clone, Serialize)]
pub struct CvReport {
    pub pooled: Classification,
    pub mean_accuracy: f64,
    pub std_accuracy: f64,
    pub mean_f1: f64,
    pub std_f1: f64,
    pub mean_auc: f64,
    pub folds: usize,
}

/// Outer stratified k-fold of the whole [`IntentModel::train`] procedure
/// (each fold chooses its threshold on its own training part).
pub fn cross_validate(data: &Dataset, folds: usize, config: &IntentConfig) -> Result<CvReport> {
    if folds < 2 {
        return Err(Error::Invalid(
            "cross-validation needs at least 2 folds".into(),
        ));
    }
    let assignment = stratified_folds(&data.labels, folds, 2019);
    let mut probs = vec![0.0; data.n_rows()];
    let mut thresholds = vec![0.5; data.n_rows()];
    let mut per_fold = Vec::new();
    for k in 0..folds {
        let train: Vec<usize> = (0..data.n_rows()).filter(|&i| assignment[i] != k).collect();
        let test: Vec<usize> = (0..data.n_rows()).filter(|&i| assignment[i] == k).collect();
        let model = IntentModel::train(&data.subset(&train), config)?;
        let test_data = data.subset(&test);
        per_fold.push(model.evaluate(&test_data));
        for i in test {
            probs[i] = model.model.predict_proba(data.row(i));
            thresholds[i] = model.model.threshold;
        }
    }
    // Pooled figures use each row's own fold threshold.
    let predicted: Vec<f64> = probs
        .iter()
        .zip(&thresholds)
        .map(|(p, t)| if p >= t { 1.0 } else { 0.0 })
        .collect();
    let mut pooled = classification(&predicted, &data.labels, 0.5);
    pooled.auc = crate::metrics::auc(&probs, &data.labels);
    let mean = |f: &dyn Fn(&Classification) -> f64| {
        per_fold.iter().map(f).sum::<f64>() / per_fold.len() as f64
    };
    let std = |f: &dyn Fn(&Classification) -> f64| {
        let m = mean(f);
        (per_fold.iter().map(|c| (f(c) - m).powi(2)).sum::<f64>() / per_fold.len() as f64).sqrt()
    };
    Ok(CvReport {
        pooled,
        mean_accuracy: mean(&|c| c.accuracy),
        std_accuracy: std(&|c| c.accuracy),
        mean_f1: mean(&|c| c.f1),
        std_f1: std(&|c| c.f1),
        mean_auc: mean(&|c| c.auc),
        folds,
    })
}
