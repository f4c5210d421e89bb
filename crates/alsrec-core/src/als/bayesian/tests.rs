//! The Gibbs sampler against closed forms, and the properties every model has: the same chain
//! for any thread count, a file round trip, fold-in with the learned precisions.
use super::sample::{SampleStep, Stream};
use crate::als::epochs::TrainHooks;
use crate::als::row::Gathered;
use crate::als::train;
use crate::data::dataset::Dataset;
use crate::data::sparse::Csr;
use crate::data::split::random_split;
use crate::ingest::movielens::{load_movielens, LoadOptions};
use crate::model::config::{Hyperprior, ModelKind, TrainConfig};
use crate::model::posterior::RowPrior;
use crate::model::Model;
use nalgebra::{DMatrix, DVector};
use std::path::PathBuf;

fn sample() -> Dataset {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/sample");
    load_movielens(&dir, &LoadOptions::default()).expect("the bundled sample loads")
}

fn bayesian(threads: usize) -> TrainConfig {
    TrainConfig {
        factors: 8,
        epochs: 6,
        burn_in: 2,
        threads: Some(threads),
        ranker: None,
        ..TrainConfig::defaults_for(ModelKind::Bayesian)
    }
}

/// One user who rated three movies (k = 2), drawn 40,000 times: the draws' mean and covariance
/// are the conjugate posterior's, P = λ Σ ṽ ṽᵀ + diag(Λ, γ), mean P⁻¹ (λ Σ ṽ t + [Λ m; 0]).
#[test]
fn a_row_draw_follows_its_conjugate_posterior() {
    let k = 2;
    let movies = [0.5f32, -1.0, 1.5, 0.25, -0.75, 0.5];
    let movie_bias = [0.1f32, -0.2, 0.3];
    let ratings = Csr::from_triplets(1, 3, &[0, 0, 0], &[0, 1, 2], &[4.0, 3.0, 5.0]);
    let mu = 3.5f32;
    let noise = 2.0f32;
    let prior = RowPrior::new(vec![0.2, -0.1], vec![3.0, 0.5, 0.5, 2.0], 4.0);
    // The closed form, in f64.
    let mut p = DMatrix::<f64>::zeros(k + 1, k + 1);
    let mut h = DVector::<f64>::zeros(k + 1);
    for j in 0..3 {
        let v = [movies[2 * j] as f64, movies[2 * j + 1] as f64, 1.0];
        let t = ratings.values.get(j) as f64 - mu as f64 - movie_bias[j] as f64;
        for a in 0..=k {
            h[a] += noise as f64 * t * v[a];
            for b in 0..=k {
                p[(a, b)] += noise as f64 * v[a] * v[b];
            }
        }
    }
    for a in 0..k {
        for b in 0..k {
            p[(a, b)] += prior.precision[a * k + b] as f64;
        }
        h[a] += prior.precision_times_mean[a] as f64;
    }
    p[(k, k)] += prior.bias_precision as f64;
    let cov = p.clone().try_inverse().unwrap();
    let mean = &cov * &h;
    let draws = 40_000;
    let mut sum = DVector::<f64>::zeros(k + 1);
    let mut outer = DMatrix::<f64>::zeros(k + 1, k + 1);
    for sweep in 0..draws {
        let mut x = vec![0f32; k];
        let mut b = [0f32];
        SampleStep {
            ratings: &ratings,
            other_factors: &movies,
            other_bias: &movie_bias,
            mu,
            k,
            noise_precision: noise,
            prior: &prior,
            row_prior_terms: None,
            seed: 11,
            sweep,
            stream: Stream::UserRows,
            cancel: None,
        }
        .run(&mut x, &mut b);
        let d = DVector::from_vec(vec![x[0] as f64, x[1] as f64, b[0] as f64]);
        sum += &d;
        outer += &d * d.transpose();
    }
    let n = draws as f64;
    let got_mean = &sum / n;
    let got_cov = &outer / n - &got_mean * got_mean.transpose();
    for a in 0..=k {
        let se = (cov[(a, a)] / n).sqrt();
        assert!(
            (got_mean[a] - mean[a]).abs() < 4.0 * se,
            "mean {a}: {} vs {}",
            got_mean[a],
            mean[a]
        );
        for b in 0..=k {
            let scale = (cov[(a, a)] * cov[(b, b)]).sqrt();
            assert!(
                (got_cov[(a, b)] - cov[(a, b)]).abs() < 0.03 * scale,
                "cov {a},{b}: {} vs {}",
                got_cov[(a, b)],
                cov[(a, b)]
            );
        }
    }
}

