use std::path::PathBuf;
use std::sync::Arc;

use alsrec_core::data::catalog::Links;
use alsrec_core::ingest::{self, ColumnMapping, LoadOptions, OnBadRow};
use alsrec_core::{data::split, Dataset as CoreDataset};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::guard;

/// A loaded ratings set; the arrays stay in Rust and JavaScript holds this handle.
#[napi]
pub struct Dataset {
    pub(crate) inner: Arc<CoreDataset>,
}

/// The movie catalog as column arrays, so 62k movies cross the boundary in a few copies.
#[napi(object, object_from_js = false)]
pub struct CatalogColumns {
    pub ids: Float64Array,
    pub titles: Vec<String>,
    /// 0 where the title has no year.
    pub years: Int32Array,
    /// Movie i's genres are `genreIndices[genreOffsets[i]..genreOffsets[i + 1]]`.
    pub genre_offsets: Uint32Array,
    pub genre_indices: Uint16Array,
    pub genre_names: Vec<String>,
    /// From links.csv; NaN where unknown.
    pub imdb_ids: Float64Array,
    pub tmdb_ids: Float64Array,
    /// How many tags (tags.csv) each movie was given.
    pub tag_counts: Uint32Array,
}

#[napi(object)]
pub struct TagCount {
    pub tag: String,
    pub count: u32,
}

fn link(c: &alsrec_core::data::catalog::Catalog, pick: impl Fn(&Links) -> Option<i64>) -> Vec<f64> {
    c.movies
        .iter()
        .map(|m| {
            c.links
                .get(&m.id)
                .and_then(&pick)
                .map_or(f64::NAN, |v| v as f64)
        })
        .collect()
}

#[napi(object)]
pub struct LoadOptionsJs {
    /// 'error' (default) or 'skip'.
    pub on_bad_row: Option<String>,
    /// [min, max]: ratings outside are bad rows. MovieLens files default to [0.5, 5].
    pub rating_scale: Option<Vec<f64>>,
    /// Drop users / movies with fewer ratings, repeatedly until stable.
    pub min_user_ratings: Option<u32>,
    pub min_movie_ratings: Option<u32>,
    /// Drop ratings of movies the catalog does not list.
    pub catalog_only: Option<bool>,
    /// loadSplit: drop test rows whose user or movie has no training rating.
    pub drop_cold_start: Option<bool>,
    pub threads: Option<u32>,
}

fn load_options(
    options: Option<LoadOptionsJs>,
) -> alsrec_core::Result<(LoadOptions, Option<usize>)> {
    let Some(o) = options else {
        return Ok((LoadOptions::default(), None));
    };
    let on_bad_row = match o.on_bad_row.as_deref() {
        None | Some("error") => OnBadRow::Error,
        Some("skip") => OnBadRow::Skip,
        Some(other) => {
            return Err(alsrec_core::Error::invalid_argument(format!(
                "onBadRow must be 'error' or 'skip' (got '{other}')"
            )))
        }
    };
    let rating_scale = match o.rating_scale.as_deref() {
        None => None,
        Some(&[lo, hi]) => Some((lo as f32, hi as f32)),
        Some(other) => {
            return Err(alsrec_core::Error::invalid_argument(format!(
                "ratingScale must be [min, max] (got {} numbers)",
                other.len()
            )))
        }
    };
    let options = LoadOptions {
        on_bad_row,
        rating_scale,
        min_user_ratings: o.min_user_ratings.unwrap_or(0) as usize,
        min_movie_ratings: o.min_movie_ratings.unwrap_or(0) as usize,
        drop_cold_start: o.drop_cold_start.unwrap_or(false),
        catalog_only: o.catalog_only.unwrap_or(false),
    };
    Ok((options, o.threads.map(|t| t as usize)))
}

fn parse_mapping(json: Option<String>) -> alsrec_core::Result<Option<ColumnMapping>> {
    json.map(|j| {
        serde_json::from_str(&j).map_err(|e| {
            alsrec_core::Error::invalid_argument(format!("invalid column mapping: {e}"))
        })
    })
    .transpose()
}

/// What a load task reads.
pub enum LoadJob {
    MovieLens(PathBuf),
    Ratings(PathBuf, Option<ColumnMapping>),
    Split(PathBuf, PathBuf, Option<ColumnMapping>),
}

impl LoadJob {
    fn run(
        &self,
        options: &LoadOptions,
        threads: Option<usize>,
    ) -> alsrec_core::Result<Vec<CoreDataset>> {
        let pool = alsrec_core::runtime::pool::thread_pool(threads)?;
        pool.install(|| match self {
            LoadJob::MovieLens(dir) => Ok(vec![ingest::load_movielens(dir, options)?]),
            LoadJob::Ratings(file, mapping) => {
                Ok(vec![ingest::load_ratings(file, mapping.as_ref(), options)?])
            }
            LoadJob::Split(train, test, mapping) => {
                let (a, b, _) = ingest::load_split(train, test, mapping.as_ref(), options)?;
                Ok(vec![a, b])
            }
        })
    }
}

