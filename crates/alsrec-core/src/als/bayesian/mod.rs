//! Bayesian ALS: Gibbs sampling of the biased model with hyperpriors on its precisions
//! (docs/model.md, "Bayesian ALS"). Each sweep draws the users' prior, every user's [u; b],
//! the movies' prior, every movie's [v; c], then the noise precision λ. After `burnIn` sweeps the
//! chain's draws are averaged: the model holds the mean parameters, and each sweep's record the
//! test RMSE of the average so far.
pub mod genre;
pub mod hyper;
pub mod sample;

use self::hyper::{precision_draw, prior_draw, RowMoments};
use self::sample::{stream_rng, SampleStep, Stream};
use super::epochs::TrainHooks;
use crate::data::dataset::Dataset;
use crate::error::Result;
use crate::eval::rating::{error_sums, rmse_mae, sum_over_rows};
use crate::kernels::dense::dot;
use crate::model::factors::Factors;
use crate::model::posterior::{Posterior, RowPrior};
use crate::model::{EpochStats, Model};
use rayon::prelude::*;
use std::sync::Arc;
use std::time::Instant;

pub(crate) fn run_sweeps(
    train: &Dataset,
    mut model: Model,
    hooks: &mut TrainHooks<'_>,
) -> Result<Model> {
    let c = model.config.clone();
    let k = model.k;
    let cancel = hooks.cancel.clone().unwrap_or_default();
    let mut user_prior = RowPrior::isotropic(k, c.tau, c.gamma);
    let mut movie_prior = RowPrior::isotropic(k, c.tau, c.gamma);
    let mut noise = c.lambda;
    let mut genre_precision = c.beta.max(1e-3);
    let with_genres = !model.genre_factors.is_empty();
    let mut chain = Chain::new(&model, hooks.test);
    let num_ratings = train.num_ratings();
    for sweep in 1..=c.epochs {
        let start = Instant::now();
        cancel.check()?;
        // The first sweep draws with the configured precisions: random starting vectors say
        // nothing about the prior yet.
        if sweep > 1 {
            let mut rng = stream_rng(c.seed, sweep, Stream::UserPrior, 0);
            let moments = RowMoments::of(&model.user_factors, k);
            user_prior = prior_draw(&mut rng, c.hyperprior, &moments, None, k, &model.user_bias);
        }
        SampleStep {
            ratings: &train.by_user,
            other_factors: &model.item_factors,
            other_bias: &model.item_bias,
            mu: model.mu,
            k,
            noise_precision: noise,
            prior: &user_prior,
            row_prior_terms: None,
            seed: c.seed,
            sweep,
            stream: Stream::UserRows,
            cancel: Some(&cancel),
        }
        .run(&mut model.user_factors, &mut model.user_bias);
        cancel.check()?;
        if sweep > 1 {
            let mut rng = stream_rng(c.seed, sweep, Stream::MoviePrior, 0);
            if with_genres {
                let residuals = genre::residuals(&model, &crate::als::genre::priors(&model));
                let shared = genre::shared_rows(&model.genre_factors, k, genre_precision);
                let moments = RowMoments::of(&residuals, k);
                movie_prior = prior_draw(
                    &mut rng,
                    c.hyperprior,
                    &moments,
                    Some(&shared),
                    k,
                    &model.item_bias,
                );
                let mut rng = stream_rng(c.seed, sweep, Stream::Genres, 0);
                let (factors, beta) =
                    genre::draw_genre_factors(&mut rng, &model, &movie_prior, genre_precision);
                model.genre_factors = factors;
                genre_precision = beta;
            } else {
                let moments = RowMoments::of(&model.item_factors, k);
                movie_prior =
                    prior_draw(&mut rng, c.hyperprior, &moments, None, k, &model.item_bias);
            }
        }
        let genre_terms = with_genres.then(|| {
            genre::prior_terms(
                &crate::als::genre::priors(&model),
                &movie_prior.precision,
                k,
            )
        });
        SampleStep {
            ratings: &train.by_item,
            other_factors: &model.user_factors,
            other_bias: &model.user_bias,
            mu: model.mu,
            k,
            noise_precision: noise,
            prior: &movie_prior,
            row_prior_terms: genre_terms.as_deref(),
            seed: c.seed,
            sweep,
            stream: Stream::MovieRows,
            cancel: Some(&cancel),
        }
        .run(&mut model.item_factors, &mut model.item_bias);
        cancel.check()?;
        let seconds = start.elapsed().as_secs_f64();
        // The sampler keeps its own pass over the ratings: the noise draw below needs Σ e² of
        // the new draw before the sweep's record, and the chain's test errors are of the mean.
        let sums = error_sums(&model, train);
        let mut rng = stream_rng(c.seed, sweep, Stream::Noise, 0);
        noise = precision_draw(&mut rng, num_ratings, sums[0]);
        let kept = sweep > c.burn_in;
        if kept {
            chain.add(&model, noise, &user_prior, &movie_prior);
        }
        let (train_rmse, train_mae) = rmse_mae(sums, train);
        let (test_rmse, test_mae) = chain.test_errors(&model, kept);
        let wall = start.elapsed().as_secs_f64();
        let stats = EpochStats {
            epoch: sweep,
            train_rmse,
            train_mae,
            test_rmse,
            test_mae,
            loss: negative_log_likelihood(num_ratings, noise, sums[0]),
            seconds,
            metrics_seconds: Some(wall - seconds),
            wall_seconds: Some(wall),
        };
        model.history.push(stats.clone());
        if let Some(cb) = hooks.on_epoch.as_mut() {
            cb(&stats);
        }
    }
    Ok(chain.finish(model))
}

