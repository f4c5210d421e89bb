//! Training options: the napi types TypeScript re-exports, converted into the core's
//! `TrainConfig`, which fills the defaults of the model kind and validates.
use alsrec_core::model::config as core;
use alsrec_core::schema::seed_from_signed;
use napi_derive::napi;

/// Which model to train.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// μ + b_u + c_i.
    Bias,
    /// μ + b_u + c_i + u·v.
    Biased,
    /// As 'biased', with movie vectors drawn toward their genres' learned vectors (the default).
    Genre,
    /// Implicit-feedback ALS (Hu, Koren, Volinsky 2008).
    Implicit,
    /// Baseline: the most-rated movies; predicts no ratings.
    Popular,
    /// Baseline: movies by damped mean rating, the same for everyone.
    Toprated,
    /// 'biased' averaged over Gibbs samples of its posterior: learns λ, τ and γ from the data.
    Bayesian,
}

impl From<ModelKind> for core::ModelKind {
    fn from(kind: ModelKind) -> Self {
        match kind {
            ModelKind::Bias => core::ModelKind::Bias,
            ModelKind::Biased => core::ModelKind::Biased,
            ModelKind::Genre => core::ModelKind::Genre,
            ModelKind::Implicit => core::ModelKind::Implicit,
            ModelKind::Popular => core::ModelKind::Popular,
            ModelKind::Toprated => core::ModelKind::Toprated,
            ModelKind::Bayesian => core::ModelKind::Bayesian,
        }
    }
}

/// How the implicit model solves a row.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImplicitSolver {
    /// A few conjugate-gradient steps from the previous vector (fast).
    Cg,
    /// The exact minimizer by Cholesky.
    Cholesky,
}

impl From<ImplicitSolver> for core::ImplicitSolver {
    fn from(solver: ImplicitSolver) -> Self {
        match solver {
            ImplicitSolver::Cg => core::ImplicitSolver::Cg,
            ImplicitSolver::Cholesky => core::ImplicitSolver::Cholesky,
        }
    }
}

/// The hyperprior of a Bayesian model's vector prior N(m, Λ⁻¹).
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hyperprior {
    /// Normal–Wishart: a full precision matrix.
    Wishart,
    /// Normal–Gamma per coordinate: a diagonal precision.
    Gamma,
}

impl From<Hyperprior> for core::Hyperprior {
    fn from(h: Hyperprior) -> Self {
        match h {
            Hyperprior::Wishart => core::Hyperprior::Wishart,
            Hyperprior::Gamma => core::Hyperprior::Gamma,
        }
    }
}

/// Training options. Defaults depend on `model` (the best settings of `scripts/tune-als.mjs` on
/// ml-latest-small); given keys override them. Unknown keys are rejected.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct TrainConfig {
    /// 'genre' (default: biases + vectors drawn toward their genres), 'biased' (μ + b + c + u·v),
    /// 'bias' (μ + b + c), 'implicit' (Hu–Koren–Volinsky), and two non-personalized baselines:
    /// 'popular' (most rated; predicts no ratings) and 'toprated' (damped mean rating, with γ/λ the
    /// number of prior ratings at μ; default 10).
    pub model: Option<ModelKind>,
    /// k, the length of the latent vectors (1–1024).
    pub factors: Option<u32>,
    /// λ, weight of the data term.
    pub lambda: Option<f64>,
    /// τ, regularization of the latent vectors.
    pub tau: Option<f64>,
    /// γ, regularization of the biases.
    pub gamma: Option<f64>,
    /// β, regularization of the genre vectors (genre model).
    pub beta: Option<f64>,
    /// α, confidence slope (implicit model).
    pub alpha: Option<f64>,
    pub epochs: Option<u32>,
    pub seed: Option<i64>,
    /// Worker threads; all cores by default (or null).
    #[napi(ts_type = "number | null")]
    pub threads: Option<Option<u32>>,
    /// Standard deviation of the initial latent vectors.
    pub init_scale: Option<f64>,
    /// Stop when the loss improves by less than this fraction in an epoch (0 disables).
    pub tolerance: Option<f64>,
    /// Stop after this many epochs without a better test RMSE and keep the best; needs `testSet` (an error without one).
    #[napi(ts_type = "number | null")]
    pub patience: Option<Option<u32>>,
    /// ALS-WR (as in Spark): scale each user's and movie's τ and γ by its number of ratings.
    pub weighted_regularization: Option<bool>,
    /// Implicit model: 'cg' (a few conjugate-gradient steps from the previous vector) or 'cholesky' (exact).
    pub solver: Option<ImplicitSolver>,
    /// Implicit model with the CG solver: steps per row and half-step (1–256, default 3).
    pub cg_steps: Option<u32>,
    /// 'biased' and 'genre' models: the implicit model trained beside them that ranks their lists
    /// (on by default; `null` ranks by the predicted rating). Given keys override the defaults.
    /// See docs/ranking.md.
    #[napi(ts_type = "RankerConfig | null")]
    pub ranker: Option<Option<RankerConfig>>,
    /// 'popular' only: weigh each rating 2^(−age/h), h in days counted back from the newest training rating, so the list is what is popular lately (needs timestamps; absent or null: every rating counts 1).
    #[napi(ts_type = "number | null")]
    pub recency_half_life: Option<Option<f64>>,
    /// 'bayesian' only: sweeps discarded before the averaging starts (default 10; less than `epochs`, the number of sweeps, default 150).
    pub burn_in: Option<u32>,
    /// 'bayesian' only: 'wishart' (a full prior precision, the default) or 'gamma' (diagonal).
    pub hyperprior: Option<Hyperprior>,
    /// 'bayesian' only: draw movie vectors around their genres' vectors, drawn too (default true).
    pub genre_priors: Option<bool>,
}

