//! The worker pools long-running calls run on, one per thread count.
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};

/// The most worker threads a call may ask for: more than any machine alsrec targets has cores,
/// and few enough that a hostile `threads` cannot exhaust the process table.
pub const MAX_THREADS: usize = 256;

/// The rayon pool a call with this `threads` option runs on (all cores when `None`). Pools are
/// reused (the few most recently used counts are kept), so a per-call `threads` is honoured
/// without paying for thread creation on every query; calls sharing a count share its workers.
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
    // Most recently used first, a few at most: a caller cycling through thread counts must not
    // keep 1 + 2 + … + 256 idle threads alive (a dropped pool's threads end with its last user).
    type Pools = Vec<(usize, Arc<rayon::ThreadPool>)>;
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    const KEPT: usize = 4;
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(at) = pools.iter().position(|(count, _)| *count == n) {
        let entry = pools.remove(at);
        pools.insert(0, entry.clone());
        return Ok(entry.1);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("alsrec-{i}"))
        .build()
        .map_err(|e| Error::internal(format!("could not start {n} worker threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(0, (n, pool.clone()));
    pools.truncate(KEPT);
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_reused_bounded_and_few() {
        let a = thread_pool(Some(3)).unwrap();
        assert!(Arc::ptr_eq(&a, &thread_pool(Some(3)).unwrap()));
        assert_eq!(a.current_num_threads(), 3);
        for n in [5, 6, 7, 9] {
            thread_pool(Some(n)).unwrap();
        }
        // Four newer counts pushed 3 out of the cache: a new pool, the old one dropped with `a`.
        assert!(!Arc::ptr_eq(&a, &thread_pool(Some(3)).unwrap()));
        for bad in [0, MAX_THREADS + 1, usize::MAX] {
            let e = thread_pool(Some(bad)).unwrap_err();
            assert!(e.message.contains("from 1 to 256"), "{}", e.message);
        }
    }
}
