//! Ratings in memory: id maps, the movie catalog, sparse layouts, datasets, splits and the
//! reports that say what a load or split did.
pub mod catalog;
pub mod columns;
pub mod dataset;
pub mod ids;
pub mod report;
pub mod sparse;
pub mod split;

/// The largest |value| a model file's float sections and a ratings file's ratings may hold.
/// Trained vectors, biases and ratings are far smaller; a bound this low keeps every score (sums
/// of up to 2·1024 + 1 products) and every norm finite, where a merely finite 1e37 would
/// overflow them to ∞ and NaN.
pub const MAX_ABS_VALUE: f32 = 1e6;
