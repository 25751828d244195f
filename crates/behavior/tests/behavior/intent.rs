use hc_behavior::gbt::GbtParams;
use hc_behavior::intent::{self, IntentConfig, IntentModel};

use crate::data;

#[test]
fn intent_model_learns_online_shoppers_and_round_trips() {
    let Some(path) = data("online_shoppers_intention/train.csv") else {
        return;
    };
    let (sessions, labels) = intent::load_online_shoppers(&path).unwrap();
    assert_eq!(sessions.len(), 9864);
    assert_eq!(labels.iter().filter(|&&y| y).count(), 1526);
    // Debug builds: train on every third row, test on the rows after them
    // (the file is ordered by month, so both parts span the year).
    let train_idx: Vec<usize> = (0..sessions.len()).step_by(3).collect();
    let test_idx: Vec<usize> = (1..sessions.len()).step_by(3).collect();
    let pick = |idx: &[usize]| {
        let s: Vec<_> = idx.iter().map(|&i| sessions[i].clone()).collect();
        let l: Vec<_> = idx.iter().map(|&i| labels[i]).collect();
        intent::dataset(&s, &l).unwrap()
    };
    let (train, test) = (pick(&train_idx), pick(&test_idx));
    let config = IntentConfig {
        gbt: GbtParams {
            max_trees: 150,
            learning_rate: 0.08,
            ..IntentConfig::default().gbt
        },
        threshold_folds: 2,
    };
    let model = IntentModel::train(&train, &config).unwrap();
    let m = model.evaluate(&test);
    // The always-"no purchase" baseline has AUC 0.5 and F1 0.
    assert!(m.auc > 0.88, "{m:?}");
    assert!(m.accuracy > 0.86, "{m:?}");
    assert!(m.f1 > 0.5, "{m:?}");
    assert!(model.model.threshold > 0.05 && model.model.threshold < 0.95);
    // PageValues is the dataset's dominant signal.
    let top = model
        .model
        .feature_gain
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(model.model.feature_names[top], "page_values");

    let json = model.to_json();
    let back = IntentModel::from_json(&json).unwrap();
    assert_eq!(back.model.trees.len(), model.model.trees.len());
    assert!((back.model.threshold - model.model.threshold).abs() < 1e-12);
    for s in &sessions[..200] {
        assert!((back.score(s) - model.score(s)).abs() < 1e-12);
    }
}

#[test]
fn a_bad_visitor_type_is_reported_with_its_line() {
    let dir = std::env::temp_dir().join(format!("hc-intent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.csv");
    let header = "Administrative,Administrative_Duration,Informational,Informational_Duration,ProductRelated,ProductRelated_Duration,BounceRates,ExitRates,PageValues,SpecialDay,Month,OperatingSystems,Browser,Region,TrafficType,VisitorType,Weekend,Revenue";
    std::fs::write(
        &p,
        format!("{header}\n0,0,0,0,1,0,0.2,0.2,0,0,Feb,1,1,1,1,Returning_Visitor,FALSE,FALSE\n0,0,0,0,1,0,0.2,0.2,0,0,Feb,1,1,1,1,Alien,FALSE,FALSE\n"),
    )
    .unwrap();
    let err = intent::load_online_shoppers(&p).unwrap_err();
    assert!(
        err.to_string().contains("line 3") && err.to_string().contains("VisitorType"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
