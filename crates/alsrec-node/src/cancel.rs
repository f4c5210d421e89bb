use napi_derive::napi;

/// A cancellation flag shared with running tasks; the TypeScript layer raises it when the
/// caller's AbortSignal fires.
#[napi]
#[derive(Default)]
pub struct CancelToken {
    pub(crate) inner: alsrec_core::CancelToken,
}

#[napi]
impl CancelToken {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

/// The core token behind an optional JavaScript one (a fresh token nobody raises).
pub(crate) fn token(cancel: Option<&CancelToken>) -> alsrec_core::CancelToken {
    cancel.map(|c| c.inner.clone()).unwrap_or_default()
}
