//! The conjugate draws of a Gibbs sweep's hyperparameters: a side's vector prior N(m, Λ⁻¹)
//! from its Normal–Wishart or Normal–Gamma posterior, bias and noise precisions from Gamma
//! posteriors (docs/model.md, "Bayesian ALS"). Everything here is O(k³ + rows·k²), computed in
//! f64 and in a fixed order, so a draw depends on the seed and the data only.
use crate::kernels::dense::gramian;
use crate::kernels::isa::Isa;
use crate::model::config::Hyperprior;
use crate::model::posterior::RowPrior;
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::{ChiSquared, Distribution, Gamma, StandardNormal};

/// The hyperpriors' own parameters: weak, so that the data decide (Salakhutdinov & Mnih 2008
/// use the same μ₀ = 0, β₀ = 2, ν₀ = k, W₀ = I).
pub const BETA0: f64 = 2.0;
/// Shape and rate of the Gamma hyperpriors on precisions: a prior guess of variance 1 worth
/// two observations.
pub const GAMMA_SHAPE0: f64 = 1.0;
pub const GAMMA_RATE0: f64 = 1.0;

/// Σ x and Σ x xᵀ over the rows of a rows × k matrix, in f64.
pub struct RowMoments {
    pub rows: usize,
    pub sum: Vec<f64>,
    /// k × k, full.
    pub outer: Vec<f64>,
}

impl RowMoments {
    pub fn of(factors: &[f32], k: usize) -> RowMoments {
        let rows = factors.len().checked_div(k).unwrap_or(0);
        let mut sum = vec![0f64; k];
        for row in factors.chunks_exact(k) {
            for (s, &x) in sum.iter_mut().zip(row) {
                *s += x as f64;
            }
        }
        // The Gram kernel accumulates blocks of rows in f32 and their totals in f64.
        let outer = gramian(Isa::detected(), factors, k)
            .into_iter()
            .map(|x| x as f64)
            .collect();
        RowMoments { rows, sum, outer }
    }
}

/// A Gamma(shape, rate) draw; the rate is floored so a degenerate input stays finite.
fn gamma_draw(rng: &mut impl Rng, shape: f64, rate: f64) -> f64 {
    let rate = rate.max(1e-12);
    match Gamma::new(shape, 1.0 / rate) {
        Ok(g) => g.sample(rng),
        Err(_) => shape / rate,
    }
}

/// A precision with Gamma(a₀, b₀) prior given `count` zero-mean values whose squares sum to
/// `sum_sq`: Gamma(a₀ + count/2, b₀ + sum_sq/2). Noise precision and bias precisions.
pub fn precision_draw(rng: &mut impl Rng, count: usize, sum_sq: f64) -> f32 {
    let p = gamma_draw(
        rng,
        GAMMA_SHAPE0 + count as f64 / 2.0,
        GAMMA_RATE0 + sum_sq / 2.0,
    );
    clamp_precision(p)
}

/// Precisions are kept where f32 arithmetic in the row systems stays meaningful.
fn clamp_precision(p: f64) -> f32 {
    p.clamp(1e-6, 1e6) as f32
}

/// Zero-mean rows that also share the precision Λ (scaled by β): the genre vectors, whose prior
/// is N(0, (β Λ)⁻¹), inform Λ's posterior beside the movie vectors.
pub struct SharedRows {
    pub rows: usize,
    /// β Σ f fᵀ (k × k, full).
    pub scaled_outer: Vec<f64>,
}

/// A draw of N(m, Λ⁻¹)'s (m, Λ) from the hyperprior's posterior given the rows' moments (and
/// the rows that share Λ), and of the bias precision γ given the biases.
pub fn prior_draw(
    rng: &mut impl Rng,
    hyperprior: Hyperprior,
    moments: &RowMoments,
    shared: Option<&SharedRows>,
    k: usize,
    bias: &[f32],
) -> RowPrior {
    let (mean, precision) = match hyperprior {
        Hyperprior::Wishart => normal_wishart_draw(rng, moments, shared, k),
        Hyperprior::Gamma => normal_gamma_draw(rng, moments, shared, k),
    };
    let sum_sq: f64 = bias.iter().map(|&b| b as f64 * b as f64).sum();
    let gamma = precision_draw(rng, bias.len(), sum_sq);
    RowPrior::new(mean, precision, gamma)
}

