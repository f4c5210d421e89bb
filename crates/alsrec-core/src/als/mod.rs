//! Alternating least squares: the training loop, its loss and its per-epoch metrics.
pub mod config;
mod solve;

use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::cancel::{thread_pool, CancelToken};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::{EpochStats, Model};
use config::{ModelKind, TrainConfig};
pub use solve::HalfStep;

/// Called after every epoch with its figures.
pub type EpochCallback<'a> = Box<dyn FnMut(&EpochStats) + Send + 'a>;

/// What the caller may attach to a training run.
#[derive(Default)]
pub struct TrainHooks<'a> {
    pub test: Option<&'a Dataset>,
    pub cancel: Option<CancelToken>,
    pub on_epoch: Option<EpochCallback<'a>>,
}

/// Trains a model on `train` by exact alternating block updates.
pub fn train(train: &Dataset, config: &TrainConfig, mut hooks: TrainHooks<'_>) -> Result<Model> {
    config.validate()?;
    if train.num_ratings() == 0 {
        return Err(Error::invalid_argument("the training set has no ratings"));
    }
    if let Some(test) = hooks.test {
        if !Arc::ptr_eq(&test.users, &train.users) || !Arc::ptr_eq(&test.items, &train.items) {
            return Err(Error::invalid_argument("the test set must come from the same dataset as the training set (split it with dataset.split)"));
        }
    }
    if matches!(config.model, ModelKind::Genre | ModelKind::Implicit) {
        return Err(Error::invalid_argument(format!(
            "model '{}' is not available in this build yet",
            config.model.name()
        )));
    }
    let pool = thread_pool(config.threads)?;
    pool.install(|| train_explicit(train, config, &mut hooks))
}

fn train_explicit(
    train: &Dataset,
    config: &TrainConfig,
    hooks: &mut TrainHooks<'_>,
) -> Result<Model> {
    let k = config.latent_dim();
    let (m, n) = (train.users.len(), train.items.len());
    let mut model = Model {
        config: config.clone(),
        k,
        mu: train.mean_rating() as f32,
        user_factors: init_factors(m, k, config, 0),
        user_bias: vec![0.0; m],
        item_factors: init_factors(n, k, config, 1),
        item_bias: vec![0.0; n],
        genre_factors: Vec::new(),
        users: train.users.clone(),
        items: train.items.clone(),
        catalog: train.catalog.clone(),
        seen: train.by_user.clone(),
        history: Vec::new(),
    };
    let cancel = hooks.cancel.clone().unwrap_or_default();
    let mut prev_loss = f64::INFINITY;
    let mut best: Option<(f64, Model)> = None;
    let mut since_best = 0;
    for epoch in 1..=config.epochs {
        let start = Instant::now();
        cancel.check()?;
        user_half_step(train, &mut model);
        cancel.check()?;
        item_half_step(train, &mut model);
        let seconds = start.elapsed().as_secs_f64();
        let (train_rmse, train_mae) = errors(&model, train);
        let (test_rmse, test_mae) = match hooks.test {
            Some(t) if t.num_ratings() > 0 => {
                let (r, a) = errors(&model, t);
                (Some(r), Some(a))
            }
            _ => (None, None),
        };
        let loss = loss(&model, train);
        let stats = EpochStats {
            epoch,
            train_rmse,
            train_mae,
            test_rmse,
            test_mae,
            loss,
            seconds,
        };
        model.history.push(stats.clone());
        if let Some(cb) = hooks.on_epoch.as_mut() {
            cb(&stats);
        }
        if let (Some(patience), Some(test_rmse)) = (config.patience, test_rmse) {
            if best.as_ref().is_none_or(|(b, _)| test_rmse < *b) {
                best = Some((test_rmse, model.clone()));
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= patience {
                    break;
                }
            }
        }
        let improvement = (prev_loss - loss) / prev_loss.abs().max(f64::MIN_POSITIVE);
        if config.tolerance > 0.0 && prev_loss.is_finite() && improvement < config.tolerance {
            break;
        }
        prev_loss = loss;
    }
    if let Some((_, mut best_model)) = best {
        // Keep the best epoch's parameters but the whole history, so curves show what happened.
        best_model.history = model.history;
        return Ok(best_model);
    }
    Ok(model)
}

