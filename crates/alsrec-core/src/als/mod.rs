//! Alternating least squares: [`train`] runs the epochs of [`epochs`]; each epoch is a sequence
//! of block updates (`explicit`, `genre`, `implicit`) that never raise the loss
//! (docs/model.md). `ranker`, `baseline`, `init` and `metrics` hold the rest of a run.
mod baseline;
pub mod bayesian;
pub mod epochs;
pub mod explicit;
pub mod genre;
pub mod implicit;
pub mod init;
pub mod metrics;
pub mod ranker;
pub mod row;
pub mod schedule;
mod warm;

#[cfg(test)]
mod tests;

use self::baseline::fit_baseline;
use self::epochs::{run_epochs, TrainHooks};
use self::init::initial_model;
use self::ranker::{learn_rank_terms, train_ranker};
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::config::{ModelKind, TrainConfig};
use crate::model::Model;
use crate::runtime::pool::thread_pool;
use std::sync::Arc;

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
    let pool = thread_pool(config.threads)?;
    if config.model.is_baseline() {
        if hooks.initial.is_some() {
            return Err(Error::invalid_argument(format!(
                "the '{}' baseline is fitted in one pass; initialModel does not apply",
                config.model.name()
            )));
        }
        let test = hooks.test;
        let model = pool.install(|| fit_baseline(train, config, test))?;
        if let (Some(cb), Some(stats)) = (hooks.on_epoch.as_mut(), model.history.last()) {
            cb(stats);
        }
        return Ok(model);
    }
    pool.install(|| {
        let model = initial_model(train, config, hooks.initial)?;
        let mut model = match config.model {
            ModelKind::Bayesian => bayesian::run_sweeps(train, model, &mut hooks)?,
            _ => run_epochs(train, model, &mut hooks)?,
        };
        if let Some(ranker) = &config.ranker {
            let mut ranker = ranker.clone();
            if ranker.learn_popularity_penalty || ranker.learn_series_bonus {
                (ranker.popularity_penalty, ranker.series_bonus) =
                    learn_rank_terms(train, &model, &ranker, &hooks)?;
                ranker.learn_popularity_penalty = false;
                ranker.learn_series_bonus = false;
                model.config.ranker = Some(ranker.clone());
            }
            let seen = model.seen.clone();
            model.ranker = Some(Arc::new(train_ranker(
                train,
                seen,
                &model.config,
                &ranker,
                &hooks,
            )?));
        }
        Ok(model)
    })
}
