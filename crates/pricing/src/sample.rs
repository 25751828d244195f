//! Random draws the Bayesian models need (Beta, Gamma, Normal), built on
//! `rand` 0.8's uniform source so every run is reproducible from a seed.

use rand::Rng;

/// A standard normal draw (Box–Muller).
pub fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.r#gen::<f64>(); // (0, 1]
    let u2: f64 = rng.r#gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Gamma(shape, 1) draw (Marsaglia–Tsang, with the boost for shape < 1).
pub fn gamma<R: Rng + ?Sized>(rng: &mut R, shape: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = 1.0 - rng.r#gen::<f64>();
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u: f64 = 1.0 - rng.r#gen::<f64>();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A Beta(a, b) draw as a ratio of Gammas.
pub fn beta<R: Rng + ?Sized>(rng: &mut R, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    if x + y <= 0.0 {
        a / (a + b)
    } else {
        x / (x + y)
    }
}

/// A Poisson(mean) draw (inversion; means here are small).
pub fn poisson<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        return (mean + mean.sqrt() * normal(rng)).round().max(0.0) as u32;
    }
    let limit = (-mean).exp();
    let mut k = 0;
    let mut p = rng.r#gen::<f64>();
    while p > limit {
        k += 1;
        p *= rng.r#gen::<f64>();
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        (m, xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n)
    }

    #[test]
    fn beta_draws_have_the_right_moments() {
        let mut rng = StdRng::seed_from_u64(1);
        for (a, b) in [(1.0, 1.0), (2.0, 8.0), (0.5, 0.5), (30.0, 10.0)] {
            let xs: Vec<f64> = (0..40_000).map(|_| beta(&mut rng, a, b)).collect();
            let (m, v) = mean_var(&xs);
            let want_m = a / (a + b);
            let want_v = a * b / ((a + b).powi(2) * (a + b + 1.0));
            assert!((m - want_m).abs() < 0.01, "mean {m} vs {want_m}");
            assert!(
                (v - want_v).abs() < 0.1 * want_v + 1e-3,
                "var {v} vs {want_v}"
            );
        }
    }

    #[test]
    fn normal_and_poisson_draws_have_the_right_moments() {
        let mut rng = StdRng::seed_from_u64(2);
        let xs: Vec<f64> = (0..40_000).map(|_| normal(&mut rng)).collect();
        let (m, v) = mean_var(&xs);
        assert!(m.abs() < 0.02 && (v - 1.0).abs() < 0.03);
        let ps: Vec<f64> = (0..40_000).map(|_| poisson(&mut rng, 3.5) as f64).collect();
        let (m, v) = mean_var(&ps);
        assert!((m - 3.5).abs() < 0.05 && (v - 3.5).abs() < 0.15);
    }
}
