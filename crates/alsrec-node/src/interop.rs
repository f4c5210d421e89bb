//! Spark interop: Parquet files and Spark `ALSModel` folders (all logic in
//! `alsrec_core::interop`; this converts).
use std::sync::Mutex;

use alsrec_core::interop::{parquet, spark};
use alsrec_core::Model as CoreModel;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dataset::Dataset;
use crate::model::Model;
use crate::task::{spawn, CoreTask};

fn layout_name(l: spark::Layout) -> String {
    match l {
        spark::Layout::Plain => "plain",
        spark::Layout::Augmented => "augmented",
    }
    .to_string()
}

/// What `exportSpark` wrote.
#[napi(object, object_from_js = false)]
pub struct SparkExport {
    /// The rank Spark sees: k + 2 for models with biases (`augmented`), k for implicit ones.
    pub rank: u32,
    /// "augmented" (u′ = [u, b_u, 1], v′ = [v, 1, μ + c_n]) or "plain".
    pub layout: String,
    pub users: u32,
    pub movies: u32,
}

/// Writes the model as a Spark `ALSModel` folder (atomically; an existing `dir` only when
/// `force`).
#[napi(ts_return_type = "Promise<SparkExport>")]
pub fn export_spark(model: &Model, dir: String, force: bool) -> AsyncTask<CoreTask<SparkExport>> {
    let model = model.inner.clone();
    spawn(None, move |_| {
        spark::export_spark(&model, dir.as_ref(), force).map(|e| SparkExport {
            rank: e.rank as u32,
            layout: layout_name(e.layout),
            users: e.users as u32,
            movies: e.movies as u32,
        })
    })
}

#[napi(object)]
pub struct SparkImportOptions {
    /// A catalog file (movies.csv, …) for titles and genres.
    pub movies: Option<String>,
    /// A folder without alsrec.json holds an implicit model (Spark's implicitPrefs).
    pub implicit: Option<bool>,
    /// Spark's regParam of a folder without alsrec.json (fold-in regularization).
    pub reg_param: Option<f64>,
    /// Spark's alpha of an implicit folder without alsrec.json.
    pub alpha: Option<f64>,
}

#[napi(object, object_from_js = false)]
pub struct SparkImportReport {
    pub rank: u32,
    pub layout: String,
    pub users: u32,
    pub movies: u32,
    pub part_files: u32,
    pub ratings: u32,
    pub ratings_dropped: u32,
    /// What trained the model, from alsrec.json ("alsrec", "spark"); null without it.
    pub engine: Option<String>,
}

/// An imported model and what the import read; `takeModel` hands the model over once.
#[napi]
pub struct SparkImport {
    model: Mutex<Option<CoreModel>>,
    report: spark::ImportReport,
}

#[napi]
impl SparkImport {
    #[napi(getter)]
    pub fn report(&self) -> SparkImportReport {
        let r = &self.report;
        SparkImportReport {
            rank: r.rank as u32,
            layout: layout_name(r.layout),
            users: r.users as u32,
            movies: r.movies as u32,
            part_files: r.part_files as u32,
            ratings: r.ratings as u32,
            ratings_dropped: r.ratings_dropped as u32,
            engine: r.engine.clone(),
        }
    }

    #[napi]
    pub fn take_model(&self) -> Result<Model> {
        self.model
            .lock()
            .ok()
            .and_then(|mut m| m.take())
            .map(Model::new)
            .ok_or_else(|| {
                Error::from_reason("[ALSREC_INTERNAL] the imported model was taken already")
            })
    }
}

/// Reads a Spark `ALSModel` folder; `ratings` (the training ratings) mark seen movies.
#[napi(ts_return_type = "Promise<SparkImport>")]
pub fn import_spark(
    dir: String,
    ratings: Option<&Dataset>,
    options: Option<SparkImportOptions>,
) -> AsyncTask<CoreTask<SparkImport>> {
    let ratings = ratings.map(|d| d.inner.clone());
    let o = options.unwrap_or(SparkImportOptions {
        movies: None,
        implicit: None,
        reg_param: None,
        alpha: None,
    });
    spawn(None, move |_| {
        let options = spark::ImportOptions {
            ratings: ratings.as_deref(),
            movies: o.movies.map(Into::into),
            implicit: o.implicit.unwrap_or(false),
            reg_param: o.reg_param.map(|x| x as f32),
            alpha: o.alpha.map(|x| x as f32),
        };
        spark::import_spark(dir.as_ref(), &options).map(|(model, report)| SparkImport {
            model: Mutex::new(Some(model)),
            report,
        })
    })
}

/// Writes the dataset's ratings as a Parquet file (atomically).
#[napi(ts_return_type = "Promise<void>")]
pub fn write_ratings_parquet(data: &Dataset, path: String) -> AsyncTask<CoreTask<()>> {
    let data = data.inner.clone();
    spawn(None, move |_| parquet::write_ratings(&data, path.as_ref()))
}

/// Writes the dataset's catalog as a Parquet file (atomically).
#[napi(ts_return_type = "Promise<void>")]
pub fn write_catalog_parquet(data: &Dataset, path: String) -> AsyncTask<CoreTask<()>> {
    let data = data.inner.clone();
    spawn(None, move |_| parquet::write_catalog(&data, path.as_ref()))
}

/// `sparkPlan`'s result: the resolved config as JSON and MLlib's parameters.
#[napi(object, object_from_js = false)]
pub struct SparkPlan {
    pub config_json: String,
    pub reg_param: f64,
    pub bias_damping: f64,
    pub notes: Vec<String>,
}

/// The MLlib run of a training config (JSON, as `train` takes it) on `train`.
#[napi]
pub fn spark_plan(config_json: String, train: &Dataset) -> Result<SparkPlan> {
    crate::error::guard(|| {
        let config = alsrec_core::model::config::TrainConfig::from_json(&config_json)?;
        let plan = spark::spark_plan(&config, &train.inner)?;
        Ok(SparkPlan {
            config_json: serde_json::to_string(&plan.config)
                .map_err(|e| alsrec_core::Error::internal(e.to_string()))?,
            reg_param: plan.reg_param as f64,
            bias_damping: plan.bias_damping as f64,
            notes: plan.notes,
        })
    })
}

#[napi(object, object_from_js = false)]
pub struct RatingErrors {
    pub rmse: f64,
    pub mae: f64,
}

/// RMSE and MAE of a model on a dataset matched by raw ids (an imported model's ids differ).
#[napi]
pub fn rating_errors_by_id(model: &Model, data: &Dataset) -> RatingErrors {
    let (rmse, mae) = spark::errors_by_id(&model.inner, &data.inner);
    RatingErrors { rmse, mae }
}
