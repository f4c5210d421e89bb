//! The numeric leaf: dense f32 kernels of a row solve (Gram products, Cholesky, triangular
//! solves, the CG products) and the one `dot`. Knows nothing of models or data.
pub mod cg;
pub mod dense;

pub use dense::dot;
