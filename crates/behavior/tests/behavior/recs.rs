use hc_behavior::datasets::read_sessions;
use hc_behavior::recs::{self, BlendWeights, RecConfig, Recommender};

use crate::data;

#[test]
fn session_recommenders_beat_popularity_by_far_on_diginetica() {
    let Some(path) = data("diginetica_srgnn/train_sessions.txt") else {
        return;
    };
    let sessions = read_sessions(&path).unwrap();
    assert_eq!(sessions.len(), 186_670);
    // Debug builds: the last 40,000 sessions, of which the final 1,000 validate.
    let tail = &sessions[sessions.len() - 40_000..];
    let (train, cases) = recs::split_validation(tail, 1000).unwrap();
    let cases: Vec<_> = cases.into_iter().take(2000).collect();
    let rec = Recommender::train(&train, RecConfig::default()).unwrap();
    let blend = recs::evaluate(&rec, &cases, 20);
    let pop = {
        let config = RecConfig {
            weights: BlendWeights {
                knn: 0.0,
                rules: 0.0,
                sasrec: 0.0,
            },
            ..RecConfig::default()
        };
        recs::evaluate(&Recommender::train(&train, config).unwrap(), &cases, 20)
    };
    assert!(pop.p_at_k < 0.1, "{pop:?}");
    assert!(blend.p_at_k > 0.3, "{blend:?}");
    assert!(blend.mrr_at_k > 0.1, "{blend:?}");
    assert!(blend.p_at_k > 3.0 * pop.p_at_k);
}
