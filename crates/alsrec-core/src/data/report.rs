//! What a load or a split did, so that nothing is dropped silently: the reports every loader
//! and splitter returns beside its data.
use serde::Serialize;

/// What a load did, so nothing is dropped silently.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    pub ratings_file: String,
    pub rows_read: usize,
    pub rows_kept: usize,
    pub rows_skipped: usize,
    pub skipped_reasons: Vec<(String, usize)>,
    pub duplicates: usize,
    /// "movielens-csv", "movielens-dat", "movielens-100k" or "mapped".
    pub format: String,
    pub blank_lines: usize,
    pub has_timestamps: bool,
    /// Ratings, users and movies dropped by the minUserRatings / minMovieRatings filters.
    pub filtered_ratings: usize,
    pub filtered_users: usize,
    pub filtered_movies: usize,
    /// Ratings of movies a (non-empty) catalog does not list; dropped with `catalogOnly`.
    pub ratings_not_in_catalog: usize,
    /// Rated users and movies that remain.
    pub users: usize,
    pub movies: usize,
    pub catalog_movies: usize,
    pub min_rating: f32,
    pub max_rating: f32,
    /// ratings / (users × movies).
    pub density: f64,
    pub bytes: u64,
    /// Wall time of the whole load, and of its parse (read, split, intern) part.
    pub seconds: f64,
    pub parse_seconds: f64,
    /// Set on both parts of a split: sizes and the test rows cold in train.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitReport>,
}

/// Test rows whose user or movie is absent from the training part.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitReport {
    pub train_rows: usize,
    pub test_rows: usize,
    pub cold_user_rows: usize,
    pub cold_movie_rows: usize,
    pub cold_rows: usize,
    pub dropped: usize,
}
