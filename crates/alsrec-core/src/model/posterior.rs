//! What a Bayesian model keeps of its Gibbs chain besides the averaged parameters: the learned
//! precisions (which fold-ins use in place of λ, τ and γ) and each parameter's posterior
//! variance (the spread of a prediction). docs/model.md, "Bayesian ALS".

/// A side's prior N(m, Λ⁻¹) for the vectors and N(0, 1/γ) for the biases, averaged over the
/// kept sweeps.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPrior {
    /// m (k).
    pub mean: Vec<f32>,
    /// Λ (k × k, row-major, symmetric).
    pub precision: Vec<f32>,
    /// Λ m: the prior's term of every row's right-hand side.
    pub precision_times_mean: Vec<f32>,
    /// γ of this side's biases.
    pub bias_precision: f32,
}

impl RowPrior {
    /// N(m, Λ⁻¹) with Λ m computed.
    pub fn new(mean: Vec<f32>, precision: Vec<f32>, bias_precision: f32) -> RowPrior {
        let k = mean.len();
        debug_assert_eq!(precision.len(), k * k);
        let precision_times_mean = (0..k)
            .map(|i| {
                precision[i * k..(i + 1) * k]
                    .iter()
                    .zip(&mean)
                    .map(|(&a, &b)| a as f64 * b as f64)
                    .sum::<f64>() as f32
            })
            .collect();
        RowPrior {
            mean,
            precision,
            precision_times_mean,
            bias_precision,
        }
    }

    /// τ I and γ: the prior of a chain's first sweep, before any precision is learned.
    pub fn isotropic(k: usize, tau: f32, gamma: f32) -> RowPrior {
        let mut precision = vec![0f32; k * k];
        for i in 0..k {
            precision[i * k + i] = tau;
        }
        RowPrior::new(vec![0.0; k], precision, gamma)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    /// The learned noise precision: λ of the row systems (1 / the rating variance).
    pub noise_precision: f32,
    pub users: RowPrior,
    pub movies: RowPrior,
    /// How many sweeps the averages hold.
    pub samples: usize,
    /// Posterior variance of each vector coordinate (users × k, movies × k) and bias.
    pub user_factor_variance: Vec<f32>,
    pub user_bias_variance: Vec<f32>,
    pub movie_factor_variance: Vec<f32>,
    pub movie_bias_variance: Vec<f32>,
}

impl Posterior {
    /// The posterior standard deviation of r̂ = μ + b + c + u·v, treating the parameters as
    /// independent with the sampled means and variances:
    /// Var = Var b + Var c + Σ_d (v̄_d² σ²_u,d + ū_d² σ²_v,d + σ²_u,d σ²_v,d).
    /// (Without the noise: this is the uncertainty of the score, not of a new rating.)
    pub fn prediction_spread(&self, u: usize, i: usize, user: &[f32], movie: &[f32]) -> f32 {
        let k = user.len();
        let su = &self.user_factor_variance[u * k..(u + 1) * k];
        let sv = &self.movie_factor_variance[i * k..(i + 1) * k];
        let mut var = self.user_bias_variance[u] as f64 + self.movie_bias_variance[i] as f64;
        for d in 0..k {
            let (a, b) = (user[d] as f64, movie[d] as f64);
            let (va, vb) = (su[d] as f64, sv[d] as f64);
            var += b * b * va + a * a * vb + va * vb;
        }
        var.max(0.0).sqrt() as f32
    }
}
