//! napi-rs binding of alsrec-core. It converts types and errors and nothing else: every
//! computation, default and check lives in the core crate.
//!
//! Options come in as `#[napi(object)]` structs and `#[napi(string_enum)]` enums, one module per
//! domain (`config`, `ingest`, `split`, `query`, `generate`), each converting into its core type
//! with `From` / `TryFrom`. Results go out as napi objects converted from their core structs
//! (`reports`, and the classes in `dataset` and `model`). Every async export is a [`task::CoreTask`].
#![deny(clippy::all)]

pub mod cancel;
pub mod config;
pub mod dataset;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod interop;
pub mod model;
pub mod query;
pub mod reports;
pub mod split;
pub mod task;
pub mod testing;
pub mod train;
