//! Compressed sparse rows. The same type serves as CSR by user and, built from swapped
//! triplets, as CSC by movie.
use rayon::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct Csr {
    /// Row `r` owns `indices[indptr[r]..indptr[r + 1]]`.
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Values,
    pub ncols: usize,
}

/// A sparse matrix's values. A ratings file holds few distinct values (a half-star scale has
/// ten), so when there are at most 256 they are kept as one-byte codes into a table of the
/// values themselves: a quarter of the bytes, and decoding (one load from a 1 KiB table) gives
/// back the very f32 that was stored, so everything computed from them is bit-identical. Any
/// other set of values (a continuous scale, many distinct counts) stays as f32s.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Coded {
        /// Distinct values in ascending bit order; entries past the last are 0 and unused.
        table: Box<[f32; 256]>,
        codes: Vec<u8>,
    },
    Plain(Vec<f32>),
}

impl Default for Values {
    fn default() -> Self {
        Values::Plain(Vec::new())
    }
}

/// Values per chunk of the parallel scan for distinct values.
const DISTINCT_CHUNK: usize = 1 << 16;

/// The distinct bit patterns of `v`, sorted, or None past 256 of them. Bits, not values: -0.0
/// and 0.0 are both kept as themselves.
fn distinct_bits(v: &[f32]) -> Option<Vec<u32>> {
    let sets: Option<Vec<Vec<u32>>> = v
        .par_chunks(DISTINCT_CHUNK)
        .map(|chunk| {
            let mut seen: Vec<u32> = Vec::new();
            let mut last = None;
            for x in chunk {
                let b = x.to_bits();
                // Runs of one value are common (a user's ratings sorted by movie are not, but
                // a file's ratings repeat): skip the search for them.
                if last == Some(b) {
                    continue;
                }
                last = Some(b);
                if !seen.contains(&b) {
                    if seen.len() == 256 {
                        return None;
                    }
                    seen.push(b);
                }
            }
            Some(seen)
        })
        .collect();
    let mut all: Vec<u32> = sets?.into_iter().flatten().collect();
    all.sort_unstable();
    all.dedup();
    (all.len() <= 256).then_some(all)
}

/// Bit pattern → code, by open addressing in 1024 slots (at most 256 keys, so a key is
/// almost always in its first slot): a lookup costs one multiply and one predictable compare,
/// where a binary search over the table mispredicts about every other step on shuffled ratings.
struct Encoder {
    /// Key + 1 (0 = empty), and the key's code.
    slots: Vec<(u64, u8)>,
}

impl Encoder {
    const BITS: u32 = 10;

    fn home(bits: u32) -> usize {
        (bits.wrapping_mul(0x9E37_79B9) >> (32 - Self::BITS)) as usize
    }

    /// `keys`: at most 256 distinct patterns; key j gets code j.
    fn new(keys: &[u32]) -> Encoder {
        let mut slots = vec![(0u64, 0u8); 1 << Self::BITS];
        for (code, &k) in keys.iter().enumerate() {
            let mut i = Self::home(k);
            while slots[i].0 != 0 {
                i = (i + 1) & ((1 << Self::BITS) - 1);
            }
            slots[i] = (k as u64 + 1, code as u8);
        }
        Encoder { slots }
    }

    /// The code of a pattern among the keys (one not among them stops at an empty slot, 0).
    #[inline(always)]
    fn code(&self, bits: u32) -> u8 {
        let mut i = Self::home(bits);
        loop {
            let (k, c) = self.slots[i];
            if k == bits as u64 + 1 || k == 0 {
                return c;
            }
            i = (i + 1) & ((1 << Self::BITS) - 1);
        }
    }
}

impl Values {
    /// `v` coded when that is lossless (at most 256 distinct values), else as it is.
    pub fn new(v: Vec<f32>) -> Values {
        let Some(bits) = distinct_bits(&v) else {
            return Values::Plain(v);
        };
        let mut table = Box::new([0f32; 256]);
        for (slot, &b) in table.iter_mut().zip(&bits) {
            *slot = f32::from_bits(b);
        }
        let encoder = Encoder::new(&bits);
        let codes = v.par_iter().map(|x| encoder.code(x.to_bits())).collect();
        Values::Coded { table, codes }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::Coded { codes, .. } => codes.len(),
            Values::Plain(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_coded(&self) -> bool {
        matches!(self, Values::Coded { .. })
    }

    /// Bytes held (the table included).
    pub fn bytes(&self) -> usize {
        match self {
            Values::Coded { codes, .. } => codes.len() + 256 * 4,
            Values::Plain(v) => v.len() * 4,
        }
    }

    #[inline(always)]
    pub fn get(&self, j: usize) -> f32 {
        match self {
            Values::Coded { table, codes } => table[codes[j] as usize],
            Values::Plain(v) => v[j],
        }
    }

    #[inline(always)]
    pub fn slice(&self, start: usize, end: usize) -> RowValues<'_> {
        match self {
            Values::Coded { table, codes } => RowValues::Coded(table, &codes[start..end]),
            Values::Plain(v) => RowValues::Plain(&v[start..end]),
        }
    }

    pub fn all(&self) -> RowValues<'_> {
        self.slice(0, self.len())
    }

