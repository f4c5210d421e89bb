//! Training options, with the ranges the API promises and messages that name the bad key.
use crate::schema::serde_names;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// μ + b_u + c_i.
    Bias,
    /// μ + b_u + c_i + u·v.
    Biased,
    /// As `Biased`, with item vectors drawn toward their genres' learned vectors: the default,
    /// best in test RMSE and, with its ranker, in NDCG@10 on ml-latest-small.
    #[default]
    Genre,
    /// Implicit-feedback ALS (Hu, Koren, Volinsky 2008).
    Implicit,
    /// Baseline: the most-rated movies (score ln(1 + ratings)); predicts no ratings.
    Popular,
    /// Baseline: movies by damped mean rating μ + Σ(r − μ)/(n + γ/λ), the same for everyone.
    Toprated,
    /// The biased model's prediction, averaged over Gibbs samples of its posterior, with
    /// hyperpriors that learn λ (the noise precision), τ (as a prior precision matrix) and γ
    /// from the data (docs/model.md, "Bayesian ALS").
    Bayesian,
}

impl ModelKind {
    /// Every kind's name, in declaration order.
    pub fn names() -> &'static [&'static str] {
        serde_names::<ModelKind>()
    }

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Bias => "bias",
            ModelKind::Biased => "biased",
            ModelKind::Genre => "genre",
            ModelKind::Implicit => "implicit",
            ModelKind::Popular => "popular",
            ModelKind::Toprated => "toprated",
            ModelKind::Bayesian => "bayesian",
        }
    }

    /// The non-personalized baselines, fitted in one pass.
    pub fn is_baseline(self) -> bool {
        matches!(self, ModelKind::Popular | ModelKind::Toprated)
    }

    /// Whether the model predicts ratings (on the training scale).
    pub fn predicts_ratings(self) -> bool {
        !matches!(self, ModelKind::Implicit | ModelKind::Popular)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct TrainConfig {
    pub model: ModelKind,
    /// k, the length of the latent vectors (ignored by the bias-only model).
    pub factors: usize,
    /// λ, weight of the data term.
    pub lambda: f32,
    /// τ, regularization of the latent vectors.
    pub tau: f32,
    /// γ, regularization of the biases.
    pub gamma: f32,
    /// β, regularization of the genre vectors (genre model).
    pub beta: f32,
    /// α, confidence slope c = 1 + α·r (implicit model).
    pub alpha: f32,
    pub epochs: usize,
    pub seed: u64,
    /// Worker threads; all cores when absent.
    pub threads: Option<usize>,
    /// Standard deviation of the initial latent vectors.
    pub init_scale: f32,
    /// Stop when the loss improves by less than this fraction in an epoch (0 disables).
    pub tolerance: f64,
    /// With a test set: stop after this many epochs without a better test RMSE and keep the best.
    pub patience: Option<usize>,
    /// ALS-WR (as in Spark): scale each row's τ and γ by its number of ratings (explicit models).
    pub weighted_regularization: bool,
    /// Implicit model: how each row is solved.
    pub solver: ImplicitSolver,
    /// Implicit model with the CG solver: conjugate-gradient steps per row and half-step.
    pub cg_steps: usize,
    /// Explicit models with vectors: the implicit model trained beside them that decides what
    /// is worth recommending (`None` ranks by the predicted rating). See [`RankerConfig`].
    pub ranker: Option<RankerConfig>,
    /// `popular` only: count each rating with weight 2^(−age / h), h in days and the age taken
    /// from the newest training rating, so the list is what is popular *lately* (`None`: every
    /// rating counts 1). Needs timestamps.
    pub recency_half_life: Option<f64>,
    /// `bayesian` only: the first sweeps, discarded while the chain settles; the model averages
    /// the `epochs − burnIn` sweeps after them.
    pub burn_in: usize,
    /// `bayesian` only: the hyperprior of the user and movie vectors' prior (mean, precision).
    pub hyperprior: Hyperprior,
    /// `bayesian` only: draw each movie's vector around its genres' vectors, which are drawn
    /// too (the `genre` model's prior, with β learned).
    pub genre_priors: bool,
}

/// The hyperprior of a Bayesian model's vector prior N(m, Λ⁻¹).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Hyperprior {
    /// Normal–Wishart: a full precision matrix Λ (Salakhutdinov & Mnih 2008).
    #[default]
    Wishart,
    /// Normal–Gamma per coordinate: a diagonal Λ.
    Gamma,
}

