//! Reading ratings and movie catalogs from disk.
pub mod movielens;

pub use movielens::{load_movielens, LoadOptions};