    /// Every value, decoded.
    pub fn iter(&self) -> RowIter<'_> {
        self.all().iter()
    }

    pub fn to_vec(&self) -> Vec<f32> {
        self.all().to_vec()
    }

    /// The values at `positions`, in that order, in the same form (coded with the same table).
    pub fn gather(&self, positions: &[u32]) -> Values {
        match self {
            Values::Coded { table, codes } => Values::Coded {
                table: table.clone(),
                codes: positions.par_iter().map(|&p| codes[p as usize]).collect(),
            },
            Values::Plain(v) => {
                Values::Plain(positions.par_iter().map(|&p| v[p as usize]).collect())
            }
        }
    }

    /// The values at the positions `positions` yields (`count` of them), in the same form.
    pub fn select(&self, count: usize, positions: impl Iterator<Item = usize>) -> Values {
        match self {
            Values::Coded { table, codes } => {
                let mut out = Vec::with_capacity(count);
                out.extend(positions.map(|p| codes[p]));
                Values::Coded {
                    table: table.clone(),
                    codes: out,
                }
            }
            Values::Plain(v) => {
                let mut out = Vec::with_capacity(count);
                out.extend(positions.map(|p| v[p]));
                Values::Plain(out)
            }
        }
    }
}

/// One row's values: a view of [`Values`].
#[derive(Debug, Clone, Copy)]
pub enum RowValues<'a> {
    Coded(&'a [f32; 256], &'a [u8]),
    Plain(&'a [f32]),
}

impl<'a> RowValues<'a> {
    #[inline(always)]
    pub fn len(self) -> usize {
        match self {
            RowValues::Coded(_, c) => c.len(),
            RowValues::Plain(v) => v.len(),
        }
    }

    #[inline(always)]
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    #[inline(always)]
    pub fn get(self, j: usize) -> f32 {
        match self {
            RowValues::Coded(t, c) => t[c[j] as usize],
            RowValues::Plain(v) => v[j],
        }
    }

    #[inline(always)]
    pub fn iter(self) -> RowIter<'a> {
        match self {
            RowValues::Coded(t, c) => RowIter::Coded(t, c.iter()),
            RowValues::Plain(v) => RowIter::Plain(v.iter()),
        }
    }

    pub fn to_vec(self) -> Vec<f32> {
        self.iter().collect()
    }

    /// Values `start..end` of this row.
    #[inline(always)]
    pub fn sub(self, start: usize, end: usize) -> RowValues<'a> {
        match self {
            RowValues::Coded(t, c) => RowValues::Coded(t, &c[start..end]),
            RowValues::Plain(v) => RowValues::Plain(&v[start..end]),
        }
    }
}

impl<'a> IntoIterator for RowValues<'a> {
    type Item = f32;
    type IntoIter = RowIter<'a>;
    #[inline(always)]
    fn into_iter(self) -> RowIter<'a> {
        self.iter()
    }
}

/// The decoded values of a [`RowValues`].
#[derive(Debug, Clone)]
pub enum RowIter<'a> {
    Coded(&'a [f32; 256], std::slice::Iter<'a, u8>),
    Plain(std::slice::Iter<'a, f32>),
}

impl Iterator for RowIter<'_> {
    type Item = f32;
    #[inline(always)]
    fn next(&mut self) -> Option<f32> {
        match self {
            RowIter::Coded(t, c) => c.next().map(|&x| t[x as usize]),
            RowIter::Plain(v) => v.next().copied(),
        }
    }
    #[inline(always)]
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            RowIter::Coded(_, c) => c.size_hint(),
            RowIter::Plain(v) => v.size_hint(),
        }
    }
}

impl ExactSizeIterator for RowIter<'_> {}

