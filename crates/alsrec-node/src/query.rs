//! Query options: the napi type TypeScript re-exports, converted into the core's `QueryOptions`,
//! which resolves genre names and movie ids against the model.
use alsrec_core::query::options::{QueryOptions, RecommendOptions as CoreOptions};
use alsrec_core::Model as CoreModel;
use napi::bindgen_prelude::Float64Array;
use napi_derive::napi;

/// Which movies may be returned, and how they are ranked. Unknown keys and values of the wrong
/// type are rejected (ALSREC_INVALID_ARGUMENT).
#[napi(object)]
pub struct RecommendOptions {
    /// How many movies (default 10).
    pub n: Option<u32>,
    /// Leave out movies the user rated in training (default true).
    pub exclude_seen: Option<bool>,
    /// Only movies with at least one of these genres.
    pub genres: Option<Vec<String>>,
    /// Only movies with at least this many training ratings. Default: the model's floor
    /// (`model.popularityFloor`, derived from the data: the movies at or above it hold 90 % of the
    /// ratings); 0 keeps every movie.
    pub min_ratings: Option<u32>,
    /// Only movies from these years, inclusive.
    pub years: Option<(i32, i32)>,
    /// Only these movie ids.
    pub candidates: Option<Float64Array>,
    /// Genre diversity: MMR re-ranking weight from 0 (off, default) to 1.
    pub diversity: Option<f64>,
}

impl From<RecommendOptions> for QueryOptions {
    fn from(js: RecommendOptions) -> Self {
        let RecommendOptions {
            n,
            exclude_seen,
            genres,
            min_ratings,
            years,
            candidates,
            diversity,
        } = js;
        let d = QueryOptions::default();
        QueryOptions {
            n: n.map_or(d.n, |n| n as usize),
            exclude_seen: exclude_seen.unwrap_or(d.exclude_seen),
            genres: genres.unwrap_or(d.genres),
            min_ratings: min_ratings.or(d.min_ratings),
            years: years.or(d.years),
            candidates: candidates.map(|ids| ids.iter().map(|&id| id as i64).collect()),
            diversity: diversity.map_or(d.diversity, |x| x as f32),
        }
    }
}

/// The options in the model's indices (defaults when absent).
pub(crate) fn resolve(
    model: &CoreModel,
    options: Option<RecommendOptions>,
) -> alsrec_core::Result<CoreOptions> {
    options
        .map(QueryOptions::from)
        .unwrap_or_default()
        .resolve(model)
}