#[test]
fn the_chain_is_identical_for_any_thread_count() {
    let data = sample();
    let split = random_split(&data, 0.2, 3).unwrap();
    for hyperprior in [Hyperprior::Wishart, Hyperprior::Gamma] {
        let runs: Vec<Model> = [1, 2, 3]
            .iter()
            .map(|&t| {
                let hooks = TrainHooks {
                    test: Some(&split.test),
                    ..TrainHooks::default()
                };
                let config = TrainConfig {
                    hyperprior,
                    ..bayesian(t)
                };
                train(&split.train, &config, hooks).unwrap()
            })
            .collect();
        for other in &runs[1..] {
            let a = &runs[0];
            assert_eq!(a.user_factors, other.user_factors);
            assert_eq!(a.item_factors, other.item_factors);
            assert_eq!(a.user_bias, other.user_bias);
            assert_eq!(a.posterior, other.posterior);
            let strip = |m: &Model| {
                m.history
                    .iter()
                    .map(|s| (s.train_rmse, s.test_rmse, s.loss))
                    .collect::<Vec<_>>()
            };
            assert_eq!(strip(a), strip(other));
        }
    }
}

/// The averaged chain predicts better than its own first draws, the posterior is sane, and the
/// saved file gives back the same model.
#[test]
fn the_averaged_chain_learns_and_round_trips_through_a_file() {
    let data = sample();
    let split = random_split(&data, 0.2, 5).unwrap();
    let hooks = TrainHooks {
        test: Some(&split.test),
        ..TrainHooks::default()
    };
    let config = TrainConfig {
        epochs: 30,
        burn_in: 10,
        ..bayesian(2)
    };
    let model = train(&split.train, &config, hooks).unwrap();
    let h = &model.history;
    assert_eq!(h.len(), 30);
    let first = h[0].test_rmse.unwrap();
    let last = h[29].test_rmse.unwrap();
    assert!(last < first - 0.05, "test RMSE {first} -> {last}");
    let p = model
        .posterior
        .as_ref()
        .expect("a bayesian model has a posterior");
    assert_eq!(p.samples, 20);
    // The bundled sample is generated with rating noise of standard deviation ~0.9 on a
    // half-star scale: the learned noise precision is near 1/σ², not at its starting value 1.
    assert!(
        p.noise_precision > 1.0 && p.noise_precision < 10.0,
        "{}",
        p.noise_precision
    );
    assert!(p.user_factor_variance.iter().all(|&v| v >= 0.0));
    assert!(p.user_factor_variance.iter().any(|&v| v > 0.0));
    let spread = p.prediction_spread(0, 0, model.user_vector(0), model.item_vector(0));
    assert!(spread > 0.0 && spread.is_finite());
    let bytes = crate::model::file::encode(&model).unwrap();
    let back = crate::model::file::decode(&bytes).unwrap();
    assert_eq!(back.posterior, model.posterior);
    assert_eq!(back.user_factors, model.user_factors);
    assert_eq!(back.config, model.config);
    assert_eq!(crate::model::file::encode(&back).unwrap(), bytes);
}

/// A new user's fold-in is the posterior mean under the learned precisions, and differs from
/// what the configured τ and γ would give.
#[test]
fn fold_in_uses_the_learned_precisions() {
    let data = sample();
    let model = train(&data, &bayesian(2), TrainHooks::default()).unwrap();
    let p = model.posterior.clone().unwrap();
    let k = model.k;
    let mut rows = Gathered::new(k);
    for (i, r) in [(0usize, 5.0f32), (3, 1.0), (7, 4.0)] {
        rows.push(model.item_vector(i), model.item_bias[i], r);
    }
    let (x, b) = model.fold_in_user(&rows, None).unwrap();
    let mut a = DMatrix::<f64>::zeros(k + 1, k + 1);
    let mut h = DVector::<f64>::zeros(k + 1);
    let lambda = p.noise_precision as f64;
    for j in 0..rows.ratings.len() {
        let mut v: Vec<f64> = rows.vectors[j * k..(j + 1) * k]
            .iter()
            .map(|&x| x as f64)
            .collect();
        v.push(1.0);
        let t = (rows.ratings[j] - model.mu - rows.bias[j]) as f64;
        for r in 0..=k {
            h[r] += lambda * t * v[r];
            for c in 0..=k {
                a[(r, c)] += lambda * v[r] * v[c];
            }
        }
    }
    for r in 0..k {
        for c in 0..k {
            a[(r, c)] += p.users.precision[r * k + c] as f64;
        }
        h[r] += p.users.precision_times_mean[r] as f64;
    }
    a[(k, k)] += p.users.bias_precision as f64;
    let want = a.lu().solve(&h).unwrap();
    for r in 0..k {
        assert!(
            (x[r] as f64 - want[r]).abs() < 1e-3,
            "{r}: {} vs {}",
            x[r],
            want[r]
        );
    }
    assert!((b as f64 - want[k]).abs() < 1e-3);
    // Without the posterior the configured τ I, γ and λ would apply: a different answer.
    let mut map = model.clone();
    map.posterior = None;
    let (x_map, _) = map.fold_in_user(&rows, None).unwrap();
    assert!(x.iter().zip(&x_map).any(|(a, b)| (a - b).abs() > 1e-3));
}