impl DoubleEndedIterator for RowIter<'_> {
    #[inline(always)]
    fn next_back(&mut self) -> Option<f32> {
        match self {
            RowIter::Coded(t, c) => c.next_back().map(|&x| t[x as usize]),
            RowIter::Plain(v) => v.next_back().copied(),
        }
    }
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
        let values = Values::new(self.gather_column(vals));
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
        let (indptr, indices, values) = match &self.values {
            Values::Coded { table, codes } => {
                let (p, i, c) = self.transpose_with(codes);
                (
                    p,
                    i,
                    Values::Coded {
                        table: table.clone(),
                        codes: c,
                    },
                )
            }
            Values::Plain(v) => {
                let (p, i, v) = self.transpose_with(v);
                (p, i, Values::Plain(v))
            }
        };
        Csr {
            indptr,
            indices,
            values,
            ncols: self.nrows(),
        }
    }

    /// The transpose's indptr, indices and `vals` (this matrix's values, in its entry order).
    fn transpose_with<T: Copy + Default + Send + Sync>(
        &self,
        vals: &[T],
    ) -> (Vec<usize>, Vec<u32>, Vec<T>) {
        let n = self.ncols;
        let mut indptr = vec![0usize; n + 1];
        for &c in &self.indices {
            indptr[c as usize + 1] += 1;
        }
        for c in 0..n {
            indptr[c + 1] += indptr[c];
        }
        let mut indices = vec![0u32; self.nnz()];
        let mut values = vec![T::default(); self.nnz()];
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
                let (s, e) = (self.indptr[r], self.indptr[r + 1]);
                for (&c, &v) in self.indices[s..e].iter().zip(&vals[s..e]) {
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
        (indptr, indices, values)
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
        sort_rows(&indptr, &mut indices, &mut values);
        Csr {
            indptr,
            indices,
            values: Values::new(values),
            ncols,
        }
    }

    pub fn nrows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    #[inline(always)]
    pub fn row(&self, r: usize) -> (&[u32], RowValues<'_>) {
        let (s, e) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[s..e], self.values.slice(s, e))
    }

    pub fn row_len(&self, r: usize) -> usize {
        self.indptr[r + 1] - self.indptr[r]
    }

    /// The value at (r, c), by binary search in the sorted row (tests read single entries).
    #[cfg(test)]
    pub fn get(&self, r: usize, c: u32) -> Option<f32> {
        let (idx, val) = self.row(r);
        idx.binary_search(&c).ok().map(|i| val.get(i))
    }
}