impl Hyperprior {
    /// Every hyperprior's name, in declaration order.
    pub fn names() -> &'static [&'static str] {
        serde_names::<Hyperprior>()
    }
}

/// The ranker of an explicit model: implicit ALS on the same ratings (confidence 1 + α·r),
/// blended with the explicit model's predicted rating and a popularity penalty. A movie's
/// ranking score for user u is
///
///   s(u, i) = s_u·x_u·y_i + w_u·(r̂(u, i) − μ − b_u) − d·ln(1 + n_i)
///
/// with x, y the ranker's vectors, s_u = max(1, median |x| / |x_u|), w_u = w·m_u/(m_u + n₀)
/// for a user with m_u ratings (w = `ratingWeight`, n₀ = `ratingSupport`), d =
/// `popularityPenalty` and n_i the movie's training ratings (`docs/ranking.md`), plus
/// b = `seriesBonus` for the films of a title series the user liked. The predicted
/// rating r̂ is still what the model shows and what its RMSE measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RankerConfig {
    /// k of the ranker's vectors.
    pub factors: usize,
    /// τ of the ranker (its λ is 1).
    pub tau: f32,
    /// α of the ranker's confidence 1 + α·r.
    pub alpha: f32,
    pub epochs: usize,
    pub cg_steps: usize,
    /// w: how much the predicted rating moves a movie up or down the list.
    pub rating_weight: f32,
    /// n₀: a user with n ratings gets the rating weight w·n/(n + n₀).
    pub rating_support: f32,
    /// d: the penalty per unit of ln(1 + ratings) that keeps lists from being the most-rated.
    pub popularity_penalty: f32,
    /// Choose d on a validation split of the training ratings
    /// ([`crate::als::ranker::learn_rank_terms`]); the trained model's config holds the chosen
    /// d with this set to false.
    pub learn_popularity_penalty: bool,
    /// b: added to the score of every film that shares a title series with a film the user
    /// rated at or above their mean ([`crate::query::series`]).
    pub series_bonus: f32,
    /// Choose b on the validation split that chooses d; the trained model's config holds the
    /// chosen b with this set to false.
    pub learn_series_bonus: bool,
}

/// Chosen on an inner validation split of ml-latest-small's seeded 80/20 training set
/// (`scripts/tune-ranker.mjs`): the best NDCG@10 whose catalog coverage stays at least that of
/// the reference implicit-ALS library.
impl Default for RankerConfig {
    fn default() -> Self {
        RankerConfig {
            factors: 128,
            tau: 30.0,
            alpha: 1.0,
            epochs: 15,
            cg_steps: 3,
            rating_weight: 0.1,
            rating_support: 10.0,
            popularity_penalty: 0.07,
            learn_popularity_penalty: true,
            series_bonus: 0.1,
            learn_series_bonus: true,
        }
    }
}

impl RankerConfig {
    /// The keys a ranker config holds, in declaration order (see [`serde_names`]).
    pub fn keys() -> &'static [&'static str] {
        serde_names::<RankerConfig>()
    }

    pub fn validate(&self) -> Result<()> {
        if !(1..=1024).contains(&self.factors) {
            return Err(Error::invalid_argument(format!(
                "ranker.factors must be an integer from 1 to 1024 (got {})",
                self.factors
            )));
        }
        for (name, value) in [
            ("tau", self.tau),
            ("alpha", self.alpha),
            ("ratingWeight", self.rating_weight),
            ("ratingSupport", self.rating_support),
            ("popularityPenalty", self.popularity_penalty),
            ("seriesBonus", self.series_bonus),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::invalid_argument(format!(
                    "ranker.{name} must be a finite number ≥ 0 (got {value})"
                )));
            }
        }
        if self.tau == 0.0 {
            return Err(Error::invalid_argument(
                "ranker.tau must be > 0: the ranker's rows are solved by CG, which needs it",
            ));
        }
        if !(1..=10_000).contains(&self.epochs) {
            return Err(Error::invalid_argument(format!(
                "ranker.epochs must be an integer from 1 to 10000 (got {})",
                self.epochs
            )));
        }
        if !(1..=256).contains(&self.cg_steps) {
            return Err(Error::invalid_argument(format!(
                "ranker.cgSteps must be an integer from 1 to 256 (got {})",
                self.cg_steps
            )));
        }
        Ok(())
    }

    /// The implicit model's training config, with the parent's seed and threads.
    pub fn implicit_config(&self, parent: &TrainConfig) -> TrainConfig {
        TrainConfig {
            model: ModelKind::Implicit,
            factors: self.factors,
            lambda: 1.0,
            tau: self.tau,
            alpha: self.alpha,
            epochs: self.epochs,
            seed: parent.seed,
            threads: parent.threads,
            tolerance: 0.0,
            cg_steps: self.cg_steps,
            ranker: None,
            ..TrainConfig::defaults_for(ModelKind::Implicit)
        }
    }
}