/// The ranker of an explicit model: s(u, i) = s_u·x_u·y_i + w_u·(r̂ − μ − b_u) − d·ln(1 + n_i) (docs/ranking.md).
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct RankerConfig {
    /// k of the ranker's vectors (default 128).
    pub factors: Option<u32>,
    /// τ of the ranker (default 30).
    pub tau: Option<f64>,
    /// α of the ranker's confidence 1 + α·r (default 1).
    pub alpha: Option<f64>,
    /// Epochs of the ranker (default 15).
    pub epochs: Option<u32>,
    /// CG steps per row and half-step (default 3).
    pub cg_steps: Option<u32>,
    /// w: weight of the predicted rating in the ranking (default 0.1).
    pub rating_weight: Option<f64>,
    /// n₀: a user with n ratings weighs the predicted rating w·n/(n + n₀) (default 10).
    pub rating_support: Option<f64>,
    /// d: penalty per unit of ln(1 + ratings of the movie); the starting value when it is learned.
    pub popularity_penalty: Option<f64>,
    /// Choose d on a 10 % validation split of the training ratings (default true); the trained model's config holds the chosen d.
    pub learn_popularity_penalty: Option<bool>,
    /// b: added to the score of films sharing a title series with a film the user rated at or above their mean (docs/ranking.md); the starting value when it is learned (default 0.1).
    pub series_bonus: Option<f64>,
    /// Choose b on the same validation split as d (default true); the trained model's config holds the chosen b.
    pub learn_series_bonus: Option<bool>,
}

/// A JavaScript number as the core's f32, with -0 read as 0 as JSON would.
fn f32_of(x: f64) -> f32 {
    (x + 0.0) as f32
}

fn count(x: u32) -> usize {
    x as usize
}

impl From<RankerConfig> for core::RankerConfig {
    /// Given keys over the ranker's defaults.
    fn from(js: RankerConfig) -> Self {
        let RankerConfig {
            factors,
            tau,
            alpha,
            epochs,
            cg_steps,
            rating_weight,
            rating_support,
            popularity_penalty,
            learn_popularity_penalty,
            series_bonus,
            learn_series_bonus,
        } = js;
        let d = core::RankerConfig::default();
        core::RankerConfig {
            factors: factors.map_or(d.factors, count),
            tau: tau.map_or(d.tau, f32_of),
            alpha: alpha.map_or(d.alpha, f32_of),
            epochs: epochs.map_or(d.epochs, count),
            cg_steps: cg_steps.map_or(d.cg_steps, count),
            rating_weight: rating_weight.map_or(d.rating_weight, f32_of),
            rating_support: rating_support.map_or(d.rating_support, f32_of),
            popularity_penalty: popularity_penalty.map_or(d.popularity_penalty, f32_of),
            learn_popularity_penalty: learn_popularity_penalty
                .unwrap_or(d.learn_popularity_penalty),
            series_bonus: series_bonus.map_or(d.series_bonus, f32_of),
            learn_series_bonus: learn_series_bonus.unwrap_or(d.learn_series_bonus),
        }
    }
}

