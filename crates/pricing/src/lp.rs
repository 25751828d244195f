//! The per-period linear program of Ferreira, Simchi-Levi & Wang (2018):
//! choose how often to offer each price vector so expected revenue is
//! largest while expected resource use stays within the capacity rate.
//!
//! ```text
//! max  Σ_k r_k x_k
//! s.t. Σ_k b_kj x_k ≤ c_j   for each resource j
//!      Σ_k x_k ≤ 1,  x ≥ 0  (the slack is the shut-off price)
//! ```
//! Solved with `microlp` (pure Rust simplex).

use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem};

use crate::error::{Error, Result};

/// Optimal offer probabilities `x_k` (their sum may be below one: the rest is
/// the shut-off price) and the objective value.
#[derive(Clone, Debug, PartialEq)]
pub struct LpSolution {
    pub x: Vec<f64>,
    pub objective: f64,
}

/// Solves the price-vector LP. `revenue[k]` is the expected revenue of offering
/// price vector `k` for one period, `usage[k][j]` its expected use of
/// resource `j`, `capacity[j]` the use allowed per period.
pub fn solve(revenue: &[f64], usage: &[Vec<f64>], capacity: &[f64]) -> Result<LpSolution> {
    if usage.len() != revenue.len() || usage.iter().any(|u| u.len() != capacity.len()) {
        return Err(Error::invalid("lp", "dimension mismatch"));
    }
    if revenue
        .iter()
        .chain(capacity)
        .chain(usage.iter().flatten())
        .any(|v| !v.is_finite())
    {
        return Err(Error::invalid("lp", "non-finite coefficient"));
    }
    let mut problem = Problem::new(OptimizationDirection::Maximize);
    let vars: Vec<_> = revenue
        .iter()
        .map(|&r| problem.add_var(r, (0.0, 1.0)))
        .collect();
    for (j, &c) in capacity.iter().enumerate() {
        let mut expr = LinearExpr::empty();
        for (k, v) in vars.iter().enumerate() {
            expr.add(*v, usage[k][j].max(0.0));
        }
        problem.add_constraint(expr, ComparisonOp::Le, c.max(0.0));
    }
    let mut total = LinearExpr::empty();
    for v in &vars {
        total.add(*v, 1.0);
    }
    problem.add_constraint(total, ComparisonOp::Le, 1.0);
    let solution = problem.solve().map_err(|e| Error::Lp(e.to_string()))?;
    let x = vars
        .iter()
        .map(|v| solution.var_value(*v).clamp(0.0, 1.0))
        .collect();
    Ok(LpSolution {
        x,
        objective: solution.objective(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_product_bound_mixes_the_two_top_prices() {
        // Ferreira et al. single product, alpha = 0.25: sell 0.25 units per period.
        let prices = [29.9, 34.9, 39.9, 44.9];
        let demand = [0.8, 0.6, 0.3, 0.1];
        let revenue: Vec<f64> = prices.iter().zip(demand).map(|(p, d)| p * d).collect();
        let usage: Vec<Vec<f64>> = demand.iter().map(|&d| vec![d]).collect();
        let s = solve(&revenue, &usage, &[0.25]).unwrap();
        // x3 * 0.3 + x4 * 0.1 = 0.25 and x3 + x4 = 1: x3 = 0.75, x4 = 0.25.
        assert!(
            (s.x[2] - 0.75).abs() < 1e-9 && (s.x[3] - 0.25).abs() < 1e-9,
            "{:?}",
            s.x
        );
        assert!((s.objective - (0.75 * 11.97 + 0.25 * 4.49)).abs() < 1e-9);
    }

    #[test]
    fn unconstrained_lp_picks_the_best_arm() {
        let s = solve(
            &[1.0, 3.0, 2.0],
            &[vec![0.1], vec![0.1], vec![0.1]],
            &[10.0],
        )
        .unwrap();
        assert_eq!(s.x, vec![0.0, 1.0, 0.0]);
    }

    #[test]
    fn two_resource_problem_matches_hand_solution() {
        // max 3a + 2b, a + b <= 0.8 (resource 1), 2a <= 1 (resource 2), a + b <= 1.
        // Optimum: a = 0.5, b = 0.3, objective 2.1.
        let s = solve(&[3.0, 2.0], &[vec![1.0, 2.0], vec![1.0, 0.0]], &[0.8, 1.0]).unwrap();
        assert!((s.x[0] - 0.5).abs() < 1e-9 && (s.x[1] - 0.3).abs() < 1e-9);
        assert!((s.objective - 2.1).abs() < 1e-9);
    }

    #[test]
    fn zero_capacity_shuts_off_and_nan_is_rejected() {
        let s = solve(&[5.0], &[vec![0.5]], &[0.0]).unwrap();
        assert_eq!(s.x, vec![0.0]);
        assert!(solve(&[f64::NAN], &[vec![0.5]], &[1.0]).is_err());
    }
}
