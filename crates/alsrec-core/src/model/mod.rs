//! A trained model: parameters, the id maps and catalog they refer to, and the training history.
pub mod config;
pub mod export;
pub mod factors;
pub mod file;
pub mod posterior;
use crate::kernels::dense::dot;
use crate::kernels::dense::regularized_gram;
use crate::kernels::isa::Isa;
use crate::model::config::ModelKind;
use std::sync::Arc;

use serde::Serialize;

use crate::data::catalog::Catalog;
use crate::data::ids::IdMap;
use crate::data::sparse::Csr;
use crate::model::config::TrainConfig;
use crate::model::factors::Factors;

/// One record per epoch, as reported to the caller and kept in the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochStats {
    pub epoch: usize,
    pub train_rmse: f64,
    pub train_mae: f64,
    pub test_rmse: Option<f64>,
    pub test_mae: Option<f64>,
    pub loss: f64,
    /// The block updates (in training, with the train errors and penalties they leave).
    pub seconds: f64,
    /// The metrics after the updates: the rest of the loss and the train errors, the test errors.
    /// None when not recorded (older files, imported models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_seconds: Option<f64>,
    /// The whole epoch: `seconds` + `metrics_seconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall_seconds: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub config: TrainConfig,
    /// Latent dimension (0 for the bias-only model).
    pub k: usize,
    pub mu: f32,
    /// Row-major, users × k.
    pub user_factors: Factors,
    pub user_bias: Vec<f32>,
    /// Row-major, movies × k.
    pub item_factors: Factors,
    pub item_bias: Vec<f32>,
    /// Row-major, genres × k (genre model only).
    pub genre_factors: Vec<f32>,
    pub users: Arc<IdMap>,
    pub items: Arc<IdMap>,
    pub catalog: Arc<Catalog>,
    /// The training ratings by user: what "seen" means, and what explanations draw on (shared
    /// with the ranker).
    pub seen: Arc<Csr>,
    pub history: Vec<EpochStats>,
    /// The implicit model that ranks this explicit model's recommendations
    /// ([`crate::model::config::RankerConfig`]); same users, movies and seen ratings.
    pub ranker: Option<Arc<Model>>,
    /// A Bayesian model's learned precisions and parameter variances (`bayesian` only).
    pub posterior: Option<Arc<posterior::Posterior>>,
}

/// Whether an epoch's test RMSE beats the best so far under `patience` (the first epoch with a
/// test RMSE always does; a tie does not, so the earliest of equal epochs is kept).
pub fn improves(test_rmse: f64, best: Option<f64>) -> bool {
    best.is_none_or(|b| test_rmse < b)
}

/// The epoch (1-based) whose parameters a training run keeps: with `patience` and test RMSEs in
/// the history, the first epoch with the lowest one (the rule of `als::epochs`); otherwise the
/// last. 0 for an empty history.
pub fn kept_epoch(history: &[EpochStats], patience: bool) -> usize {
    let mut best: Option<(f64, usize)> = None;
    if patience {
        for s in history {
            if let Some(t) = s.test_rmse {
                if improves(t, best.map(|b| b.0)) {
                    best = Some((t, s.epoch));
                }
            }
        }
    }
    best.map_or_else(|| history.last().map_or(0, |s| s.epoch), |b| b.1)
}

impl Model {
    /// The epoch of its history whose parameters the model holds ([`kept_epoch`]).
    pub fn kept_epoch(&self) -> usize {
        kept_epoch(&self.history, self.config.patience.is_some())
    }

    pub fn num_users(&self) -> usize {
        self.user_bias.len()
    }

    pub fn num_items(&self) -> usize {
        self.item_bias.len()
    }

    pub fn user_vector(&self, u: usize) -> &[f32] {
        &self.user_factors[u * self.k..(u + 1) * self.k]
    }

    pub fn item_vector(&self, i: usize) -> &[f32] {
        &self.item_factors[i * self.k..(i + 1) * self.k]
    }

    #[inline(always)]
    pub fn predict(&self, u: usize, i: usize) -> f32 {
        self.mu
            + self.user_bias[u]
            + self.item_bias[i]
            + dot(self.user_vector(u), self.item_vector(i))
    }
}

impl Model {
    /// The genre indices of a movie index, from the catalog (empty when it has none).
    pub fn item_genres(&self, item: usize) -> &[u16] {
        self.catalog
            .get(self.items.raw(item as u32))
            .map(|m| m.genres.as_slice())
            .unwrap_or(&[])
    }

    /// p_n = |G_n|^(-1/2) Σ_{g ∈ G_n} f_g, the genre model's prior mean of a movie's vector
    /// (docs/model.md, "The genre model"); zero for other models and for movies without genres.
    pub fn genre_prior(&self, item: usize, out: &mut [f32]) {
        out.fill(0.0);
        let genres = self.item_genres(item);
        if self.genre_factors.is_empty() || genres.is_empty() {
            return;
        }
        let scale = 1.0 / (genres.len() as f32).sqrt();
        for &g in genres {
            let f = &self.genre_factors[g as usize * self.k..(g as usize + 1) * self.k];
            for (o, &x) in out.iter_mut().zip(f) {
                *o += scale * x;
            }
        }
    }
}

impl Model {
    /// λ VᵀV + τ I of `other_factors` (k × k) when the model is implicit, as a training
    /// half-step forms it: what every fold-in against that side shares. None otherwise.
    pub fn implicit_base(&self, other_factors: &[f32]) -> Option<Vec<f32>> {
        (self.config.model == ModelKind::Implicit).then(|| {
            let c = &self.config;
            regularized_gram(
                Isa::detected(),
                other_factors,
                self.k,
                self.k,
                c.lambda,
                c.tau,
            )
        })
    }
}
