use std::sync::Arc;

use alsrec_core::query::RecommendOptions;
use alsrec_core::Model as CoreModel;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::guard;
use crate::train::EpochRecord;

#[napi]
pub struct Model {
    pub(crate) inner: Arc<CoreModel>,
}

/// Top-N results as parallel typed arrays, best first.
#[napi(object, object_from_js = false)]
pub struct ScoredMovies {
    pub movie_ids: Float64Array,
    pub scores: Float32Array,
}

#[napi(object)]
pub struct RecommendOptionsJs {
    pub n: Option<u32>,
    pub exclude_seen: Option<bool>,
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

    #[napi]
    pub fn recommend(
        &self,
        user_id: f64,
        options: Option<RecommendOptionsJs>,
    ) -> Result<ScoredMovies> {
        guard(|| {
            let m = &self.inner;
            let user = m.user_index(user_id as i64)?;
            let mut o = RecommendOptions::default();
            if let Some(opts) = options {
                if let Some(n) = opts.n {
                    o.n = n as usize;
                }
                if let Some(e) = opts.exclude_seen {
                    o.exclude_seen = e;
                }
            }
            let top = m.recommend(user, &o)?;
            Ok(ScoredMovies {
                movie_ids: Float64Array::new(
                    top.iter().map(|s| m.items.raw(s.item) as f64).collect(),
                ),
                scores: Float32Array::new(top.iter().map(|s| s.score).collect()),
            })
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
}