fn init_factors(rows: usize, k: usize, config: &TrainConfig, stream: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(
        config
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(stream),
    );
    if config.init_scale == 0.0 {
        return vec![0.0; rows * k];
    }
    let normal = Normal::new(0.0f32, config.init_scale).expect("scale validated as finite and ≥ 0");
    (0..rows * k).map(|_| normal.sample(&mut rng)).collect()
}

/// Solves every user's (u, b) with the movies fixed.
pub fn user_half_step(train: &Dataset, model: &mut Model) {
    let step = HalfStep {
        ratings: &train.by_user,
        other_factors: &model.item_factors,
        other_bias: &model.item_bias,
        mu: model.mu,
        k: model.k,
        lambda: model.config.lambda,
        tau: model.config.tau,
        gamma: model.config.gamma,
        prior: None,
    };
    step.run(&mut model.user_factors, &mut model.user_bias);
}

/// Solves every movie's (v, c) with the users fixed.
pub fn item_half_step(train: &Dataset, model: &mut Model) {
    let step = HalfStep {
        ratings: &train.by_item,
        other_factors: &model.user_factors,
        other_bias: &model.user_bias,
        mu: model.mu,
        k: model.k,
        lambda: model.config.lambda,
        tau: model.config.tau,
        gamma: model.config.gamma,
        prior: None,
    };
    step.run(&mut model.item_factors, &mut model.item_bias);
}

/// Rows per reduction chunk: fixed, so float sums are added in the same order for any number of
/// threads and the reported metrics are bit-identical too.
const REDUCE_CHUNK: usize = 1024;

fn sum_over_users<F>(data: &Dataset, f: F) -> [f64; 2]
where
    F: Fn(usize, &[u32], &[f32]) -> [f64; 2] + Sync,
{
    let rows = data.by_user.nrows();
    let partial: Vec<[f64; 2]> = (0..rows.div_ceil(REDUCE_CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = [0.0; 2];
            for u in c * REDUCE_CHUNK..((c + 1) * REDUCE_CHUNK).min(rows) {
                let (cols, vals) = data.by_user.row(u);
                let s = f(u, cols, vals);
                acc[0] += s[0];
                acc[1] += s[1];
            }
            acc
        })
        .collect();
    partial
        .iter()
        .fold([0.0; 2], |a, s| [a[0] + s[0], a[1] + s[1]])
}

/// (RMSE, MAE) of the model's predictions on `data`.
pub fn errors(model: &Model, data: &Dataset) -> (f64, f64) {
    let [se, ae] = sum_over_users(data, |u, cols, vals| {
        let mut acc = [0.0; 2];
        for (&i, &r) in cols.iter().zip(vals) {
            let e = (r - model.predict(u, i as usize)) as f64;
            acc[0] += e * e;
            acc[1] += e.abs();
        }
        acc
    });
    let n = data.num_ratings().max(1) as f64;
    ((se / n).sqrt(), ae / n)
}

/// The objective L of `../shared/GUIDE.md` §1, in f64.
pub fn loss(model: &Model, train: &Dataset) -> f64 {
    let c = &model.config;
    let [se, _] = sum_over_users(train, |u, cols, vals| {
        let mut acc = [0.0; 2];
        for (&i, &r) in cols.iter().zip(vals) {
            let e = (r - model.predict(u, i as usize)) as f64;
            acc[0] += e * e;
        }
        acc
    });
    let sq = |v: &[f32]| v.iter().map(|&x| x as f64 * x as f64).sum::<f64>();
    let vectors = sq(&model.user_factors) + sq(&model.item_factors);
    let biases = sq(&model.user_bias) + sq(&model.item_bias);
    c.lambda as f64 / 2.0 * se + c.tau as f64 / 2.0 * vectors + c.gamma as f64 / 2.0 * biases
}
