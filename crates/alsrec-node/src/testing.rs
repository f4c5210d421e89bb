//! Exports that exist only so the tests can prove a panic never kills Node.
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::guard;
use crate::task::{spawn, CoreTask};

#[napi(js_name = "__panicForTest")]
pub fn panic_for_test(message: String) -> Result<()> {
    guard(|| panic!("{message}"))
}

#[napi(js_name = "__panicInTaskForTest", ts_return_type = "Promise<void>")]
pub fn panic_in_task_for_test(message: String) -> AsyncTask<CoreTask<()>> {
    spawn(None, move |_| panic!("{message}"))
}
