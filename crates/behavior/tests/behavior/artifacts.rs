//! Frozen model artifacts: files written in an earlier format version must
//! keep loading and scoring the same.

use hc_behavior::intent::{IntentModel, SessionFeatures, VisitorType};

const INTENT_V1: &str = include_str!("../fixtures/intent_v1.json");

fn session(page_values: f64, visitor_type: VisitorType) -> SessionFeatures {
    SessionFeatures {
        administrative: 1.0,
        administrative_duration: 10.0,
        informational: 0.0,
        informational_duration: 0.0,
        product_related: 5.0,
        product_related_duration: 100.0,
        bounce_rates: 0.0,
        exit_rates: 0.05,
        page_values,
        special_day: 0.0,
        month: 11,
        operating_system: 2,
        browser: 2,
        region: 1,
        traffic_type: 2,
        visitor_type,
        weekend: false,
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn intent_artifact_version_1_still_loads_and_scores() {
    let model = IntentModel::from_json(INTENT_V1).unwrap();
    assert_eq!(model.model.threshold, 0.4);
    let low = model.score(&session(0.0, VisitorType::Returning));
    assert!((low - sigmoid(-1.5 - 0.5)).abs() < 1e-12, "{low}");
    let high_new = model.score(&session(25.0, VisitorType::New));
    assert!(
        (high_new - sigmoid(-1.5 + 2.0 + 0.25)).abs() < 1e-12,
        "{high_new}"
    );
    let reasons = model
        .model
        .explain(&session(25.0, VisitorType::New).to_row(), 1);
    assert_eq!(reasons[0].0, "page_values");
}
