use std::path::PathBuf;

use alsrec_core::synth::{self, GenerateOptions};
use alsrec_core::CancelToken as CoreCancel;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::cancel::CancelToken;
use crate::error::guard;

fn parse_options(json: &str) -> Result<GenerateOptions> {
    guard(|| {
        let o: GenerateOptions = serde_json::from_str(json).map_err(|e| {
            alsrec_core::Error::invalid_argument(format!("invalid generate options: {e}"))
        })?;
        o.validate()?;
        Ok(o)
    })
}

fn run(
    out: &std::path::Path,
    options: &GenerateOptions,
    cancel: &CoreCancel,
) -> alsrec_core::Result<String> {
    let pool = alsrec_core::runtime::pool::thread_pool(options.threads)?;
    let report = pool.install(|| synth::generate(out, options, cancel))?;
    serde_json::to_string(&report).map_err(|e| alsrec_core::Error::internal(e.to_string()))
}

pub struct GenerateTask {
    out: PathBuf,
    options: GenerateOptions,
    cancel: CoreCancel,
}

impl Task for GenerateTask {
    type Output = String;
    type JsValue = String;
    fn compute(&mut self) -> Result<String> {
        guard(|| run(&self.out, &self.options, &self.cancel))
    }
    fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
        Ok(output)
    }
}

/// Writes a synthetic MovieLens-format set into `outDir`; resolves to the report as JSON.
#[napi(ts_return_type = "Promise<string>")]
pub fn generate(
    out_dir: String,
    options_json: String,
    cancel: Option<&CancelToken>,
) -> Result<AsyncTask<GenerateTask>> {
    let options = parse_options(&options_json)?;
    Ok(AsyncTask::new(GenerateTask {
        out: out_dir.into(),
        options,
        cancel: cancel.map(|c| c.inner.clone()).unwrap_or_default(),
    }))
}

#[napi]
pub fn generate_sync(out_dir: String, options_json: String) -> Result<String> {
    let options = parse_options(&options_json)?;
    guard(|| run(std::path::Path::new(&out_dir), &options, &CoreCancel::new()))
}