/// The mean x̄ and the scatter N·S = Σ (x − x̄)(x − x̄)ᵀ.
fn mean_and_scatter(m: &RowMoments, k: usize) -> (DVector<f64>, DMatrix<f64>) {
    let n = m.rows.max(1) as f64;
    let mean = DVector::from_iterator(k, m.sum.iter().map(|s| s / n));
    let outer = DMatrix::from_row_slice(k, k, &m.outer);
    let scatter = outer - &mean * mean.transpose() * n;
    (mean, scatter)
}

/// Normal–Wishart posterior draw with μ₀ = 0, β₀, ν₀ = k, W₀ = I:
///   β* = β₀ + N, ν* = ν₀ + N, μ* = N x̄ / β*,
///   W*⁻¹ = I + N S + (β₀ N / β*) x̄ x̄ᵀ,
///   Λ ~ Wishart(W*, ν*) (Bartlett), m ~ N(μ*, (β* Λ)⁻¹).
fn normal_wishart_draw(
    rng: &mut impl Rng,
    moments: &RowMoments,
    shared: Option<&SharedRows>,
    k: usize,
) -> (Vec<f32>, Vec<f32>) {
    let n = moments.rows as f64;
    let (mean, scatter) = mean_and_scatter(moments, k);
    let beta = BETA0 + n;
    let mut nu = k as f64 + n;
    let mu_star = &mean * (n / beta);
    let mut w_inv =
        DMatrix::<f64>::identity(k, k) + scatter + &mean * mean.transpose() * (BETA0 * n / beta);
    if let Some(s) = shared {
        nu += s.rows as f64;
        w_inv += DMatrix::from_row_slice(k, k, &s.scaled_outer);
    }
    let w_inv = symmetrize(w_inv);
    // W* = (W*⁻¹)⁻¹ through its Cholesky factor; the identity keeps W*⁻¹ positive definite.
    let Some(w_inv_chol) = w_inv.clone().cholesky() else {
        return (vec![0.0; k], identity_f32(k));
    };
    let w = symmetrize(w_inv_chol.inverse());
    let Some(l) = w.cholesky().map(|c| c.l()) else {
        return (vec![0.0; k], identity_f32(k));
    };
    // Bartlett: A lower triangular, A_ii = √χ²(ν* − i), A_ij ~ N(0, 1) below the diagonal.
    let mut a = DMatrix::<f64>::zeros(k, k);
    for i in 0..k {
        let chi = ChiSquared::new(nu - i as f64).map_or(nu - i as f64, |c| c.sample(rng));
        a[(i, i)] = chi.sqrt();
        for j in 0..i {
            a[(i, j)] = rng.sample::<f64, _>(StandardNormal);
        }
    }
    let la = &l * a;
    let lambda = symmetrize(&la * la.transpose());
    let m = mean_draw(rng, &mu_star, &lambda, beta, k);
    (to_f32(m.as_slice()), matrix_f32(&lambda))
}

/// Normal–Gamma per coordinate with μ₀ = 0, β₀, a₀, b₀: independently for each d,
///   τ_d ~ Gamma(a₀ + N/2, b₀ + ½ N S_dd + β₀ N x̄_d² / (2 β*)), m_d ~ N(N x̄_d / β*, 1/(β* τ_d)).
fn normal_gamma_draw(
    rng: &mut impl Rng,
    moments: &RowMoments,
    shared: Option<&SharedRows>,
    k: usize,
) -> (Vec<f32>, Vec<f32>) {
    let n = moments.rows as f64;
    let (mean, scatter) = mean_and_scatter(moments, k);
    let beta = BETA0 + n;
    let mut m = vec![0f32; k];
    let mut precision = vec![0f32; k * k];
    let shared_rows = shared.map_or(0.0, |s| s.rows as f64);
    for d in 0..k {
        let shared_sq = shared.map_or(0.0, |s| s.scaled_outer[d * k + d]);
        let rate = GAMMA_RATE0
            + 0.5 * (scatter[(d, d)].max(0.0) + shared_sq)
            + BETA0 * n * mean[d] * mean[d] / (2.0 * beta);
        let shape = GAMMA_SHAPE0 + (n + shared_rows) / 2.0;
        let tau = clamp_precision(gamma_draw(rng, shape, rate)) as f64;
        let z: f64 = rng.sample(StandardNormal);
        m[d] = (n * mean[d] / beta + z / (beta * tau).sqrt()) as f32;
        precision[d * k + d] = tau as f32;
    }
    (m, precision)
}

