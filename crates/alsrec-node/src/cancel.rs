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