/// Sorts each row's (index, value) pairs by index, rows in parallel.
fn sort_rows(indptr: &[usize], indices: &mut [u32], values: &mut [f32]) {
    let nrows = indptr.len() - 1;
    let bounds: Vec<(usize, usize)> = (0..nrows).map(|r| (indptr[r], indptr[r + 1])).collect();
    // Split the flat arrays into per-row slices so rows sort in parallel without locks.
    let mut idx_rows: Vec<&mut [u32]> = Vec::with_capacity(bounds.len());
    let mut val_rows: Vec<&mut [f32]> = Vec::with_capacity(bounds.len());
    let (mut idx_rest, mut val_rest) = (indices, values);
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
            let mut pairs: Vec<(u32, f32)> = idx.iter().copied().zip(val.iter().copied()).collect();
            pairs.sort_unstable_by_key(|p| p.0);
            for (i, (c, v)) in pairs.into_iter().enumerate() {
                idx[i] = c;
                val[i] = v;
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_sorted_rows_from_unordered_triplets() {
        let csr = Csr::from_triplets(3, 4, &[2, 0, 2, 0], &[3, 1, 0, 0], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(csr.indptr, vec![0, 2, 2, 4]);
        let row = |r: usize| (csr.row(r).0.to_vec(), csr.row(r).1.to_vec());
        assert_eq!(row(0), (vec![0u32, 1], vec![4.0f32, 2.0]));
        assert_eq!(csr.row(1).0.len(), 0);
        assert_eq!(row(2), (vec![0u32, 3], vec![3.0f32, 1.0]));
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

    /// Distinct bit patterns of `v`.
    fn distinct(v: &[f32]) -> usize {
        let mut b: Vec<u32> = v.iter().map(|x| x.to_bits()).collect();
        b.sort_unstable();
        b.dedup();
        b.len()
    }

    fn assert_round_trip(v: &[f32]) {
        let values = Values::new(v.to_vec());
        assert_eq!(values.len(), v.len());
        // Coded exactly when that is lossless.
        assert_eq!(
            values.is_coded(),
            distinct(v) <= 256,
            "{} distinct",
            distinct(v)
        );
        let back = values.to_vec();
        for (j, (a, b)) in v.iter().zip(&back).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "entry {j}: {a} came back as {b}");
            assert_eq!(values.get(j).to_bits(), a.to_bits());
        }
        if let Values::Coded { codes, .. } = &values {
            assert_eq!(values.bytes(), codes.len() + 1024);
        }
    }

    /// A property test (seeded, so reproducible; proptest is not a dependency here): value
    /// sets of every kind a ratings file may hold round-trip bit for bit, and are coded only
    /// when at most 256 distinct values make that lossless.
    #[test]
    fn values_round_trip_every_f32_exactly_and_are_coded_only_when_lossless() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(17);
        for trial in 0..300 {
            let n = rng.random_range(0..3000usize);
            let kind = trial % 8;
            let top = rng.random_range(2..400u32);
            let v: Vec<f32> = (0..n)
                .map(|_| match kind {
                    // Half stars, 0.5 to 5.
                    0 => rng.random_range(1..=10u32) as f32 * 0.5,
                    // Integers 1 to 10.
                    1 => rng.random_range(1..=10u32) as f32,
                    // Tenths (0.1 · k is not exact in binary: each must still come back as is).
                    2 => rng.random_range(0..=50u32) as f32 * 0.1,
                    // Implicit counts up to a few hundred (past 256 distinct: f32s).
                    3 => rng.random_range(1..=top) as f32,
                    // Negative and signed zeros (-0.0 and 0.0 differ in bits and stay apart).
                    4 => [-2.5f32, -1.0, -0.0, 0.0, 1.0, 37.0][rng.random_range(0..6usize)],
                    // Any finite f32: almost all distinct.
                    5 => loop {
                        let x = f32::from_bits(rng.random());
                        if x.is_finite() {
                            break x;
                        }
                    },
                    // Exactly at the edge: 256 distinct, then one more.
                    6 => rng.random_range(0..256u32) as f32 * 0.25 - 7.0,
                    _ => rng.random_range(0..257u32) as f32 * 0.25 - 7.0,
                })
                .collect();
            assert_round_trip(&v);
        }
        // Exactly 256 distinct values are coded; 257 are not.
        let edge: Vec<f32> = (0..256).map(|i| i as f32 * 0.3).collect();
        assert!(Values::new(edge.clone()).is_coded());
        assert_round_trip(&edge);
        let past: Vec<f32> = (0..257).map(|i| i as f32 * 0.3).collect();
        assert!(!Values::new(past.clone()).is_coded());
        assert_round_trip(&past);
        assert_round_trip(&[]);
    }

    #[test]
    fn coded_and_plain_layouts_hold_the_same_matrix() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        for scale in [0.5f32, 0.1, 1.0] {
            let n = 5000;
            let rows: Vec<u32> = (0..n).map(|_| rng.random_range(0..60)).collect();
            let cols: Vec<u32> = (0..n).map(|_| rng.random_range(0..90)).collect();
            let vals: Vec<f32> = (0..n)
                .map(|_| rng.random_range(1..=10u32) as f32 * scale)
                .collect();
            let coded = RowOrder::new(60, &rows, &cols).gather(90, &cols, &vals);
            assert!(coded.values.is_coded());
            let plain = Csr {
                values: Values::Plain(coded.values.to_vec()),
                ..coded.clone()
            };
            let (ct, pt) = (coded.transpose(), plain.transpose());
            assert!(ct.values.is_coded() && !pt.values.is_coded());
            assert_eq!(ct.indptr, pt.indptr);
            assert_eq!(ct.indices, pt.indices);
            assert_eq!(ct.values.to_vec(), pt.values.to_vec());
            for r in 0..60 {
                let (a, b) = (coded.row(r), plain.row(r));
                assert_eq!(a.0, b.0);
                assert_eq!(a.1.to_vec(), b.1.to_vec());
                assert_eq!(
                    a.1.iter().rev().collect::<Vec<_>>(),
                    b.1.iter().rev().collect::<Vec<_>>()
                );
                let s = a.1.len() / 2;
                assert_eq!(
                    a.1.sub(s, a.1.len()).to_vec(),
                    b.1.sub(s, b.1.len()).to_vec()
                );
            }
            // Selecting keeps the form.
            let picked = coded.values.select(3, [4usize, 0, 9].into_iter());
            assert!(picked.is_coded());
            assert_eq!(
                picked.to_vec(),
                [
                    coded.values.get(4),
                    coded.values.get(0),
                    coded.values.get(9)
                ]
            );
        }
    }
}
