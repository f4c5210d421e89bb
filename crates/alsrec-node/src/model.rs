use std::sync::{Arc, OnceLock};

use alsrec_core::api::AllLists;
use alsrec_core::eval::ranking;
use alsrec_core::foldin::partial_fit::{NewMovie as CoreNewMovie, NewRatings};
use alsrec_core::model::export::{self, ExportFormat as CoreExportFormat};
use alsrec_core::model::file as modelfile;
use alsrec_core::query::stats::QueryStats;
use alsrec_core::query::topn::Scored;
use alsrec_core::{CancelToken as CoreCancel, Model as CoreModel};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::cancel::CancelToken;
use crate::dataset::{ids_js, raw_ids, CatalogColumns, Dataset};
use crate::error::guard;
use crate::query::{resolve, RecommendOptions};
use crate::reports::{EpochRecord, RankingMetrics};
use crate::task::{spawn, CoreTask};

/// Built on the first query that needs it (counts, norms, scale), then shared by the model's
/// handle and its tasks.
type StatsCell = Arc<OnceLock<Arc<QueryStats>>>;

fn stats(model: &CoreModel, cell: &StatsCell) -> Arc<QueryStats> {
    cell.get_or_init(|| Arc::new(QueryStats::new(model)))
        .clone()
}

#[napi]
pub struct Model {
    pub(crate) inner: Arc<CoreModel>,
    index: StatsCell,
}

impl Model {
    pub(crate) fn new(model: CoreModel) -> Self {
        Model {
            inner: Arc::new(model),
            index: Arc::default(),
        }
    }

    fn index(&self) -> Arc<QueryStats> {
        stats(&self.inner, &self.index)
    }
}

/// What a 'bayesian' model learned of its precisions, averaged over the kept sweeps.
#[napi(object, object_from_js = false)]
pub struct PosteriorSummary {
    /// λ: 1 / the variance of a rating around its prediction.
    pub noise_precision: f64,
    /// γ of the user and of the movie biases.
    pub user_bias_precision: f64,
    pub movie_bias_precision: f64,
    /// The mean diagonal of the user and of the movie vector prior's precision Λ (τ's counterpart).
    pub user_vector_precision: f64,
    pub movie_vector_precision: f64,
    /// Sweeps averaged (epochs − burnIn).
    pub samples: u32,
}

/// The file format of `exportFactors`.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// users.csv and movies.csv: id, bias and factors per row.
    Csv,
    /// NumPy .npy arrays of ids, factors and biases.
    Npy,
}

impl From<ExportFormat> for CoreExportFormat {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Csv => CoreExportFormat::Csv,
            ExportFormat::Npy => CoreExportFormat::Npy,
        }
    }
}

/// How many ratings of a set are the model's own training ratings (matched by raw ids).
#[napi(object, object_from_js = false)]
pub struct TrainingOverlap {
    /// Ratings in the set.
    pub ratings: u32,
    /// Of those, the (user, movie) pairs the model was trained on.
    pub seen: u32,
}

