//! Alternating least squares: the training loop, its loss and its per-epoch metrics.
//!
//! Every model is trained by exact block updates (`Step`), each of which minimizes the loss in
//! its block, so the loss never rises across a step.
pub mod explicit;
pub mod genre;
pub mod implicit;
pub mod schedule;
mod warm;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::config::{ImplicitSolver, ModelKind, RankerConfig, TrainConfig};
use crate::model::factors::Factors;
use crate::model::{EpochStats, Model};
use crate::runtime::cancel::CancelToken;
use crate::runtime::pool::thread_pool;
pub use explicit::HalfStep;
use implicit::ImplicitStep;

/// Called after every epoch with its figures.
pub type EpochCallback<'a> = Box<dyn FnMut(&EpochStats) + Send + 'a>;

/// What the caller may attach to a training run.
#[derive(Default)]
pub struct TrainHooks<'a> {
    pub test: Option<&'a Dataset>,
    pub cancel: Option<CancelToken>,
    pub on_epoch: Option<EpochCallback<'a>>,
    /// Warm start: begin from this model's parameters (matched by raw user, movie and genre
    /// ids), e.g. to train more epochs or to refit on new data.
    pub initial: Option<&'a Model>,
}

/// One exact block update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Every user's (u, b) with the movies fixed.
    Users,
    /// The genre vectors F with the movie vectors fixed (genre model).
    Genres,
    /// Every movie's (v, c) with the users (and genre priors) fixed.
    Items,
}

/// The block updates of one epoch, in order. The genre vectors are updated before the movies,
/// so that at the end of an epoch unrated movies sit exactly at their genre prior.
pub fn epoch_steps(kind: ModelKind) -> &'static [Step] {
    match kind {
        ModelKind::Genre => &[Step::Users, Step::Genres, Step::Items],
        _ => &[Step::Users, Step::Items],
    }
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
        let mut model = run_epochs(train, model, &mut hooks)?;
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

/// Trains an explicit model's ranker (implicit ALS on `data`, seen ratings `seen`). Its epochs
/// are not reported through `on_epoch`, whose records are the explicit model's.
fn train_ranker(
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

/// The non-personalized baselines: every movie's score from its training ratings alone, so every
/// comparison shows what personalization adds. `popular`: c = ln(1 + n), μ = 0, no ratings
/// predicted. `toprated`: c = Σ(r − μ)/(n + γ/λ), the damped mean less μ, which predicts μ + c.
fn fit_baseline(train: &Dataset, config: &TrainConfig, test: Option<&Dataset>) -> Result<Model> {
    let start = Instant::now();
    let mut model = initial_model(train, config, None)?;
    let by_item = &train.by_item;
    let prior = (config.gamma / config.lambda) as f64;
    let mu = model.mu as f64;
    let recent = match (config.model, config.recency_half_life) {
        (ModelKind::Popular, Some(days)) => Some(recency_counts(train, days)?),
        _ => None,
    };
    for i in 0..by_item.nrows().min(model.num_items()) {
        let (_, ratings) = by_item.row(i);
        model.item_bias[i] = match config.model {
            ModelKind::Popular => recent
                .as_ref()
                .map_or(ratings.len() as f64, |counts| counts[i])
                .ln_1p() as f32,
            _ => {
                let sum: f64 = ratings.iter().map(|&r| r as f64 - mu).sum();
                (sum / (ratings.len() as f64 + prior)) as f32
            }
        };
    }
    if config.model == ModelKind::Popular {
        model.mu = 0.0;
    }
    let seconds = start.elapsed().as_secs_f64();
    let stats = if config.model.predicts_ratings() {
        epoch_stats(1, &model, train, test, seconds)
    } else {
        // A popularity score is not a rating: there is no error to report.
        EpochStats {
            epoch: 1,
            train_rmse: f64::NAN,
            train_mae: f64::NAN,
            test_rmse: None,
            test_mae: None,
            loss: f64::NAN,
            seconds,
        }
    };
    model.history.push(stats);
    Ok(model)
}

/// Σ 2^(−age/h) of each movie's training ratings, ages in days from the newest rating.
fn recency_counts(train: &Dataset, half_life_days: f64) -> Result<Vec<f64>> {
    let t = &train.triplets;
    if t.timestamps.len() != t.len() || t.is_empty() {
        return Err(Error::invalid_argument(
            "recencyHalfLife needs rating timestamps, and these ratings have none",
        ));
    }
    let newest = t.timestamps.iter().copied().max().unwrap_or(0);
    let mut counts = vec![0f64; train.items.len()];
    for (&i, &ts) in t.items.iter().zip(&t.timestamps) {
        let age_days = newest.saturating_sub(ts) as f64 / 86_400.0;
        counts[i as usize] += (-age_days / half_life_days).exp2();
    }
    Ok(counts)
}

/// The popularity penalties [`learn_rank_terms`] chooses from.
pub const PENALTY_GRID: [f32; 7] = [0.0, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2];

/// Validation users the penalty is chosen on, at most (a fixed subsample of larger sets).
const PENALTY_USERS: usize = 2000;

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
    let seen = Arc::new(fit_set.by_user.clone());
    let fitted = Arc::new(train_ranker(&fit_set, seen, &model.config, ranker, hooks)?);
    let top = train
        .by_user
        .values
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| a.max(b));
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
        let index = crate::query::QueryIndex::new(&candidate);
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

