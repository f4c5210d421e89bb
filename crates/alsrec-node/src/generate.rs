//! The synthetic-data generator: options in, report out, as the napi types TypeScript re-exports.
use alsrec_core::schema::seed_from_signed;
use alsrec_core::synth::{GenerateOptions as CoreOptions, GenerateReport as CoreReport};
use alsrec_core::CancelToken as CoreCancel;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::cancel::CancelToken;
use crate::error::guard;
use crate::task::{spawn, CoreTask};

/// What to generate; unknown keys and values of the wrong type are rejected.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// Default 600.
    pub users: Option<u32>,
    /// Default 2000.
    pub movies: Option<u32>,
    /// Default 80000.
    pub ratings: Option<u32>,
    /// Default 42.
    pub seed: Option<i64>,
    /// Rank of the planted tastes (default 8).
    pub factors: Option<u32>,
    /// Standard deviation of the rating noise (default 0.6).
    pub noise: Option<f64>,
    /// Every user rates at least this many movies (default 20).
    pub min_user_ratings: Option<u32>,
    /// Genre names with weights, e.g. read from a real catalog.
    pub genres: Option<Vec<(String, f64)>>,
    /// A real movies.csv whose genre mix to copy, e.g. ml-25m's.
    pub catalog: Option<String>,
    /// Worker threads; all cores by default.
    pub threads: Option<u32>,
}

impl TryFrom<GenerateOptions> for CoreOptions {
    type Error = alsrec_core::Error;

    fn try_from(js: GenerateOptions) -> alsrec_core::Result<Self> {
        let GenerateOptions {
            users,
            movies,
            ratings,
            seed,
            factors,
            noise,
            min_user_ratings,
            genres,
            catalog,
            threads,
        } = js;
        let d = CoreOptions::default();
        let count = |x: u32| x as usize;
        let seed = seed.map_or(Ok(d.seed), seed_from_signed)?;
        let options = CoreOptions {
            users: users.map_or(d.users, count),
            movies: movies.map_or(d.movies, count),
            ratings: ratings.map_or(d.ratings, count),
            seed,
            factors: factors.map_or(d.factors, count),
            noise: noise.unwrap_or(d.noise),
            min_user_ratings: min_user_ratings.map_or(d.min_user_ratings, count),
            genres: genres.or(d.genres),
            catalog: catalog.or(d.catalog),
            threads: threads.map(count).or(d.threads),
        };
        options.validate()?;
        Ok(options)
    }
}

/// What was written, and the best RMSE any model can reach on it.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct GenerateReport {
    pub users: f64,
    pub movies: f64,
    pub ratings: f64,
    pub seed: f64,
    pub factors: f64,
    pub noise: f64,
    pub global_mean: f64,
    /// The best test RMSE any model can reach on this data.
    pub noise_floor_rmse: f64,
    pub seconds: f64,
}

impl From<CoreReport> for GenerateReport {
    fn from(r: CoreReport) -> Self {
        GenerateReport {
            users: r.users as f64,
            movies: r.movies as f64,
            ratings: r.ratings as f64,
            seed: r.seed as f64,
            factors: r.factors as f64,
            noise: r.noise,
            global_mean: r.global_mean,
            noise_floor_rmse: r.noise_floor_rmse,
            seconds: r.seconds,
        }
    }
}

/// Writes a synthetic MovieLens-format set (ratings.csv, movies.csv, truth.json) into `outDir`.
#[napi(ts_return_type = "Promise<GenerateReport>")]
pub fn generate(
    out_dir: String,
    options: Option<GenerateOptions>,
    cancel: Option<&CancelToken>,
) -> Result<AsyncTask<CoreTask<GenerateReport>>> {
    let options = guard(|| CoreOptions::try_from(options.unwrap_or_default()))?;
    Ok(spawn(cancel, move |cancel| {
        options.write(out_dir.as_ref(), cancel).map(Into::into)
    }))
}

#[napi]
pub fn generate_sync(out_dir: String, options: Option<GenerateOptions>) -> Result<GenerateReport> {
    guard(|| {
        let options = CoreOptions::try_from(options.unwrap_or_default())?;
        options
            .write(out_dir.as_ref(), &CoreCancel::new())
            .map(Into::into)
    })
}
