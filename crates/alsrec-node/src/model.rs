use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use alsrec_core::eval::ranking::{self, RankingMetrics};
use alsrec_core::foldin::new_user::NewUser;
use alsrec_core::foldin::partial_fit::NewRatings;
use alsrec_core::model::export::{self, ExportFormat};
use alsrec_core::model::file as modelfile;
use alsrec_core::query::options::{Filter, RecommendOptions};
use alsrec_core::query::stats::QueryStats;
use alsrec_core::query::topn::Scored;
use alsrec_core::{CancelToken as CoreCancel, Error as CoreError, Model as CoreModel};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::cancel::CancelToken;
use crate::dataset::{catalog_columns, raw_ids, CatalogColumns, Dataset};
use crate::error::guard;
use crate::train::EpochRecord;

#[napi]
pub struct Model {
    pub(crate) inner: Arc<CoreModel>,
    /// Built on the first query that needs it (counts, norms, scale), then shared.
    index: Arc<OnceLock<Arc<QueryStats>>>,
}

impl Model {
    pub(crate) fn new(model: CoreModel) -> Self {
        Model {
            inner: Arc::new(model),
            index: Arc::default(),
        }
    }

    fn index(&self) -> Arc<QueryStats> {
        self.index
            .get_or_init(|| Arc::new(QueryStats::new(&self.inner)))
            .clone()
    }
}

/// Top-N results as parallel typed arrays, best first.
#[napi(object, object_from_js = false)]
pub struct ScoredMovies {
    pub movie_ids: Float64Array,
    pub scores: Float32Array,
    /// Predicted ratings on the model's scale; NaN where the model predicts none.
    pub ratings: Float32Array,
}

#[napi(object, object_from_js = false)]
pub struct ScoredUsers {
    pub user_ids: Float64Array,
    pub scores: Float32Array,
}

/// Filters and ranking options shared by the recommendation queries.
#[napi(object)]
pub struct QueryOptionsJs {
    pub n: Option<u32>,
    pub exclude_seen: Option<bool>,
    /// Keep movies with at least one of these genres.
    pub genres: Option<Vec<String>>,
    pub min_ratings: Option<u32>,
    /// [from, to], inclusive.
    pub years: Option<Vec<i32>>,
    /// Only these movie ids.
    pub candidates: Option<Float64Array>,
    /// MMR weight in [0, 1] for genre diversity.
    pub diversity: Option<f64>,
}

fn filter_of(m: &CoreModel, o: &QueryOptionsJs) -> alsrec_core::Result<Filter> {
    let genres = o
        .genres
        .iter()
        .flatten()
        .map(|g| m.genre_by_name(g))
        .collect::<alsrec_core::Result<_>>()?;
    let years = match o.years.as_deref() {
        None => None,
        Some([from, to]) => Some((*from, *to)),
        Some(other) => {
            return Err(CoreError::invalid_argument(format!(
                "years must be [from, to] (got {} numbers)",
                other.len()
            )))
        }
    };
    let candidates = match &o.candidates {
        None => None,
        Some(ids) => Some(
            ids.iter()
                .map(|&id| m.item_index(id as i64).map(|i| i as u32))
                .collect::<alsrec_core::Result<_>>()?,
        ),
    };
    Ok(Filter {
        genres,
        min_ratings: o.min_ratings,
        years,
        candidates,
    })
}

fn options_of(m: &CoreModel, o: Option<&QueryOptionsJs>) -> alsrec_core::Result<RecommendOptions> {
    let mut r = RecommendOptions::default();
    if let Some(o) = o {
        if let Some(n) = o.n {
            r.n = n as usize;
        }
        if let Some(e) = o.exclude_seen {
            r.exclude_seen = e;
        }
        if let Some(d) = o.diversity {
            r.diversity = d as f32;
        }
        r.filter = filter_of(m, o)?;
    }
    r.validate()?;
    Ok(r)
}

fn scored_movies(m: &CoreModel, top: &[Scored]) -> ScoredMovies {
    ScoredMovies {
        movie_ids: Float64Array::new(top.iter().map(|s| m.items.raw(s.item) as f64).collect()),
        scores: Float32Array::new(top.iter().map(|s| s.score).collect()),
        ratings: Float32Array::new(top.iter().map(|s| s.rating).collect()),
    }
}

