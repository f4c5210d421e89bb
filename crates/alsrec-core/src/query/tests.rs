//! Tests of the model file, the queries, fold-ins, explanations, partialFit and ranking metrics
//! on a small synthetic dataset with planted tastes.
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::als::{self, epochs::TrainHooks};
use crate::data::catalog::Catalog;
use crate::data::dataset::{Dataset, Triplets};
use crate::data::ids::IdMap;
use crate::data::report::LoadReport;
use crate::error::ErrorKind;
use crate::eval::ranking::ranking_metrics;
use crate::foldin::new_user::NewUser;
use crate::foldin::partial_fit::NewRatings;
use crate::model::config::{ModelKind, RankerConfig, TrainConfig};
use crate::model::file as modelfile;
use crate::query::options::{Filter, RecommendOptions};
use crate::query::stats::QueryStats;
use crate::runtime::cancel::CancelToken;
use crate::runtime::pool::thread_pool;
use crate::Model;

const GENRES: [&str; 4] = ["Action", "Comedy", "Drama", "Fantasy"];

/// 120 users × 80 movies; movie i has genre i % 4 (and Drama when i % 5 == 0); users like one
/// genre each. Ratings in half stars from 0.5 to 5; every movie is rated with probability 0.35.
fn dataset() -> Dataset {
    dataset_watched(0.35, 0.35)
}

/// As [`dataset`], with users rating (watching) movies of their genre with probability `liked`
/// and others with `other`: what a ranker learns from.
fn dataset_watched(liked: f32, other: f32) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut catalog = Catalog::new();
    let (mut users, mut items) = (IdMap::new(), IdMap::new());
    for i in 0..80i64 {
        let mut g = vec![GENRES[(i % 4) as usize]];
        if i % 5 == 0 && i % 4 != 2 {
            g.push("Drama");
        }
        catalog.push(1000 + i, format!("Movie {i} ({})", 1980 + i % 30), &g);
    }
    let mut t = Triplets::default();
    for u in 0..120i64 {
        let taste = (u % 4) as usize;
        let uu = users.intern(10 + u);
        for i in 0..80i64 {
            let like = (i % 4) as usize == taste;
            if rng.random::<f32>() < if like { liked } else { other } {
                let base = if like { 4.3 } else { 2.4 } + rng.random::<f32>() - 0.5;
                let r = ((base * 2.0).round() / 2.0).clamp(0.5, 5.0);
                t.push(uu, items.intern(1000 + i), r, None);
            }
        }
    }
    Dataset::new(
        Arc::new(users),
        Arc::new(items),
        Arc::new(catalog),
        t,
        LoadReport::default(),
    )
}

fn trained(data: &Dataset) -> Model {
    // Hyperparameters spelled out: the tuned defaults target MovieLens, not this tiny set.
    let config = TrainConfig {
        factors: 6,
        tau: 10.0,
        gamma: 5.0,
        epochs: 8,
        tolerance: 0.0,
        threads: Some(1),
        // These tests check the predicted-rating path; `ranked` checks the ranker.
        ranker: None,
        ..TrainConfig::default()
    };
    als::train(data, &config, TrainHooks::default()).unwrap()
}

/// As `trained`, with a ranker sized for this small set.
fn ranked(data: &Dataset) -> Model {
    als::train(
        data,
        &ranked_config(ModelKind::Biased),
        TrainHooks::default(),
    )
    .unwrap()
}

/// A small `model` with a ranker sized for this set: what the query tests train.
fn ranked_config(model: ModelKind) -> TrainConfig {
    TrainConfig {
        model,
        factors: 6,
        tau: 10.0,
        gamma: 5.0,
        epochs: 8,
        tolerance: 0.0,
        threads: Some(1),
        ranker: Some(RankerConfig {
            factors: 6,
            tau: 1.0,
            epochs: 8,
            ..RankerConfig::default()
        }),
        ..TrainConfig::default()
    }
}