/// The starting point: random vectors (seeded) and zero biases, or a given model's parameters.
pub fn initial_model(
    train: &Dataset,
    config: &TrainConfig,
    initial: Option<&Model>,
) -> Result<Model> {
    config.validate()?;
    let k = config.latent_dim();
    let (m, n) = (train.users.len(), train.items.len());
    let genres = if config.model == ModelKind::Genre {
        train.catalog.genre_names.len()
    } else {
        0
    };
    let mut model = Model {
        config: config.clone(),
        k,
        mu: match config.model {
            ModelKind::Implicit => 0.0,
            _ => train.mean_rating() as f32,
        },
        user_factors: init_factors(m, k, config, 0),
        user_bias: vec![0.0; m],
        item_factors: init_factors(n, k, config, 1),
        item_bias: vec![0.0; n],
        genre_factors: vec![0.0; genres * k],
        users: train.users.clone(),
        items: train.items.clone(),
        catalog: train.catalog.clone(),
        seen: Arc::new(train.by_user.clone()),
        history: Vec::new(),
        ranker: None,
    };
    if let Some(from) = initial {
        warm::copy_parameters(from, &mut model)?;
    }
    Ok(model)
}

fn run_epochs(train: &Dataset, mut model: Model, hooks: &mut TrainHooks<'_>) -> Result<Model> {
    let config = model.config.clone();
    let cancel = hooks.cancel.clone().unwrap_or_default();
    let mut prev_loss = f64::INFINITY;
    let mut best: Option<(f64, Model)> = None;
    let mut since_best = 0;
    for epoch in 1..=config.epochs {
        let start = Instant::now();
        for &step in epoch_steps(config.model) {
            cancel.check()?;
            apply_step(step, train, &mut model, Some(&cancel));
        }
        cancel.check()?;
        let seconds = start.elapsed().as_secs_f64();
        let stats = epoch_stats(epoch, &model, train, hooks.test, seconds);
        let (test_rmse, loss) = (stats.test_rmse, stats.loss);
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

fn init_factors(rows: usize, k: usize, config: &TrainConfig, stream: u64) -> Factors {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(
        config
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(stream),
    );
    if config.init_scale == 0.0 {
        return Factors::zeroed(rows * k);
    }
    let normal = Normal::new(0.0f32, config.init_scale).expect("scale validated as finite and ≥ 0");
    Factors::from_fn(rows * k, |_| normal.sample(&mut rng))
}

/// Applies one exact block update (on the current rayon pool). A raised `cancel` makes the
/// remaining rows be skipped; the caller then discards the model.
pub fn apply_step(step: Step, train: &Dataset, model: &mut Model, cancel: Option<&CancelToken>) {
    let c = model.config.clone();
    if c.model == ModelKind::Implicit {
        let (ratings, other, own) = match step {
            Step::Users => (&train.by_user, &model.item_factors, &mut model.user_factors),
            Step::Items => (&train.by_item, &model.user_factors, &mut model.item_factors),
            Step::Genres => return,
        };
        ImplicitStep {
            ratings,
            other_factors: other,
            k: model.k,
            lambda: c.lambda,
            tau: c.tau,
            alpha: c.alpha,
            cg_steps: match c.solver {
                ImplicitSolver::Cg => Some(c.cg_steps),
                ImplicitSolver::Cholesky => None,
            },
            dense_row_bytes: implicit::DENSE_ROW_BYTES,
            lockstep_min_degree: implicit::LOCKSTEP_MIN_DEGREE,
            cancel,
        }
        .run(own);
        return;
    }
    let priors = (step == Step::Items && c.model == ModelKind::Genre).then(|| genre::priors(model));
    let (ratings, other_factors, other_bias, factors, bias) = match step {
        Step::Users => (
            &train.by_user,
            &model.item_factors,
            &model.item_bias,
            &mut model.user_factors,
            &mut model.user_bias,
        ),
        Step::Items => (
            &train.by_item,
            &model.user_factors,
            &model.user_bias,
            &mut model.item_factors,
            &mut model.item_bias,
        ),
        Step::Genres => {
            genre::update_genre_factors(model, &train.by_item);
            return;
        }
    };
    HalfStep {
        ratings,
        other_factors,
        other_bias,
        mu: model.mu,
        k: model.k,
        lambda: c.lambda,
        tau: c.tau,
        gamma: c.gamma,
        weighted: c.weighted_regularization,
        prior: priors.as_deref(),
        cancel,
    }
    .run(factors, bias);
}

/// Rows per reduction chunk: fixed, so float sums are added in the same order for any number of
/// threads and the reported metrics are bit-identical too.
const REDUCE_CHUNK: usize = 1024;

fn sum_over_rows<const N: usize, F>(rows: usize, f: F) -> [f64; N]
where
    F: Fn(usize) -> [f64; N] + Sync,
{
    let partial: Vec<[f64; N]> = (0..rows.div_ceil(REDUCE_CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = [0.0; N];
            for r in c * REDUCE_CHUNK..((c + 1) * REDUCE_CHUNK).min(rows) {
                for (a, v) in acc.iter_mut().zip(f(r)) {
                    *a += v;
                }
            }
            acc
        })
        .collect();
    partial.iter().fold([0.0; N], |mut a, s| {
        for (x, v) in a.iter_mut().zip(s) {
            *x += v;
        }
        a
    })
}

/// The record of an epoch that took `seconds`: the model's errors on `train` and `test`.
fn epoch_stats(
    epoch: usize,
    model: &Model,
    train: &Dataset,
    test: Option<&Dataset>,
    seconds: f64,
) -> EpochStats {
    let (train_rmse, train_mae, loss) = train_metrics(model, train);
    let (test_rmse, test_mae) = test_errors(model, test);
    EpochStats {
        epoch,
        train_rmse,
        train_mae,
        test_rmse,
        test_mae,
        loss,
        seconds,
    }
}

/// (RMSE, MAE) on a test set, when there is one with ratings.
fn test_errors(model: &Model, test: Option<&Dataset>) -> (Option<f64>, Option<f64>) {
    match test {
        Some(t) if t.num_ratings() > 0 => {
            let (r, a) = errors(model, t);
            (Some(r), Some(a))
        }
        _ => (None, None),
    }
}

/// (RMSE, MAE) of the model on `data`. Explicit models: of the predicted ratings. Implicit
/// model: of the predicted preference x·y against 1 on the observed pairs.
pub fn errors(model: &Model, data: &Dataset) -> (f64, f64) {
    rmse_mae(error_sums(model, data), data)
}

fn rmse_mae([se, ae, _]: [f64; 3], data: &Dataset) -> (f64, f64) {
    let n = data.num_ratings().max(1) as f64;
    ((se / n).sqrt(), ae / n)
}

/// (Σ e², Σ |e|, and for the implicit model Σ c (1 − s)² − s²) over `data`: one pass, shared by
/// the metrics and the loss.
fn error_sums(model: &Model, data: &Dataset) -> [f64; 3] {
    let implicit = model.config.model == ModelKind::Implicit;
    sum_over_rows(data.by_user.nrows(), |u| {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::kernels::dense::has_avx2_fma() {
                // SAFETY: the CPU supports the features the wrapper is compiled for.
                return unsafe { row_error_sums_avx2(model, data, u, implicit) };
            }
        }
        row_error_sums(model, data, u, implicit)
    })
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_error_sums_avx2(model: &Model, data: &Dataset, u: usize, implicit: bool) -> [f64; 3] {
    row_error_sums(model, data, u, implicit)
}

#[inline(always)]
fn row_error_sums(model: &Model, data: &Dataset, u: usize, implicit: bool) -> [f64; 3] {
    let (cols, vals) = data.by_user.row(u);
    let mut acc = [0.0; 3];
    for (j, (&i, &r)) in cols.iter().zip(vals).enumerate() {
        // The movie vectors are scattered: fetch a few ahead so the misses overlap.
        if let Some(&ahead) = cols.get(j + 8) {
            crate::kernels::dense::prefetch_vector(&model.item_factors, ahead as usize, model.k);
        }
        let s = model.predict(u, i as usize);
        let target = if implicit { 1.0 } else { r };
        let e = (target - s) as f64;
        acc[0] += e * e;
        acc[1] += e.abs();
        if implicit {
            let conf = 1.0 + model.config.alpha as f64 * r as f64;
            acc[2] += conf * e * e - s as f64 * s as f64;
        }
    }
    acc
}

/// Train RMSE, MAE and loss after an epoch, from one pass over the ratings where possible.
pub fn train_metrics(model: &Model, train: &Dataset) -> (f64, f64, f64) {
    let sums = error_sums(model, train);
    let (rmse, mae) = rmse_mae(sums, train);
    let loss = if model.config.model == ModelKind::Implicit {
        implicit_loss(model, sums[2])
    } else {
        explicit_loss(model, train, sums[0])
    };
    (rmse, mae, loss)
}

/// The objective the model's updates minimize, in f64: L of `../shared/GUIDE.md` §1 for the
/// explicit models (with ALS-WR weights and genre priors when enabled), the weighted loss of
/// Hu, Koren and Volinsky for the implicit model.
pub fn loss(model: &Model, train: &Dataset) -> f64 {
    if model.config.model == ModelKind::Implicit {
        return implicit_loss(model, error_sums(model, train)[2]);
    }
    explicit_loss(model, train, error_sums(model, train)[0])
}

/// The explicit loss given Σ e² over the training ratings.
fn explicit_loss(model: &Model, train: &Dataset, se: f64) -> f64 {
    let c = &model.config;
    let k = model.k;
    let weight = |csr: &crate::data::sparse::Csr, r: usize| {
        if c.weighted_regularization {
            csr.row_len(r) as f64
        } else {
            1.0
        }
    };
    let sq = |v: &[f32]| v.iter().map(|&x| x as f64 * x as f64).sum::<f64>();
    let [users, _] = sum_over_rows(train.by_user.nrows(), |u| {
        let w = weight(&train.by_user, u);
        let reg = w
            * (c.tau as f64 * sq(model.user_vector(u))
                + c.gamma as f64 * (model.user_bias[u] as f64).powi(2));
        [reg, 0.0]
    });
    let genre_model = c.model == ModelKind::Genre;
    let [items, _] = sum_over_rows(model.num_items(), |i| {
        let v = model.item_vector(i);
        let mut dist = 0.0;
        if genre_model {
            // One small allocation per movie: the loss is evaluated once per epoch.
            let mut prior = vec![0f32; k];
            model.genre_prior(i, &mut prior);
            for (&a, &b) in v.iter().zip(&prior) {
                dist += (a as f64 - b as f64).powi(2);
            }
        } else {
            dist = sq(v);
        }
        let w = weight(&train.by_item, i);
        [
            w * (c.tau as f64 * dist + c.gamma as f64 * (model.item_bias[i] as f64).powi(2)),
            0.0,
        ]
    });
    let genres = if genre_model {
        genre::genre_penalty(model)
    } else {
        0.0
    };
    c.lambda as f64 / 2.0 * se + (users + items) / 2.0 + genres
}

/// λ/2 Σ_{all u,i} c_ui (p_ui − x_u·y_i)² + τ/2 (|X|² + |Y|²). The sum over all pairs is
/// trace(XᵀX · YᵀY) plus corrections on the observed pairs, O((m+n)k² + nnz·k).
fn implicit_loss(model: &Model, observed: f64) -> f64 {
    let c = &model.config;
    let k = model.k;
    let gram64 = |f: &[f32]| {
        let g = implicit::gramian(f, k);
        g.iter().map(|&x| x as f64).collect::<Vec<f64>>()
    };
    let (xx, yy) = (gram64(&model.user_factors), gram64(&model.item_factors));
    let all_pairs: f64 = xx.iter().zip(&yy).map(|(a, b)| a * b).sum();
    let sq = |v: &[f32]| v.iter().map(|&x| x as f64 * x as f64).sum::<f64>();
    c.lambda as f64 / 2.0 * (all_pairs + observed)
        + c.tau as f64 / 2.0 * (sq(&model.user_factors) + sq(&model.item_factors))
}