/// recommendAll's result: row r holds user `userIds[r]`'s top `n`, NaN-padded.
#[napi(object, object_from_js = false)]
pub struct RecommendAllResult {
    pub n: u32,
    pub user_ids: Float64Array,
    pub movie_ids: Float64Array,
    pub scores: Float32Array,
    /// Predicted ratings on the model's scale; NaN where the model predicts none.
    pub ratings: Float32Array,
}

pub struct AllOutput {
    lists: alsrec_core::query::batch::ManyLists,
}

fn recommend_all(
    m: &CoreModel,
    index: &QueryStats,
    options: &RecommendOptions,
    cancel: &CoreCancel,
) -> alsrec_core::Result<AllOutput> {
    let users: Vec<u32> = (0..m.num_users() as u32).collect();
    let lists = m.recommend_many(&users, options, index, cancel)?;
    Ok(AllOutput { lists })
}

fn all_result(m: &CoreModel, n: usize, out: AllOutput) -> RecommendAllResult {
    RecommendAllResult {
        n: n as u32,
        user_ids: raw_ids(&m.users),
        movie_ids: Float64Array::new(
            out.lists
                .items
                .iter()
                .map(|&i| {
                    if i == u32::MAX {
                        f64::NAN
                    } else {
                        m.items.raw(i) as f64
                    }
                })
                .collect(),
        ),
        scores: Float32Array::new(out.lists.scores),
        ratings: Float32Array::new(out.lists.ratings),
    }
}

pub struct RecommendAllTask {
    model: Arc<CoreModel>,
    index: Arc<OnceLock<Arc<QueryStats>>>,
    options: RecommendOptions,
    cancel: CoreCancel,
}

impl Task for RecommendAllTask {
    type Output = AllOutput;
    type JsValue = RecommendAllResult;
    fn compute(&mut self) -> Result<AllOutput> {
        guard(|| {
            let index = self
                .index
                .get_or_init(|| Arc::new(QueryStats::new(&self.model)));
            recommend_all(&self.model, index, &self.options, &self.cancel)
        })
    }
    fn resolve(&mut self, _env: Env, out: AllOutput) -> Result<RecommendAllResult> {
        Ok(all_result(&self.model, self.options.n, out))
    }
}

#[napi(object, object_from_js = false)]
pub struct ContributionJs {
    pub movie_id: f64,
    pub rating: f64,
    pub points: f64,
    pub share: f64,
}

#[napi(object, object_from_js = false)]
pub struct ExplanationJs {
    pub score: f64,
    pub global_mean: f64,
    pub user_bias: f64,
    pub movie_bias: f64,
    pub genre_part: f64,
    pub latent_part: f64,
    pub refit_personal: f64,
    pub contributions: Vec<ContributionJs>,
}

#[napi(object, object_from_js = false)]
pub struct VectorNorms {
    pub largest: ScoredMovies,
    pub smallest: ScoredMovies,
}

#[napi(object, object_from_js = false)]
pub struct MovieMapJs {
    pub movie_ids: Float64Array,
    pub x: Float32Array,
    pub y: Float32Array,
    pub explained: Vec<f64>,
}

#[napi(object, object_from_js = false)]
pub struct RankingMetricsJs {
    pub k: u32,
    pub threshold: f64,
    pub users: u32,
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    pub map: f64,
    pub hit_rate: f64,
    pub coverage: f64,
    /// Mean popularity rank of the recommended movies (1 = the most rated).
    pub novelty: f64,
}