#[test]
fn model_file_round_trips_and_rejects_every_fault() {
    let data = dataset();
    let model = trained(&data);
    let bytes = modelfile::encode(&model).unwrap();
    let back = modelfile::decode(&bytes).unwrap();
    assert_eq!(back.user_factors, model.user_factors);
    assert_eq!(back.item_factors, model.item_factors);
    assert_eq!(back.item_bias, model.item_bias);
    assert_eq!(back.seen.indices, model.seen.indices);
    assert_eq!(back.seen.values, model.seen.values);
    assert_eq!(back.config, model.config);
    assert_eq!(back.history, model.history);
    assert_eq!(back.catalog.genre_names, model.catalog.genre_names);
    assert_eq!(back.catalog.movies, model.catalog.movies);
    assert_eq!(back.users.raw_ids(), model.users.raw_ids());
    let fault = |b: &[u8]| modelfile::decode(b).unwrap_err();
    let e = fault(&bytes[..bytes.len() - 100]);
    assert!(
        e.kind == ErrorKind::BadModelFile && e.message.contains("truncated"),
        "{e}"
    );
    let mut flipped = bytes.clone();
    let mid = bytes.len() / 2;
    flipped[mid] ^= 0x10;
    assert!(fault(&flipped).message.contains("checksum"));
    let mut newer = bytes.clone();
    newer[8] = 2;
    assert!(fault(&newer).message.contains("newer"));
    assert!(fault(b"userId,movieId,rating\n1,2,3\n")
        .message
        .contains("magic"));
    // Saving over an existing file into an unwritable place fails and keeps the old file.
    let dir = std::env::temp_dir().join(format!("alsrec-modelfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.alsrec");
    modelfile::save(&model, &path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let loaded = modelfile::load(&path).unwrap();
    assert_eq!(loaded.mu, model.mu);
    let e = modelfile::load(&dir.join("absent.alsrec")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fold_in_is_the_training_update() {
    let data = dataset();
    let mut model = trained(&data);
    let index = QueryStats::new(&model);
    // One more user half-step: every user is now the exact solve against the final movies.
    als::epochs::apply_step(als::epochs::Step::Users, &data, &mut model, None);
    for u in [0usize, 17, 99] {
        let (cols, vals) = model.seen.row(u);
        let (v, b) = model
            .fold_in_user(&model.movie_rows(cols, vals), None)
            .unwrap();
        assert!((b - model.user_bias[u]).abs() < 1e-4);
        for (x, y) in v.iter().zip(model.user_vector(u)) {
            assert!((x - y).abs() < 1e-4, "{x} vs {y}");
        }
        // And the explanation's contributions add up to the personal part of the score.
        let e = model.explain(u, 3, 100, &index).unwrap();
        let personal = model.predict(u, 3) - model.mu - model.item_bias[3];
        assert!(
            (e.refit_personal - personal).abs() < 1e-3,
            "{} vs {personal}",
            e.refit_personal
        );
        let sum: f32 = e.contributions.iter().map(|c| c.points).sum();
        assert!((sum - e.refit_personal).abs() < 1e-3);
        let shares: f32 = e.contributions.iter().map(|c| c.share).sum();
        assert!((shares - 1.0).abs() < 1e-3);
        let parts = e.global_mean + e.user_bias + e.movie_bias + e.genre_part + e.latent_part;
        assert!((parts - e.score).abs() < 1e-4);
    }
}

/// Fold-in and training share one row system, so a folded-in row is the training update's row
/// to the last bit: every user against the final movies, and every movie (with its genre prior)
/// against the final users, for every model kind, plain and weighted regularization, and both
/// implicit solvers' exact update.
#[test]
fn fold_in_is_the_training_update_bit_for_bit_for_every_kind_and_option() {
    use crate::model::config::{ImplicitSolver, ModelKind};
    let data = dataset();
    for kind in [
        ModelKind::Bias,
        ModelKind::Biased,
        ModelKind::Genre,
        ModelKind::Implicit,
    ] {
        for weighted in [false, true] {
            let config = TrainConfig {
                factors: 5,
                epochs: 3,
                tolerance: 0.0,
                threads: Some(2),
                weighted_regularization: weighted,
                solver: ImplicitSolver::Cholesky,
                ranker: None,
                ..TrainConfig::defaults_for(kind)
            };
            let mut model = als::train(&data, &config, TrainHooks::default()).unwrap();
            let case = format!("{kind:?}, weighted {weighted}");
            // One more user half-step: every user is now the exact solve against the movies.
            als::epochs::apply_step(als::epochs::Step::Users, &data, &mut model, None);
            let item_base = model.implicit_base(&model.item_factors);
            for u in 0..model.num_users() {
                let (cols, vals) = model.seen.row(u);
                let rows = model.movie_rows(cols, vals);
                let (v, b) = model.fold_in_user(&rows, item_base.as_deref()).unwrap();
                assert_eq!(
                    b.to_bits(),
                    model.user_bias[u].to_bits(),
                    "{case}: user {u}"
                );
                assert_eq!(v, model.user_vector(u), "{case}: user {u}");
            }
            // And a movie half-step: every movie against the users, with its genre prior.
            if kind == ModelKind::Genre {
                als::epochs::apply_step(als::epochs::Step::Genres, &data, &mut model, None);
            }
            als::epochs::apply_step(als::epochs::Step::Items, &data, &mut model, None);
            let user_base = model.implicit_base(&model.user_factors);
            let mut prior = vec![0f32; model.k];
            for i in 0..model.num_items() {
                let (users, vals) = data.by_item.row(i);
                let mut rows = crate::als::row::Gathered::new(model.k);
                for (&u, r) in users.iter().zip(vals) {
                    let u = u as usize;
                    rows.push(model.user_vector(u), model.user_bias[u], r);
                }
                model.genre_prior(i, &mut prior);
                let prior = (kind == ModelKind::Genre).then_some(&prior[..]);
                let (v, b) = model
                    .fold_in_row(&rows, prior, user_base.as_deref())
                    .unwrap();
                assert_eq!(
                    b.to_bits(),
                    model.item_bias[i].to_bits(),
                    "{case}: movie {i}"
                );
                assert_eq!(v, model.item_vector(i), "{case}: movie {i}");
            }
        }
    }
}

#[test]
fn batch_and_single_recommendations_agree_with_filters_and_diversity() {
    let data = dataset();
    let model = trained(&data);
    let index = QueryStats::new(&model);
    let fantasy = model.genre_by_name("fantasy").unwrap();
    let cases = [
        RecommendOptions {
            n: 5,
            ..RecommendOptions::default()
        },
        RecommendOptions {
            n: 4,
            diversity: 0.5,
            filter: Filter {
                min_ratings: Some(10),
                years: Some((1985, 2005)),
                ..Filter::default()
            },
            ..RecommendOptions::default()
        },
        RecommendOptions {
            n: 3,
            filter: Filter {
                genres: vec![fantasy],
                ..Filter::default()
            },
            ..RecommendOptions::default()
        },
    ];
    let users: Vec<u32> = (0..model.num_users() as u32).collect();
    for o in &cases {
        let lists = model
            .recommend_many(&users, o, &index, &CancelToken::new())
            .unwrap();
        let (items, scores) = (&lists.items, &lists.scores);
        for &u in &users {
            let single = model.recommend(u as usize, o, &index).unwrap();
            let row = &items[u as usize * o.n..(u as usize + 1) * o.n];
            for (j, s) in single.iter().enumerate() {
                let batch_score = scores[u as usize * o.n + j];
                assert!((s.score - batch_score).abs() < 1e-4);
                // Equal up to ties broken by rounding differences of the two score paths.
                if row[j] != s.item {
                    assert!((s.score - batch_score).abs() < 1e-5);
                }
                let movie = model.catalog.get(model.items.raw(s.item)).unwrap();
                assert!(model.seen.get(u as usize, s.item).is_none());
                if let Some((from, to)) = o.filter.years {
                    assert!((from..=to).contains(&movie.year.unwrap()));
                }
                if !o.filter.genres.is_empty() {
                    assert!(movie.genres.contains(&fantasy));
                }
                assert!(
                    index.item_counts[s.item as usize]
                        >= o.filter.min_ratings.unwrap_or(index.floor)
                );
            }
        }
    }
    // Diversity spreads the genres of a list.
    let distinct = |o: &RecommendOptions| {
        let mut g: Vec<u16> = model
            .recommend(3, o, &index)
            .unwrap()
            .iter()
            .flat_map(|s| model.item_genres(s.item as usize).to_vec())
            .collect();
        g.sort();
        g.dedup();
        g.len()
    };
    let plain = RecommendOptions {
        n: 6,
        ..RecommendOptions::default()
    };
    let diverse = RecommendOptions {
        diversity: 0.7,
        ..plain.clone()
    };
    assert!(distinct(&diverse) > distinct(&plain));
    let bad = RecommendOptions {
        n: 0,
        ..RecommendOptions::default()
    };
    assert_eq!(
        model.recommend(0, &bad, &index).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
}

#[test]
fn new_users_partial_fit_and_similarity() {
    let data = dataset();
    let model = trained(&data);
    let index = QueryStats::new(&model);
    let fantasy = model.genre_by_name("Fantasy").unwrap();
    // A visitor who loves three fantasy movies gets fantasy movies.
    let liked: Vec<u32> = [3i64, 7, 11]
        .iter()
        .map(|i| model.item_index(1000 + i).unwrap() as u32)
        .collect();
    let visitor = NewUser {
        items: liked.clone(),
        ratings: vec![5.0; 3],
        genres: vec![],
    };
    let o = RecommendOptions {
        n: 5,
        ..RecommendOptions::default()
    };
    let recs = model.recommend_for_new_user(&visitor, &o, &index).unwrap();
    let hits = recs
        .iter()
        .filter(|s| model.item_genres(s.item as usize).contains(&fantasy))
        .count();
    assert!(hits >= 4, "{hits} of 5 are fantasy");
    assert!(recs.iter().all(|s| !liked.contains(&s.item)));
    // Liked genres alone.
    let by_genre = NewUser {
        genres: vec![fantasy],
        ..NewUser::default()
    };
    let recs = model.recommend_for_new_user(&by_genre, &o, &index).unwrap();
    assert!(
        recs.iter()
            .filter(|s| model.item_genres(s.item as usize).contains(&fantasy))
            .count()
            >= 4
    );
    // Ratings off the scale are refused.
    let off = NewUser {
        items: vec![liked[0]],
        ratings: vec![7.0],
        genres: vec![],
    };
    let e = model.recommend_for_new_user(&off, &o, &index).unwrap_err();
    assert!(
        e.kind == ErrorKind::InvalidArgument && e.message.contains("scale"),
        "{e}"
    );
    // partialFit with the same ratings gives that visitor the same vector.
    let fitted = model
        .partial_fit(&NewRatings {
            user_ids: vec![999; 3],
            movie_ids: vec![1003, 1007, 1011],
            ratings: vec![5.0; 3],
        })
        .unwrap();
    let u = fitted.user_index(999).unwrap();
    let (v, b) = model.fold_in_new_user(&visitor, &index).unwrap();
    assert_eq!(fitted.user_vector(u), &v[..]);
    assert_eq!(fitted.user_bias[u], b);
    assert_eq!(fitted.seen.row(u).0.len(), 3);
    // A new movie rated by fantasy fans lands near the fantasy movies.
    let fans: Vec<i64> = (0..120).filter(|u| u % 4 == 3).map(|u| 10 + u).collect();
    let grown = model
        .partial_fit(&NewRatings {
            user_ids: fans.clone(),
            movie_ids: vec![5000; fans.len()],
            ratings: vec![5.0; fans.len()],
        })
        .unwrap();
    assert_eq!(grown.num_items(), model.num_items() + 1);
    let gi = QueryStats::new(&grown);
    let near = grown
        .similar_items(grown.item_index(5000).unwrap(), 5, &Filter::default(), &gi)
        .unwrap();
    assert!(
        near.iter()
            .filter(|s| grown.item_genres(s.item as usize).contains(&fantasy))
            .count()
            >= 4
    );
    // Similar users share the taste.
    let similar = model.similar_users(3, 5, &index).unwrap();
    assert!(similar.iter().filter(|s| s.item % 4 == 3).count() >= 4);
}

#[test]
fn ranking_metrics_are_bounded_and_thread_independent() {
    let data = dataset();
    let split = crate::data::split::random_split(&data, 0.2, 3).unwrap();
    let model = trained(&split.train);
    let index = QueryStats::new(&model);
    let run = |threads| {
        thread_pool(Some(threads)).unwrap().install(|| {
            ranking_metrics(&model, &split.test, 5, 4.0, &index, &CancelToken::new()).unwrap()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert!(one.users > 50);
    for x in [
        one.precision,
        one.recall,
        one.ndcg,
        one.map,
        one.hit_rate,
        one.coverage,
    ] {
        assert!((0.0..=1.0).contains(&x));
    }
    // Planted tastes are easy: most lists hit (about 1.4 relevant test movies per user).
    assert!(one.hit_rate > 0.5 && one.recall > 0.3, "{one:?}");
    assert!(one.map <= one.hit_rate);
    assert!(one.novelty >= 1.0 && one.novelty <= model.num_items() as f64);
}

#[test]
fn analyses_find_norms_and_a_map() {
    let data = dataset();
    let model = trained(&data);
    let index = QueryStats::new(&model);
    let (largest, smallest) = model.vector_norms(3, 1, &index).unwrap();
    assert!(largest[0].score >= largest[2].score && smallest[0].score <= smallest[2].score);
    assert!(largest[2].score >= smallest[2].score);
    let map = model.movie_map(1, &index).unwrap();
    assert_eq!(map.x.len(), map.items.len());
    assert!(map.explained[0] >= map.explained[1] && map.explained[0] > 0.2);
    // The axes separate the planted genres: the four genre centroids are far apart.
    let centroid = |g: i64| {
        let pts: Vec<(f32, f32)> = map
            .items
            .iter()
            .zip(map.x.iter().zip(&map.y))
            .filter(|(i, _)| (model.items.raw(**i) - 1000) % 4 == g)
            .map(|(_, (x, y))| (*x, *y))
            .collect();
        let n = pts.len() as f32;
        (
            pts.iter().map(|p| p.0).sum::<f32>() / n,
            pts.iter().map(|p| p.1).sum::<f32>() / n,
        )
    };
    let (a, b) = (centroid(0), centroid(3));
    assert!(((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() > 0.1);
}

#[test]
fn the_ranker_survives_the_model_file_and_old_files_have_none() {
    let data = dataset();
    let model = ranked(&data);
    let ranker = model.ranker.as_ref().expect("a ranker was configured");
    assert_eq!(ranker.k, 6);
    assert_eq!(ranker.history.len(), 8);
    let back = modelfile::decode(&modelfile::encode(&model).unwrap()).unwrap();
    let back_ranker = back.ranker.as_ref().expect("the ranker is saved");
    assert_eq!(back_ranker.user_factors, ranker.user_factors);
    assert_eq!(back_ranker.item_factors, ranker.item_factors);
    assert_eq!(back_ranker.config, ranker.config);
    assert_eq!(back_ranker.history, ranker.history);
    assert_eq!(back.config, model.config);
    let (index, back_index) = (QueryStats::new(&model), QueryStats::new(&back));
    let o = RecommendOptions::default();
    for u in 0..model.num_users() {
        assert_eq!(
            model.recommend(u, &o, &index).unwrap(),
            back.recommend(u, &o, &back_index).unwrap()
        );
    }
    // A ranker header that disagrees with itself is refused, naming it.
    let mut bad = model.clone();
    let mut inconsistent = (**ranker).clone();
    inconsistent.config.factors = 7;
    bad.ranker = Some(Arc::new(inconsistent));
    let e = modelfile::decode(&modelfile::encode(&bad).unwrap()).unwrap_err();
    assert!(
        e.kind == ErrorKind::BadModelFile && e.message.contains("ranker header"),
        "{e}"
    );
    // A model without a ranker (as every file written before rankers existed) loads without
    // one, although the config's default has one.
    let plain = modelfile::decode(&modelfile::encode(&trained(&data)).unwrap()).unwrap();
    assert!(plain.ranker.is_none() && plain.config.ranker.is_none());
}

#[test]
fn ranked_lists_hit_the_planted_tastes_and_show_ratings_on_the_scale() {
    let data = dataset_watched(0.6, 0.25);
    let split = crate::data::split::random_split(&data, 0.2, 3).unwrap();
    let model = ranked(&split.train);
    let index = QueryStats::new(&model);
    let run = |threads| {
        thread_pool(Some(threads)).unwrap().install(|| {
            ranking_metrics(&model, &split.test, 5, 4.0, &index, &CancelToken::new()).unwrap()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert!(one.hit_rate > 0.5 && one.recall > 0.3, "{one:?}");
    // Each list is ranked by the ranker's score, and its displayed rating is the explicit
    // model's prediction clamped to the scale.
    let (lo, hi) = index.rating_range;
    for u in 0..model.num_users() {
        let top = model
            .recommend(u, &RecommendOptions::default(), &index)
            .unwrap();
        assert!(top.windows(2).all(|w| w[0].score >= w[1].score));
        for s in &top {
            let predicted = model.predict(u, s.item as usize).clamp(lo, hi);
            assert_eq!(s.rating, predicted);
        }
    }
    // recommend_many gives the same lists as one-by-one calls.
    let users: Vec<u32> = (0..model.num_users() as u32).collect();
    let o = RecommendOptions {
        n: 4,
        ..RecommendOptions::default()
    };
    let lists = model
        .recommend_many(&users, &o, &index, &CancelToken::new())
        .unwrap();
    for &u in &users {
        let single = model.recommend(u as usize, &o, &index).unwrap();
        let at = u as usize * 4;
        let items: Vec<u32> = single.iter().map(|s| s.item).collect();
        assert_eq!(&lists.items[at..at + items.len()], &items[..]);
        // The displayed ratings match too.
        for (j, s) in single.iter().enumerate() {
            assert_eq!(lists.ratings[at + j], s.rating);
        }
    }
}

#[test]
fn ranked_new_users_and_partial_fit_agree() {
    let data = dataset_watched(0.6, 0.25);
    let model = ranked(&data);
    let index = QueryStats::new(&model);
    let fantasy = model.genre_by_name("Fantasy").unwrap();
    let liked: Vec<u32> = [3i64, 7, 11]
        .iter()
        .map(|i| model.item_index(1000 + i).unwrap() as u32)
        .collect();
    let visitor = NewUser {
        items: liked.clone(),
        ratings: vec![5.0; 3],
        genres: vec![],
    };
    let o = RecommendOptions {
        n: 5,
        ..RecommendOptions::default()
    };
    let top = model.recommend_for_new_user(&visitor, &o, &index).unwrap();
    let on_topic = top
        .iter()
        .filter(|s| model.item_genres(s.item as usize).contains(&fantasy))
        .count();
    assert!(on_topic >= 4, "{top:?}");
    assert!(top.iter().all(|s| !liked.contains(&s.item)));
    // Genres alone: on topic too.
    let by_genre = NewUser {
        genres: vec![fantasy],
        ..NewUser::default()
    };
    let top = model.recommend_for_new_user(&by_genre, &o, &index).unwrap();
    assert!(top
        .iter()
        .all(|s| model.item_genres(s.item as usize).contains(&fantasy)));
    // partialFit folds the same visitor into the ranker with the same vector.
    let fitted = model
        .partial_fit(&NewRatings {
            user_ids: vec![999; 3],
            movie_ids: vec![1003, 1007, 1011],
            ratings: vec![5.0; 3],
        })
        .unwrap();
    let u = fitted.user_index(999).unwrap();
    let x = model.fold_in_new_user_ranker(&visitor, &index).unwrap();
    let fitted_ranker = fitted.ranker.as_ref().unwrap();
    assert_eq!(fitted_ranker.user_vector(u), &x[..]);
    assert!(Arc::ptr_eq(&fitted_ranker.seen, &fitted.seen));
    assert_eq!(fitted_ranker.num_users(), fitted.num_users());
}

#[test]
fn default_lists_keep_to_the_popularity_floor() {
    // 90 % of 100 ratings: the movies with 40, 30, 10, 5 and 5 ratings hold 90.
    assert_eq!(
        crate::query::stats::popularity_floor(&[40, 30, 10, 5, 5, 4, 3, 3, 0]),
        5
    );
    assert_eq!(crate::query::stats::popularity_floor(&[]), 0);
    let data = dataset();
    let model = trained(&data);
    let mut index = QueryStats::new(&model);
    // Force a floor that excludes some movies of this small, even set.
    let mut counts = index.item_counts.clone();
    counts.sort_unstable();
    index.floor = counts[counts.len() / 2];
    let under: Vec<usize> = (0..model.num_items())
        .filter(|&i| index.item_counts[i] < index.floor)
        .collect();
    assert!(!under.is_empty());
    let all = RecommendOptions {
        n: model.num_items(),
        ..RecommendOptions::default()
    };
    for u in 0..model.num_users() {
        let top = model.recommend(u, &all, &index).unwrap();
        assert!(top
            .iter()
            .all(|s| index.item_counts[s.item as usize] >= index.floor));
    }
    // minRatings: 0 turns the floor off.
    let everything = RecommendOptions {
        filter: Filter {
            min_ratings: Some(0),
            ..Filter::default()
        },
        ..all
    };
    let top = model.recommend(0, &everything, &index).unwrap();
    assert!(top.iter().any(|s| under.contains(&(s.item as usize))));
}

#[test]
fn the_popularity_penalty_is_learned_from_the_grid_and_recorded() {
    let data = dataset_watched(0.6, 0.25);
    let config = with_small_ranker(RankerConfig {
        popularity_penalty: 0.123,
        learn_popularity_penalty: true,
        ..RankerConfig::default()
    });
    let one = als::train(&data, &config, TrainHooks::default()).unwrap();
    let rc = one.config.ranker.as_ref().unwrap();
    assert!(!rc.learn_popularity_penalty);
    assert!(
        als::ranker::PENALTY_GRID.contains(&rc.popularity_penalty),
        "{rc:?}"
    );
    // Deterministic for a seed and any thread count.
    let two = als::train(
        &data,
        &TrainConfig {
            threads: Some(2),
            ..config.clone()
        },
        TrainHooks::default(),
    )
    .unwrap();
    assert_eq!(two.config.ranker, one.config.ranker);
    assert_eq!(
        two.ranker.as_ref().unwrap().item_factors,
        one.ranker.as_ref().unwrap().item_factors
    );
    // Without learning, the given d stays.
    let fixed = RankerConfig {
        learn_popularity_penalty: false,
        ..config.ranker.clone().unwrap()
    };
    let kept = als::train(
        &data,
        &TrainConfig {
            ranker: Some(fixed),
            ..config
        },
        TrainHooks::default(),
    )
    .unwrap();
    assert_eq!(kept.config.ranker.unwrap().popularity_penalty, 0.123);
}

#[test]
fn baselines_rank_by_popularity_and_by_damped_mean() {
    let data = dataset();
    let fit = |kind| {
        als::train(
            &data,
            &TrainConfig {
                threads: Some(1),
                ..TrainConfig::defaults_for(kind)
            },
            TrainHooks::default(),
        )
        .unwrap()
    };
    let popular = fit(ModelKind::Popular);
    let index = QueryStats::new(&popular);
    let all = RecommendOptions {
        n: 5,
        filter: Filter {
            min_ratings: Some(0),
            ..Filter::default()
        },
        ..RecommendOptions::default()
    };
    for u in 0..popular.num_users() {
        let top = popular.recommend(u, &all, &index).unwrap();
        let seen = popular.seen.row(u).0;
        // The most-rated movies the user has not rated, in order, with no predicted rating.
        let mut unseen: Vec<u32> = (0..popular.num_items() as u32)
            .filter(|i| !seen.contains(i))
            .collect();
        unseen.sort_by_key(|&i| (std::cmp::Reverse(index.item_counts[i as usize]), i));
        let counts: Vec<u32> = top
            .iter()
            .map(|s| index.item_counts[s.item as usize])
            .collect();
        let expected: Vec<u32> = unseen[..5]
            .iter()
            .map(|&i| index.item_counts[i as usize])
            .collect();
        assert_eq!(counts, expected);
        assert!(top.iter().all(|s| s.rating.is_nan()));
    }
    assert!(popular.history[0].train_rmse.is_nan());
    let back = modelfile::decode(&modelfile::encode(&popular).unwrap()).unwrap();
    assert!(back.history[0].train_rmse.is_nan() && back.history[0].test_rmse.is_none());
    assert_eq!(back.config.model, ModelKind::Popular);
    let toprated = fit(ModelKind::Toprated);
    // μ + Σ(r − μ)/(n + 10) for every movie.
    let mu = toprated.mu as f64;
    for i in 0..toprated.num_items() {
        let (_, r) = data.by_item.row(i);
        let damped = mu + r.iter().map(|x| x as f64 - mu).sum::<f64>() / (r.len() as f64 + 10.0);
        assert!((toprated.predict(0, i) as f64 - damped).abs() < 1e-4);
    }
    assert!(toprated.history[0].train_rmse.is_finite());
    let back = modelfile::decode(&modelfile::encode(&toprated).unwrap()).unwrap();
    assert_eq!(back.item_bias, toprated.item_bias);
    let e = popular
        .partial_fit(&NewRatings {
            user_ids: vec![10],
            movie_ids: vec![1000],
            ratings: vec![4.0],
        })
        .unwrap_err();
    assert!(e.message.contains("baseline"), "{e}");
}

/// [`dataset_watched`] with titles that make 20 series of four ("Saga Dd: Chapter 2 (1990)").
fn dataset_with_series() -> Dataset {
    let mut data = dataset_watched(0.6, 0.25);
    let mut catalog = Catalog::new();
    for m in &data.catalog.movies {
        let i = m.id - 1000;
        let genres: Vec<&str> = m
            .genres
            .iter()
            .map(|&g| data.catalog.genre_names[g as usize].as_str())
            .collect();
        let name = char::from(b'A' + (i / 4) as u8);
        let title = format!(
            "Saga {name}{name}: Chapter {} ({})",
            i % 4 + 1,
            1980 + i % 30
        );
        catalog.push(m.id, title, &genres);
    }
    data.catalog = Arc::new(catalog);
    data
}

/// A 6-factor model with a 6-factor ranker of `ranker`'s other settings, sized for these sets.
fn with_small_ranker(ranker: RankerConfig) -> TrainConfig {
    TrainConfig {
        factors: 6,
        epochs: 4,
        threads: Some(1),
        ranker: Some(RankerConfig {
            factors: 6,
            tau: 1.0,
            epochs: 4,
            ..ranker
        }),
        ..TrainConfig::default()
    }
}

#[test]
fn the_series_bonus_lifts_a_liked_series_exactly_in_every_query() {
    let data = dataset_with_series();
    let config = with_small_ranker(RankerConfig {
        series_bonus: 0.3,
        learn_series_bonus: false,
        learn_popularity_penalty: false,
        ..RankerConfig::default()
    });
    let model = als::train(&data, &config, TrainHooks::default()).unwrap();
    let index = QueryStats::new(&model);
    assert_eq!(index.series.members.len(), 20);
    let mut without = model.clone();
    without.config.ranker.as_mut().unwrap().series_bonus = 0.0;
    let plain_index = QueryStats::new(&without);
    let o = RecommendOptions {
        n: 6,
        ..RecommendOptions::default()
    };
    let users: Vec<u32> = (0..model.num_users() as u32).collect();
    let many = model
        .recommend_many(&users, &o, &index, &CancelToken::new())
        .unwrap();
    let mut changed = 0;
    for &u in &users {
        let u = u as usize;
        // Brute force: every unseen movie above the floor, scored with the bonus where due.
        let (rated, ratings) = model.seen.row(u);
        let liked = index.series.liked_members(rated, ratings);
        let (q, base) = index.rank.query(
            &model,
            model.user_vector(u),
            model.user_bias[u],
            rated.len(),
            model.ranker.as_ref().unwrap().user_vector(u),
        );
        let score = index.rank.scorer(&model, &q, base);
        let mut all: Vec<(f32, u32)> = (0..model.num_items() as u32)
            .filter(|i| !rated.contains(i) && index.item_counts[*i as usize] >= index.floor)
            .map(|i| {
                let b = if liked.contains(&i) { 0.3 } else { 0.0 };
                (score(i as usize) + b, i)
            })
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let single = model.recommend(u, &o, &index).unwrap();
        let expected: Vec<u32> = all.iter().take(6).map(|s| s.1).collect();
        assert_eq!(single.iter().map(|s| s.item).collect::<Vec<_>>(), expected);
        assert_eq!(&many.items[u * 6..(u + 1) * 6], &expected[..]);
        let plain = without.recommend(u, &o, &plain_index).unwrap();
        if plain.iter().map(|s| s.item).ne(expected.iter().copied()) {
            changed += 1;
        }
    }
    assert!(changed > 10, "the bonus changed {changed} lists");
    // A new user who liked one film of a series sees its other members lifted by b.
    let first = model.item_index(1000).unwrap() as u32;
    let visitor = NewUser {
        items: vec![first],
        ratings: vec![5.0],
        genres: vec![],
    };
    let everything = RecommendOptions {
        n: model.num_items(),
        filter: Filter {
            min_ratings: Some(0),
            ..Filter::default()
        },
        ..RecommendOptions::default()
    };
    let with = model
        .recommend_for_new_user(&visitor, &everything, &index)
        .unwrap();
    let plain = without
        .recommend_for_new_user(&visitor, &everything, &plain_index)
        .unwrap();
    for s in &with {
        let p = plain.iter().find(|p| p.item == s.item).unwrap();
        let member = (1001..1004).contains(&model.items.raw(s.item));
        let lift = s.score - p.score;
        assert!(
            (lift - if member { 0.3 } else { 0.0 }).abs() < 1e-6,
            "{s:?}"
        );
    }
}

#[test]
fn the_series_bonus_is_learned_from_its_grid_and_recorded() {
    let data = dataset_with_series();
    let config = with_small_ranker(RankerConfig::default());
    let model = als::train(&data, &config, TrainHooks::default()).unwrap();
    let rc = model.config.ranker.as_ref().unwrap();
    assert!(!rc.learn_series_bonus && !rc.learn_popularity_penalty);
    assert!(
        als::ranker::SERIES_GRID.contains(&rc.series_bonus),
        "{rc:?}"
    );
    // The chosen b survives the model file.
    let bytes = modelfile::encode(&model).unwrap();
    let back = modelfile::decode(&bytes).unwrap();
    assert_eq!(back.config.ranker, model.config.ranker);
}

#[test]
fn partial_fit_with_catalog_entries_gives_new_movies_titles_and_genre_priors() {
    use crate::foldin::partial_fit::NewMovie;
    let data = dataset();
    let config = ranked_config(ModelKind::Genre);
    let model = als::train(&data, &config, TrainHooks::default()).unwrap();
    let fans: Vec<i64> = (0..120).filter(|u| u % 4 == 3).map(|u| 10 + u).collect();
    let new = NewRatings {
        user_ids: fans.clone(),
        movie_ids: vec![7000; fans.len()],
        ratings: vec![5.0; fans.len()],
    };
    let movies = [
        NewMovie {
            id: 7000,
            title: "Dragon Keep (2024)".into(),
            genres: vec!["fantasy".into()],
        },
        // Listed, not rated: joins as a catalog-only movie, v = p.
        NewMovie {
            id: 7001,
            title: "Laugh Track (2024)".into(),
            genres: vec!["Comedy".into(), "(no genres listed)".into()],
        },
        // Already in the catalog: keeps its entry.
        NewMovie {
            id: 1000,
            title: "Renamed".into(),
            genres: vec![],
        },
    ];
    let grown = model.partial_fit_with(&new, &movies).unwrap();
    assert_eq!(grown.num_items(), model.num_items() + 2);
    assert_eq!(grown.catalog.len(), model.catalog.len() + 2);
    assert_eq!(grown.catalog.genre_names, model.catalog.genre_names);
    let entry = grown.catalog.get(7000).unwrap();
    assert_eq!(
        (entry.title.as_str(), entry.year),
        ("Dragon Keep (2024)", Some(2024))
    );
    assert_eq!(grown.catalog.get(1000), model.catalog.get(1000));
    let fantasy = grown.genre_by_name("Fantasy").unwrap();
    let (i, j) = (
        grown.item_index(7000).unwrap(),
        grown.item_index(7001).unwrap(),
    );
    assert_eq!(grown.item_genres(i), [fantasy]);
    let mut p = vec![0f32; grown.k];
    grown.genre_prior(j, &mut p);
    assert!(p.iter().any(|&x| x != 0.0));
    assert_eq!(grown.item_vector(j), &p[..]);
    assert_eq!(grown.item_bias[j], 0.0);
    // The ranker shares the grown id map and catalog.
    let ranker = grown.ranker.as_ref().unwrap();
    assert_eq!(ranker.items.raw_ids(), grown.items.raw_ids());
    assert_eq!(ranker.item_factors.len(), grown.num_items() * ranker.k);
    // Explained, the new movie's score has a genre part; the same ratings without the entry
    // have none (no genres, p = 0).
    let index = QueryStats::new(&grown);
    let fan = grown.user_index(fans[0]).unwrap();
    let e = grown.explain(fan, i, 3, &index).unwrap();
    assert!(e.genre_part.abs() > 1e-4, "{}", e.genre_part);
    let bare = model.partial_fit(&new).unwrap();
    let bi = QueryStats::new(&bare);
    let e0 = bare
        .explain(fan, bare.item_index(7000).unwrap(), 3, &bi)
        .unwrap();
    assert_eq!(e0.genre_part, 0.0);
    assert!(bare.catalog.get(7000).is_none());
    // The entries survive the model file.
    let back = modelfile::decode(&modelfile::encode(&grown).unwrap()).unwrap();
    assert_eq!(
        back.catalog.get(7001).map(|m| m.title.as_str()),
        Some("Laugh Track (2024)")
    );
    // A genre the model has no factor for is refused, naming the movie and the vocabulary.
    let odd = [NewMovie {
        id: 7002,
        title: "Polka Night".into(),
        genres: vec!["Polka".into()],
    }];
    let err = model.partial_fit_with(&new, &odd).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(
        err.message.contains("movie 7002") && err.message.contains("Comedy"),
        "{err}"
    );
    let blank = [NewMovie {
        id: 7003,
        title: " ".into(),
        genres: vec![],
    }];
    assert_eq!(
        model.partial_fit_with(&new, &blank).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
}

#[test]
fn recommend_users_gives_the_rows_of_recommend_all_in_the_order_asked() {
    let data = dataset();
    let model = ranked(&data);
    let index = QueryStats::new(&model);
    let o = RecommendOptions {
        n: 5,
        ..RecommendOptions::default()
    };
    let all = model
        .recommend_all(&o, &index, &CancelToken::new())
        .unwrap();
    let ids = [model.users.raw(7), model.users.raw(2), model.users.raw(7)];
    let some = model
        .recommend_users(&ids, &o, &index, &CancelToken::new())
        .unwrap();
    assert_eq!(some.user_ids, ids);
    for (row, u) in [7usize, 2, 7].iter().enumerate() {
        assert_eq!(
            some.movie_ids[row * 5..(row + 1) * 5],
            all.movie_ids[u * 5..(u + 1) * 5]
        );
        assert_eq!(
            some.scores[row * 5..(row + 1) * 5],
            all.scores[u * 5..(u + 1) * 5]
        );
    }
    let e = model
        .recommend_users(&[ids[0], 424242], &o, &index, &CancelToken::new())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("424242"));
}

/// Items, score bits and rating bits: lists compared bit for bit (NaN ratings included).
fn list_bits(list: &[crate::query::topn::Scored]) -> Vec<(u32, u32, u32)> {
    list.iter()
        .map(|s| (s.item, s.score.to_bits(), s.rating.to_bits()))
        .collect()
}

/// Lists to compare between two ways of computing them: the defaults, a one-film list, `wide`
/// (a long list), a diversified genre list over every movie, and one with every filter.
fn option_cases(model: &Model, wide: RecommendOptions) -> Vec<RecommendOptions> {
    let comedy = model.genre_by_name("comedy").unwrap();
    vec![
        RecommendOptions::default(),
        RecommendOptions {
            n: 1,
            ..RecommendOptions::default()
        },
        wide,
        RecommendOptions {
            n: 7,
            diversity: 0.4,
            filter: Filter {
                min_ratings: Some(0),
                genres: vec![comedy],
                ..Filter::default()
            },
            ..RecommendOptions::default()
        },
        RecommendOptions {
            n: 4,
            filter: Filter {
                min_ratings: Some(30),
                years: Some((1985, 2000)),
                candidates: Some((0..model.num_items() as u32).step_by(3).collect()),
                ..Filter::default()
            },
            ..RecommendOptions::default()
        },
    ]
}

#[test]
fn the_half_precision_first_pass_gives_the_exact_lists_of_every_query() {
    let data = dataset_with_series();
    let models = [
        trained(&data),
        ranked(&data),
        als::train(
            &data,
            &with_small_ranker(RankerConfig::default()),
            TrainHooks::default(),
        )
        .unwrap(),
        als::train(
            &data,
            &TrainConfig {
                ranker: None,
                ..ranked_config(ModelKind::Implicit)
            },
            TrainHooks::default(),
        )
        .unwrap(),
    ];
    for model in &models {
        let index = QueryStats::new(model);
        assert!(index.scan.is_some());
        let exact = QueryStats {
            scan: None,
            ..index.clone()
        };
        let cases = option_cases(
            model,
            RecommendOptions {
                n: 500,
                exclude_seen: false,
                ..RecommendOptions::default()
            },
        );
        for o in &cases {
            for u in 0..model.num_users() {
                let fast = model.recommend(u, o, &index).unwrap();
                let slow = model.recommend(u, o, &exact).unwrap();
                assert_eq!(list_bits(&fast), list_bits(&slow), "user {u} {o:?}");
            }
            let visitor = NewUser {
                items: vec![3, 1, 8],
                ratings: vec![5.0, 4.5, 2.0],
                genres: vec![],
            };
            let fast = model.recommend_for_new_user(&visitor, o, &index).unwrap();
            let slow = model.recommend_for_new_user(&visitor, o, &exact).unwrap();
            assert_eq!(list_bits(&fast), list_bits(&slow), "new user {o:?}");
        }
    }
}

#[test]
fn similar_movies_among_candidates_are_those_of_the_whole_catalog_through_the_filter() {
    let data = dataset();
    let model = ranked(&data);
    let index = QueryStats::new(&model);
    let drama = model.genre_by_name("drama").unwrap();
    for filter in [
        Filter {
            candidates: Some(vec![9, 3, 3, 0, 42, 17, 64, 5]),
            ..Filter::default()
        },
        Filter {
            candidates: Some((0..80).rev().step_by(3).collect()),
            genres: vec![drama],
            min_ratings: Some(35),
            ..Filter::default()
        },
    ] {
        let mask = model.allowed_items(&filter, &index).unwrap();
        for item in 0..model.num_items() {
            let got = model.similar_items(item, 4, &filter, &index).unwrap();
            let all = model
                .similar_items(
                    item,
                    model.num_items(),
                    &Filter {
                        min_ratings: Some(0),
                        ..Filter::default()
                    },
                    &index,
                )
                .unwrap();
            let want: Vec<_> = all
                .into_iter()
                .filter(|s| mask[s.item as usize])
                .take(4)
                .collect();
            assert_eq!(list_bits(&got), list_bits(&want), "movie {item}");
        }
    }
}

/// A visitor's explanation is `explain`'s decomposition of their folded-in row: the
/// contributions add up to the visitor's own personal part b + u·v_n, and a visitor who gives a
/// known user's ratings (after the users' exact half-step) gets that user's explanation.
#[test]
fn a_visitors_explanation_is_explain_of_the_folded_in_row() {
    let data = dataset();
    let mut model = trained(&data);
    als::epochs::apply_step(als::epochs::Step::Users, &data, &mut model, None);
    let index = QueryStats::new(&model);
    for u in [0usize, 17, 99] {
        let (cols, vals) = model.seen.row(u);
        let visitor = NewUser {
            // Out of movie order: the fold-in sorts them as a trained row holds them.
            items: cols.iter().rev().copied().collect(),
            ratings: vals.iter().rev().collect(),
            genres: Vec::new(),
        };
        let (x, b) = model.fold_in_new_user(&visitor, &index).unwrap();
        for item in [3usize, 40] {
            let e = model
                .explain_new_user(&visitor, item, 1000, &index)
                .unwrap();
            let personal = b + crate::kernels::dense::dot(&x, model.item_vector(item));
            assert!(
                (e.refit_personal - personal).abs() < 1e-3,
                "{} vs {personal}",
                e.refit_personal
            );
            let sum: f32 = e.contributions.iter().map(|c| c.points).sum();
            assert!((sum - e.refit_personal).abs() < 1e-3);
            assert_eq!(e.contributions.len(), cols.len());
            let known = model.explain(u, item, 1000, &index).unwrap();
            assert!(
                (e.score - known.score).abs() < 1e-4,
                "{} vs {}",
                e.score,
                known.score
            );
            assert!((e.user_bias - known.user_bias).abs() < 1e-4);
            assert_eq!(e.contributions.len(), known.contributions.len());
            for (a, k) in e.contributions.iter().zip(&known.contributions) {
                assert_eq!((a.item, a.rating), (k.item, k.rating));
                assert!(
                    (a.points - k.points).abs() < 1e-4,
                    "{} vs {}",
                    a.points,
                    k.points
                );
            }
        }
    }
    // Liked genres alone: no rated movie to name, the genre rows carry the personal part.
    let g = model.genre_by_name("Drama").unwrap();
    let visitor = NewUser {
        genres: vec![g],
        ..NewUser::default()
    };
    let (x, b) = model.fold_in_new_user(&visitor, &index).unwrap();
    let e = model.explain_new_user(&visitor, 3, 5, &index).unwrap();
    assert!(e.contributions.is_empty());
    let personal = b + crate::kernels::dense::dot(&x, model.item_vector(3));
    assert!((e.refit_personal - personal).abs() < 1e-3);
}

#[test]
fn batch_lists_by_the_byte_scan_are_the_blocked_products_bit_for_bit() {
    use crate::query::scan::{Format, ScanIndex};
    use crate::query::stats::BatchScan;
    let data = dataset_with_series();
    let models = [
        trained(&data),
        ranked(&data),
        als::train(
            &data,
            &TrainConfig {
                ranker: None,
                ..ranked_config(ModelKind::Implicit)
            },
            TrainHooks::default(),
        )
        .unwrap(),
    ];
    let pool = thread_pool(Some(2)).unwrap();
    for model in &models {
        let mut index = QueryStats::new(model);
        // Bytes on every CPU: without VNNI the portable byte kernel runs.
        index.scan = ScanIndex::new(
            index.rank.item_rows(model),
            index.rank.k,
            &index.rank.offset,
            &index.item_counts,
            Format::Byte,
        );
        assert!(index.scan.is_some());
        let product = QueryStats {
            batch_scan: BatchScan::Never,
            ..index.clone()
        };
        let users: Vec<u32> = (0..model.num_users() as u32).rev().collect();
        let cases = option_cases(
            model,
            RecommendOptions {
                n: 300,
                exclude_seen: false,
                filter: Filter {
                    min_ratings: Some(0),
                    ..Filter::default()
                },
                ..RecommendOptions::default()
            },
        );
        for tile in [8, 40, 4096] {
            let scanned = QueryStats {
                batch_scan: BatchScan::Always { tile },
                ..index.clone()
            };
            for o in &cases {
                let (a, b) = pool.install(|| {
                    (
                        model
                            .recommend_many(&users, o, &scanned, &CancelToken::new())
                            .unwrap(),
                        model
                            .recommend_many(&users, o, &product, &CancelToken::new())
                            .unwrap(),
                    )
                });
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
                assert_eq!(a.items, b.items, "tile {tile} {o:?}");
                assert_eq!(bits(&a.scores), bits(&b.scores), "tile {tile} {o:?}");
                assert_eq!(bits(&a.ratings), bits(&b.ratings), "tile {tile} {o:?}");
            }
        }
    }
}
