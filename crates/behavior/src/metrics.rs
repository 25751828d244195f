//! Evaluation metrics for binary scores and the threshold choice.

use serde::Serialize;

/// Area under the ROC curve (ties get half credit). 0.5 when one class is missing.
pub fn auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut positives) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Average 1-based rank of the tie group.
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if labels[k] {
                rank_sum += rank;
                positives += 1.0;
            }
        }
        i = j + 1;
    }
    let negatives = scores.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return 0.5;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// Mean squared error of probabilities against 0/1 outcomes.
pub fn brier(probabilities: &[f64], labels: &[bool]) -> f64 {
    if probabilities.is_empty() {
        return 0.0;
    }
    probabilities
        .iter()
        .zip(labels)
        .map(|(p, &y)| (p - f64::from(u8::from(y))).powi(2))
        .sum::<f64>()
        / probabilities.len() as f64
}

/// Mean negative log-likelihood of probabilities.
pub fn log_loss(probabilities: &[f64], labels: &[bool]) -> f64 {
    let eps = 1e-15;
    probabilities
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = p.clamp(eps, 1.0 - eps);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum::<f64>()
        / probabilities.len().max(1) as f64
}

/// Classification figures at one threshold, for the positive class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Classification {
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub auc: f64,
    pub n: usize,
}

/// Scores at `threshold` (predicted positive when probability ≥ threshold).
pub fn classification(probabilities: &[f64], labels: &[bool], threshold: f64) -> Classification {
    let (mut tp, mut fp, mut tn, mut fn_) = (0.0, 0.0, 0.0, 0.0);
    for (&p, &y) in probabilities.iter().zip(labels) {
        match (p >= threshold, y) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, false) => tn += 1.0,
            (false, true) => fn_ += 1.0,
        }
    }
    let n = probabilities.len();
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Classification {
        accuracy: (tp + tn) / n.max(1) as f64,
        precision,
        recall,
        f1,
        auc: auc(probabilities, labels),
        n,
    }
}

/// The threshold maximising F1 over the given scores (ties: the higher threshold).
pub fn best_f1_threshold(probabilities: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
    let positives = labels.iter().filter(|&&y| y).count() as f64;
    let (mut tp, mut fp) = (0.0, 0.0);
    let (mut best_f1, mut best_t) = (-1.0, 0.5);
    let mut i = 0;
    while i < order.len() {
        let t = probabilities[order[i]];
        while i < order.len() && probabilities[order[i]] == t {
            if labels[order[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        let f1 = 2.0 * tp / (tp + fp + positives);
        if f1 > best_f1 {
            best_f1 = f1;
            best_t = t;
        }
    }
    best_t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_perfect_random_and_inverted_scores() {
        let labels = [false, false, true, true];
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &labels), 1.0);
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &labels), 0.0);
        assert_eq!(auc(&[0.5; 4], &labels), 0.5);
        assert_eq!(auc(&[0.1, 0.6, 0.4, 0.9], &labels), 0.75);
    }

    #[test]
    fn classification_counts_at_the_threshold() {
        let c = classification(&[0.9, 0.6, 0.4, 0.1], &[true, false, true, false], 0.5);
        assert_eq!(c.accuracy, 0.5);
        assert_eq!(c.precision, 0.5);
        assert_eq!(c.recall, 0.5);
        assert_eq!(brier(&[1.0, 0.0], &[true, true]), 0.5);
    }

    #[test]
    fn best_threshold_separates_when_possible() {
        let p = [0.9, 0.8, 0.3, 0.2, 0.1];
        let y = [true, true, false, false, false];
        let t = best_f1_threshold(&p, &y);
        assert_eq!(classification(&p, &y, t).f1, 1.0);
        assert_eq!(t, 0.8);
    }
}
