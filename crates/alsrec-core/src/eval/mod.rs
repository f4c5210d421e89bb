//! How good a model is on held-out ratings: rating errors and ranking metrics of its lists.
pub mod overlap;
pub mod ranking;
pub mod rating;
