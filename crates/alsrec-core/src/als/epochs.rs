//! The epoch loop: the block updates of each model kind, in order, with metrics, stopping
//! and cancellation between them.
use super::explicit::HalfStep;
use super::implicit::step::ImplicitStep;
use super::metrics::{fused_epoch_stats, fused_max_degree, EpochSums, RowSums};
use super::{genre, implicit};
use crate::data::dataset::Dataset;
use crate::error::Result;
use crate::model::config::{ImplicitSolver, ModelKind};
use crate::model::{improves, EpochStats, Model};
use crate::runtime::cancel::CancelToken;
use std::time::Instant;

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

pub(crate) fn run_epochs(
    train: &Dataset,
    model: Model,
    hooks: &mut TrainHooks<'_>,
) -> Result<Model> {
    let max_degree = fused_max_degree(model.k);
    run_epochs_with(train, model, hooks, max_degree)
}

/// [`run_epochs`], the errors of movies with more than `max_degree` ratings summed after the
/// Items step ([`super::metrics::Deferred`]).
pub(crate) fn run_epochs_with(
    train: &Dataset,
    mut model: Model,
    hooks: &mut TrainHooks<'_>,
    max_degree: usize,
) -> Result<Model> {
    let config = model.config.clone();
    let cancel = hooks.cancel.clone().unwrap_or_default();
    let mut prev_loss = f64::INFINITY;
    let mut best: Option<(f64, Model)> = None;
    let mut since_best = 0;
    let mut sums = EpochSums::with_max_degree(train, max_degree);
    for epoch in 1..=config.epochs {
        let start = Instant::now();
        for &step in epoch_steps(config.model) {
            cancel.check()?;
            step_with_sums(step, train, &mut model, Some(&cancel), Some(&mut sums));
        }
        cancel.check()?;
        let seconds = start.elapsed().as_secs_f64();
        let stats = fused_epoch_stats(epoch, &model, train, hooks.test, &sums, seconds);
        let (test_rmse, loss) = (stats.test_rmse, stats.loss);
        model.history.push(stats.clone());
        if let Some(cb) = hooks.on_epoch.as_mut() {
            cb(&stats);
        }
        if let (Some(patience), Some(test_rmse)) = (config.patience, test_rmse) {
            if improves(test_rmse, best.as_ref().map(|(b, _)| *b)) {
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

/// Applies one exact block update (on the current rayon pool). A raised `cancel` makes the
/// remaining rows be skipped; the caller then discards the model.
pub fn apply_step(step: Step, train: &Dataset, model: &mut Model, cancel: Option<&CancelToken>) {
    step_with_sums(step, train, model, cancel, None);
}

/// [`apply_step`], leaving the solved rows' [`RowSums`] in `sums`: penalties from the Users
/// step, errors and penalties from the Items step. The epoch's steps end with the Items step
/// and nothing after the Users step changes the users, so these are the end-of-epoch model's.
pub fn step_with_sums(
    step: Step,
    train: &Dataset,
    model: &mut Model,
    cancel: Option<&CancelToken>,
    sums: Option<&mut EpochSums>,
) {
    // Rows of up to `errors` ratings sum their errors (none in the Users step).
    let (row_sums, errors, users_gram): (&mut [RowSums], usize, _) = match (sums, step) {
        (Some(s), Step::Users) => (&mut s.users[..], 0, None),
        (Some(s), Step::Items) => {
            s.users_gram = None;
            let max_degree = s.deferred.max_degree;
            (&mut s.items[..], max_degree, Some(&mut s.users_gram))
        }
        _ => (&mut [][..], 0, None),
    };
    let c = model.config.clone();
    if c.model == ModelKind::Implicit {
        let (ratings, other, own) = match step {
            Step::Users => (
                &*train.by_user,
                &model.item_factors,
                &mut model.user_factors,
            ),
            Step::Items => (&train.by_item, &model.user_factors, &mut model.item_factors),
            Step::Genres => return,
        };
        let gram = ImplicitStep {
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
        .run_with_sums(own, row_sums, errors);
        if let Some(slot) = users_gram {
            // The users stay fixed to the end of the epoch: their Gram matrix is the loss's.
            *slot = Some(gram);
        }
        return;
    }
    let priors = (step == Step::Items && c.model == ModelKind::Genre).then(|| genre::priors(model));
    let (ratings, other_factors, other_bias, factors, bias) = match step {
        Step::Users => (
            &*train.by_user,
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
    .run_with_sums(factors, bias, row_sums, errors);
}
