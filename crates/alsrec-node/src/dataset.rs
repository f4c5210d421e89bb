use std::sync::Arc;

use alsrec_core::data::columns::CatalogColumns as CoreCatalogColumns;
use alsrec_core::data::ids::IdMap;
use alsrec_core::data::split as core_split;
use alsrec_core::{ingest, Dataset as CoreDataset};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::guard;
use crate::ingest::{ColumnMapping, LoadOptions, LoadSplitOptions};
use crate::reports::LoadReport;
use crate::split::{ColdStart, SplitOptions};
use crate::task::{spawn, CoreTask};

/// A loaded ratings set; the arrays stay in Rust and JavaScript holds this handle.
#[napi]
pub struct Dataset {
    pub(crate) inner: Arc<CoreDataset>,
}

impl Dataset {
    pub(crate) fn new(data: CoreDataset) -> Self {
        Dataset {
            inner: Arc::new(data),
        }
    }
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

/// Raw ids as JavaScript numbers; f64 holds every id up to 2^53 exactly.
pub(crate) fn ids_js(ids: &[i64]) -> Float64Array {
    Float64Array::new(ids.iter().map(|&i| i as f64).collect())
}

fn link_js(ids: &[Option<i64>]) -> Float64Array {
    Float64Array::new(
        ids.iter()
            .map(|i| i.map_or(f64::NAN, |v| v as f64))
            .collect(),
    )
}

impl From<CoreCatalogColumns> for CatalogColumns {
    fn from(c: CoreCatalogColumns) -> Self {
        CatalogColumns {
            ids: ids_js(&c.ids),
            titles: c.titles,
            years: Int32Array::new(c.years.iter().map(|y| y.unwrap_or(0)).collect()),
            genre_offsets: Uint32Array::new(c.genre_offsets),
            genre_indices: Uint16Array::new(c.genre_indices),
            genre_names: c.genre_names,
            imdb_ids: link_js(&c.imdb_ids),
            tmdb_ids: link_js(&c.tmdb_ids),
            tag_counts: Uint32Array::new(c.tag_counts),
        }
    }
}

#[napi(object)]
pub struct TagCount {
    pub tag: String,
    pub count: u32,
}

/// A user's ratings in this set.
#[napi(object, object_from_js = false)]
pub struct RatedMovies {
    pub movie_ids: Float64Array,
    pub ratings: Float32Array,
}

/// Every rating of a set once, as three parallel arrays.
#[napi(object, object_from_js = false)]
pub struct RatingTriplets {
    pub user_ids: Float64Array,
    pub movie_ids: Float64Array,
    pub ratings: Float32Array,
}

/// Raw ids of an id map in index order.
pub(crate) fn raw_ids(map: &IdMap) -> Float64Array {
    ids_js(map.raw_ids())
}

fn datasets(sets: impl IntoIterator<Item = CoreDataset>) -> Vec<Dataset> {
    sets.into_iter().map(Dataset::new).collect()
}

/// A MovieLens directory (or ratings file) with its catalog, read off the JavaScript thread.
#[napi(ts_return_type = "Promise<Dataset>")]
pub fn load_movie_lens(dir: String, options: Option<LoadOptions>) -> AsyncTask<CoreTask<Dataset>> {
    let options = options.unwrap_or_default().into();
    spawn(None, move |_| {
        ingest::load_movielens(dir.as_ref(), &options).map(Dataset::new)
    })
}

#[napi]
pub fn load_movie_lens_sync(dir: String, options: Option<LoadOptions>) -> Result<Dataset> {
    let options = options.unwrap_or_default().into();
    guard(|| ingest::load_movielens(dir.as_ref(), &options).map(Dataset::new))
}

/// A catalog file (`movies.csv`, `movies.dat`, `u.item`) or a folder holding one, off the
/// JavaScript thread.
#[napi(ts_return_type = "Promise<CatalogColumns>")]
pub fn load_catalog(path: String) -> AsyncTask<CoreTask<CatalogColumns>> {
    spawn(None, move |_| {
        ingest::read_catalog_file(path.as_ref()).map(|c| c.columns().into())
    })
}

#[napi]
pub fn load_catalog_sync(path: String) -> Result<CatalogColumns> {
    guard(|| ingest::read_catalog_file(path.as_ref()).map(|c| c.columns().into()))
}

/// One ratings file: a MovieLens one (detected) or read by `mapping`.
#[napi(ts_return_type = "Promise<Dataset>")]
pub fn load_ratings(
    file: String,
    mapping: Option<ColumnMapping>,
    options: Option<LoadOptions>,
) -> AsyncTask<CoreTask<Dataset>> {
    let mapping = mapping.map(ingest::ColumnMapping::from);
    let options = options.unwrap_or_default().into();
    spawn(None, move |_| {
        ingest::load_ratings(file.as_ref(), mapping.as_ref(), &options).map(Dataset::new)
    })
}

#[napi]
pub fn load_ratings_sync(
    file: String,
    mapping: Option<ColumnMapping>,
    options: Option<LoadOptions>,
) -> Result<Dataset> {
    let mapping = mapping.map(ingest::ColumnMapping::from);
    let options = options.unwrap_or_default().into();
    guard(|| ingest::load_ratings(file.as_ref(), mapping.as_ref(), &options).map(Dataset::new))
}

/// [train, test] sharing id maps; the cold-start counts are in both reports.
#[napi(ts_return_type = "Promise<Array<Dataset>>")]
pub fn load_split(
    train_file: String,
    test_file: String,
    mapping: Option<ColumnMapping>,
    options: Option<LoadSplitOptions>,
) -> AsyncTask<CoreTask<Vec<Dataset>>> {
    let mapping = mapping.map(ingest::ColumnMapping::from);
    let options = options.unwrap_or_default().into();
    spawn(None, move |_| {
        let (train, test, _) = ingest::load_split(
            train_file.as_ref(),
            test_file.as_ref(),
            mapping.as_ref(),
            &options,
        )?;
        Ok(datasets([train, test]))
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

    /// What the load (and split) did.
    #[napi(getter)]
    pub fn report(&self) -> LoadReport {
        LoadReport::from(&self.inner.report)
    }

    /// Raw user ids, in index order.
    #[napi]
    pub fn user_ids(&self) -> Float64Array {
        raw_ids(&self.inner.users)
    }

    /// Raw movie ids, in index order (rated movies first, then catalog-only ones).
    #[napi]
    pub fn movie_ids(&self) -> Float64Array {
        raw_ids(&self.inner.items)
    }

    /// Every rating of this set once, in the set's row order, as raw ids and ratings.
    #[napi]
    pub fn rating_triplets(&self) -> RatingTriplets {
        let t = self.inner.rating_triplets();
        RatingTriplets {
            user_ids: ids_js(&t.user_ids),
            movie_ids: ids_js(&t.movie_ids),
            ratings: Float32Array::new(t.ratings),
        }
    }

    /// [train, test]; the split report is in both reports.
    #[napi]
    pub fn split(&self, options: Option<SplitOptions>) -> Result<Vec<Dataset>> {
        let options = options.unwrap_or_default().into();
        guard(|| {
            let (s, _) = core_split::split(&self.inner, &options)?;
            Ok(datasets([s.train, s.test]))
        })
    }

    /// [train0, test0, train1, test1, …]: k folds.
    #[napi]
    pub fn folds(&self, k: u32, seed: u32, cold_start: Option<ColdStart>) -> Result<Vec<Dataset>> {
        let drop_cold = cold_start.is_some_and(|c| c == ColdStart::Drop);
        guard(|| {
            let folds = core_split::folds(&self.inner, k as usize, seed as u64, drop_cold)?;
            Ok(datasets(
                folds.into_iter().flat_map(|(s, _)| [s.train, s.test]),
            ))
        })
    }

    /// The dense index of a raw user id, or -1.
    #[napi]
    pub fn user_index(&self, user_id: f64) -> i64 {
        self.inner.users.index(user_id as i64).map_or(-1, i64::from)
    }

    /// The dense index of a raw movie id, or -1.
    #[napi]
    pub fn movie_index(&self, movie_id: f64) -> i64 {
        self.inner
            .items
            .index(movie_id as i64)
            .map_or(-1, i64::from)
    }

    /// The distinct tags given to a movie (tags.csv) and how often, most frequent first.
    #[napi]
    pub fn movie_tags(&self, movie_id: f64) -> Vec<TagCount> {
        self.inner
            .catalog
            .tags_of(movie_id as i64)
            .iter()
            .map(|(tag, count)| TagCount {
                tag: tag.clone(),
                count: *count,
            })
            .collect()
    }

    #[napi]
    pub fn catalog(&self) -> CatalogColumns {
        self.inner.catalog.columns().into()
    }

    /// The movie ids this user rated here, with the ratings.
    #[napi]
    pub fn user_ratings(&self, user_id: f64) -> Result<RatedMovies> {
        let (movies, ratings) = guard(|| self.inner.user_ratings(user_id as i64))?;
        Ok(RatedMovies {
            movie_ids: ids_js(&movies),
            ratings: Float32Array::new(ratings),
        })
    }
}
