//! Conjugate gradient on the longest rows of an implicit half-step, all of them in lockstep,
//! tile by tile of the other side's matrix.
//!
//! A long row (a popular movie) has thousands of neighbours scattered over the other side's
//! matrix. Gathering them costs a memory round trip each, and the gathered block is too big to
//! stay in cache across CG steps; forming the row's system instead costs k² per rating. Here each
//! CG matrix product of all long rows together is one pass over the other side's matrix in tiles
//! that fit in L2 ([`TILE_BYTES`]): for each tile, every long row adds the part of its product
//! that comes from its neighbours in the tile. A row's neighbours are sorted, so its entries in a
//! tile are one contiguous run of its own ratings; nothing is copied or transposed.
//!
//! A row's product is summed tile after tile in a fixed order, whichever thread computes it, so
//! results do not depend on the thread count.

use rayon::prelude::*;

use super::step::ImplicitStep;
use crate::data::sparse::Csr;
use crate::kernels::cg::{indexed_apply, symmetric_matvec, IndexedRows, PassWeights};
use crate::kernels::dense::{axpy, dot};
use crate::kernels::isa::Isa;

/// Rows with fewer ratings are solved one by one: their gathered neighbours (≤ 256 KiB at k = 64)
/// stay in cache across CG steps.
pub const MIN_DEGREE: usize = 1024;

/// At most this many bytes of directions and products (2 kl-wide vectors per row), so that a
/// thread's share stays in L2 beside a tile; rows beyond it, shortest first, are solved one by
/// one. Fixed, not per thread, so the choice of rows does not depend on the thread count.
const STATE_BYTES: usize = 256 << 10;

/// Directions and products one range of a pass holds at most: a thread's share of L2 beside
/// the tile.
const RANGE_STATE_BYTES: usize = 128 << 10;

/// One tile of neighbour vectors: half of a 512 KiB L2.
const TILE_BYTES: usize = 256 << 10;

/// The rows to solve in lockstep: at least `min_degree` ratings, longest first while their state
/// fits [`STATE_BYTES`]; ascending.
pub fn long_rows(ratings: &Csr, kl: usize, min_degree: usize) -> Vec<u32> {
    let mut rows: Vec<u32> = (0..ratings.nrows() as u32)
        .filter(|&r| ratings.row_len(r as usize) >= min_degree.max(1))
        .collect();
    // Longest first; ties by index, so the choice is deterministic.
    rows.sort_unstable_by_key(|&r| (std::cmp::Reverse(ratings.row_len(r as usize)), r));
    rows.truncate(STATE_BYTES / (2 * kl.max(1) * 4));
    rows.sort_unstable();
    rows
}

/// A lockstep solve of one half-step's long rows.
pub struct Lockstep<'a> {
    /// The half-step: ratings (each row sorted by neighbour), the neighbours' vectors, k, λ, α.
    pub step: &'a ImplicitStep<'a>,
    /// k rounded up to whole 8-lane vectors.
    pub kl: usize,
    pub steps: usize,
    pub isa: Isa,
}

/// Where each long row's ratings fall in each tile.
struct Tiling {
    /// Neighbours per tile.
    tile_rows: usize,
    tiles: usize,
    /// Row i's entries in tile t: `ends[t * rows + i] .. ends[(t + 1) * rows + i]` (offsets
    /// into the row's own ratings), tile-major since a pass walks all rows of one tile.
    ends: Vec<u32>,
}