impl From<RankingMetrics> for RankingMetricsJs {
    fn from(r: RankingMetrics) -> Self {
        RankingMetricsJs {
            k: r.k as u32,
            threshold: r.threshold as f64,
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

pub struct RankingTask {
    model: Arc<CoreModel>,
    index: Arc<OnceLock<Arc<QueryStats>>>,
    test: Arc<alsrec_core::Dataset>,
    k: usize,
    threshold: f32,
    cancel: CoreCancel,
}

impl Task for RankingTask {
    type Output = RankingMetrics;
    type JsValue = RankingMetricsJs;
    fn compute(&mut self) -> Result<RankingMetrics> {
        guard(|| {
            let index = self
                .index
                .get_or_init(|| Arc::new(QueryStats::new(&self.model)));
            let pool = alsrec_core::runtime::pool::thread_pool(None)?;
            pool.install(|| {
                ranking::ranking_metrics(
                    &self.model,
                    &self.test,
                    self.k,
                    self.threshold,
                    index,
                    &self.cancel,
                )
            })
        })
    }
    fn resolve(&mut self, _env: Env, out: RankingMetrics) -> Result<RankingMetricsJs> {
        Ok(out.into())
    }
}

pub struct SaveTask {
    model: Arc<CoreModel>,
    path: PathBuf,
}

impl Task for SaveTask {
    type Output = ();
    type JsValue = ();
    fn compute(&mut self) -> Result<()> {
        guard(|| modelfile::save(&self.model, &self.path))
    }
    fn resolve(&mut self, _env: Env, _out: ()) -> Result<()> {
        Ok(())
    }
}

pub struct LoadModelTask {
    path: PathBuf,
}

impl Task for LoadModelTask {
    type Output = CoreModel;
    type JsValue = Model;
    fn compute(&mut self) -> Result<CoreModel> {
        guard(|| modelfile::load(&self.path))
    }
    fn resolve(&mut self, _env: Env, out: CoreModel) -> Result<Model> {
        Ok(Model::new(out))
    }
}

/// Reads a model file off the JavaScript thread, checking magic, version, sizes and checksum.
#[napi(ts_return_type = "Promise<Model>")]
pub fn load_model(path: String) -> AsyncTask<LoadModelTask> {
    AsyncTask::new(LoadModelTask { path: path.into() })
}

#[napi]
pub fn load_model_sync(path: String) -> Result<Model> {
    guard(|| modelfile::load(std::path::Path::new(&path)).map(Model::new))
}

pub struct PartialFitTask {
    model: Arc<CoreModel>,
    ratings: NewRatings,
}

impl Task for PartialFitTask {
    type Output = CoreModel;
    type JsValue = Model;
    fn compute(&mut self) -> Result<CoreModel> {
        guard(|| self.model.partial_fit(&self.ratings))
    }
    fn resolve(&mut self, _env: Env, out: CoreModel) -> Result<Model> {
        Ok(Model::new(out))
    }
}

fn new_ratings(user_ids: &[f64], movie_ids: &[f64], ratings: &[f32]) -> NewRatings {
    NewRatings {
        user_ids: user_ids.iter().map(|&u| u as i64).collect(),
        movie_ids: movie_ids.iter().map(|&i| i as i64).collect(),
        ratings: ratings.to_vec(),
    }
}

#[napi]
impl Model {
    #[napi(getter)]
    pub fn kind(&self) -> String {
        self.inner.config.model.name().to_string()
    }

    #[napi(getter)]
    pub fn factors(&self) -> u32 {
        self.inner.k as u32
    }

    #[napi(getter)]
    pub fn global_mean(&self) -> f64 {
        self.inner.mu as f64
    }

    #[napi(getter)]
    pub fn num_users(&self) -> u32 {
        self.inner.num_users() as u32
    }

    #[napi(getter)]
    pub fn num_movies(&self) -> u32 {
        self.inner.num_items() as u32
    }

    #[napi(getter)]
    pub fn config_json(&self) -> Result<String> {
        guard(|| {
            serde_json::to_string(&self.inner.config)
                .map_err(|e| alsrec_core::Error::internal(e.to_string()))
        })
    }

    #[napi(getter)]
    pub fn history(&self) -> Vec<EpochRecord> {
        self.inner.history.iter().map(EpochRecord::from).collect()
    }

    /// The catalog the model's movie ids refer to (kept in the model file).
    #[napi]
    pub fn catalog(&self) -> CatalogColumns {
        catalog_columns(&self.inner.catalog)
    }

    /// The fewest training ratings a movie needs to appear in a list by default.
    #[napi(getter)]
    pub fn popularity_floor(&self) -> u32 {
        self.index().floor
    }

    /// Whether lists are ranked by a ranker (see docs/ranking.md).
    #[napi(getter)]
    pub fn has_ranker(&self) -> bool {
        self.inner.ranker.is_some()
    }

    /// The smallest and largest training rating: the scale new ratings must lie on.
    #[napi]
    pub fn rating_range(&self) -> Vec<f64> {
        let (lo, hi) = self.index().rating_range;
        vec![lo as f64, hi as f64]
    }

    /// Raw user ids, in index order.
    #[napi]
    pub fn user_ids(&self) -> Float64Array {
        raw_ids(&self.inner.users)
    }

    #[napi]
    pub fn recommend(&self, user_id: f64, options: Option<QueryOptionsJs>) -> Result<ScoredMovies> {
        guard(|| {
            let m = &self.inner;
            let user = m.user_index(user_id as i64)?;
            let o = options_of(m, options.as_ref())?;
            let top = m.recommend(user, &o, &self.index())?;
            Ok(scored_movies(m, &top))
        })
    }

    #[napi(ts_return_type = "Promise<RecommendAllResult>")]
    pub fn recommend_all(
        &self,
        options: Option<QueryOptionsJs>,
        cancel: Option<&CancelToken>,
    ) -> Result<AsyncTask<RecommendAllTask>> {
        let options = guard(|| options_of(&self.inner, options.as_ref()))?;
        Ok(AsyncTask::new(RecommendAllTask {
            model: self.inner.clone(),
            index: self.index.clone(),
            options,
            cancel: cancel.map(|c| c.inner.clone()).unwrap_or_default(),
        }))
    }

    #[napi]
    pub fn recommend_all_sync(
        &self,
        options: Option<QueryOptionsJs>,
    ) -> Result<RecommendAllResult> {
        guard(|| {
            let m = &self.inner;
            let o = options_of(m, options.as_ref())?;
            let out = recommend_all(m, &self.index(), &o, &CoreCancel::new())?;
            Ok(all_result(m, o.n, out))
        })
    }

    #[napi]
    pub fn predict(&self, user_id: f64, movie_id: f64) -> Result<f64> {
        guard(|| {
            let m = &self.inner;
            Ok(m.predict(
                m.user_index(user_id as i64)?,
                m.item_index(movie_id as i64)?,
            ) as f64)
        })
    }

    /// Predictions for pairs (userIds[j], movieIds[j]).
    #[napi]
    pub fn predict_many(
        &self,
        user_ids: Float64Array,
        movie_ids: Float64Array,
    ) -> Result<Float32Array> {
        guard(|| {
            let m = &self.inner;
            if user_ids.len() != movie_ids.len() {
                return Err(CoreError::invalid_argument(format!(
                    "userIds and movieIds must have the same length (got {} and {})",
                    user_ids.len(),
                    movie_ids.len()
                )));
            }
            let users = user_ids
                .iter()
                .map(|&u| m.user_index(u as i64))
                .collect::<alsrec_core::Result<Vec<_>>>()?;
            let items = movie_ids
                .iter()
                .map(|&i| m.item_index(i as i64))
                .collect::<alsrec_core::Result<Vec<_>>>()?;
            Ok(Float32Array::new(m.predict_many(&users, &items)))
        })
    }

    #[napi]
    pub fn recommend_for_new_user(
        &self,
        movie_ids: Float64Array,
        ratings: Float32Array,
        genres: Vec<String>,
        options: Option<QueryOptionsJs>,
    ) -> Result<ScoredMovies> {
        guard(|| {
            let m = &self.inner;
            if movie_ids.len() != ratings.len() {
                return Err(CoreError::invalid_argument(
                    "movieIds and ratings must have the same length",
                ));
            }
            let user = NewUser {
                items: movie_ids
                    .iter()
                    .map(|&i| m.item_index(i as i64).map(|i| i as u32))
                    .collect::<alsrec_core::Result<_>>()?,
                ratings: ratings.to_vec(),
                genres: genres
                    .iter()
                    .map(|g| m.genre_by_name(g))
                    .collect::<alsrec_core::Result<_>>()?,
            };
            let o = options_of(m, options.as_ref())?;
            let top = m.recommend_for_new_user(&user, &o, &self.index())?;
            Ok(scored_movies(m, &top))
        })
    }

    #[napi]
    pub fn similar_movies(
        &self,
        movie_id: f64,
        options: Option<QueryOptionsJs>,
    ) -> Result<ScoredMovies> {
        guard(|| {
            let m = &self.inner;
            let item = m.item_index(movie_id as i64)?;
            let o = options_of(m, options.as_ref())?;
            let top = m.similar_items(item, o.n, &o.filter, &self.index())?;
            Ok(scored_movies(m, &top))
        })
    }

    #[napi]
    pub fn similar_users(&self, user_id: f64, n: u32) -> Result<ScoredUsers> {
        guard(|| {
            let m = &self.inner;
            let user = m.user_index(user_id as i64)?;
            let top = m.similar_users(user, n as usize, &self.index())?;
            Ok(ScoredUsers {
                user_ids: Float64Array::new(
                    top.iter().map(|s| m.users.raw(s.item) as f64).collect(),
                ),
                scores: Float32Array::new(top.iter().map(|s| s.score).collect()),
            })
        })
    }

    #[napi]
    pub fn explain(&self, user_id: f64, movie_id: f64, top: u32) -> Result<ExplanationJs> {
        guard(|| {
            let m = &self.inner;
            let e = m.explain(
                m.user_index(user_id as i64)?,
                m.item_index(movie_id as i64)?,
                top as usize,
                &self.index(),
            )?;
            Ok(ExplanationJs {
                score: e.score as f64,
                global_mean: e.global_mean as f64,
                user_bias: e.user_bias as f64,
                movie_bias: e.movie_bias as f64,
                genre_part: e.genre_part as f64,
                latent_part: e.latent_part as f64,
                refit_personal: e.refit_personal as f64,
                contributions: e
                    .contributions
                    .iter()
                    .map(|c| ContributionJs {
                        movie_id: m.items.raw(c.item) as f64,
                        rating: c.rating as f64,
                        points: c.points as f64,
                        share: c.share as f64,
                    })
                    .collect(),
            })
        })
    }

    #[napi]
    pub fn vector_norms(&self, n: u32, min_ratings: u32) -> Result<VectorNorms> {
        guard(|| {
            let m = &self.inner;
            let (largest, smallest) = m.vector_norms(n as usize, min_ratings, &self.index())?;
            Ok(VectorNorms {
                largest: scored_movies(m, &largest),
                smallest: scored_movies(m, &smallest),
            })
        })
    }

    #[napi]
    pub fn movie_map(&self, min_ratings: u32) -> Result<MovieMapJs> {
        guard(|| {
            let m = &self.inner;
            let map = m.movie_map(min_ratings, &self.index())?;
            Ok(MovieMapJs {
                movie_ids: Float64Array::new(
                    map.items.iter().map(|&i| m.items.raw(i) as f64).collect(),
                ),
                x: Float32Array::new(map.x),
                y: Float32Array::new(map.y),
                explained: map.explained.to_vec(),
            })
        })
    }

    #[napi(ts_return_type = "Promise<Model>")]
    pub fn partial_fit(
        &self,
        user_ids: Float64Array,
        movie_ids: Float64Array,
        ratings: Float32Array,
    ) -> AsyncTask<PartialFitTask> {
        AsyncTask::new(PartialFitTask {
            model: self.inner.clone(),
            ratings: new_ratings(&user_ids, &movie_ids, &ratings),
        })
    }

    #[napi]
    pub fn partial_fit_sync(
        &self,
        user_ids: Float64Array,
        movie_ids: Float64Array,
        ratings: Float32Array,
    ) -> Result<Model> {
        guard(|| {
            self.inner
                .partial_fit(&new_ratings(&user_ids, &movie_ids, &ratings))
                .map(Model::new)
        })
    }

    #[napi(ts_return_type = "Promise<RankingMetrics>")]
    pub fn ranking_metrics(
        &self,
        test: &Dataset,
        k: u32,
        threshold: f64,
        cancel: Option<&CancelToken>,
    ) -> AsyncTask<RankingTask> {
        AsyncTask::new(RankingTask {
            model: self.inner.clone(),
            index: self.index.clone(),
            test: test.inner.clone(),
            k: k as usize,
            threshold: threshold as f32,
            cancel: cancel.map(|c| c.inner.clone()).unwrap_or_default(),
        })
    }

    #[napi]
    pub fn ranking_metrics_sync(
        &self,
        test: &Dataset,
        k: u32,
        threshold: f64,
    ) -> Result<RankingMetricsJs> {
        guard(|| {
            ranking::ranking_metrics(
                &self.inner,
                &test.inner,
                k as usize,
                threshold as f32,
                &self.index(),
                &CoreCancel::new(),
            )
            .map(Into::into)
        })
    }

    /// Writes the model file atomically (temporary file, fsync, rename).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn save(&self, path: String) -> AsyncTask<SaveTask> {
        AsyncTask::new(SaveTask {
            model: self.inner.clone(),
            path: path.into(),
        })
    }

    #[napi]
    pub fn save_sync(&self, path: String) -> Result<()> {
        guard(|| modelfile::save(&self.inner, std::path::Path::new(&path)))
    }

    /// Writes factors and biases into `dir` as 'csv' or 'npy'; returns the file names.
    #[napi]
    pub fn export_factors(&self, dir: String, format: String) -> Result<Vec<String>> {
        guard(|| {
            let format = match format.as_str() {
                "csv" => ExportFormat::Csv,
                "npy" => ExportFormat::Npy,
                other => {
                    return Err(CoreError::invalid_argument(format!(
                        "format must be 'csv' or 'npy' (got '{other}')"
                    )))
                }
            };
            export::export(&self.inner, std::path::Path::new(&dir), format)
        })
    }
}
