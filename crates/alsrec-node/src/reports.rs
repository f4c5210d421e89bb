//! What the core reports (epochs, ranking metrics, loads and splits) as the napi objects
//! TypeScript re-exports. Each converts from its core struct here and only here.
use alsrec_core::data::report as core;
use alsrec_core::eval::ranking::RankingMetrics as CoreRankingMetrics;
use alsrec_core::model::EpochStats;
use napi_derive::napi;

/// An f32 as the JavaScript number of its shortest decimal form (what JSON would give), so 0.1f32
/// reads 0.1 and not 0.10000000149011612.
pub(crate) fn js_f32(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::NAN)
}

/// A count as a JavaScript number; exact up to 2^53.
fn n(x: usize) -> f64 {
    x as f64
}

/// One record per epoch. Explicit models: RMSE and MAE of the predicted ratings, and the loss L
/// of docs/model.md. Implicit model: RMSE and MAE of the predicted preference x·y against 1 on the
/// rated pairs (of the training or test set), and the confidence-weighted loss over all pairs.
/// `seconds` is the time of the block updates (metrics excluded).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct EpochRecord {
    pub epoch: u32,
    pub train_rmse: f64,
    pub train_mae: f64,
    /// With a test set.
    pub test_rmse: Option<f64>,
    pub test_mae: Option<f64>,
    pub loss: f64,
    /// The block updates.
    pub seconds: f64,
    /// The metrics after the updates (absent where not recorded).
    pub metrics_seconds: Option<f64>,
    /// The whole epoch: `seconds` + `metricsSeconds`.
    pub wall_seconds: Option<f64>,
}

impl From<&EpochStats> for EpochRecord {
    fn from(s: &EpochStats) -> Self {
        EpochRecord {
            epoch: s.epoch as u32,
            train_rmse: s.train_rmse,
            train_mae: s.train_mae,
            test_rmse: s.test_rmse,
            test_mae: s.test_mae,
            loss: s.loss,
            seconds: s.seconds,
            metrics_seconds: s.metrics_seconds,
            wall_seconds: s.wall_seconds,
        }
    }
}

/// Ranking quality at k on a test set (docs/ranking.md).
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct RankingMetrics {
    pub k: u32,
    pub threshold: f64,
    /// Test users evaluated (known to the model, with at least one relevant test rating).
    pub users: u32,
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    pub map: f64,
    pub hit_rate: f64,
    /// Distinct movies recommended to anyone, over the model's movies.
    pub coverage: f64,
    /// Mean popularity rank of the recommended movies (1 = the most rated in training): higher reaches further from the obvious.
    pub novelty: f64,
}

impl From<CoreRankingMetrics> for RankingMetrics {
    fn from(r: CoreRankingMetrics) -> Self {
        RankingMetrics {
            k: r.k as u32,
            threshold: js_f32(r.threshold),
            users: r.users as u32,
            precision: r.precision,
            recall: r.recall,
            ndcg: r.ndcg,
            map: r.map,
            hit_rate: r.hit_rate,
            coverage: r.coverage,
            novelty: r.novelty,
        }
    }
}

/// Sizes of a split, and the test rows whose user or movie has no rating in train.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct SplitReport {
    pub train_rows: f64,
    pub test_rows: f64,
    pub cold_user_rows: f64,
    pub cold_movie_rows: f64,
    /// Rows with a cold user or a cold movie (or both).
    pub cold_rows: f64,
    /// Cold rows removed from the test set (coldStart: 'drop').
    pub dropped: f64,
}

impl From<&core::SplitReport> for SplitReport {
    fn from(r: &core::SplitReport) -> Self {
        SplitReport {
            train_rows: n(r.train_rows),
            test_rows: n(r.test_rows),
            cold_user_rows: n(r.cold_user_rows),
            cold_movie_rows: n(r.cold_movie_rows),
            cold_rows: n(r.cold_rows),
            dropped: n(r.dropped),
        }
    }
}

/// What a load did, so that nothing is dropped silently.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub ratings_file: String,
    /// 'movielens-csv' | 'movielens-dat' | 'movielens-100k' | 'mapped'
    pub format: String,
    pub rows_read: f64,
    pub rows_kept: f64,
    pub rows_skipped: f64,
    /// [reason, count] pairs, in first-seen order.
    pub skipped_reasons: Vec<(String, f64)>,
    pub blank_lines: f64,
    /// Repeated (user, movie) pairs dropped; the latest rating is kept.
    pub duplicates: f64,
    pub has_timestamps: bool,
    /// Ratings, users and movies dropped by the minUserRatings / minMovieRatings filters.
    pub filtered_ratings: f64,
    pub filtered_users: f64,
    pub filtered_movies: f64,
    /// Ratings of movies a (non-empty) catalog does not list; dropped with catalogOnly.
    pub ratings_not_in_catalog: f64,
    /// Rated users and movies that remain.
    pub users: f64,
    pub movies: f64,
    pub catalog_movies: f64,
    pub min_rating: f64,
    pub max_rating: f64,
    /// ratings / (users × movies).
    pub density: f64,
    pub bytes: f64,
    /// Wall time of the whole load, and of its parse (read, split, intern) part.
    pub seconds: f64,
    pub parse_seconds: f64,
    /// Present on the parts of a split.
    pub split: Option<SplitReport>,
}

impl From<&core::LoadReport> for LoadReport {
    fn from(r: &core::LoadReport) -> Self {
        LoadReport {
            ratings_file: r.ratings_file.clone(),
            format: r.format.clone(),
            rows_read: n(r.rows_read),
            rows_kept: n(r.rows_kept),
            rows_skipped: n(r.rows_skipped),
            skipped_reasons: r
                .skipped_reasons
                .iter()
                .map(|(why, count)| (why.clone(), n(*count)))
                .collect(),
            blank_lines: n(r.blank_lines),
            duplicates: n(r.duplicates),
            has_timestamps: r.has_timestamps,
            filtered_ratings: n(r.filtered_ratings),
            filtered_users: n(r.filtered_users),
            filtered_movies: n(r.filtered_movies),
            ratings_not_in_catalog: n(r.ratings_not_in_catalog),
            users: n(r.users),
            movies: n(r.movies),
            catalog_movies: n(r.catalog_movies),
            min_rating: js_f32(r.min_rating),
            max_rating: js_f32(r.max_rating),
            density: r.density,
            bytes: r.bytes as f64,
            seconds: r.seconds,
            parse_seconds: r.parse_seconds,
            split: r.split.as_ref().map(SplitReport::from),
        }
    }
}
