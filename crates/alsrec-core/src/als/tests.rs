//! Properties of training: the loss never rises across a block update, results do not depend on
//! the thread count, early stopping, warm start, cancellation, cold start by genres, accuracy.
use std::path::PathBuf;

use super::*;
use crate::als::epochs::{apply_step, epoch_steps};
use crate::als::metrics::loss;
use crate::data::split::random_split;
use crate::eval::rating::errors;
use crate::ingest::movielens::{load_movielens, LoadOptions};
use crate::model::config::{ImplicitSolver, ModelKind, TrainConfig};
use crate::runtime::cancel::CancelToken;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(dir: PathBuf) -> Dataset {
    load_movielens(&dir, &LoadOptions::default()).expect("data set loads")
}

fn sample() -> Dataset {
    load(repo().join("data/sample"))
}

/// ml-latest-small beside the repository, or None (tests then fall back or skip).
fn ml_small() -> Option<Dataset> {
    let dir = repo().join("../shared/data/ml-latest-small");
    if dir.join("ratings.csv").exists() {
        Some(load(dir))
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

fn config(model: ModelKind) -> TrainConfig {
    TrainConfig {
        epochs: 4,
        threads: Some(2),
        tolerance: 0.0,
        ..TrainConfig::defaults_for(model)
    }
}

/// Every kind of model and solver the engine has.
fn all_configs() -> Vec<TrainConfig> {
    vec![
        config(ModelKind::Bias),
        config(ModelKind::Biased),
        TrainConfig {
            weighted_regularization: true,
            tau: 0.05,
            gamma: 0.05,
            ..config(ModelKind::Biased)
        },
        config(ModelKind::Genre),
        TrainConfig {
            weighted_regularization: true,
            tau: 0.05,
            gamma: 0.05,
            ..config(ModelKind::Genre)
        },
        config(ModelKind::Implicit),
        TrainConfig {
            solver: ImplicitSolver::Cholesky,
            ..config(ModelKind::Implicit)
        },
    ]
}

#[test]
fn loss_never_rises_across_a_block_update() {
    let data = ml_small().unwrap_or_else(sample);
    let split = random_split(&data, 0.2, 7).unwrap();
    for cfg in all_configs() {
        let pool = thread_pool(cfg.threads).unwrap();
        pool.install(|| {
            let mut model = initial_model(&split.train, &cfg, None).unwrap();
            let mut before = loss(&model, &split.train);
            for epoch in 1..=cfg.epochs {
                for &step in epoch_steps(cfg.model) {
                    apply_step(step, &split.train, &mut model, None);
                    let after = loss(&model, &split.train);
                    // The solves run in f32: allow a rise of a few ulps of f32 relative to L.
                    assert!(
                        after <= before * (1.0 + 1e-6),
                        "{:?} weighted={} epoch {epoch} {step:?}: loss rose {before} -> {after}",
                        cfg.model,
                        cfg.weighted_regularization
                    );
                    before = after;
                }
            }
        });
    }
}

/// The train errors and loss an epoch's block updates leave equal a separate pass over the
/// ratings after it, up to the order of the f64 additions: with every movie summed in the Items
/// step, with the most rated deferred to the pass by user, and with all deferred; and they do
/// not depend on the thread count.
#[test]
fn fused_metrics_equal_a_separate_pass() {
    use crate::als::epochs::run_epochs_with;
    use crate::als::init::initial_model;
    use crate::als::metrics::train_metrics;
    let data = sample();
    let median_degree = {
        let mut d: Vec<usize> = (0..data.by_item.nrows())
            .map(|i| data.by_item.row_len(i))
            .collect();
        d.sort_unstable();
        d[d.len() / 2]
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-300);
    let mut configs = all_configs();
    configs.push(TrainConfig {
        weighted_regularization: true,
        ..config(ModelKind::Implicit)
    });
    for cfg in configs {
        for max_degree in [usize::MAX, median_degree, 0] {
            let runs: Vec<Model> = [1, 2]
                .iter()
                .map(|&t| {
                    let cfg = TrainConfig {
                        threads: Some(t),
                        epochs: 2,
                        ..cfg.clone()
                    };
                    let pool = thread_pool(cfg.threads).unwrap();
                    pool.install(|| {
                        let model = initial_model(&data, &cfg, None).unwrap();
                        let mut hooks = TrainHooks::default();
                        run_epochs_with(&data, model, &mut hooks, max_degree).unwrap()
                    })
                })
                .collect();
            let what = format!("{:?} {:?}, max degree {max_degree}", cfg.model, cfg.solver);
            let fused = runs[0].history.last().unwrap();
            let (rmse, mae, loss) = train_metrics(&runs[0], &data);
            assert!(
                close(fused.train_rmse, rmse),
                "{what}: {} vs {rmse}",
                fused.train_rmse
            );
            assert!(
                close(fused.train_mae, mae),
                "{what}: {} vs {mae}",
                fused.train_mae
            );
            assert!(close(fused.loss, loss), "{what}: {} vs {loss}", fused.loss);
            let strip = |m: &Model| {
                m.history
                    .iter()
                    .map(|s| (s.train_rmse, s.train_mae, s.loss))
                    .collect::<Vec<_>>()
            };
            assert_eq!(strip(&runs[0]), strip(&runs[1]), "{what}");
            assert_eq!(runs[0].item_factors, runs[1].item_factors, "{what}");
        }
    }
}

#[test]
fn results_are_identical_for_any_thread_count() {
    let data = sample();
    let split = random_split(&data, 0.2, 3).unwrap();
    for cfg in all_configs() {
        let runs: Vec<Model> = [1, 2, 3]
            .iter()
            .map(|&t| {
                let cfg = TrainConfig {
                    threads: Some(t),
                    epochs: 3,
                    ..cfg.clone()
                };
                let hooks = TrainHooks {
                    test: Some(&split.test),
                    ..TrainHooks::default()
                };
                train(&split.train, &cfg, hooks).unwrap()
            })
            .collect();
        for other in &runs[1..] {
            let a = &runs[0];
            assert_eq!(a.user_factors, other.user_factors, "{:?}", cfg.model);
            assert_eq!(a.item_factors, other.item_factors, "{:?}", cfg.model);
            assert_eq!(a.user_bias, other.user_bias);
            assert_eq!(a.item_bias, other.item_bias);
            assert_eq!(a.genre_factors, other.genre_factors);
            let strip = |m: &Model| {
                m.history
                    .iter()
                    .map(|s| (s.train_rmse, s.train_mae, s.test_rmse, s.test_mae, s.loss))
                    .collect::<Vec<_>>()
            };
            assert_eq!(strip(a), strip(other), "{:?}", cfg.model);
        }
    }
}

#[test]
fn patience_keeps_the_best_epoch() {
    let data = sample();
    let split = random_split(&data, 0.2, 5).unwrap();
    // Barely regularized vectors overfit: the test RMSE turns up after a few epochs.
    let cfg = TrainConfig {
        factors: 48,
        tau: 1.0,
        epochs: 30,
        patience: Some(2),
        ..config(ModelKind::Biased)
    };
    let hooks = TrainHooks {
        test: Some(&split.test),
        ..TrainHooks::default()
    };
    let model = train(&split.train, &cfg, hooks).unwrap();
    let rmses: Vec<f64> = model.history.iter().map(|s| s.test_rmse.unwrap()).collect();
    assert!(rmses.len() < 30, "patience should stop early: {rmses:?}");
    let best = rmses.iter().cloned().fold(f64::INFINITY, f64::min);
    let last = *rmses.last().unwrap();
    assert!(last > best, "stopped without a worse epoch: {rmses:?}");
    let (kept, _) = errors(&model, &split.test);
    assert_eq!(kept, best, "the model kept is not the best epoch's");
    // The model names the epoch it holds: the one whose recorded test RMSE it reproduces.
    let epoch = model.kept_epoch();
    assert!(
        epoch < model.history.len(),
        "kept the last epoch: {rmses:?}"
    );
    assert_eq!(model.history[epoch - 1].test_rmse, Some(kept));
}

#[test]
fn the_kept_epoch_is_the_first_best_under_patience_else_the_last() {
    use crate::model::{kept_epoch, EpochStats};
    let h = |rmses: &[Option<f64>]| -> Vec<EpochStats> {
        rmses
            .iter()
            .enumerate()
            .map(|(i, &t)| EpochStats {
                epoch: i + 1,
                train_rmse: 1.0,
                train_mae: 1.0,
                test_rmse: t,
                test_mae: t,
                loss: 1.0,
                seconds: 0.0,
                metrics_seconds: None,
                wall_seconds: None,
            })
            .collect()
    };
    let ties = h(&[Some(0.9), Some(0.8), Some(0.85), Some(0.8)]);
    assert_eq!(kept_epoch(&ties, true), 2, "a tie keeps the earlier epoch");
    assert_eq!(
        kept_epoch(&ties, false),
        4,
        "without patience the last epoch is kept"
    );
    assert_eq!(
        kept_epoch(&h(&[None, None]), true),
        2,
        "no test set: the last"
    );
    assert_eq!(kept_epoch(&[], true), 0);
}

#[test]
fn tolerance_stops_when_the_loss_stalls() {
    let data = sample();
    let cfg = TrainConfig {
        epochs: 50,
        tolerance: 0.5,
        ..config(ModelKind::Biased)
    };
    let model = train(&data, &cfg, TrainHooks::default()).unwrap();
    assert!(model.history.len() < 5, "{}", model.history.len());
}

#[test]
fn warm_start_continues_training_exactly() {
    let data = sample();
    for kind in [ModelKind::Biased, ModelKind::Genre, ModelKind::Implicit] {
        let cfg = |epochs| TrainConfig {
            epochs,
            ..config(kind)
        };
        let straight = train(&data, &cfg(4), TrainHooks::default()).unwrap();
        let first = train(&data, &cfg(3), TrainHooks::default()).unwrap();
        let hooks = TrainHooks {
            initial: Some(&first),
            ..TrainHooks::default()
        };
        let resumed = train(&data, &cfg(1), hooks).unwrap();
        assert_eq!(straight.user_factors, resumed.user_factors, "{kind:?}");
        assert_eq!(straight.item_factors, resumed.item_factors, "{kind:?}");
        assert_eq!(straight.item_bias, resumed.item_bias, "{kind:?}");
        assert_eq!(straight.genre_factors, resumed.genre_factors, "{kind:?}");
    }
    let biased = train(&data, &config(ModelKind::Biased), TrainHooks::default()).unwrap();
    let hooks = TrainHooks {
        initial: Some(&biased),
        ..TrainHooks::default()
    };
    let e = train(&data, &config(ModelKind::Implicit), hooks).unwrap_err();
    assert!(e.message.contains("initialModel"), "{}", e.message);
}

#[test]
fn cancelled_training_stops_with_aborted() {
    let data = sample();
    let cancel = CancelToken::new();
    cancel.cancel();
    let hooks = TrainHooks {
        cancel: Some(cancel),
        ..TrainHooks::default()
    };
    let e = train(&data, &config(ModelKind::Biased), hooks).unwrap_err();
    assert_eq!(e.kind, crate::error::ErrorKind::Aborted);
}

#[test]
fn unrated_movies_with_genres_sit_at_their_genre_prior() {
    let data = sample();
    // Hold out every rating of a few movies: they stay in the catalog with their genres.
    let held: Vec<u32> = (0..5).collect();
    let items = data.triplets().items;
    let rows: Vec<usize> = (0..data.num_ratings())
        .filter(|&r| !held.contains(&items[r]))
        .collect();
    let train_set = data.subset(&rows);
    let model = train(&train_set, &config(ModelKind::Genre), TrainHooks::default()).unwrap();
    let mut prior = vec![0f32; model.k];
    for &i in &held {
        assert!(!model.item_genres(i as usize).is_empty());
        model.genre_prior(i as usize, &mut prior);
        assert_eq!(model.item_vector(i as usize), prior.as_slice());
        assert!(prior.iter().any(|&x| x != 0.0), "the genre prior is zero");
    }
}

/// Test RMSE of each model on a seeded 80/20 split of ml-latest-small, against the targets.
#[test]
fn accuracy_on_ml_latest_small() {
    let Some(data) = ml_small() else { return };
    let split = random_split(&data, 0.2, 42).unwrap();
    let rmse = |cfg: TrainConfig| {
        let hooks = TrainHooks {
            test: Some(&split.test),
            ..TrainHooks::default()
        };
        let model = train(&split.train, &cfg, hooks).unwrap();
        errors(&model, &split.test).0
    };
    let mean = split.train.mean_rating() as f32;
    let mean_rmse = (split
        .test
        .triplets()
        .ratings
        .iter()
        .map(|&r| ((r - mean) as f64).powi(2))
        .sum::<f64>()
        / split.test.num_ratings() as f64)
        .sqrt();
    let defaults = |kind| TrainConfig {
        threads: Some(2),
        ..TrainConfig::defaults_for(kind)
    };
    let bias = rmse(defaults(ModelKind::Bias));
    let biased = rmse(defaults(ModelKind::Biased));
    let genre = rmse(defaults(ModelKind::Genre));
    eprintln!("global mean {mean_rmse:.4}, bias {bias:.4}, biased {biased:.4}, genre {genre:.4}");
    assert!(bias < mean_rmse - 0.05, "bias {bias} vs mean {mean_rmse}");
    assert!(biased <= 0.860, "biased {biased}");
    assert!(genre <= 0.860, "genre {genre}");
}

/// Movie 1: ten ratings two years old; movie 2: four ratings this week; movie 3: one, today.
fn dated(timestamps: bool) -> Dataset {
    use crate::data::catalog::Catalog;
    use crate::data::dataset::Triplets;
    use crate::data::ids::IdMap;
    use crate::data::report::LoadReport;
    use std::sync::Arc;
    let (mut users, mut items) = (IdMap::new(), IdMap::new());
    let mut t = Triplets::default();
    let day = 86_400i64;
    let now = 1_700_000_000i64;
    let mut rate = |u: i64, i: i64, ts: i64| {
        let (u, i) = (users.intern(u), items.intern(i));
        t.push(u, i, 4.0, timestamps.then_some(ts));
    };
    for u in 0..10 {
        rate(u, 1, now - 730 * day);
    }
    for u in 0..4 {
        rate(u, 2, now - 3 * day);
    }
    rate(0, 3, now);
    Dataset::new(
        Arc::new(users),
        Arc::new(items),
        Arc::new(Catalog::new()),
        t,
        LoadReport::default(),
    )
}

#[test]
fn recent_popularity_weighs_ratings_by_age() {
    let data = dated(true);
    let order = |config: &TrainConfig| -> Vec<i64> {
        let model = train(&data, config, TrainHooks::default()).unwrap();
        let mut by: Vec<usize> = (0..model.num_items()).collect();
        by.sort_by(|&a, &b| model.item_bias[b].total_cmp(&model.item_bias[a]));
        by.iter().map(|&i| model.items.raw(i as u32)).collect()
    };
    let all_time = config(ModelKind::Popular);
    assert_eq!(order(&all_time), vec![1, 2, 3]);
    let lately = TrainConfig {
        recency_half_life: Some(30.0),
        ..all_time.clone()
    };
    assert_eq!(order(&lately), vec![2, 3, 1]);
    // Two years at a 30-day half-life: ten ratings weigh 10·2^(−24.3), less than today's one.
    let model = train(&data, &lately, TrainHooks::default()).unwrap();
    let c = |id: i64| model.item_bias[model.items.index(id).unwrap() as usize];
    assert!(c(3) > c(1));
    assert!(
        (c(3) - 2f32.ln()).abs() < 1e-6,
        "one rating of age 0 counts 1"
    );
    // Without timestamps, or on another model, it is refused with a message.
    let e = train(&dated(false), &lately, TrainHooks::default()).unwrap_err();
    assert!(e.message.contains("timestamps"), "{}", e.message);
    let e = TrainConfig {
        recency_half_life: Some(30.0),
        ..config(ModelKind::Genre)
    }
    .validate()
    .unwrap_err();
    assert!(e.message.contains("'popular'"), "{}", e.message);
    for bad in [0.0, -1.0, f64::NAN, 1e9] {
        let e = TrainConfig {
            recency_half_life: Some(bad),
            ..all_time.clone()
        }
        .validate()
        .unwrap_err();
        assert!(e.message.contains("recencyHalfLife"), "{}", e.message);
    }
}

/// Ratings on scales the one-byte codes do not cover (more than 256 distinct values) stay f32s,
/// and ratings that are coded train exactly as their f32s do: the layouts decode to the same
/// values, so the models are bit-identical.
#[test]
fn coded_and_plain_ratings_train_identically_on_any_scale() {
    use crate::data::catalog::Catalog;
    use crate::data::dataset::Triplets;
    use crate::data::ids::IdMap;
    use crate::data::report::LoadReport;
    use crate::data::sparse::{Csr, Values};
    use std::sync::Arc;
    type Scale = (&'static str, fn(u32) -> f32);
    let scales: [Scale; 5] = [
        ("half stars", |x| (x % 10 + 1) as f32 * 0.5),
        ("1 to 10", |x| (x % 10 + 1) as f32),
        ("tenths", |x| (x % 41) as f32 * 0.1 + 1.0),
        ("negative", |x| (x % 7) as f32 - 3.0),
        ("counts past 256 values", |x| (x % 600 + 1) as f32),
    ];
    for (name, rating) in scales {
        let mut t = Triplets::default();
        for u in 0..80u32 {
            for j in 0..(5 + u % 30) {
                let i = (j * 13 + u * 7) % 120;
                t.push(u, i, rating(u * 131 + j * 17), None);
            }
        }
        // Drop repeated (user, movie) pairs: the loader would have.
        let mut seen = std::collections::HashSet::new();
        let keep: Vec<usize> = (0..t.len())
            .filter(|&k| seen.insert((t.users[k], t.items[k])))
            .collect();
        let t = t.select(&keep);
        let coded = Dataset::new(
            Arc::new(IdMap::from_raw((0..80).collect())),
            Arc::new(IdMap::from_raw((0..120).collect())),
            Arc::new(Catalog::new()),
            t.clone(),
            LoadReport::default(),
        );
        let want_coded = name != "counts past 256 values";
        assert_eq!(coded.by_user.values.is_coded(), want_coded, "{name}");
        assert_eq!(coded.by_item.values.is_coded(), want_coded, "{name}");
        assert_eq!(coded.triplets().ratings, t.ratings, "{name}");
        let mut plain = coded.clone();
        plain.by_user = Arc::new(Csr {
            values: Values::Plain(coded.by_user.values.to_vec()),
            ..(*coded.by_user).clone()
        });
        plain.by_item.values = Values::Plain(coded.by_item.values.to_vec());
        for model in [ModelKind::Biased, ModelKind::Implicit] {
            let cfg = TrainConfig {
                factors: 6,
                ..config(model)
            };
            let a = train(&coded, &cfg, TrainHooks::default()).unwrap();
            let b = train(&plain, &cfg, TrainHooks::default()).unwrap();
            let bits = |m: &Model| -> Vec<u32> {
                m.user_factors
                    .iter()
                    .chain(m.item_factors.iter())
                    .chain(&m.user_bias)
                    .chain(&m.item_bias)
                    .map(|x| x.to_bits())
                    .collect()
            };
            assert_eq!(bits(&a), bits(&b), "{name} {model:?}");
            assert_eq!(
                a.history.last().map(|h| h.train_rmse.to_bits()),
                b.history.last().map(|h| h.train_rmse.to_bits()),
                "{name}"
            );
        }
    }
}
