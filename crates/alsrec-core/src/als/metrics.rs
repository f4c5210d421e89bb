//! What each epoch reports: the loss the updates minimize, in f64, and train/test errors.
//!
//! Training takes the train errors and the penalties from the block updates themselves
//! ([`RowSums`], [`fused_epoch_stats`]): the Items step is an epoch's last, so the errors of a
//! movie's ratings under its solved (v, c) are those of the end-of-epoch model, and the users'
//! penalties are final after the Users step. The errors are summed right after a movie is
//! solved, while its users' vectors are still in cache; the few most rated movies, whose users
//! would no longer be, are summed after the step by user ([`Deferred`]), against their own
//! vectors, which stay in cache. [`train_metrics`] is the separate pass over the ratings, for
//! the baseline, the Bayesian sampler and any other model.
use super::genre;
use crate::data::dataset::Dataset;
use crate::data::sparse::{Csr, Values};
use crate::eval::rating::{error_sums, errors, rmse_mae, sum_over_rows};
use crate::kernels::dense::{dot_isa, padded, par_gramian};
use crate::kernels::isa::Isa;
use crate::model::config::ModelKind;
use crate::model::{EpochStats, Model};
use std::time::Instant;

/// What a solved row leaves for its epoch's metrics, in f64.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RowSums {
    /// Σ e² over the row's ratings under the solved row (rows of the last half-step only).
    pub squared: f64,
    /// Σ |e|.
    pub absolute: f64,
    /// Implicit model: Σ c (1 − s)² − s², the observed pairs' correction to the all-pairs sum.
    pub implicit: f64,
    /// Explicit models: ω (τ |x − p|² + γ b²); implicit: |x|².
    pub penalty: f64,
}

impl RowSums {
    fn as_array(&self) -> [f64; 4] {
        [self.squared, self.absolute, self.implicit, self.penalty]
    }
}

/// A movie's users' vectors up to this many bytes are still in the core's cache (half of a
/// 1 MiB L2) when the movie is solved: the errors of its ratings are summed then.
const FUSED_ROW_BYTES: usize = 512 << 10;

/// The most ratings a movie's errors are summed with in the Items step at latent dimension `k`.
pub fn fused_max_degree(k: usize) -> usize {
    (FUSED_ROW_BYTES / (padded(k).max(1) * 4)).max(64)
}

/// The ratings of the movies with more than `max_degree` ratings, by user: their errors are
/// summed after the Items step, user by user, so each user's vector is read once and the few
/// movies' vectors stay in cache.
pub struct Deferred {
    pub max_degree: usize,
    by_user: Csr,
}

impl Deferred {
    pub fn new(train: &Dataset, max_degree: usize) -> Deferred {
        let deferred: Vec<bool> = (0..train.by_item.nrows())
            .map(|i| train.by_item.row_len(i) > max_degree)
            .collect();
        let by_user = &train.by_user;
        let mut indptr = Vec::with_capacity(by_user.nrows() + 1);
        indptr.push(0);
        let mut indices = Vec::new();
        let mut values = Values::default();
        if deferred.iter().any(|&d| d) {
            // Sized exactly up front: growing by doubling would hold up to twice the copy
            // (and both buffers during a move) at the training's peak.
            let count: usize = (0..train.by_item.nrows())
                .filter(|&i| deferred[i])
                .map(|i| train.by_item.row_len(i))
                .sum();
            indices.reserve_exact(count);
            for u in 0..by_user.nrows() {
                let (cols, _) = by_user.row(u);
                indices.extend(cols.iter().filter(|&&i| deferred[i as usize]));
                indptr.push(indices.len());
            }
            // In the same form as the layout's (one byte per rating when it is coded).
            let slots = (0..by_user.nnz()).filter(|&s| deferred[by_user.indices[s] as usize]);
            values = by_user.values.select(count, slots);
        } else {
            indptr.resize(by_user.nrows() + 1, 0);
        }
        Deferred {
            max_degree,
            by_user: Csr {
                indptr,
                indices,
                values,
                ncols: by_user.ncols,
            },
        }
    }