pub struct LoadTask {
    job: LoadJob,
    options: LoadOptions,
    threads: Option<usize>,
}

impl Task for LoadTask {
    type Output = Vec<CoreDataset>;
    type JsValue = Vec<Dataset>;
    fn compute(&mut self) -> Result<Vec<CoreDataset>> {
        guard(|| self.job.run(&self.options, self.threads))
    }
    fn resolve(&mut self, _env: Env, output: Vec<CoreDataset>) -> Result<Vec<Dataset>> {
        Ok(wrap(output))
    }
}

fn wrap(sets: Vec<CoreDataset>) -> Vec<Dataset> {
    sets.into_iter()
        .map(|d| Dataset { inner: Arc::new(d) })
        .collect()
}

fn task(job: LoadJob, options: Option<LoadOptionsJs>) -> Result<AsyncTask<LoadTask>> {
    let (options, threads) = guard(|| load_options(options))?;
    Ok(AsyncTask::new(LoadTask {
        job,
        options,
        threads,
    }))
}

fn run_sync(job: LoadJob, options: Option<LoadOptionsJs>) -> Result<Vec<Dataset>> {
    guard(|| {
        let (options, threads) = load_options(options)?;
        job.run(&options, threads)
    })
    .map(wrap)
}

fn first(mut sets: Vec<Dataset>) -> Result<Dataset> {
    sets.pop()
        .ok_or_else(|| Error::from_reason("[ALSREC_INTERNAL] a load returned no data set"))
}

/// Resolves to [dataset]: a MovieLens directory (or ratings file) with its catalog.
#[napi(ts_return_type = "Promise<Array<Dataset>>")]
pub fn load_movie_lens(dir: String, options: Option<LoadOptionsJs>) -> Result<AsyncTask<LoadTask>> {
    task(LoadJob::MovieLens(dir.into()), options)
}

#[napi]
pub fn load_movie_lens_sync(dir: String, options: Option<LoadOptionsJs>) -> Result<Dataset> {
    first(run_sync(LoadJob::MovieLens(dir.into()), options)?)
}

/// Resolves to [dataset]: one ratings file, detected (MovieLens) or read by `mappingJson`.
#[napi(ts_return_type = "Promise<Array<Dataset>>")]
pub fn load_ratings(
    file: String,
    mapping_json: Option<String>,
    options: Option<LoadOptionsJs>,
) -> Result<AsyncTask<LoadTask>> {
    let mapping = guard(|| parse_mapping(mapping_json))?;
    task(LoadJob::Ratings(file.into(), mapping), options)
}

#[napi]
pub fn load_ratings_sync(
    file: String,
    mapping_json: Option<String>,
    options: Option<LoadOptionsJs>,
) -> Result<Dataset> {
    let mapping = guard(|| parse_mapping(mapping_json))?;
    first(run_sync(LoadJob::Ratings(file.into(), mapping), options)?)
}

/// Resolves to [train, test] sharing id maps; the cold-start counts are in both reports.
#[napi(ts_return_type = "Promise<Array<Dataset>>")]
pub fn load_split(
    train_file: String,
    test_file: String,
    mapping_json: Option<String>,
    options: Option<LoadOptionsJs>,
) -> Result<AsyncTask<LoadTask>> {
    let mapping = guard(|| parse_mapping(mapping_json))?;
    task(
        LoadJob::Split(train_file.into(), test_file.into(), mapping),
        options,
    )
}

#[napi]
impl Dataset {
    #[napi(getter)]
    pub fn num_ratings(&self) -> u32 {
        self.inner.num_ratings() as u32
    }

    /// Users with at least one rating in this set.
    #[napi(getter)]
    pub fn num_users(&self) -> u32 {
        self.inner.num_active_users() as u32
    }

    /// Movies with at least one rating in this set.
    #[napi(getter)]
    pub fn num_movies(&self) -> u32 {
        self.inner.num_active_items() as u32
    }

    #[napi(getter)]
    pub fn mean_rating(&self) -> f64 {
        self.inner.mean_rating()
    }

    /// The load report as JSON.
    #[napi]
    pub fn report_json(&self) -> Result<String> {
        guard(|| {
            serde_json::to_string(&self.inner.report)
                .map_err(|e| alsrec_core::Error::internal(e.to_string()))
        })
    }

    /// Raw user ids, in index order.
    #[napi]
    pub fn user_ids(&self) -> Float64Array {
        raw_ids(&self.inner.users)
    }

    /// [train, test], a seeded random split.
    #[napi]
    pub fn split_random(&self, test_fraction: f64, seed: u32) -> Result<Vec<Dataset>> {
        guard(|| {
            let s = split::random_split(&self.inner, test_fraction, seed as u64)?;
            Ok(vec![
                Dataset {
                    inner: Arc::new(s.train),
                },
                Dataset {
                    inner: Arc::new(s.test),
                },
            ])
        })
    }

