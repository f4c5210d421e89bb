//! Compressed sparse rows. The same type serves as CSR by user and, built from swapped
//! triplets, as CSC by movie.
use rayon::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct Csr {
    /// Row `r` owns `indices[indptr[r]..indptr[r + 1]]`.
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
    pub ncols: usize,
}

/// Entries grouped by row, each row ordered by (column, position in the input): the permutation
/// from which both sparse layouts are gathered, and on which duplicates sit side by side.
pub struct RowOrder {
    pub indptr: Vec<usize>,
    /// Input positions, row after row.
    pub order: Vec<u32>,
}

impl RowOrder {
    /// Counting sort by row (stable, so file order within a row), then each row sorted by
    /// column in parallel. No global sort: O(nnz + rows) plus short per-row sorts.
    pub fn new(nrows: usize, rows: &[u32], cols: &[u32]) -> RowOrder {
        assert!(
            rows.len() <= u32::MAX as usize,
            "more than 2^32 - 1 ratings"
        );
        let mut indptr = vec![0usize; nrows + 1];
        for &r in rows {
            indptr[r as usize + 1] += 1;
        }
        for r in 0..nrows {
            indptr[r + 1] += indptr[r];
        }
        let mut order = vec![0u32; rows.len()];
        let mut next = indptr[..nrows].to_vec();
        for (pos, &r) in rows.iter().enumerate() {
            let slot = &mut next[r as usize];
            order[*slot] = pos as u32;
            *slot += 1;
        }
        par_rows_mut(&indptr, &mut order, |_, row| {
            if row
                .windows(2)
                .any(|w| cols[w[0] as usize] > cols[w[1] as usize])
            {
                // Sort (column, position) keys packed in u64s: one lookup per entry instead
                // of one per comparison.
                let mut keys: Vec<u64> = row
                    .iter()
                    .map(|&p| ((cols[p as usize] as u64) << 32) | p as u64)
                    .collect();
                keys.sort_unstable();
                for (slot, k) in row.iter_mut().zip(keys) {
                    *slot = k as u32;
                }
            }
        });
        RowOrder { indptr, order }
    }

    /// The CSR these rows describe, gathering columns and values through the permutation.
    pub fn gather(&self, ncols: usize, cols: &[u32], vals: &[f32]) -> Csr {
        let indices = self.gather_column(cols);
        let values = self.gather_column(vals);
        Csr {
            indptr: self.indptr.clone(),
            indices,
            values,
            ncols,
        }
    }
}

impl RowOrder {
    /// One file-order column in this order (so a caller can free each column once gathered).
    pub fn gather_column<T: Copy + Send + Sync>(&self, column: &[T]) -> Vec<T> {
        self.order.par_iter().map(|&p| column[p as usize]).collect()
    }
}

/// Calls `f(row, slice)` for every row of a CSR-shaped array, in parallel over groups of rows
/// of similar total size. Each row is visited exactly once, so the result does not depend on
/// the thread count.
pub fn par_rows_mut<T: Send>(indptr: &[usize], data: &mut [T], f: impl Fn(usize, &mut [T]) + Sync) {
    let nrows = indptr.len() - 1;
    let target = (data.len() / (rayon::current_num_threads() * 16).max(1)).max(4096);
    let mut groups: Vec<(usize, usize, &mut [T])> = Vec::new();
    let mut rest = data;
    let mut first = 0;
    while first < nrows {
        let mut last = first + 1;
        while last < nrows && indptr[last] - indptr[first] < target {
            last += 1;
        }
        let (group, tail) = std::mem::take(&mut rest).split_at_mut(indptr[last] - indptr[first]);
        groups.push((first, last, group));
        rest = tail;
        first = last;
    }
    groups.into_par_iter().for_each(|(first, last, group)| {
        let base = indptr[first];
        for r in first..last {
            f(r, &mut group[indptr[r] - base..indptr[r + 1] - base]);
        }
    });
}

impl Csr {
    /// The same matrix with rows and columns swapped (CSR by user → CSC by movie). Rows of the
    /// result come out sorted because the source is scanned in row order.
    pub fn transpose(&self) -> Csr {
        let n = self.ncols;
        let mut indptr = vec![0usize; n + 1];
        for &c in &self.indices {
            indptr[c as usize + 1] += 1;
        }
        for c in 0..n {
            indptr[c + 1] += indptr[c];
        }
        let mut indices = vec![0u32; self.nnz()];
        let mut values = vec![0f32; self.nnz()];
        // Each task owns a contiguous range of output rows (so a disjoint part of the output)
        // and scans the whole source for its entries; the result is the same for any count.
        let tasks = rayon::current_num_threads().clamp(1, 64);
        let mut bounds = vec![0usize];
        for t in 1..tasks {
            let target = self.nnz() * t / tasks;
            let c = indptr.partition_point(|&x| x < target).min(n);
            bounds.push(c.max(*bounds.last().unwrap_or(&0)));
        }
        bounds.push(n);
        let mut parts = Vec::new();
        let (mut idx_rest, mut val_rest) = (&mut indices[..], &mut values[..]);
        for w in bounds.windows(2) {
            let len = indptr[w[1]] - indptr[w[0]];
            let (a, b) = std::mem::take(&mut idx_rest).split_at_mut(len);
            let (va, vb) = std::mem::take(&mut val_rest).split_at_mut(len);
            parts.push((w[0], w[1], a, va));
            idx_rest = b;
            val_rest = vb;
        }
        parts.into_par_iter().for_each(|(lo, hi, idx, val)| {
            let base = indptr[lo];
            let mut next: Vec<usize> = indptr[lo..hi].iter().map(|&x| x - base).collect();
            for r in 0..self.nrows() {
                let (cols, vals) = self.row(r);
                for (&c, &v) in cols.iter().zip(vals) {
                    let c = c as usize;
                    if c >= lo && c < hi {
                        let slot = &mut next[c - lo];
                        idx[*slot] = r as u32;
                        val[*slot] = v;
                        *slot += 1;
                    }
                }
            }
        });
        Csr {
            indptr,
            indices,
            values,
            ncols: self.nrows(),
        }
    }

