//! Derivative-free minimisation (Nelder–Mead simplex), used to fit the
//! likelihood models on log-parameters so every parameter stays positive.

/// Settings of [`nelder_mead`].
#[derive(Debug, Clone)]
pub struct NelderMead {
    pub max_iterations: usize,
    /// Stop when the spread of objective values over the simplex is below this.
    pub f_tolerance: f64,
    /// Stop when the simplex is smaller than this in every coordinate.
    pub x_tolerance: f64,
    /// Initial step along each axis.
    pub step: f64,
}

impl Default for NelderMead {
    fn default() -> Self {
        Self {
            max_iterations: 20_000,
            f_tolerance: 1e-12,
            x_tolerance: 1e-10,
            step: 0.5,
        }
    }
}

/// The minimum found: the point, its value and the iterations used.
#[derive(Debug, Clone)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
}

/// Minimises `f` from `start`. Non-finite values count as +∞, so the
/// objective may refuse regions by returning NaN or ∞. The search restarts
/// once from its own result (a standard guard against a collapsed simplex).
pub fn nelder_mead(f: impl Fn(&[f64]) -> f64, start: &[f64], settings: &NelderMead) -> Minimum {
    let eval = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut best = run(&eval, start, settings);
    for _ in 0..2 {
        let again = run(&eval, &best.x, settings);
        let improved = again.value < best.value - 1e-12;
        let iterations = best.iterations + again.iterations;
        if again.value <= best.value {
            best = Minimum {
                iterations,
                ..again
            };
        }
        if !improved {
            break;
        }
    }
    best
}

fn run(f: &impl Fn(&[f64]) -> f64, start: &[f64], s: &NelderMead) -> Minimum {
    let n = start.len();
    let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    simplex.push(start.to_vec());
    for i in 0..n {
        let mut p = start.to_vec();
        p[i] += s.step;
        simplex.push(p);
    }
    let mut values: Vec<f64> = simplex.iter().map(|p| f(p)).collect();
    let (alpha, gamma, rho, sigma) = (1.0, 2.0, 0.5, 0.5);
    let mut iterations = 0;
    while iterations < s.max_iterations {
        iterations += 1;
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        simplex = order.iter().map(|&i| simplex[i].clone()).collect();
        values = order.iter().map(|&i| values[i]).collect();

        let spread = (values[n] - values[0]).abs();
        let size = (0..n)
            .map(|j| {
                simplex
                    .iter()
                    .map(|p| (p[j] - simplex[0][j]).abs())
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
        if spread.is_finite() && spread <= s.f_tolerance && size <= s.x_tolerance.max(1e-8) {
            break;
        }
        if size <= s.x_tolerance {
            break;
        }

        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|p| p[j]).sum::<f64>() / n as f64)
            .collect();
        let towards = |coef: f64| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + coef * (simplex[n][j] - centroid[j]))
                .collect()
        };
        let reflected = towards(-alpha);
        let fr = f(&reflected);
        if fr < values[0] {
            let expanded = towards(-alpha * gamma);
            let fe = f(&expanded);
            if fe < fr {
                simplex[n] = expanded;
                values[n] = fe;
            } else {
                simplex[n] = reflected;
                values[n] = fr;
            }
        } else if fr < values[n - 1] {
            simplex[n] = reflected;
            values[n] = fr;
        } else {
            let (contracted, fc) = if fr < values[n] {
                let c = towards(-alpha * rho);
                let v = f(&c);
                (c, v)
            } else {
                let c = towards(rho);
                let v = f(&c);
                (c, v)
            };
            if fc < values[n].min(fr) {
                simplex[n] = contracted;
                values[n] = fc;
            } else {
                for i in 1..=n {
                    let shrunk: Vec<f64> = (0..n)
                        .map(|j| simplex[0][j] + sigma * (simplex[i][j] - simplex[0][j]))
                        .collect();
                    values[i] = f(&shrunk);
                    simplex[i] = shrunk;
                }
            }
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    Minimum {
        x: simplex[best].clone(),
        value: values[best],
        iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = nelder_mead(rosen, &[-1.2, 1.0], &NelderMead::default());
        assert!((m.x[0] - 1.0).abs() < 1e-5, "{:?}", m.x);
        assert!((m.x[1] - 1.0).abs() < 1e-5, "{:?}", m.x);
    }

    #[test]
    fn treats_non_finite_values_as_walls() {
        // Minimum of (x − 2)² restricted to x < 3 by NaN beyond.
        let f = |x: &[f64]| {
            if x[0] >= 3.0 {
                f64::NAN
            } else {
                (x[0] - 2.0).powi(2)
            }
        };
        let m = nelder_mead(f, &[0.0], &NelderMead::default());
        assert!((m.x[0] - 2.0).abs() < 1e-6);
    }
}
