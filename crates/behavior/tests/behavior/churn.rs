use hc_behavior::churn::{self, ChurnConfig, ChurnModel};
use hc_behavior::dates::parse_day;
use hc_behavior::metrics::{auc, brier};

use crate::data;

#[test]
fn churn_model_ranks_who_comes_back_inside_online_retail() {
    let Some(path) = data("online_retail/train.csv.gz") else {
        return;
    };
    let all = churn::load_online_retail(&path).unwrap();
    let customers: std::collections::HashSet<_> = all.iter().map(|t| t.customer.as_str()).collect();
    assert_eq!(customers.len(), 3360);
    // Our own cut: history before 2011-06-01, future June–August.
    let cut = parse_day("2011-06-01").unwrap() as f64;
    let (history, future): (Vec<_>, Vec<_>) = all.into_iter().partition(|t| t.at < cut);
    let horizon = future.iter().map(|t| t.at).fold(0.0, f64::max).floor() + 1.0 - cut;
    let config = ChurnConfig {
        gbt: hc_behavior::gbt::GbtParams {
            max_trees: 150,
            learning_rate: 0.08,
            ..ChurnConfig::default().gbt
        },
        ..ChurnConfig::default()
    };
    let model = ChurnModel::train(&history, cut, horizon, &config).unwrap();
    let features = churn::customer_features(&history, cut, horizon).unwrap();
    let back: std::collections::HashSet<_> = future.iter().map(|t| t.customer.as_str()).collect();
    let labels: Vec<bool> = features
        .iter()
        .map(|f| !back.contains(f.customer.as_str()))
        .collect();
    let p: Vec<f64> = features.iter().map(|f| model.score(f)).collect();
    let rate = labels.iter().filter(|&&y| y).count() as f64 / labels.len() as f64;
    let a = auc(&p, &labels);
    assert!(a > 0.72, "auc {a}");
    assert!(brier(&p, &labels) < brier(&vec![rate; labels.len()], &labels));

    let json = model.to_json();
    let back = ChurnModel::from_json(&json).unwrap();
    assert_eq!(back.horizon_days, model.horizon_days);
    for f in &features[..200] {
        assert!((back.score(f) - model.score(f)).abs() < 1e-12);
    }
    assert!(ChurnModel::from_json(&json.replacen("\"version\":1", "\"version\":7", 1)).is_err());
}
