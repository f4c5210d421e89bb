//! The one place where core errors and panics become JavaScript errors.
//!
//! napi-rs gives every thrown error the code of its `Status`; ours carry their own code as a
//! `[ALSREC_…]` prefix of the message, which the TypeScript layer moves to `err.code`.
use std::panic::{catch_unwind, AssertUnwindSafe};

use alsrec_core::{Error as CoreError, ErrorKind};

pub fn to_napi(err: CoreError) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("[{}] {}", err.kind.code(), err.message),
    )
}

/// Runs `f`, turning a panic into an `ALSREC_INTERNAL` error so it can never abort Node.
pub fn guard<T>(f: impl FnOnce() -> alsrec_core::Result<T>) -> napi::Result<T> {
    quiet_panics();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(to_napi),
        Err(payload) => Err(to_napi(CoreError::new(
            ErrorKind::Internal,
            format!(
                "internal error (a bug in alsrec): {}",
                panic_message(&payload)
            ),
        ))),
    }
}

/// A panic reaches the caller as an `ALSREC_INTERNAL` error that carries its message; the
/// default hook would also print it with a backtrace on stderr, which a CLI user reads as a
/// crash. `ALSREC_DEBUG=1` keeps the default output for debugging.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("ALSREC_DEBUG").is_none() {
            std::panic::set_hook(Box::new(|_| {}));
        }
    });
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