    /// [train, test] by a SplitOptions object as JSON; the split report is in both reports.
    #[napi]
    pub fn split(&self, options_json: String) -> Result<Vec<Dataset>> {
        guard(|| {
            let o: split::SplitOptions = serde_json::from_str(&options_json).map_err(|e| {
                alsrec_core::Error::invalid_argument(format!("invalid split options: {e}"))
            })?;
            let (s, _) = split::split(&self.inner, &o)?;
            Ok(vec![s.train, s.test])
        })
        .map(wrap)
    }

    /// [train0, test0, train1, test1, …]: k folds.
    #[napi]
    pub fn folds(&self, k: u32, seed: u32, drop_cold_start: bool) -> Result<Vec<Dataset>> {
        guard(|| {
            let folds = split::folds(&self.inner, k as usize, seed as u64, drop_cold_start)?;
            Ok(folds
                .into_iter()
                .flat_map(|(s, _)| [s.train, s.test])
                .collect::<Vec<_>>())
        })
        .map(wrap)
    }

    /// Raw movie ids, in index order (rated movies first, then catalog-only ones).
    #[napi]
    pub fn movie_ids(&self) -> Float64Array {
        raw_ids(&self.inner.items)
    }

    /// The dense index of a raw user id, or -1.
    #[napi]
    pub fn user_index(&self, user_id: f64) -> i64 {
        self.inner
            .users
            .index(user_id as i64)
            .map_or(-1, |i| i as i64)
    }

    /// The dense index of a raw movie id, or -1.
    #[napi]
    pub fn movie_index(&self, movie_id: f64) -> i64 {
        self.inner
            .items
            .index(movie_id as i64)
            .map_or(-1, |i| i as i64)
    }

    /// The distinct tags given to a movie (tags.csv) and how often, most frequent first.
    #[napi]
    pub fn movie_tags(&self, movie_id: f64) -> Vec<TagCount> {
        self.inner
            .catalog
            .tags
            .get(&(movie_id as i64))
            .map(|tags| {
                tags.iter()
                    .map(|(tag, n)| TagCount {
                        tag: tag.clone(),
                        count: *n,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[napi]
    pub fn catalog(&self) -> Result<CatalogColumns> {
        guard(|| Ok(catalog_columns(&self.inner.catalog)))
    }

    /// The movie ids this user rated here, with the ratings.
    #[napi]
    pub fn user_ratings(&self, user_id: f64) -> Result<RatedMovies> {
        guard(|| {
            let u = self.inner.users.index(user_id as i64).ok_or_else(|| {
                alsrec_core::Error::not_found(format!("unknown user id {user_id}"))
            })?;
            let (cols, vals) = self.inner.by_user.row(u as usize);
            Ok(RatedMovies {
                movie_ids: Float64Array::new(
                    cols.iter()
                        .map(|&c| self.inner.items.raw(c) as f64)
                        .collect(),
                ),
                ratings: Float32Array::new(vals.to_vec()),
            })
        })
    }
}

#[napi(object, object_from_js = false)]
pub struct RatedMovies {
    pub movie_ids: Float64Array,
    pub ratings: Float32Array,
}

/// The catalog as column arrays; shared by datasets and models.
pub(crate) fn catalog_columns(c: &alsrec_core::data::catalog::Catalog) -> CatalogColumns {
    let mut offsets = Vec::with_capacity(c.len() + 1);
    let mut indices = Vec::new();
    offsets.push(0u32);
    for m in &c.movies {
        indices.extend_from_slice(&m.genres);
        offsets.push(indices.len() as u32);
    }
    CatalogColumns {
        ids: Float64Array::new(c.movies.iter().map(|m| m.id as f64).collect()),
        titles: c.movies.iter().map(|m| m.title.clone()).collect(),
        years: Int32Array::new(c.movies.iter().map(|m| m.year.unwrap_or(0)).collect()),
        genre_offsets: Uint32Array::new(offsets),
        genre_indices: Uint16Array::new(indices),
        genre_names: c.genre_names.clone(),
        imdb_ids: Float64Array::new(link(c, |l| l.imdb_id)),
        tmdb_ids: Float64Array::new(link(c, |l| l.tmdb_id)),
        tag_counts: Uint32Array::new(
            c.movies
                .iter()
                .map(|m| {
                    // Counts come from files; a sum past u32 saturates instead of wrapping.
                    c.tags
                        .get(&m.id)
                        .map_or(0, |t| t.iter().fold(0u32, |a, x| a.saturating_add(x.1)))
                })
                .collect(),
        ),
    }
}

/// Raw ids in index order; f64 holds every id up to 2^53 exactly.
pub(crate) fn raw_ids(map: &alsrec_core::data::ids::IdMap) -> Float64Array {
    Float64Array::new(map.raw_ids().iter().map(|&i| i as f64).collect())
}
