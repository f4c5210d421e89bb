//! The numeric leaf: dense f32 kernels of a row solve (Gram products, Cholesky, triangular
//! solves, the CG products) and the one `dot`. Knows nothing of models or data.
//!
//! Every kernel has a portable body and, on x86-64, an AVX2 + FMA body; the Gram product, the
//! Cholesky factorization, the right-hand-side sums and the CG rank-8 update also have an AVX-512
//! body that gives the AVX2 bits. Which one runs is chosen once: [`isa::Isa::detected`] probes the
//! CPU on first use, and the resulting token is handed to every kernel call, so no call site
//! tests CPU features or holds an `unsafe` block of its own. A token exists only on a CPU that
//! has its features, which is what makes the kernels' internal `unsafe` calls sound. Every body
//! adds in a fixed order per row, so results never depend on the thread count; the portable body
//! may differ from the vector ones in the last bits (different summation trees).
pub mod cg;
pub mod dense;
pub mod isa;