/// How the implicit model solves a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ImplicitSolver {
    /// A few conjugate-gradient steps warm-started from the previous vector (fast).
    #[default]
    Cg,
    /// The exact minimizer by Cholesky.
    Cholesky,
}

impl ImplicitSolver {
    /// Every solver's name, in declaration order.
    pub fn names() -> &'static [&'static str] {
        serde_names::<ImplicitSolver>()
    }
}

/// The biased model's defaults (see [`TrainConfig::defaults_for`]).
impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            model: ModelKind::Biased,
            factors: 32,
            lambda: 1.0,
            tau: 15.0,
            gamma: 2.0,
            beta: 1.0,
            alpha: 10.0,
            epochs: 15,
            seed: 42,
            threads: None,
            init_scale: 0.1,
            tolerance: 1e-4,
            patience: None,
            weighted_regularization: false,
            solver: ImplicitSolver::Cg,
            cg_steps: 3,
            ranker: Some(RankerConfig::default()),
            recency_half_life: None,
            burn_in: 0,
            hyperprior: Hyperprior::Wishart,
            genre_priors: false,
        }
    }
}

impl TrainConfig {
    /// The keys a training config holds, in declaration order: the names the API takes and the
    /// model file stores (see [`serde_names`]).
    pub fn keys() -> &'static [&'static str] {
        serde_names::<TrainConfig>()
    }

    /// The defaults of a model kind: the best settings of the grid search in
    /// `scripts/tune-als.mjs` on ml-latest-small (seeded 80/20 random split, λ = 1):
    /// bias γ = 2 → test RMSE 0.860; biased k = 32, τ = 15, γ = 2 → 0.844; genre k = 32, τ = 20,
    /// γ = 5, β = 0.1 → 0.833 (k = 64 gains only 0.0004). Implicit: k = 128, τ = 30, α = 1, the
    /// ranker's settings (tuned by NDCG@10, `scripts/tune-ranker.mjs`). The bias-only model is a
    /// baseline and has no ranker; the vector models rank with one by default.
    pub fn defaults_for(model: ModelKind) -> TrainConfig {
        let base = TrainConfig {
            model,
            ..TrainConfig::default()
        };
        match model {
            ModelKind::Bias => TrainConfig {
                gamma: 2.0,
                ranker: None,
                ..base
            },
            ModelKind::Biased => base,
            ModelKind::Genre => TrainConfig {
                factors: 32,
                tau: 20.0,
                gamma: 5.0,
                beta: 0.1,
                epochs: 30,
                ..base
            },
            // γ/λ = 10: a movie's mean counts as much as ten ratings at μ.
            ModelKind::Popular | ModelKind::Toprated => TrainConfig {
                gamma: 10.0,
                epochs: 1,
                ranker: None,
                ..base
            },
            ModelKind::Implicit => TrainConfig {
                factors: 128,
                tau: 30.0,
                alpha: 1.0,
                ranker: None,
                ..base
            },
            // λ, τ and γ are the chain's starting values; the sweeps learn them. Sweeps and
            // burn-in chosen on an inner validation split of ml-latest-small's seeded 80/20
            // training set (`scripts/tune-bayesian.mjs`): 150 sweeps, 10 burnt → 0.832.
            ModelKind::Bayesian => TrainConfig {
                factors: 32,
                epochs: 150,
                burn_in: 10,
                tolerance: 0.0,
                genre_priors: true,
                ..base
            },
        }
    }

    /// Parses a JSON object over the defaults of its model kind; unknown keys are rejected with
    /// the list of allowed ones.
    pub fn from_json(json: &str) -> Result<TrainConfig> {
        let invalid =
            |e: serde_json::Error| Error::invalid_argument(format!("invalid training config: {e}"));
        let given: serde_json::Value = serde_json::from_str(json).map_err(invalid)?;
        let serde_json::Value::Object(given) = given else {
            return Err(Error::invalid_argument(
                "invalid training config: expected an object",
            ));
        };
        let keys = TrainConfig::keys();
        if let Some(key) = given.keys().find(|k| !keys.contains(&k.as_str())) {
            return Err(Error::invalid_argument(format!(
                "invalid training config: unknown field `{key}`; allowed keys: {}",
                keys.join(", ")
            )));
        }
        let kind = match given.get("model") {
            Some(m) => serde_json::from_value::<ModelKind>(m.clone()).map_err(invalid)?,
            None => ModelKind::default(),
        };
        let mut merged = match serde_json::to_value(TrainConfig::defaults_for(kind)) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => {
                return Err(Error::internal(
                    "default config did not serialize to an object",
                ))
            }
        };
        merged.extend(given);
        let config: TrainConfig =
            serde_json::from_value(serde_json::Value::Object(merged)).map_err(invalid)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<()> {
        if !(1..=1024).contains(&self.factors) {
            return Err(Error::invalid_argument(format!(
                "factors must be an integer from 1 to 1024 (got {})",
                self.factors
            )));
        }
        for (name, value) in [
            ("lambda", self.lambda),
            ("tau", self.tau),
            ("gamma", self.gamma),
            ("beta", self.beta),
            ("alpha", self.alpha),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::invalid_argument(format!(
                    "{name} must be a finite number ≥ 0 (got {value})"
                )));
            }
        }
        if self.lambda == 0.0 {
            return Err(Error::invalid_argument(
                "lambda must be > 0: it weighs the data, and 0 ignores it",
            ));
        }
        if self.epochs == 0 {
            return Err(Error::invalid_argument("epochs must be at least 1 (got 0)"));
        }
        if let Some(t) = self.threads {
            if !(1..=crate::runtime::pool::MAX_THREADS).contains(&t) {
                return Err(Error::invalid_argument(format!(
                    "threads must be a whole number from 1 to {} (got {t})",
                    crate::runtime::pool::MAX_THREADS
                )));
            }
        }
        if !(self.init_scale.is_finite() && self.init_scale >= 0.0) {
            return Err(Error::invalid_argument(format!(
                "initScale must be a finite number ≥ 0 (got {})",
                self.init_scale
            )));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::invalid_argument(format!(
                "tolerance must be a finite number ≥ 0 (got {})",
                self.tolerance
            )));
        }
        if !(1..=256).contains(&self.cg_steps) {
            return Err(Error::invalid_argument(format!(
                "cgSteps must be an integer from 1 to 256 (got {})",
                self.cg_steps
            )));
        }
        if self.model == ModelKind::Bayesian {
            self.validate_bayesian()?;
        } else if self.burn_in != 0 || self.genre_priors {
            return Err(Error::invalid_argument(format!(
                "{} applies to the 'bayesian' model, not '{}'",
                if self.burn_in != 0 {
                    "burnIn"
                } else {
                    "genrePriors"
                },
                self.model.name()
            )));
        }
        if let Some(r) = &self.ranker {
            if !matches!(
                self.model,
                ModelKind::Biased | ModelKind::Genre | ModelKind::Bayesian
            ) {
                return Err(Error::invalid_argument(format!(
                    "ranker applies to the 'biased', 'genre' and 'bayesian' models, not '{}' (set it to null)",
                    self.model.name()
                )));
            }
            r.validate()?;
        }
        if let Some(h) = self.recency_half_life {
            if self.model != ModelKind::Popular {
                return Err(Error::invalid_argument(format!(
                    "recencyHalfLife applies to the 'popular' model, not '{}'",
                    self.model.name()
                )));
            }
            // Below a minute the weights underflow to 0 for all but the newest second.
            if !(h.is_finite() && (1e-3..=1e6).contains(&h)) {
                return Err(Error::invalid_argument(format!(
                    "recencyHalfLife must be a number of days from 0.001 to 1000000 (got {h})"
                )));
            }
        }
        if self.patience == Some(0) {
            return Err(Error::invalid_argument(
                "patience must be at least 1 (got 0)",
            ));
        }
        Ok(())
    }

    /// What Gibbs sampling cannot honour, refused rather than ignored.
    fn validate_bayesian(&self) -> Result<()> {
        if self.burn_in >= self.epochs {
            return Err(Error::invalid_argument(format!(
                "burnIn must be less than epochs, the number of sweeps, so that some are kept (got burnIn {} with epochs {})",
                self.burn_in, self.epochs
            )));
        }
        if self.tolerance != 0.0 {
            return Err(Error::invalid_argument(
                "tolerance does not apply to 'bayesian': a Gibbs chain does not converge to a loss minimum (set epochs and burnIn)",
            ));
        }
        if self.patience.is_some() {
            return Err(Error::invalid_argument(
                "patience does not apply to 'bayesian': its prediction is the average of every kept sweep",
            ));
        }
        if self.weighted_regularization {
            return Err(Error::invalid_argument(
                "weightedRegularization does not apply to 'bayesian': it learns its prior precisions from the data",
            ));
        }
        if self.tau == 0.0 || self.gamma == 0.0 {
            return Err(Error::invalid_argument(
                "tau and gamma must be > 0 for 'bayesian': they are the first sweep's prior precisions",
            ));
        }
        Ok(())
    }

    /// Whether the model has genre vectors: the `genre` model, and `bayesian` with genre priors.
    pub fn has_genre_vectors(&self) -> bool {
        self.model == ModelKind::Genre || (self.model == ModelKind::Bayesian && self.genre_priors)
    }

    /// The latent dimension actually trained: 0 for the bias-only model.
    pub fn latent_dim(&self) -> usize {
        match self.model {
            ModelKind::Bias | ModelKind::Popular | ModelKind::Toprated => 0,
            _ => self.factors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_values_and_unknown_keys() {
        assert!(TrainConfig::from_json(r#"{"factors": 8, "lambda": 1}"#).is_ok());
        let e = TrainConfig::from_json(r#"{"factor": 8}"#).unwrap_err();
        assert!(
            e.message.contains("unknown field `factor`") && e.message.contains("cgSteps"),
            "{}",
            e.message
        );
        let e = TrainConfig::from_json(r#"{"factors": 0}"#).unwrap_err();
        assert!(e.message.contains("1 to 1024"));
        let e = TrainConfig::from_json(r#"{"tau": -1}"#).unwrap_err();
        assert!(e.message.contains("tau"));
        let e = TrainConfig::from_json(r#"{"model": "svd"}"#).unwrap_err();
        assert!(e.message.contains("biased"), "{}", e.message);
        let e = TrainConfig::from_json(r#"{"cgSteps": 0}"#).unwrap_err();
        assert!(e.message.contains("cgSteps"), "{}", e.message);
        let e = TrainConfig::from_json(r#"{"solver": "lu"}"#).unwrap_err();
        assert!(e.message.contains("cholesky"), "{}", e.message);
        let e = TrainConfig::from_json(r#"{"threads": 0}"#).unwrap_err();
        assert!(e.message.contains("threads"), "{}", e.message);
        let e = TrainConfig::from_json(r#"{"epochs": 0}"#).unwrap_err();
        assert!(e.message.contains("epochs"), "{}", e.message);
        let e = TrainConfig::from_json(r#"{"weightedRegularization": 1}"#).unwrap_err();
        assert!(e.message.contains("boolean"), "{}", e.message);
        let e = TrainConfig::from_json("[1]").unwrap_err();
        assert!(e.message.contains("object"), "{}", e.message);
        // Defaults follow the model kind; given keys override them.
        let c = TrainConfig::from_json(r#"{"model": "implicit", "alpha": 3}"#).unwrap();
        assert_eq!(c.tau, TrainConfig::defaults_for(ModelKind::Implicit).tau);
        assert_eq!(c.alpha, 3.0);
    }

    #[test]
    fn key_lists_come_from_the_types() {
        let keys = TrainConfig::keys();
        assert_eq!(keys.len(), 21, "{keys:?}");
        assert_eq!(keys[0], "model");
        assert!(keys.contains(&"cgSteps") && keys.contains(&"recencyHalfLife"));
        // The stored config (Serialize) has exactly the keys the API takes (Deserialize).
        let stored = serde_json::to_value(TrainConfig::default()).unwrap();
        let stored: Vec<&str> = stored
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        let mut stored_sorted = stored.clone();
        stored_sorted.sort_unstable();
        assert_eq!(sorted, stored_sorted);
        assert_eq!(RankerConfig::keys().len(), 11);
        assert_eq!(
            ModelKind::names(),
            ["bias", "biased", "genre", "implicit", "popular", "toprated", "bayesian"]
        );
        assert_eq!(Hyperprior::names(), ["wishart", "gamma"]);
        assert_eq!(ImplicitSolver::names(), ["cg", "cholesky"]);
    }
}