/// With genre priors the genre vectors are drawn and averaged, and a movie nobody rated sits
/// at its prior mean m + p_n: the genres carry what the ratings cannot.
#[test]
fn genre_priors_place_unrated_movies_by_their_genres() {
    let data = sample();
    let split = random_split(&data, 0.2, 8).unwrap();
    let config = TrainConfig {
        epochs: 80,
        burn_in: 10,
        ..bayesian(2)
    };
    let model = train(&split.train, &config, TrainHooks::default()).unwrap();
    assert!(model.config.genre_priors);
    let g = model.catalog.genre_names.len();
    assert_eq!(model.genre_factors.len(), g * model.k);
    assert!(model.genre_factors.iter().any(|&x| x != 0.0));
    let k = model.k;
    let unrated = (0..model.num_items())
        .find(|&i| split.train.by_item.row_len(i) == 0 && !model.item_genres(i).is_empty());
    if let Some(i) = unrated {
        let mut p = vec![0f32; k];
        model.genre_prior(i, &mut p);
        let m = &model.posterior.as_ref().unwrap().movies.mean;
        // Its 70 draws came from N(m + p_n, Λ⁻¹) only; their average is near the averaged mean
        // (about √(k / (70 Λ)) ≈ 0.1 away).
        let v = model.item_vector(i);
        let dist: f32 = (0..k)
            .map(|d| (v[d] - m[d] - p[d]).powi(2))
            .sum::<f32>()
            .sqrt();
        let norm: f32 = (0..k).map(|d| (m[d] + p[d]).powi(2)).sum::<f32>().sqrt();
        assert!(
            dist < 0.5 * norm.max(0.2),
            "unrated movie {i}: |v − (m + p)| = {dist}, |m + p| = {norm}"
        );
    }
}

#[test]
fn options_gibbs_sampling_cannot_honour_are_refused() {
    let base = TrainConfig::defaults_for(ModelKind::Bayesian);
    for (bad, word) in [
        (
            TrainConfig {
                burn_in: base.epochs,
                ..base.clone()
            },
            "burnIn",
        ),
        (
            TrainConfig {
                tolerance: 1e-4,
                ..base.clone()
            },
            "tolerance",
        ),
        (
            TrainConfig {
                patience: Some(3),
                ..base.clone()
            },
            "patience",
        ),
        (
            TrainConfig {
                weighted_regularization: true,
                ..base.clone()
            },
            "weightedRegularization",
        ),
        (
            TrainConfig {
                burn_in: 3,
                ..TrainConfig::defaults_for(ModelKind::Biased)
            },
            "burnIn",
        ),
        (
            TrainConfig {
                genre_priors: true,
                ..TrainConfig::defaults_for(ModelKind::Genre)
            },
            "genrePriors",
        ),
    ] {
        let e = bad.validate().unwrap_err();
        assert!(e.message.contains(word), "{}", e.message);
    }
    assert!(base.validate().is_ok());
}

/// A crafted file cannot give a model a posterior it should not have, drop one it needs, or
/// smuggle in negative variances or precisions: each is refused with BadModelFile.
#[test]
fn hostile_posteriors_are_refused_by_the_loader() {
    use crate::error::ErrorKind;
    use crate::model::file::{decode, encode};
    use std::sync::Arc;
    let data = sample();
    let model = train(&data, &bayesian(1), TrainHooks::default()).unwrap();
    let refused = |m: &Model, word: &str| {
        let e = decode(&encode(m).unwrap()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadModelFile, "{}", e.message);
        assert!(e.message.contains(word), "{}", e.message);
    };
    let mut without = model.clone();
    without.posterior = None;
    refused(&without, "needs its 'posterior'");
    let biased = train(
        &data,
        &TrainConfig {
            ranker: None,
            factors: 8,
            epochs: 2,
            ..TrainConfig::defaults_for(ModelKind::Biased)
        },
        TrainHooks::default(),
    )
    .unwrap();
    let mut extra = biased.clone();
    extra.posterior = model.posterior.clone();
    refused(&extra, "has no posterior");
    let mut p = (**model.posterior.as_ref().unwrap()).clone();
    p.user_factor_variance[5] = -1.0;
    let mut negative = model.clone();
    negative.posterior = Some(Arc::new(p));
    refused(&negative, "userFactorVariance");
    let mut p = (**model.posterior.as_ref().unwrap()).clone();
    p.noise_precision = 0.0;
    let mut zero = model.clone();
    zero.posterior = Some(Arc::new(p));
    refused(&zero, "noisePrecision");
    let mut p = (**model.posterior.as_ref().unwrap()).clone();
    p.samples = 0;
    let mut none = model.clone();
    none.posterior = Some(Arc::new(p));
    refused(&none, "samples");
}
