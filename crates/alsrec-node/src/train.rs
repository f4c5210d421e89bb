use std::sync::Arc;

use alsrec_core::als::{self, epochs::TrainHooks};
use alsrec_core::model::config::TrainConfig;
use alsrec_core::model::EpochStats;
use alsrec_core::{Dataset as CoreDataset, Model as CoreModel};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::cancel::CancelToken;
use crate::dataset::Dataset;
use crate::error::guard;
use crate::model::Model;

/// One epoch's figures, as given to `onEpoch` and kept in `model.history`.
#[napi(object)]
#[derive(Clone)]
pub struct EpochRecord {
    pub epoch: u32,
    pub train_rmse: f64,
    pub train_mae: f64,
    pub test_rmse: Option<f64>,
    pub test_mae: Option<f64>,
    pub loss: f64,
    pub seconds: f64,
}

impl From<&EpochStats> for EpochRecord {
    fn from(s: &EpochStats) -> Self {
        EpochRecord {
            epoch: s.epoch as u32,
            train_rmse: s.train_rmse,
            train_mae: s.train_mae,
            test_rmse: s.test_rmse,
            test_mae: s.test_mae,
            loss: s.loss,
            seconds: s.seconds,
        }
    }
}

/// Progress callback: non-blocking with a bounded queue, so a busy event loop drops progress
/// records (they are all in `model.history`) instead of stalling or piling up behind training.
type ProgressFn = ThreadsafeFunction<EpochRecord, (), EpochRecord, Status, false, false, 16>;

pub struct TrainTask {
    train: Arc<CoreDataset>,
    test: Option<Arc<CoreDataset>>,
    initial: Option<Arc<CoreModel>>,
    config: TrainConfig,
    on_epoch: Option<ProgressFn>,
    cancel: alsrec_core::CancelToken,
}

impl TrainTask {
    fn run(&self) -> alsrec_core::Result<CoreModel> {
        let on_epoch = self.on_epoch.as_ref().map(|f| {
            Box::new(move |s: &EpochStats| {
                // Non-blocking: a slow listener must never stall training.
                f.call(
                    EpochRecord::from(s),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }) as als::epochs::EpochCallback
        });
        let hooks = TrainHooks {
            test: self.test.as_deref(),
            cancel: Some(self.cancel.clone()),
            on_epoch,
            initial: self.initial.as_deref(),
        };
        als::train(&self.train, &self.config, hooks)
    }
}

impl Task for TrainTask {
    type Output = CoreModel;
    type JsValue = Model;
    fn compute(&mut self) -> Result<CoreModel> {
        guard(|| self.run())
    }
    fn resolve(&mut self, _env: Env, output: CoreModel) -> Result<Model> {
        Ok(Model::new(output))
    }
}

fn parse_config(config_json: &str) -> Result<TrainConfig> {
    guard(|| TrainConfig::from_json(config_json))
}

/// Trains off the JavaScript thread. `configJson` is a TrainConfig object as JSON; `initial`
/// warm-starts from a model's parameters.
#[napi(ts_return_type = "Promise<Model>")]
pub fn train(
    train: &Dataset,
    test: Option<&Dataset>,
    config_json: String,
    #[napi(ts_arg_type = "((record: EpochRecord) => void) | undefined | null")] on_epoch: Option<
        ProgressFn,
    >,
    cancel: Option<&CancelToken>,
    initial: Option<&Model>,
) -> Result<AsyncTask<TrainTask>> {
    let config = parse_config(&config_json)?;
    Ok(AsyncTask::new(TrainTask {
        train: train.inner.clone(),
        test: test.map(|t| t.inner.clone()),
        initial: initial.map(|m| m.inner.clone()),
        config,
        on_epoch,
        cancel: cancel.map(|c| c.inner.clone()).unwrap_or_default(),
    }))
}

/// Trains on the calling thread; for scripts.
#[napi]
pub fn train_sync(
    train: &Dataset,
    test: Option<&Dataset>,
    config_json: String,
    #[napi(ts_arg_type = "((record: EpochRecord) => void) | undefined | null")] on_epoch: Option<
        Function<EpochRecord, ()>,
    >,
    initial: Option<&Model>,
) -> Result<Model> {
    let config = parse_config(&config_json)?;
    let mut records = Vec::new();
    let model = guard(|| {
        let hooks = TrainHooks {
            test: test.map(|t| t.inner.as_ref()),
            cancel: None,
            on_epoch: Some(Box::new(|s: &EpochStats| {
                records.push(EpochRecord::from(s))
            })),
            initial: initial.map(|m| m.inner.as_ref()),
        };
        als::train(&train.inner, &config, hooks)
    })?;
    // The synchronous form reports the epochs once training ends: it holds the thread anyway.
    if let Some(cb) = on_epoch {
        for r in records {
            cb.call(r)?;
        }
    }
    Ok(Model::new(model))
}
