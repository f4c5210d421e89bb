//! How good a model is on held-out ratings: ranking metrics of its lists.
pub mod ranking;