    /// (Σ e², Σ |e|, implicit correction) over the deferred ratings, as
    /// [`crate::eval::rating::row_error_sums`] computes each term.
    fn error_sums(&self, model: &Model) -> [f64; 3] {
        if self.by_user.indices.is_empty() {
            return [0.0; 3];
        }
        let implicit = model.config.model == ModelKind::Implicit;
        let alpha = model.config.alpha as f64;
        let isa = Isa::detected();
        sum_over_rows(self.by_user.nrows(), |u| {
            isa.run(
                #[inline(always)]
                || {
                    let (cols, vals) = self.by_user.row(u);
                    let x = model.user_vector(u);
                    let base = model.mu + model.user_bias[u];
                    let mut acc = [0.0; 3];
                    for (&i, r) in cols.iter().zip(vals) {
                        let i = i as usize;
                        let s = base + model.item_bias[i] + dot_isa(isa, x, model.item_vector(i));
                        let target = if implicit { 1.0 } else { r };
                        let e = (target - s) as f64;
                        acc[0] += e * e;
                        acc[1] += e.abs();
                        if implicit {
                            acc[2] += (1.0 + alpha * r as f64) * e * e - s as f64 * s as f64;
                        }
                    }
                    acc
                },
            )
        })
    }
}

/// Every row's [`RowSums`] of one epoch: the users' from the Users step (penalties only), the
/// movies' from the Items step (errors of the movies not deferred, and penalties).
pub struct EpochSums {
    pub users: Vec<RowSums>,
    pub items: Vec<RowSums>,
    pub deferred: Deferred,
    /// Implicit model: XᵀX of the final users, formed by the Items step.
    pub users_gram: Option<Vec<f32>>,
}

impl EpochSums {
    /// The sums of training `train` at latent dimension `k`.
    pub fn new(train: &Dataset, k: usize) -> EpochSums {
        EpochSums::with_max_degree(train, fused_max_degree(k))
    }

    /// Summing in the Items step the errors of movies with at most `max_degree` ratings.
    pub fn with_max_degree(train: &Dataset, max_degree: usize) -> EpochSums {
        EpochSums {
            users: vec![RowSums::default(); train.by_user.nrows()],
            items: vec![RowSums::default(); train.by_item.nrows()],
            deferred: Deferred::new(train, max_degree),
            users_gram: None,
        }
    }

    /// The users' and the movies' sums, each added in fixed chunks of rows (the same order for
    /// any thread count).
    fn totals(&self) -> ([f64; 4], [f64; 4]) {
        let users = sum_over_rows(self.users.len(), |u| self.users[u].as_array());
        let items = sum_over_rows(self.items.len(), |i| self.items[i].as_array());
        (users, items)
    }
}

/// The record of an epoch that took `seconds`: the model's errors on `train` and `test`.
pub(crate) fn epoch_stats(
    epoch: usize,
    model: &Model,
    train: &Dataset,
    test: Option<&Dataset>,
    seconds: f64,
) -> EpochStats {
    record(epoch, model, test, seconds, || train_metrics(model, train))
}

/// The record of an epoch whose updates took `seconds`, with the train figures `train` gives
/// and the test errors by a pass over `test`, timing both.
fn record(
    epoch: usize,
    model: &Model,
    test: Option<&Dataset>,
    seconds: f64,
    train: impl FnOnce() -> (f64, f64, f64),
) -> EpochStats {
    let start = Instant::now();
    let (train_rmse, train_mae, loss) = train();
    let (test_rmse, test_mae) = test_errors(model, test);
    let metrics_seconds = start.elapsed().as_secs_f64();
    EpochStats {
        epoch,
        train_rmse,
        train_mae,
        test_rmse,
        test_mae,
        loss,
        seconds,
        metrics_seconds: Some(metrics_seconds),
        wall_seconds: Some(seconds + metrics_seconds),
    }
}

/// The record of an epoch whose updates took `seconds` and left `sums`: the train errors and
/// the loss from the sums, the test errors by a pass over `test`.
pub(crate) fn fused_epoch_stats(
    epoch: usize,
    model: &Model,
    train: &Dataset,
    test: Option<&Dataset>,
    sums: &EpochSums,
    seconds: f64,
) -> EpochStats {
    record(epoch, model, test, seconds, || {
        fused_train_metrics(model, train, sums)
    })
}

