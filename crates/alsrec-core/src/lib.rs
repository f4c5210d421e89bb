//! alsrec-core: everything alsrec computes, with no knowledge of Node.
//!
//! Data flows one way: files → [`ingest`] → [`Dataset`] (CSR + CSC, id maps) → [`split`] →
//! [`als::train`] → [`Model`] → [`query`].
pub mod als;
pub mod analysis;
pub mod cancel;
pub mod catalog;
pub mod checksum;
pub mod dataset;
pub mod error;
pub mod explain;
pub mod export;
pub mod factors;
pub mod files;
pub mod foldin;
pub mod generator;
pub mod ids;
pub mod ingest;
pub mod model;
pub mod modelfile;
pub mod newuser;
pub mod partial_fit;
pub mod query;
#[cfg(test)]
mod query_tests;
pub mod ranking;
pub mod robustness;
#[cfg(test)]
mod robustness_tests;
pub mod series;
pub mod sparse;
pub mod split;

pub use cancel::CancelToken;
pub use dataset::Dataset;
pub use error::{Error, ErrorKind, Result};
pub use model::Model;