/// −ln p(ratings | draw) = N/2 ln(2π/λ) + λ/2 Σ e²: the loss a sweep reports.
fn negative_log_likelihood(n: usize, noise: f32, sse: f64) -> f64 {
    let n = n as f64;
    let l = noise as f64;
    0.5 * n * (2.0 * std::f64::consts::PI / l).ln() + 0.5 * l * sse
}

/// Running mean and variance (Welford) of one parameter array, updated in parallel.
struct Moments {
    mean: Vec<f32>,
    m2: Vec<f32>,
}

impl Moments {
    fn new(len: usize) -> Moments {
        Moments {
            mean: vec![0.0; len],
            m2: vec![0.0; len],
        }
    }

    /// Adds draw number `count` (1-based).
    fn add(&mut self, draw: &[f32], count: usize) {
        let inv = 1.0 / count as f32;
        self.mean
            .par_chunks_mut(4096)
            .zip(self.m2.par_chunks_mut(4096))
            .zip(draw.par_chunks(4096))
            .for_each(|((mean, m2), x)| {
                for ((m, s), &x) in mean.iter_mut().zip(m2.iter_mut()).zip(x) {
                    let d = x - *m;
                    *m += d * inv;
                    *s += d * (x - *m);
                }
            });
    }

    /// The sample variance after `count` draws (0 with one).
    fn variance(&self, count: usize) -> Vec<f32> {
        let div = count.saturating_sub(1).max(1) as f32;
        self.m2.iter().map(|&s| (s / div).max(0.0)).collect()
    }
}

/// Sums of the kept hyperparameters, averaged into the posterior at the end.
struct PriorSums {
    mean: Vec<f64>,
    precision: Vec<f64>,
    bias_precision: f64,
}

impl PriorSums {
    fn new(k: usize) -> PriorSums {
        PriorSums {
            mean: vec![0.0; k],
            precision: vec![0.0; k * k],
            bias_precision: 0.0,
        }
    }
    fn add(&mut self, p: &RowPrior) {
        for (s, &x) in self.mean.iter_mut().zip(&p.mean) {
            *s += x as f64;
        }
        for (s, &x) in self.precision.iter_mut().zip(&p.precision) {
            *s += x as f64;
        }
        self.bias_precision += p.bias_precision as f64;
    }
    fn average(&self, count: usize) -> RowPrior {
        let n = count.max(1) as f64;
        RowPrior::new(
            self.mean.iter().map(|&s| (s / n) as f32).collect(),
            self.precision.iter().map(|&s| (s / n) as f32).collect(),
            (self.bias_precision / n) as f32,
        )
    }
}

