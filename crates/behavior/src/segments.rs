//! Customer segments: k-means (k-means++ seeding, several restarts) on
//! standardised log-scaled RFM and tenure, k fixed or chosen by the
//! silhouette, and readable names from each centroid's ranks ("Champions",
//! "Loyal", "New", "At risk", "Hibernating", "Needs attention").

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What segmentation looks at, per customer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RfmPoint {
    pub recency_days: f64,
    pub frequency: f64,
    pub monetary: f64,
    pub tenure_days: f64,
}

/// A fitted segmentation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Segmentation {
    pub k: usize,
    /// Centroids in standardised space: [recency, frequency, monetary, tenure].
    pub centroids: Vec<[f64; 4]>,
    pub names: Vec<String>,
    /// Per-dimension mean and standard deviation of the transformed features.
    pub mean: [f64; 4],
    pub std: [f64; 4],
    /// Segment of each input point.
    pub assignments: Vec<usize>,
    pub sizes: Vec<usize>,
    /// Mean silhouette of the chosen k (on a sample of at most 3,000 points).
    pub silhouette: f64,
}

fn transform(p: &RfmPoint) -> [f64; 4] {
    [
        p.recency_days.max(0.0).ln_1p(),
        p.frequency.max(0.0).ln_1p(),
        p.monetary.max(0.0).ln_1p(),
        p.tenure_days.max(0.0).ln_1p(),
    ]
}

