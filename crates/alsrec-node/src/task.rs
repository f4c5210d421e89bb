//! The one async task: any core call, run on the libuv pool under the panic guard with the
//! caller's cancel token. Each async export is `spawn(cancel, move |cancel| …)`.
use napi::bindgen_prelude::*;

use crate::cancel::{token, CancelToken};
use crate::error::guard;

type Job<T> = Box<dyn FnOnce(&alsrec_core::CancelToken) -> alsrec_core::Result<T> + Send>;

/// A core call off the JavaScript thread. The closure returns its value in JavaScript types
/// already (napi objects, classes, typed arrays), so resolving only hands it over.
pub struct CoreTask<T> {
    job: Option<Job<T>>,
    cancel: alsrec_core::CancelToken,
}

impl<T> Task for CoreTask<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        let job = self
            .job
            .take()
            .ok_or_else(|| Error::from_reason("[ALSREC_INTERNAL] a task was computed twice"))?;
        let cancel = &self.cancel;
        guard(|| job(cancel))
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}

/// `job` on the libuv pool, polling `cancel` (a fresh token when the caller gave none).
pub fn spawn<T, F>(cancel: Option<&CancelToken>, job: F) -> AsyncTask<CoreTask<T>>
where
    T: ToNapiValue + TypeName + Send + 'static,
    F: FnOnce(&alsrec_core::CancelToken) -> alsrec_core::Result<T> + Send + 'static,
{
    AsyncTask::new(CoreTask {
        job: Some(Box::new(job)),
        cancel: token(cancel),
    })
}
