//! What every long-running call shares: cancellation and the worker pools.
pub mod cancel;
pub mod pool;