/// What the kept draws add up to.
struct Chain<'a> {
    samples: usize,
    user_factors: Moments,
    user_bias: Moments,
    movie_factors: Moments,
    movie_bias: Moments,
    genre_factors: Moments,
    users: PriorSums,
    movies: PriorSums,
    noise: f64,
    test: Option<&'a Dataset>,
}

impl<'a> Chain<'a> {
    fn new(model: &Model, test: Option<&'a Dataset>) -> Chain<'a> {
        let (m, n, k) = (model.num_users(), model.num_items(), model.k);
        let test = test.filter(|t| t.num_ratings() > 0);
        Chain {
            samples: 0,
            user_factors: Moments::new(m * k),
            user_bias: Moments::new(m),
            movie_factors: Moments::new(n * k),
            movie_bias: Moments::new(n),
            genre_factors: Moments::new(model.genre_factors.len()),
            users: PriorSums::new(k),
            movies: PriorSums::new(k),
            noise: 0.0,
            test,
        }
    }

    fn add(&mut self, model: &Model, noise: f32, users: &RowPrior, movies: &RowPrior) {
        self.samples += 1;
        let s = self.samples;
        self.user_factors.add(&model.user_factors, s);
        self.user_bias.add(&model.user_bias, s);
        self.movie_factors.add(&model.item_factors, s);
        self.movie_bias.add(&model.item_bias, s);
        self.genre_factors.add(&model.genre_factors, s);
        self.users.add(users);
        self.movies.add(movies);
        self.noise += noise as f64;
    }

    /// The test errors a sweep reports: of the averaged draws so far (the model training would
    /// return if it stopped here) once there are kept draws, of the current draw during burn-in.
    fn test_errors(&self, model: &Model, kept: bool) -> (Option<f64>, Option<f64>) {
        let Some(t) = self.test else {
            return (None, None);
        };
        if !kept {
            let (r, a) = crate::eval::rating::errors(model, t);
            return (Some(r), Some(a));
        }
        let k = model.k;
        let (uf, ub) = (&self.user_factors.mean, &self.user_bias.mean);
        let (vf, vb) = (&self.movie_factors.mean, &self.movie_bias.mean);
        let [se, ae] = sum_over_rows(t.by_user.nrows(), |u| {
            let (cols, vals) = t.by_user.row(u);
            let x = &uf[u * k..(u + 1) * k];
            let mut acc = [0.0; 2];
            for (&i, r) in cols.iter().zip(vals) {
                let i = i as usize;
                let p = model.mu + ub[u] + vb[i] + dot(x, &vf[i * k..(i + 1) * k]);
                let e = (r - p) as f64;
                acc[0] += e * e;
                acc[1] += e.abs();
            }
            acc
        });
        let n = t.num_ratings() as f64;
        (Some((se / n).sqrt()), Some(ae / n))
    }

    /// The model of the averaged draws, with its posterior.
    fn finish(self, mut model: Model) -> Model {
        let s = self.samples;
        model.user_factors = Factors::from_slice(&self.user_factors.mean);
        model.item_factors = Factors::from_slice(&self.movie_factors.mean);
        model.user_bias = self.user_bias.mean.clone();
        model.item_bias = self.movie_bias.mean.clone();
        model.genre_factors = self.genre_factors.mean.clone();
        model.posterior = Some(Arc::new(Posterior {
            noise_precision: (self.noise / s.max(1) as f64) as f32,
            users: self.users.average(s),
            movies: self.movies.average(s),
            samples: s,
            user_factor_variance: self.user_factors.variance(s),
            user_bias_variance: self.user_bias.variance(s),
            movie_factor_variance: self.movie_factors.variance(s),
            movie_bias_variance: self.movie_bias.variance(s),
        }));
        model
    }
}

#[cfg(test)]
mod tests;
