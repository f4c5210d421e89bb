//! alsrec-core: everything alsrec computes, with no knowledge of Node.
//!
//! Data flows one way: files → [`ingest`] → [`data::Dataset`] (CSR + CSC, id maps) →
//! [`data::split`] → [`als::train`] → [`model::Model`] → [`query`], [`foldin`] and [`eval`].
//! `docs/architecture.md` maps the folders; `docs/model.md` has the math.
pub mod als;
pub mod api;
pub mod data;
pub mod error;
pub mod eval;
pub mod foldin;
pub mod ingest;
pub mod interop;
pub mod io;
pub mod kernels;
pub mod model;
pub mod query;
pub mod robustness;
pub mod runtime;
pub mod schema;
pub mod synth;

pub use data::dataset::Dataset;
pub use error::{Error, ErrorKind, Result};
pub use model::Model;
pub use runtime::cancel::CancelToken;