fn dist2(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

fn nearest(x: &[f64; 4], centroids: &[[f64; 4]]) -> usize {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centroids.iter().enumerate() {
        let d = dist2(x, c);
        if d < best.1 {
            best = (j, d);
        }
    }
    best.0
}

/// Lloyd's k-means with k-means++ seeding; returns (centroids, assignments, inertia).
fn kmeans(x: &[[f64; 4]], k: usize, rng: &mut StdRng) -> (Vec<[f64; 4]>, Vec<usize>, f64) {
    let mut centroids = vec![x[rng.gen_range(0..x.len())]];
    let mut d: Vec<f64> = x.iter().map(|p| dist2(p, &centroids[0])).collect();
    while centroids.len() < k {
        let total: f64 = d.iter().sum();
        let next = if total > 0.0 {
            let mut t = rng.r#gen::<f64>() * total;
            let mut pick = x.len() - 1;
            for (i, di) in d.iter().enumerate() {
                t -= di;
                if t <= 0.0 {
                    pick = i;
                    break;
                }
            }
            pick
        } else {
            rng.gen_range(0..x.len())
        };
        centroids.push(x[next]);
        for (i, p) in x.iter().enumerate() {
            d[i] = d[i].min(dist2(p, &x[next]));
        }
    }
    let mut assign = vec![0; x.len()];
    for _ in 0..100 {
        let mut changed = false;
        for (i, p) in x.iter().enumerate() {
            let j = nearest(p, &centroids);
            if j != assign[i] {
                assign[i] = j;
                changed = true;
            }
        }
        let mut sums = vec![[0.0; 4]; k];
        let mut counts = vec![0usize; k];
        for (p, &j) in x.iter().zip(&assign) {
            counts[j] += 1;
            for t in 0..4 {
                sums[j][t] += p[t];
            }
        }
        for j in 0..k {
            if counts[j] > 0 {
                for t in 0..4 {
                    centroids[j][t] = sums[j][t] / counts[j] as f64;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let inertia = x
        .iter()
        .zip(&assign)
        .map(|(p, &j)| dist2(p, &centroids[j]))
        .sum();
    (centroids, assign, inertia)
}

/// Mean silhouette over (a sample of) the points.
fn silhouette(x: &[[f64; 4]], assign: &[usize], k: usize) -> f64 {
    let step = (x.len() / 3000).max(1);
    let sample: Vec<usize> = (0..x.len()).step_by(step).collect();
    let mut total = 0.0;
    for &i in &sample {
        let mut sum = vec![0.0; k];
        let mut count = vec![0usize; k];
        for &j in &sample {
            if i != j {
                sum[assign[j]] += dist2(&x[i], &x[j]).sqrt();
                count[assign[j]] += 1;
            }
        }
        let own = assign[i];
        if count[own] == 0 {
            continue;
        }
        let a = sum[own] / count[own] as f64;
        let b = (0..k)
            .filter(|&c| c != own && count[c] > 0)
            .map(|c| sum[c] / count[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b);
        }
    }
    total / sample.len() as f64
}

/// Gives `name` to the unnamed centroid with the largest `key`.
fn pick(
    names: &mut [Option<&'static str>],
    centroids: &[[f64; 4]],
    name: &'static str,
    key: impl Fn(&[f64; 4]) -> f64,
) {
    if let Some(j) = (0..centroids.len())
        .filter(|&j| names[j].is_none())
        .max_by(|&a, &b| key(&centroids[a]).total_cmp(&key(&centroids[b])))
    {
        names[j] = Some(name);
    }
}

/// Names from centroid ranks (standardised; high recency = lapsed).
fn name_segments(centroids: &[[f64; 4]]) -> Vec<String> {
    let k = centroids.len();
    let value = |c: &[f64; 4]| c[1] + c[2];
    let mut names: Vec<Option<&'static str>> = vec![None; k];
    pick(&mut names, centroids, "Champions", |c| value(c) - c[0]);
    if k >= 2 {
        pick(&mut names, centroids, "Hibernating", |c| c[0] - value(c));
    }
    if k >= 3 {
        pick(&mut names, centroids, "New", |c| -c[3] - c[0]);
    }
    if k >= 4 {
        pick(&mut names, centroids, "At risk", |c| value(c) + c[0]);
    }
    if k >= 5 {
        pick(&mut names, centroids, "Loyal", |c| value(c) - c[0]);
    }
    let mut out = Vec::with_capacity(k);
    let mut extra = 0;
    for n in names {
        match n {
            Some(n) => out.push(n.to_string()),
            None => {
                extra += 1;
                out.push(if extra == 1 {
                    "Needs attention".to_string()
                } else {
                    format!("Needs attention {extra}")
                });
            }
        }
    }
    out
}

impl Segmentation {
    /// Fits `k` segments, or with `k = None` the k in 2..=6 with the best silhouette.
    pub fn fit(points: &[RfmPoint], k: Option<usize>, seed: u64) -> Result<Segmentation> {
        if points.len() < 10 {
            return Err(Error::InsufficientData(
                "segmentation needs at least 10 customers".into(),
            ));
        }
        if let Some(k) = k
            && !(1..=10).contains(&k)
        {
            return Err(Error::Invalid("k must be in 1..=10".into()));
        }
        let raw: Vec<[f64; 4]> = points.iter().map(transform).collect();
        if raw.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::Invalid("RFM values must be finite".into()));
        }
        let n = raw.len() as f64;
        let mut mean = [0.0; 4];
        let mut std = [0.0; 4];
        for t in 0..4 {
            mean[t] = raw.iter().map(|p| p[t]).sum::<f64>() / n;
            std[t] = (raw.iter().map(|p| (p[t] - mean[t]).powi(2)).sum::<f64>() / n)
                .sqrt()
                .max(1e-9);
        }
        let x: Vec<[f64; 4]> = raw
            .iter()
            .map(|p| std::array::from_fn(|t| (p[t] - mean[t]) / std[t]))
            .collect();
        let mut rng = StdRng::seed_from_u64(seed);
        let candidates: Vec<usize> = match k {
            Some(k) => vec![k],
            None => (2..=6).collect(),
        };
        let mut best: Option<(f64, Vec<[f64; 4]>, Vec<usize>)> = None;
        for &kk in &candidates {
            let (mut c, mut a, mut inertia) = kmeans(&x, kk, &mut rng);
            for _ in 0..4 {
                let (c2, a2, i2) = kmeans(&x, kk, &mut rng);
                if i2 < inertia {
                    (c, a, inertia) = (c2, a2, i2);
                }
            }
            let s = if kk >= 2 { silhouette(&x, &a, kk) } else { 0.0 };
            if best.as_ref().is_none_or(|b| s > b.0) {
                best = Some((s, c, a));
            }
        }
        let (silhouette, centroids, assignments) = best.expect("at least one k tried");
        let k = centroids.len();
        let mut sizes = vec![0; k];
        for &a in &assignments {
            sizes[a] += 1;
        }
        Ok(Segmentation {
            k,
            names: name_segments(&centroids),
            centroids,
            mean,
            std,
            assignments,
            sizes,
            silhouette,
        })
    }

    /// Segment index of a new point.
    pub fn assign(&self, p: &RfmPoint) -> usize {
        let raw = transform(p);
        let x: [f64; 4] = std::array::from_fn(|t| (raw[t] - self.mean[t]) / self.std[t]);
        nearest(&x, &self.centroids)
    }

    pub fn name_of(&self, p: &RfmPoint) -> &str {
        &self.names[self.assign(p)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(rng: &mut StdRng, n: usize, r: f64, f: f64, m: f64, t: f64) -> Vec<RfmPoint> {
        (0..n)
            .map(|_| {
                let j = |v: f64, rng: &mut StdRng| v * (1.0 + 0.1 * (rng.r#gen::<f64>() - 0.5));
                RfmPoint {
                    recency_days: j(r, rng),
                    frequency: j(f, rng),
                    monetary: j(m, rng),
                    tenure_days: j(t, rng),
                }
            })
            .collect()
    }

    #[test]
    fn separated_groups_get_their_names() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut pts = blob(&mut rng, 100, 5.0, 40.0, 5000.0, 300.0); // champions
        pts.extend(blob(&mut rng, 100, 300.0, 1.0, 20.0, 320.0)); // hibernating
        pts.extend(blob(&mut rng, 100, 3.0, 1.0, 30.0, 4.0)); // new
        pts.extend(blob(&mut rng, 100, 150.0, 30.0, 4000.0, 350.0)); // at risk
        let seg = Segmentation::fit(&pts, Some(4), 7).unwrap();
        let expect = [
            (0, "Champions"),
            (100, "Hibernating"),
            (200, "New"),
            (300, "At risk"),
        ];
        for (i, name) in expect {
            assert_eq!(seg.names[seg.assignments[i]], name, "{:?}", seg.names);
            assert_eq!(seg.name_of(&pts[i + 1]), name);
        }
        assert!(seg.sizes.iter().all(|&s| s == 100), "{:?}", seg.sizes);

        let auto = Segmentation::fit(&pts, None, 7).unwrap();
        assert_eq!(auto.k, 4, "silhouette should find the four groups");
    }

    #[test]
    fn too_few_points_are_refused() {
        let p = RfmPoint {
            recency_days: 1.0,
            frequency: 1.0,
            monetary: 1.0,
            tenure_days: 1.0,
        };
        assert!(Segmentation::fit(&[p; 3], Some(2), 1).is_err());
    }
}