/// m ~ N(μ*, (β Λ)⁻¹): with β Λ = C Cᵀ, m = μ* + C⁻ᵀ z.
fn mean_draw(
    rng: &mut impl Rng,
    mu: &DVector<f64>,
    lambda: &DMatrix<f64>,
    beta: f64,
    k: usize,
) -> DVector<f64> {
    let z = DVector::from_fn(k, |_, _| rng.sample::<f64, _>(StandardNormal));
    match (lambda * beta).cholesky() {
        Some(c) => {
            let offset = c
                .l()
                .transpose()
                .solve_upper_triangular(&z)
                .unwrap_or_else(|| DVector::zeros(k));
            mu + offset
        }
        None => mu.clone(),
    }
}

fn symmetrize(m: DMatrix<f64>) -> DMatrix<f64> {
    (&m + m.transpose()) * 0.5
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Row-major f32 copy, precisions clamped to the range the row systems handle.
fn matrix_f32(m: &DMatrix<f64>) -> Vec<f32> {
    let k = m.nrows();
    let mut out = vec![0f32; k * k];
    for i in 0..k {
        for j in 0..k {
            out[i * k + j] = m[(i, j)].clamp(-1e6, 1e6) as f32;
        }
    }
    out
}

fn identity_f32(k: usize) -> Vec<f32> {
    let mut out = vec![0f32; k * k];
    for i in 0..k {
        out[i * k + i] = 1.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::Normal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Rows drawn from N(m, diag(σ²)): the Wishart and Gamma draws recover m and 1/σ² closely
    /// when N is large (the posterior concentrates on the truth).
    #[test]
    fn hyperprior_draws_recover_a_known_prior() {
        let k = 4;
        let sigma = [0.5f64, 1.0, 2.0, 0.25];
        let mean = [1.0f64, -0.5, 0.0, 2.0];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let rows = 20_000;
        let mut x = vec![0f32; rows * k];
        for r in 0..rows {
            for d in 0..k {
                let n = Normal::new(mean[d], sigma[d]).unwrap();
                x[r * k + d] = n.sample(&mut rng) as f32;
            }
        }
        let moments = RowMoments::of(&x, k);
        for hp in [Hyperprior::Wishart, Hyperprior::Gamma] {
            let prior = prior_draw(&mut rng, hp, &moments, None, k, &[0.1, -0.1]);
            for d in 0..k {
                assert!(
                    (prior.mean[d] as f64 - mean[d]).abs() < 0.05,
                    "{hp:?} mean {d}: {}",
                    prior.mean[d]
                );
                let want = 1.0 / (sigma[d] * sigma[d]);
                let got = prior.precision[d * k + d] as f64;
                assert!(
                    (got / want - 1.0).abs() < 0.05,
                    "{hp:?} precision {d}: {got} vs {want}"
                );
                for e in 0..k {
                    if e != d {
                        let off = prior.precision[d * k + e] as f64;
                        assert!(
                            off.abs() < 0.05 * want.max(1.0),
                            "{hp:?} off-diagonal {d},{e}: {off}"
                        );
                    }
                }
            }
            // Λ m is what the row systems add.
            let lm: f64 = (0..k)
                .map(|e| prior.precision[e] as f64 * prior.mean[e] as f64)
                .sum();
            assert!((prior.precision_times_mean[0] as f64 - lm).abs() < 1e-4);
        }
    }

    #[test]
    fn noise_precision_follows_the_residuals() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        // 100k residuals of variance 0.8: precision ≈ 1.25.
        let p = precision_draw(&mut rng, 100_000, 0.8 * 100_000.0);
        assert!((p - 1.25).abs() < 0.02, "{p}");
    }
}
