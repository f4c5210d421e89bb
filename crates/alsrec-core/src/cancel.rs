//! Cooperative cancellation and progress hooks shared by every long-running operation.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

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

/// The most worker threads a call may ask for: more than any machine alsrec targets has cores,
/// and few enough that a hostile `threads` cannot exhaust the process table.
pub const MAX_THREADS: usize = 256;

/// The rayon pool a call with this `threads` option runs on (all cores when `None`). Pools are
/// built once per thread count and reused, so a per-call `threads` is honoured without paying
/// for thread creation on every query; calls sharing a count share its workers.
pub fn thread_pool(threads: Option<usize>) -> Result<Arc<rayon::ThreadPool>> {
    let n = match threads {
        Some(n) if (1..=MAX_THREADS).contains(&n) => n,
        Some(n) => {
            return Err(Error::invalid_argument(format!(
                "threads must be a whole number from 1 to {MAX_THREADS} (got {n})"
            )))
        }
        None => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(MAX_THREADS),
    };
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(pool) = pools.get(&n) {
        return Ok(pool.clone());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("alsrec-{i}"))
        .build()
        .map_err(|e| Error::internal(format!("could not start {n} worker threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(n, pool.clone());
    Ok(pool)
}
