//! Questions asked of a trained model: top-N recommendations (one user or all), predictions,
//! similar movies and users. Top-N is by partial selection with a bounded heap: one comparison
//! per candidate once the heap is full, never a full sort.
pub mod analysis;
pub mod batch;
pub mod diversity;
pub mod filter;
pub mod options;
pub mod recommend;
pub mod scan;
pub mod series;
pub mod similar;
pub mod stats;
#[cfg(test)]
mod tests;
pub mod topn;
