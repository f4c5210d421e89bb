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

impl Csr {
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

    /// The value at (r, c), by binary search in the sorted row.
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
}