impl TryFrom<TrainConfig> for core::TrainConfig {
    type Error = alsrec_core::Error;

    /// Given keys over the defaults of the model kind, then the core's validation. Every field
    /// is named on both sides, so a key added to one struct and not the other does not compile.
    fn try_from(js: TrainConfig) -> alsrec_core::Result<Self> {
        let TrainConfig {
            model,
            factors,
            lambda,
            tau,
            gamma,
            beta,
            alpha,
            epochs,
            seed,
            threads,
            init_scale,
            tolerance,
            patience,
            weighted_regularization,
            solver,
            cg_steps,
            ranker,
            recency_half_life,
            burn_in,
            hyperprior,
            genre_priors,
        } = js;
        let d = core::TrainConfig::defaults_for(model.map(Into::into).unwrap_or_default());
        let seed = seed.map_or(Ok(d.seed), seed_from_signed)?;
        let config = core::TrainConfig {
            model: d.model,
            factors: factors.map_or(d.factors, count),
            lambda: lambda.map_or(d.lambda, f32_of),
            tau: tau.map_or(d.tau, f32_of),
            gamma: gamma.map_or(d.gamma, f32_of),
            beta: beta.map_or(d.beta, f32_of),
            alpha: alpha.map_or(d.alpha, f32_of),
            epochs: epochs.map_or(d.epochs, count),
            seed,
            threads: threads.map_or(d.threads, |t| t.map(count)),
            init_scale: init_scale.map_or(d.init_scale, f32_of),
            tolerance: tolerance.map_or(d.tolerance, |t| t + 0.0),
            patience: patience.map_or(d.patience, |p| p.map(count)),
            weighted_regularization: weighted_regularization.unwrap_or(d.weighted_regularization),
            solver: solver.map_or(d.solver, Into::into),
            cg_steps: cg_steps.map_or(d.cg_steps, count),
            ranker: match ranker {
                None => d.ranker,
                Some(None) => None,
                Some(Some(r)) => Some(r.into()),
            },
            recency_half_life: recency_half_life
                .map_or(d.recency_half_life, |h| h.map(|h| h + 0.0)),
            burn_in: burn_in.map_or(d.burn_in, count),
            hyperprior: hyperprior.map_or(d.hyperprior, Into::into),
            genre_priors: genre_priors.unwrap_or(d.genre_priors),
        };
        config.validate()?;
        Ok(config)
    }
}

/// The core's schema of a training config: its keys and its ranker's (the keys the model file
/// stores, in order) and the names of its enums. The TypeScript layer's checks, the experiment
/// schema, the CLI flags and the model-file reader are tested against these lists.
#[napi(object, object_from_js = false)]
pub struct TrainConfigSchema {
    pub keys: Vec<String>,
    pub ranker_keys: Vec<String>,
    pub model_kinds: Vec<String>,
    pub solvers: Vec<String>,
    pub hyperpriors: Vec<String>,
}

#[napi]
pub fn train_config_schema() -> TrainConfigSchema {
    let owned = |names: &[&str]| names.iter().map(|k| k.to_string()).collect();
    TrainConfigSchema {
        keys: owned(core::TrainConfig::keys()),
        ranker_keys: owned(core::RankerConfig::keys()),
        model_kinds: owned(core::ModelKind::names()),
        solvers: owned(core::ImplicitSolver::names()),
        hyperpriors: owned(core::Hyperprior::names()),
    }
}

/// The defaults of a model kind as the core fills them in (JSON of its `TrainConfig`): what a
/// training config's missing keys take.
#[napi]
pub fn default_train_config_json(model: ModelKind) -> napi::Result<String> {
    serde_json::to_string(&core::TrainConfig::defaults_for(model.into()))
        .map_err(|e| napi::Error::from_reason(format!("default config: {e}")))
}
