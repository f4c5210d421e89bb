//! How a half-step's rows are spread over the worker threads.
use rayon::prelude::*;

use crate::data::sparse::Csr;

/// Solves rows in parallel over contiguous ranges of similar cost (`row_cost(row)`, ~32 ranges
/// per thread): popular movies cluster, and rayon's adaptive splitting alone
/// would leave one thread a long run of them. `solve(scratch, row, vector, bias)` gets the row's
/// `k` floats of `factors` and, when `bias` is not empty, its bias; when `sums` is not empty, its
/// slot there (what the row leaves for the epoch's metrics). Each row is solved once by one
/// thread, so results do not depend on the thread count.
#[allow(clippy::too_many_arguments)]
pub fn par_solve_rows<S, R: Send>(
    ratings: &Csr,
    row_cost: impl Fn(usize) -> usize,
    k: usize,
    factors: &mut [f32],
    bias: &mut [f32],
    sums: &mut [R],
    init: impl Fn() -> S + Sync + Send,
    solve: impl Fn(&mut S, usize, &mut [f32], Option<&mut f32>, Option<&mut R>) + Sync + Send,
) {
    let rows = ratings.nrows();
    assert_eq!(factors.len(), rows * k);
    assert!(bias.is_empty() || bias.len() == rows);
    assert!(sums.is_empty() || sums.len() == rows);
    let total: usize = (0..rows).map(&row_cost).sum();
    let target = (total / (rayon::current_num_threads() * 32)).max(1);
    let mut parts = Vec::new();
    let (mut rest_f, mut rest_b, mut rest_s) = (factors, bias, sums);
    let mut first = 0;
    while first < rows {
        let mut last = first;
        let mut cost = 0;
        while last < rows && (last == first || cost < target) {
            cost += row_cost(last);
            last += 1;
        }
        let (f, tail_f) = std::mem::take(&mut rest_f).split_at_mut((last - first) * k);
        let nb = if rest_b.is_empty() { 0 } else { last - first };
        let (b, tail_b) = std::mem::take(&mut rest_b).split_at_mut(nb);
        let ns = if rest_s.is_empty() { 0 } else { last - first };
        let (sm, tail_s) = std::mem::take(&mut rest_s).split_at_mut(ns);
        parts.push((first, last, f, b, sm));
        rest_f = tail_f;
        rest_b = tail_b;
        rest_s = tail_s;
        first = last;
    }
    parts
        .into_par_iter()
        .for_each_init(init, |scratch, (first, last, f, b, sm)| {
            for row in first..last {
                let x = &mut f[(row - first) * k..(row - first + 1) * k];
                solve(
                    scratch,
                    row,
                    x,
                    b.get_mut(row - first),
                    sm.get_mut(row - first),
                );
            }
        });
}