/// Train RMSE, MAE and loss from an epoch's [`EpochSums`]: the values of [`train_metrics`] up
/// to the order of the f64 additions.
pub fn fused_train_metrics(model: &Model, train: &Dataset, sums: &EpochSums) -> (f64, f64, f64) {
    let (users, items) = sums.totals();
    let later = sums.deferred.error_sums(model);
    let errors = [
        items[0] + later[0],
        items[1] + later[1],
        items[2] + later[2],
    ];
    let (rmse, mae) = rmse_mae(errors, train);
    let loss = if model.config.model == ModelKind::Implicit {
        implicit_loss_with(
            model,
            errors[2],
            users[3] + items[3],
            sums.users_gram.as_deref(),
        )
    } else {
        explicit_loss_with(model, errors[0], users[3] + items[3])
    };
    (rmse, mae, loss)
}

/// (RMSE, MAE) on a test set, when there is one with ratings.
pub(crate) fn test_errors(model: &Model, test: Option<&Dataset>) -> (Option<f64>, Option<f64>) {
    match test {
        Some(t) if t.num_ratings() > 0 => {
            let (r, a) = errors(model, t);
            (Some(r), Some(a))
        }
        _ => (None, None),
    }
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

/// The objective the model's updates minimize, in f64: L of docs/model.md ("The explicit loss") for the
/// explicit models (with ALS-WR weights and genre priors when enabled), the weighted loss of
/// Hu, Koren and Volinsky for the implicit model.
pub fn loss(model: &Model, train: &Dataset) -> f64 {
    if model.config.model == ModelKind::Implicit {
        return implicit_loss(model, error_sums(model, train)[2]);
    }
    explicit_loss(model, train, error_sums(model, train)[0])
}

/// The explicit loss given Σ e² over the training ratings.
pub(crate) fn explicit_loss(model: &Model, train: &Dataset, se: f64) -> f64 {
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
    explicit_loss_with(model, se, users + items)
}

/// The explicit loss given Σ e² and the rows' penalties Σ ω (τ |x − p|² + γ b²).
fn explicit_loss_with(model: &Model, se: f64, penalties: f64) -> f64 {
    let c = &model.config;
    let genres = if c.model == ModelKind::Genre {
        genre::genre_penalty(model)
    } else {
        0.0
    };
    c.lambda as f64 / 2.0 * se + penalties / 2.0 + genres
}

/// λ/2 Σ_{all u,i} c_ui (p_ui − x_u·y_i)² + τ/2 (|X|² + |Y|²). The sum over all pairs is
/// trace(XᵀX · YᵀY) plus corrections on the observed pairs, O((m+n)k² + nnz·k).
pub(crate) fn implicit_loss(model: &Model, observed: f64) -> f64 {
    let sq = |v: &[f32]| v.iter().map(|&x| x as f64 * x as f64).sum::<f64>();
    implicit_loss_with(
        model,
        observed,
        sq(&model.user_factors) + sq(&model.item_factors),
        None,
    )
}

/// The implicit loss given the observed pairs' correction and |X|² + |Y|².
/// `users_gram`: XᵀX when already formed (as [`par_gramian`] forms it).
fn implicit_loss_with(
    model: &Model,
    observed: f64,
    squared_norms: f64,
    users_gram: Option<&[f32]>,
) -> f64 {
    let c = &model.config;
    let k = model.k;
    let to64 = |g: &[f32]| g.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let xx = match users_gram {
        Some(g) => to64(g),
        None => to64(&par_gramian(Isa::detected(), &model.user_factors, k)),
    };
    let yy = to64(&par_gramian(Isa::detected(), &model.item_factors, k));
    let all_pairs: f64 = xx.iter().zip(&yy).map(|(a, b)| a * b).sum();
    c.lambda as f64 / 2.0 * (all_pairs + observed) + c.tau as f64 / 2.0 * squared_norms
}