fn overlap(model: &CoreModel, data: &alsrec_core::Dataset) -> TrainingOverlap {
    TrainingOverlap {
        ratings: data.num_ratings() as u32,
        seen: model.count_seen(data) as u32,
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

fn scored_movies(m: &CoreModel, top: &[Scored]) -> ScoredMovies {
    ScoredMovies {
        movie_ids: Float64Array::new(top.iter().map(|s| m.items.raw(s.item) as f64).collect()),
        scores: Float32Array::new(top.iter().map(|s| s.score).collect()),
        ratings: Float32Array::new(top.iter().map(|s| s.rating).collect()),
    }
}

/// Top-N of every user as flat typed arrays: row r holds user `userIds[r]`'s `n` best.
#[napi(object, object_from_js = false)]
pub struct RecommendAllResult {
    /// The row length: the requested n, at most the number of movies.
    pub n: u32,
    pub user_ids: Float64Array,
    /// userIds.length × n movie ids, best first; NaN where a user has fewer candidates.
    pub movie_ids: Float64Array,
    /// What each list is ranked by (see `Recommendation.score`).
    pub scores: Float32Array,
    /// Predicted ratings clamped to the rating scale; NaN where the model predicts none or a list is short.
    pub ratings: Float32Array,
}

impl From<AllLists> for RecommendAllResult {
    fn from(lists: AllLists) -> Self {
        RecommendAllResult {
            n: lists.n as u32,
            user_ids: ids_js(&lists.user_ids),
            movie_ids: Float64Array::new(
                lists
                    .movie_ids
                    .iter()
                    .map(|i| i.map_or(f64::NAN, |i| i as f64))
                    .collect(),
            ),
            scores: Float32Array::new(lists.scores),
            ratings: Float32Array::new(lists.ratings),
        }
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

/// 2-D coordinates of the movie vectors on their first two principal components.
#[napi(object, object_from_js = false)]
pub struct MovieMap {
    pub movie_ids: Float64Array,
    pub x: Float32Array,
    pub y: Float32Array,
    /// Fraction of the variance along x and along y.
    pub explained: (f64, f64),
}

fn new_ratings(user_ids: &[f64], movie_ids: &[f64], ratings: &[f32]) -> NewRatings {
    NewRatings {
        user_ids: user_ids.iter().map(|&u| u as i64).collect(),
        movie_ids: movie_ids.iter().map(|&i| i as i64).collect(),
        ratings: ratings.to_vec(),
    }
}

/// A new movie's catalog entry for `partialFit`: its title, and its genres by name from the
/// model's vocabulary (the genre model draws its vector toward them).
#[napi(object)]
pub struct NewMovie {
    pub movie_id: f64,
    pub title: String,
    pub genres: Vec<String>,
}

fn new_movies(movies: Option<Vec<NewMovie>>) -> Vec<CoreNewMovie> {
    movies
        .unwrap_or_default()
        .into_iter()
        .map(|m| CoreNewMovie {
            id: m.movie_id as i64,
            title: m.title,
            genres: m.genres,
        })
        .collect()
}

fn ids_of(ids: &[f64]) -> Vec<i64> {
    ids.iter().map(|&i| i as i64).collect()
}

/// Reads a model file off the JavaScript thread, checking magic, version, sizes and checksum.
#[napi(ts_return_type = "Promise<Model>")]
pub fn load_model(path: String) -> AsyncTask<CoreTask<Model>> {
    spawn(None, move |_| {
        modelfile::load(path.as_ref()).map(Model::new)
    })
}

#[napi]
pub fn load_model_sync(path: String) -> Result<Model> {
    guard(|| modelfile::load(path.as_ref()).map(Model::new))
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

    /// The resolved training config as the model file stores it (JSON).
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

    /// The epoch of `history` whose parameters the model holds: under `patience` the first
    /// epoch with the lowest test RMSE, otherwise the last (0 without history).
    #[napi(getter)]
    pub fn kept_epoch(&self) -> u32 {
        self.inner.kept_epoch() as u32
    }

    /// How many ratings of `data` are training ratings of this model, in one parallel pass off
    /// the JavaScript thread.
    #[napi(ts_return_type = "Promise<TrainingOverlap>")]
    pub fn training_overlap(&self, data: &Dataset) -> AsyncTask<CoreTask<TrainingOverlap>> {
        let (model, data) = (self.inner.clone(), data.inner.clone());
        spawn(None, move |_| Ok(overlap(&model, &data)))
    }

    #[napi]
    pub fn training_overlap_sync(&self, data: &Dataset) -> Result<TrainingOverlap> {
        guard(|| Ok(overlap(&self.inner, &data.inner)))
    }

    /// `data` without the model's training ratings (same id maps and catalog), off the
    /// JavaScript thread.
    #[napi(ts_return_type = "Promise<Dataset>")]
    pub fn without_training_ratings(&self, data: &Dataset) -> AsyncTask<CoreTask<Dataset>> {
        let (model, data) = (self.inner.clone(), data.inner.clone());
        spawn(None, move |_| Ok(Dataset::new(model.without_seen(&data).0)))
    }

    #[napi]
    pub fn without_training_ratings_sync(&self, data: &Dataset) -> Result<Dataset> {
        guard(|| Ok(Dataset::new(self.inner.without_seen(&data.inner).0)))
    }

    /// The catalog the model's movie ids refer to (kept in the model file).
    #[napi]
    pub fn catalog(&self) -> CatalogColumns {
        self.inner.catalog.columns().into()
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
    pub fn rating_range(&self) -> (f64, f64) {
        let (lo, hi) = self.index().rating_range;
        (lo as f64, hi as f64)
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

    /// Each movie's number of training ratings, in `movieIds()` order.
    #[napi]
    pub fn movie_rating_counts(&self) -> Uint32Array {
        Uint32Array::new(self.index().item_counts.clone())
    }

    #[napi]
    pub fn recommend(
        &self,
        user_id: f64,
        options: Option<RecommendOptions>,
    ) -> Result<ScoredMovies> {
        guard(|| {
            let m = &self.inner;
            let user = m.user_index(user_id as i64)?;
            let o = resolve(m, options)?;
            let top = m.recommend(user, &o, &self.index())?;
            Ok(scored_movies(m, &top))
        })
    }

    #[napi(ts_return_type = "Promise<RecommendAllResult>")]
    pub fn recommend_all(
        &self,
        options: Option<RecommendOptions>,
        cancel: Option<&CancelToken>,
    ) -> Result<AsyncTask<CoreTask<RecommendAllResult>>> {
        let options = guard(|| resolve(&self.inner, options))?;
        let (model, cell) = (self.inner.clone(), self.index.clone());
        Ok(spawn(cancel, move |cancel| {
            let lists = model.recommend_all(&options, &stats(&model, &cell), cancel)?;
            Ok(lists.into())
        }))
    }

    /// Top-N of these users (in the order given), as `recommendAll` lays them out.
    #[napi(ts_return_type = "Promise<RecommendAllResult>")]
    pub fn recommend_many(
        &self,
        user_ids: Float64Array,
        options: Option<RecommendOptions>,
        cancel: Option<&CancelToken>,
    ) -> Result<AsyncTask<CoreTask<RecommendAllResult>>> {
        let options = guard(|| resolve(&self.inner, options))?;
        let users = ids_of(&user_ids);
        let (model, cell) = (self.inner.clone(), self.index.clone());
        Ok(spawn(cancel, move |cancel| {
            let lists = model.recommend_users(&users, &options, &stats(&model, &cell), cancel)?;
            Ok(lists.into())
        }))
    }

    #[napi]
    pub fn recommend_many_sync(
        &self,
        user_ids: Float64Array,
        options: Option<RecommendOptions>,
    ) -> Result<RecommendAllResult> {
        guard(|| {
            let o = resolve(&self.inner, options)?;
            let lists = self.inner.recommend_users(
                &ids_of(&user_ids),
                &o,
                &self.index(),
                &CoreCancel::new(),
            )?;
            Ok(lists.into())
        })
    }

    #[napi]
    pub fn recommend_all_sync(
        &self,
        options: Option<RecommendOptions>,
    ) -> Result<RecommendAllResult> {
        guard(|| {
            let o = resolve(&self.inner, options)?;
            let lists = self
                .inner
                .recommend_all(&o, &self.index(), &CoreCancel::new())?;
            Ok(lists.into())
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
            self.inner
                .predict_by_id(&ids_of(&user_ids), &ids_of(&movie_ids))
                .map(Float32Array::new)
        })
    }

    /// The posterior standard deviation of each prediction (pairs as `predictMany`): a
    /// 'bayesian' model's uncertainty about the score. An error for other kinds.
    #[napi]
    pub fn prediction_spread(
        &self,
        user_ids: Float64Array,
        movie_ids: Float64Array,
    ) -> Result<Float32Array> {
        guard(|| {
            self.inner
                .prediction_spread_by_id(&ids_of(&user_ids), &ids_of(&movie_ids))
                .map(Float32Array::new)
        })
    }

    /// A 'bayesian' model's learned precisions (null for other kinds).
    #[napi(getter)]
    pub fn posterior(&self) -> Option<PosteriorSummary> {
        self.inner.posterior.as_ref().map(|p| {
            let k = self.inner.k;
            let diag =
                |m: &[f32]| (0..k).map(|d| m[d * k + d] as f64).sum::<f64>() / k.max(1) as f64;
            PosteriorSummary {
                noise_precision: p.noise_precision as f64,
                user_bias_precision: p.users.bias_precision as f64,
                movie_bias_precision: p.movies.bias_precision as f64,
                user_vector_precision: diag(&p.users.precision),
                movie_vector_precision: diag(&p.movies.precision),
                samples: p.samples as u32,
            }
        })
    }

    #[napi]
    pub fn recommend_for_new_user(
        &self,
        movie_ids: Float64Array,
        ratings: Float32Array,
        genres: Vec<String>,
        options: Option<RecommendOptions>,
    ) -> Result<ScoredMovies> {
        guard(|| {
            let m = &self.inner;
            let user = m.new_user_by_id(&ids_of(&movie_ids), &ratings, &genres)?;
            let o = resolve(m, options)?;
            let top = m.recommend_for_new_user(&user, &o, &self.index())?;
            Ok(scored_movies(m, &top))
        })
    }

    #[napi]
    pub fn similar_movies(
        &self,
        movie_id: f64,
        options: Option<RecommendOptions>,
    ) -> Result<ScoredMovies> {
        guard(|| {
            let m = &self.inner;
            let item = m.item_index(movie_id as i64)?;
            let o = resolve(m, options)?;
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
            Ok(explanation_js(m, &e))
        })
    }

    #[napi]
    pub fn explain_for_new_user(
        &self,
        movie_ids: Float64Array,
        ratings: Float32Array,
        genres: Vec<String>,
        movie_id: f64,
        top: u32,
    ) -> Result<ExplanationJs> {
        guard(|| {
            let m = &self.inner;
            let user = m.new_user_by_id(&ids_of(&movie_ids), &ratings, &genres)?;
            let e = m.explain_new_user(
                &user,
                m.item_index(movie_id as i64)?,
                top as usize,
                &self.index(),
            )?;
            Ok(explanation_js(m, &e))
        })
    }

    /// `explain_for_new_user` for several movies, folding the visitor in once.
    #[napi]
    pub fn explain_many_for_new_user(
        &self,
        movie_ids: Float64Array,
        ratings: Float32Array,
        genres: Vec<String>,
        explained_ids: Float64Array,
        top: u32,
    ) -> Result<Vec<ExplanationJs>> {
        guard(|| {
            let m = &self.inner;
            let user = m.new_user_by_id(&ids_of(&movie_ids), &ratings, &genres)?;
            let items = ids_of(&explained_ids)
                .iter()
                .map(|&id| m.item_index(id))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let explained = m.explain_new_user_many(&user, &items, top as usize, &self.index())?;
            Ok(explained.iter().map(|e| explanation_js(m, e)).collect())
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
    pub fn movie_map(&self, min_ratings: u32) -> Result<MovieMap> {
        guard(|| {
            let m = &self.inner;
            let map = m.movie_map(min_ratings, &self.index())?;
            Ok(MovieMap {
                movie_ids: Float64Array::new(
                    map.items.iter().map(|&i| m.items.raw(i) as f64).collect(),
                ),
                x: Float32Array::new(map.x),
                y: Float32Array::new(map.y),
                explained: (map.explained[0], map.explained[1]),
            })
        })
    }

    #[napi(ts_return_type = "Promise<Model>")]
    pub fn partial_fit(
        &self,
        user_ids: Float64Array,
        movie_ids: Float64Array,
        ratings: Float32Array,
        movies: Option<Vec<NewMovie>>,
    ) -> AsyncTask<CoreTask<Model>> {
        let (model, ratings, movies) = (
            self.inner.clone(),
            new_ratings(&user_ids, &movie_ids, &ratings),
            new_movies(movies),
        );
        spawn(None, move |_| {
            model.partial_fit_with(&ratings, &movies).map(Model::new)
        })
    }

    #[napi]
    pub fn partial_fit_sync(
        &self,
        user_ids: Float64Array,
        movie_ids: Float64Array,
        ratings: Float32Array,
        movies: Option<Vec<NewMovie>>,
    ) -> Result<Model> {
        let ratings = new_ratings(&user_ids, &movie_ids, &ratings);
        let movies = new_movies(movies);
        guard(|| {
            self.inner
                .partial_fit_with(&ratings, &movies)
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
    ) -> AsyncTask<CoreTask<RankingMetrics>> {
        let (model, cell, test) = (self.inner.clone(), self.index.clone(), test.inner.clone());
        spawn(cancel, move |cancel| {
            let index = stats(&model, &cell);
            ranking::ranking_metrics(&model, &test, k as usize, threshold as f32, &index, cancel)
                .map(Into::into)
        })
    }

    #[napi]
    pub fn ranking_metrics_sync(
        &self,
        test: &Dataset,
        k: u32,
        threshold: f64,
    ) -> Result<RankingMetrics> {
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
    pub fn save(&self, path: String) -> AsyncTask<CoreTask<()>> {
        let model = self.inner.clone();
        spawn(None, move |_| modelfile::save(&model, path.as_ref()))
    }

    #[napi]
    pub fn save_sync(&self, path: String) -> Result<()> {
        guard(|| modelfile::save(&self.inner, path.as_ref()))
    }

    /// Writes factors and biases into `dir`; returns the file names.
    #[napi]
    pub fn export_factors(&self, dir: String, format: ExportFormat) -> Result<Vec<String>> {
        guard(|| export::export(&self.inner, dir.as_ref(), format.into()))
    }
}

fn explanation_js(m: &CoreModel, e: &alsrec_core::foldin::explain::Explanation) -> ExplanationJs {
    ExplanationJs {
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
    }
}