    /// Builds from triplets by counting sort: O(nnz + rows), no global sort. Within a row the
    /// entries are then ordered by column, so the layout does not depend on input order.
    pub fn from_triplets(
        nrows: usize,
        ncols: usize,
        rows: &[u32],
        cols: &[u32],
        vals: &[f32],
    ) -> Csr {
        let mut indptr = vec![0usize; nrows + 1];
        for &r in rows {
            indptr[r as usize + 1] += 1;
        }
        for r in 0..nrows {
            indptr[r + 1] += indptr[r];
        }
        let nnz = rows.len();
        let mut indices = vec![0u32; nnz];
        let mut values = vec![0f32; nnz];
        let mut next = indptr[..nrows].to_vec();
        for ((&r, &c), &v) in rows.iter().zip(cols).zip(vals) {
            let slot = &mut next[r as usize];
            indices[*slot] = c;
            values[*slot] = v;
            *slot += 1;
        }
        let mut csr = Csr {
            indptr,
            indices,
            values,
            ncols,
        };
        csr.sort_rows();
        csr
    }

    fn sort_rows(&mut self) {
        let bounds: Vec<(usize, usize)> = (0..self.nrows())
            .map(|r| (self.indptr[r], self.indptr[r + 1]))
            .collect();
        // Split the flat arrays into per-row slices so rows sort in parallel without locks.
        let mut idx_rows: Vec<&mut [u32]> = Vec::with_capacity(bounds.len());
        let mut val_rows: Vec<&mut [f32]> = Vec::with_capacity(bounds.len());
        let (mut idx_rest, mut val_rest) = (&mut self.indices[..], &mut self.values[..]);
        for &(s, e) in &bounds {
            let (a, b) = std::mem::take(&mut idx_rest).split_at_mut(e - s);
            idx_rows.push(a);
            idx_rest = b;
            let (a, b) = std::mem::take(&mut val_rest).split_at_mut(e - s);
            val_rows.push(a);
            val_rest = b;
        }
        idx_rows
            .into_par_iter()
            .zip(val_rows)
            .for_each(|(idx, val)| {
                if idx.windows(2).all(|w| w[0] <= w[1]) {
                    return;
                }
                let mut pairs: Vec<(u32, f32)> =
                    idx.iter().copied().zip(val.iter().copied()).collect();
                pairs.sort_unstable_by_key(|p| p.0);
                for (i, (c, v)) in pairs.into_iter().enumerate() {
                    idx[i] = c;
                    val[i] = v;
                }
            });
    }

    pub fn nrows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (s, e) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[s..e], &self.values[s..e])
    }

    pub fn row_len(&self, r: usize) -> usize {
        self.indptr[r + 1] - self.indptr[r]
    }

    /// The value at (r, c), by binary search in the sorted row (tests read single entries).
    #[cfg(test)]
    pub fn get(&self, r: usize, c: u32) -> Option<f32> {
        let (idx, val) = self.row(r);
        idx.binary_search(&c).ok().map(|i| val[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_sorted_rows_from_unordered_triplets() {
        let csr = Csr::from_triplets(3, 4, &[2, 0, 2, 0], &[3, 1, 0, 0], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(csr.indptr, vec![0, 2, 2, 4]);
        assert_eq!(csr.row(0), (&[0u32, 1][..], &[4.0f32, 2.0][..]));
        assert_eq!(csr.row(1).0.len(), 0);
        assert_eq!(csr.row(2), (&[0u32, 3][..], &[3.0f32, 1.0][..]));
        assert_eq!(csr.get(2, 3), Some(1.0));
        assert_eq!(csr.get(1, 3), None);
    }

    #[test]
    fn row_order_and_transpose_agree_with_from_triplets() {
        let rows = [2u32, 0, 2, 0, 1, 2];
        let cols = [3u32, 1, 0, 0, 2, 1];
        let vals = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let by_row = RowOrder::new(3, &rows, &cols).gather(4, &cols, &vals);
        let expected = Csr::from_triplets(3, 4, &rows, &cols, &vals);
        assert_eq!(by_row.indptr, expected.indptr);
        assert_eq!(by_row.indices, expected.indices);
        assert_eq!(by_row.values, expected.values);
        let by_col = by_row.transpose();
        let expected = Csr::from_triplets(4, 3, &cols, &rows, &vals);
        assert_eq!(by_col.indptr, expected.indptr);
        assert_eq!(by_col.indices, expected.indices);
        assert_eq!(by_col.values, expected.values);
    }
}