impl Lockstep<'_> {
    /// Runs `steps` CG steps on each of `rows`, warm-started from its vector in `start` (rows ×
    /// k), with the shared dense part `base` (kl × kl, zero padding): the same iteration as the
    /// one-row solver, with one tiled pass over the neighbours per matrix product. Returns the
    /// new vectors (rows × k), or None when cancelled.
    pub fn run(&self, rows: &[u32], base: &[f32], start: &[f32]) -> Option<Vec<f32>> {
        let (k, kl, n) = (self.step.k, self.kl, rows.len());
        if n == 0 {
            return Some(Vec::new());
        }
        let tiling = self.tiling(rows);
        let mut iterate = vec![0f32; n * kl];
        for (x, s) in iterate.chunks_exact_mut(kl).zip(start.chunks_exact(k)) {
            x[..k].copy_from_slice(s);
        }
        // r = b − A x: the neighbours' part (b and the confidence terms) in one pass, then the
        // dense part per row.
        let mut residual = vec![0f32; n * kl];
        self.pass(rows, &tiling, &iterate, true, &mut residual);
        let mut product = vec![0f32; kl];
        for (r, x) in residual.chunks_exact_mut(kl).zip(iterate.chunks_exact(kl)) {
            symmetric_matvec(self.isa, base, kl, x, &mut product);
            axpy(-1.0, &product, r);
        }
        let mut direction = residual.clone();
        let mut rr: Vec<f32> = residual.chunks_exact(kl).map(|r| dot(r, r)).collect();
        // Rows whose CG stopped early (converged, or no descent along the direction).
        let mut done: Vec<bool> = rr.iter().map(|&v| v <= 1e-20).collect();
        let mut products = vec![0f32; n * kl];
        for _ in 0..self.steps {
            if done.iter().all(|&d| d) || self.cancelled() {
                break;
            }
            self.pass(rows, &tiling, &direction, false, &mut products);
            for i in 0..n {
                if done[i] {
                    continue;
                }
                let row = i * kl..(i + 1) * kl;
                // A p = dense part · p + the neighbours' part just accumulated.
                symmetric_matvec(self.isa, base, kl, &direction[row.clone()], &mut product);
                axpy(1.0, &products[row.clone()], &mut product);
                let curvature = dot(&direction[row.clone()], &product);
                if curvature.is_nan() || curvature <= 0.0 {
                    done[i] = true;
                    continue;
                }
                let step = rr[i] / curvature;
                axpy(step, &direction[row.clone()], &mut iterate[row.clone()]);
                axpy(-step, &product, &mut residual[row.clone()]);
                let rr_next = dot(&residual[row.clone()], &residual[row.clone()]);
                let beta = rr_next / rr[i];
                for (p, &r) in direction[row.clone()]
                    .iter_mut()
                    .zip(&residual[row.clone()])
                {
                    *p = r + beta * *p;
                }
                rr[i] = rr_next;
                done[i] = rr_next <= 1e-20;
            }
        }
        if self.cancelled() {
            return None;
        }
        Some(
            iterate
                .chunks_exact(kl)
                .flat_map(|x| &x[..k])
                .copied()
                .collect(),
        )
    }

    fn cancelled(&self) -> bool {
        self.step.cancel.is_some_and(|c| c.is_cancelled())
    }

    fn tiling(&self, rows: &[u32]) -> Tiling {
        let tile_rows = (TILE_BYTES / (self.kl * 4)).max(8);
        let neighbours = self.step.other_factors.len() / self.step.k.max(1);
        let tiles = neighbours.div_ceil(tile_rows).max(1);
        let mut by_row = vec![0u32; rows.len() * (tiles + 1)];
        by_row
            .par_chunks_mut(tiles + 1)
            .zip(rows)
            .for_each(|(ends, &row)| {
                let (cols, _) = self.step.ratings.row(row as usize);
                debug_assert!(cols.windows(2).all(|w| w[0] <= w[1]));
                for (t, end) in ends.iter_mut().enumerate().skip(1) {
                    *end = cols.partition_point(|&c| (c as usize) < t * tile_rows) as u32;
                }
            });
        let n = rows.len();
        let mut ends = vec![0u32; n * (tiles + 1)];
        for (i, row_ends) in by_row.chunks_exact(tiles + 1).enumerate() {
            for (t, &e) in row_ends.iter().enumerate() {
                ends[t * n + i] = e;
            }
        }
        Tiling {
            tile_rows,
            tiles,
            ends,
        }
    }

    /// out[i] = Σ over row i's neighbours y of coef · y (see [`indexed_apply`]), with `dir` the
    /// rows' current iterates (`residual`) or CG directions.
    fn pass(&self, rows: &[u32], tiling: &Tiling, dir: &[f32], residual: bool, out: &mut [f32]) {
        let (k, kl, tiles) = (self.step.k, self.kl, tiling.tiles);
        let weights = PassWeights {
            lambda: self.step.lambda,
            alpha: self.step.alpha,
            residual,
        };
        let other = self.step.other_factors;
        // Row ranges of similar size, at least one per thread, each small enough to stay in L2
        // with a tile: each range walks all tiles, so a tile is read once per range.
        let ranges = rayon::current_num_threads()
            .max(rows.len().div_ceil(RANGE_STATE_BYTES / (2 * kl * 4)))
            .min(rows.len());
        let total: usize = rows
            .iter()
            .map(|&r| self.step.ratings.row_len(r as usize))
            .sum();
        let mut bounds = vec![0usize];
        let mut seen = 0;
        for (i, &r) in rows.iter().enumerate() {
            seen += self.step.ratings.row_len(r as usize);
            if seen * ranges >= total * bounds.len() && bounds.len() < ranges {
                bounds.push(i + 1);
            }
        }
        bounds.push(rows.len());
        bounds.dedup();
        let mut parts = Vec::new();
        let mut rest = out;
        for w in bounds.windows(2) {
            let (part, tail) = std::mem::take(&mut rest).split_at_mut((w[1] - w[0]) * kl);
            parts.push((w[0], part));
            rest = tail;
        }
        let padded = k != kl;
        parts.into_par_iter().for_each(|(first, out)| {
            out.fill(0.0);
            let count = out.len() / kl;
            // With k not a multiple of 8, each tile is copied into kl-wide rows first.
            let mut tile = if padded {
                vec![0f32; tiling.tile_rows * kl]
            } else {
                Vec::new()
            };
            for t in 0..tiles {
                let lo = t * tiling.tile_rows;
                let hi = ((t + 1) * tiling.tile_rows).min(other.len() / k.max(1));
                let source: &[f32] = if padded {
                    for (d, s) in tile
                        .chunks_exact_mut(kl)
                        .zip(other[lo * k..hi * k].chunks_exact(k))
                    {
                        d[..k].copy_from_slice(s);
                    }
                    &tile[..(hi - lo) * kl]
                } else {
                    &other[lo * k..hi * k]
                };
                for (i, o) in (first..first + count).zip(out.chunks_exact_mut(kl)) {
                    let n = rows.len();
                    let (start, end) = (
                        tiling.ends[t * n + i] as usize,
                        tiling.ends[(t + 1) * n + i] as usize,
                    );
                    if start == end {
                        continue;
                    }
                    let (cols, vals) = self.step.ratings.row(rows[i] as usize);
                    let tile_rows = IndexedRows {
                        m: source,
                        kl,
                        cols: &cols[start..end],
                        first: lo as u32,
                    };
                    indexed_apply(
                        self.isa,
                        tile_rows,
                        vals.sub(start, end),
                        weights,
                        &dir[i * kl..(i + 1) * kl],
                        o,
                    );
                }
            }
        });
    }
}
