//! napi-rs binding of alsrec-core. It converts types and errors and nothing else: every
//! computation lives in the core crate.
#![deny(clippy::all)]

pub mod cancel;
pub mod dataset;
pub mod error;
pub mod generate;
pub mod model;
pub mod testing;
pub mod train;
