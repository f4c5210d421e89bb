//! Cooperative cancellation and progress hooks shared by every long-running operation.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// A flag the caller may raise from another thread; long loops poll it between chunks of work.
#[derive(Clone, Default, Debug)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    /// `Err(Aborted)` once cancelled, so loops can use `?`.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::aborted())
        } else {
            Ok(())
        }
    }
}

/// Builds the rayon pool that a call runs on. Each call gets its own pool so that the `threads`
/// option is honoured and two concurrent trainings do not fight over the global pool.
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let n = match threads {
        Some(0) => {
            return Err(Error::invalid_argument(
                "threads must be at least 1 (got 0)",
            ))
        }
        Some(n) => n,
        None => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("alsrec-{i}"))
        .build()
        .map_err(|e| Error::internal(format!("could not start {n} worker threads: {e}")))
}
