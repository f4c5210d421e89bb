//! Exports that exist only so the tests can prove a panic never kills Node.
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::guard;

#[napi(js_name = "__panicForTest")]
pub fn panic_for_test(message: String) -> Result<()> {
    guard(|| panic!("{message}"))
}

pub struct PanicTask(String);

impl Task for PanicTask {
    type Output = ();
    type JsValue = ();
    fn compute(&mut self) -> Result<()> {
        let message = self.0.clone();
        guard(|| panic!("{message}"))
    }
    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

#[napi(js_name = "__panicInTaskForTest")]
pub fn panic_in_task_for_test(message: String) -> AsyncTask<PanicTask> {
    AsyncTask::new(PanicTask(message))
}
