//! The ranker beside an explicit model, and the list terms learned on a validation split: the
//! popularity penalty d and the series bonus b (docs/ranking.md).
use super::epochs::{run_epochs, TrainHooks};
use super::init::initial_model;
use crate::data::dataset::Dataset;
use crate::error::Result;
use crate::model::config::{RankerConfig, TrainConfig};
use crate::model::Model;
use std::sync::Arc;

/// Trains an explicit model's ranker (implicit ALS on `data`, seen ratings `seen`). Its epochs
/// are not reported through `on_epoch`, whose records are the explicit model's.
pub(crate) fn train_ranker(
    data: &Dataset,
    seen: Arc<crate::data::sparse::Csr>,
    parent: &TrainConfig,
    ranker: &RankerConfig,
    hooks: &TrainHooks<'_>,
) -> Result<Model> {
    let mut start = initial_model(data, &ranker.implicit_config(parent), None)?;
    start.seen = seen;
    let mut ranker_hooks = TrainHooks {
        cancel: hooks.cancel.clone(),
        ..TrainHooks::default()
    };
    run_epochs(data, start, &mut ranker_hooks)
}

/// The popularity penalties [`learn_rank_terms`] chooses from.
pub const PENALTY_GRID: [f32; 7] = [0.0, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2];

/// Validation users the penalty is chosen on, at most (a fixed subsample of larger sets).
pub(crate) const PENALTY_USERS: usize = 2000;

/// Chooses the ranker's popularity penalty d and series bonus b on the data (each only where
/// its `learn…` flag is set; otherwise the configured value is kept). A ranker trained on 90 %
/// of the training ratings ranks the other 10 % (relevant: at least 80 % of the top rating).
/// First b: the best NDCG@10 over [`SERIES_GRID`] (with d = 0 when d is learned too; ties go to
/// the smaller b). Then d, with that b: the largest d of [`PENALTY_GRID`] within
/// [`PENALTY_TOLERANCE`] of the best NDCG@10. How much lists should lean away from the
/// most-rated films depends on how much popularity drives what people watch, and how much
/// sequels matter on whether the catalog has series at all; both differ between data sets (a
/// fixed d tuned on MovieLens costs NDCG on popularity-driven data).
pub fn learn_rank_terms(
    train: &Dataset,
    model: &Model,
    ranker: &RankerConfig,
    hooks: &TrainHooks<'_>,
) -> Result<(f32, f32)> {
    let configured = (ranker.popularity_penalty, ranker.series_bonus);
    if !ranker.learn_popularity_penalty && !ranker.learn_series_bonus {
        return Ok(configured);
    }
    // Too little data to hold some out: keep the configured values.
    let Ok(split) = crate::data::split::random_split(train, 0.1, model.config.seed ^ 0x5eed) else {
        return Ok(configured);
    };
    let (fit_set, validation) = (split.train, split.test);
    if fit_set.num_ratings() == 0 || validation.num_ratings() == 0 {
        return Ok(configured);
    }
    let seen = fit_set.by_user.clone();
    let fitted = Arc::new(train_ranker(&fit_set, seen, &model.config, ranker, hooks)?);
    let top = train
        .by_user
        .values
        .iter()
        .fold(f32::NEG_INFINITY, |a, b| a.max(b));
    let threshold = 0.8 * top;
    let stride = validation.by_user.nrows().div_ceil(PENALTY_USERS).max(1);
    let cancel = hooks.cancel.clone().unwrap_or_default();
    let ndcg = |d: f32, b: f32| -> Result<f64> {
        let mut candidate = model.clone();
        candidate.seen = fitted.seen.clone();
        candidate.ranker = Some(fitted.clone());
        if let Some(rc) = candidate.config.ranker.as_mut() {
            rc.popularity_penalty = d;
            rc.series_bonus = b;
        }
        let index = crate::query::stats::QueryStats::new(&candidate);
        let m = crate::eval::ranking::ranking_metrics_of(
            &candidate,
            &validation,
            10,
            threshold,
            &index,
            &cancel,
            stride,
        )?;
        Ok(m.ndcg)
    };
    let (mut d, mut b) = configured;
    if ranker.learn_series_bonus {
        let at_d = if ranker.learn_popularity_penalty {
            0.0
        } else {
            d
        };
        let mut best = (f64::NEG_INFINITY, 0.0);
        for bonus in SERIES_GRID {
            let score = ndcg(at_d, bonus)?;
            if score > best.0 {
                best = (score, bonus);
            }
        }
        if best.0.is_nan() || best.0 <= 0.0 {
            // No held-out user had a relevant rating in reach: nothing to learn from.
            return Ok(configured);
        }
        b = best.1;
    }
    if ranker.learn_popularity_penalty {
        let mut scores = Vec::with_capacity(PENALTY_GRID.len());
        for penalty in PENALTY_GRID {
            scores.push((penalty, ndcg(penalty, b)?));
        }
        // The largest d within PENALTY_TOLERANCE of the best NDCG: a wider catalog is worth a
        // sliver of NDCG, and near the optimum the validation NDCG is flat (noise decides).
        let best = scores.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
        if best.is_nan() || best <= 0.0 {
            return Ok(configured);
        }
        d = scores
            .iter()
            .filter(|s| s.1 >= best * (1.0 - PENALTY_TOLERANCE))
            .map(|s| s.0)
            .fold(0.0, f32::max);
    }
    Ok((d, b))
}

/// The series bonuses [`learn_rank_terms`] chooses from (ranking scores of a typical user's
/// top films lie around 0.1–0.5).
pub const SERIES_GRID: [f32; 6] = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3];

/// How much validation NDCG (as a fraction of the best) a larger popularity penalty may cost.
pub const PENALTY_TOLERANCE: f64 = 0.03;
