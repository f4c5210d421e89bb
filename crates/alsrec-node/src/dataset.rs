use std::path::PathBuf;
use std::sync::Arc;

use alsrec_core::ingest::{self, movielens::OnBadRow, LoadOptions};
use alsrec_core::{split, Dataset as CoreDataset};
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
}

#[napi(object)]
pub struct LoadOptionsJs {
    /// 'error' (default) or 'skip'.
    pub on_bad_row: Option<String>,
}

fn load_options(options: Option<LoadOptionsJs>) -> alsrec_core::Result<LoadOptions> {
    let on_bad_row = match options.as_ref().and_then(|o| o.on_bad_row.as_deref()) {
        None | Some("error") => OnBadRow::Error,
        Some("skip") => OnBadRow::Skip,
        Some(other) => {
            return Err(alsrec_core::Error::invalid_argument(format!(
                "onBadRow must be 'error' or 'skip' (got '{other}')"
            )))
        }
    };
    Ok(LoadOptions { on_bad_row })
}

pub struct LoadTask {
    dir: PathBuf,
    options: LoadOptions,
}

impl Task for LoadTask {
    type Output = CoreDataset;
    type JsValue = Dataset;
    fn compute(&mut self) -> Result<CoreDataset> {
        guard(|| ingest::load_movielens(&self.dir, &self.options))
    }
    fn resolve(&mut self, _env: Env, output: CoreDataset) -> Result<Dataset> {
        Ok(Dataset {
            inner: Arc::new(output),
        })
    }
}

#[napi(ts_return_type = "Promise<Dataset>")]
pub fn load_movie_lens(dir: String, options: Option<LoadOptionsJs>) -> Result<AsyncTask<LoadTask>> {
    let options = guard(|| load_options(options))?;
    Ok(AsyncTask::new(LoadTask {
        dir: dir.into(),
        options,
    }))
}

#[napi]
pub fn load_movie_lens_sync(dir: String, options: Option<LoadOptionsJs>) -> Result<Dataset> {
    guard(|| {
        let options = load_options(options)?;
        ingest::load_movielens(std::path::Path::new(&dir), &options)
            .map(|d| Dataset { inner: Arc::new(d) })
    })
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
        Float64Array::new(
            self.inner
                .users
                .raw_ids()
                .iter()
                .map(|&i| i as f64)
                .collect(),
        )
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

    #[napi]
    pub fn catalog(&self) -> Result<CatalogColumns> {
        guard(|| {
            let c = &self.inner.catalog;
            let mut offsets = Vec::with_capacity(c.len() + 1);
            let mut indices = Vec::new();
            offsets.push(0u32);
            for m in &c.movies {
                indices.extend_from_slice(&m.genres);
                offsets.push(indices.len() as u32);
            }
            Ok(CatalogColumns {
                ids: Float64Array::new(c.movies.iter().map(|m| m.id as f64).collect()),
                titles: c.movies.iter().map(|m| m.title.clone()).collect(),
                years: Int32Array::new(c.movies.iter().map(|m| m.year.unwrap_or(0)).collect()),
                genre_offsets: Uint32Array::new(offsets),
                genre_indices: Uint16Array::new(indices),
                genre_names: c.genre_names.clone(),
            })
        })
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
