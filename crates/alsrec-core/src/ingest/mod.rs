//! Reading ratings and movie catalogs from disk.
pub mod catalog_files;
pub mod delimited;
pub mod format;
pub mod movielens;
pub mod numbers;

pub use catalog_files::read_catalog_file;
pub use format::{Column, ColumnMapping, RatingsFormat};
pub use movielens::{load_movielens, load_ratings, load_split, LoadOptions, OnBadRow};

#[cfg(test)]
mod tests;
