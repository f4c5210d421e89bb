//! Training: a TrainConfig object in, a Model out; epochs reach JavaScript as `EpochRecord`s.

use alsrec_core::als::{self, epochs::TrainHooks};
use alsrec_core::model::config as core;
use alsrec_core::model::EpochStats;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::cancel::CancelToken;
use crate::config::TrainConfig;
use crate::dataset::Dataset;
use crate::error::guard;
use crate::model::Model;
use crate::reports::EpochRecord;
use crate::task::{spawn, CoreTask};

/// Progress callback: non-blocking with a bounded queue, so a busy event loop drops progress
/// records (they are all in `model.history`) instead of stalling or piling up behind training.
type ProgressFn = ThreadsafeFunction<EpochRecord, (), EpochRecord, Status, false, false, 16>;

fn core_config(config: TrainConfig) -> Result<core::TrainConfig> {
    guard(|| core::TrainConfig::try_from(config))
}

/// Trains off the JavaScript thread; `initial` warm-starts from a model's parameters.
#[napi(ts_return_type = "Promise<Model>")]
pub fn train(
    train: &Dataset,
    test: Option<&Dataset>,
    config: TrainConfig,
    #[napi(ts_arg_type = "((record: EpochRecord) => void) | undefined | null")] on_epoch: Option<
        ProgressFn,
    >,
    cancel: Option<&CancelToken>,
    initial: Option<&Model>,
) -> Result<AsyncTask<CoreTask<Model>>> {
    let config = core_config(config)?;
    let train = train.inner.clone();
    let test = test.map(|t| t.inner.clone());
    let initial = initial.map(|m| m.inner.clone());
    Ok(spawn(cancel, move |cancel| {
        let on_epoch = on_epoch.as_ref().map(|f| {
            Box::new(move |s: &EpochStats| {
                // Non-blocking: a slow listener must never stall training.
                f.call(
                    EpochRecord::from(s),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }) as als::epochs::EpochCallback
        });
        let hooks = TrainHooks {
            test: test.as_deref(),
            cancel: Some(cancel.clone()),
            on_epoch,
            initial: initial.as_deref(),
        };
        als::train(&train, &config, hooks).map(Model::new)
    }))
}

/// Trains on the calling thread; for scripts.
#[napi]
pub fn train_sync(
    train: &Dataset,
    test: Option<&Dataset>,
    config: TrainConfig,
    #[napi(ts_arg_type = "((record: EpochRecord) => void) | undefined | null")] on_epoch: Option<
        Function<EpochRecord, ()>,
    >,
    initial: Option<&Model>,
) -> Result<Model> {
    let config = core_config(config)?;
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
