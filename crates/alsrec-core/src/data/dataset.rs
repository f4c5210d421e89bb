//! A set of ratings with its id maps, catalog and both sparse layouts.
//!
//! Memory (docs/architecture.md, "Rating storage"): the ratings are kept once per layout and
//! nothing else of size nnz but the file row of each entry and, when the source had them, its
//! timestamp. The file-order columns ([`Triplets`]) exist only while a set is built and, on
//! demand, for the few paths that walk the ratings in file order (splits, exports).
use std::sync::Arc;

use crate::data::catalog::Catalog;
use crate::data::ids::IdMap;
use crate::data::report::LoadReport;
use crate::data::sparse::{Csr, RowOrder, Values};

/// Ratings as parallel arrays of dense indices (coordinate form), in file order.
#[derive(Debug, Clone, Default)]
pub struct Triplets {
    pub users: Vec<u32>,
    pub items: Vec<u32>,
    pub ratings: Vec<f32>,
    /// Unix seconds; empty when the source had no timestamps.
    pub timestamps: Vec<i64>,
}

impl Triplets {
    pub fn len(&self) -> usize {
        self.ratings.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ratings.is_empty()
    }
    pub fn push(&mut self, user: u32, item: u32, rating: f32, timestamp: Option<i64>) {
        self.users.push(user);
        self.items.push(item);
        self.ratings.push(rating);
        if let Some(t) = timestamp {
            self.timestamps.push(t);
        }
    }
    pub fn reserve(&mut self, additional: usize, timestamps: bool) {
        self.users.reserve_exact(additional);
        self.items.reserve_exact(additional);
        self.ratings.reserve_exact(additional);
        if timestamps {
            self.timestamps.reserve_exact(additional);
        }
    }
    /// The subset at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Triplets {
        Triplets {
            users: rows.iter().map(|&i| self.users[i]).collect(),
            items: rows.iter().map(|&i| self.items[i]).collect(),
            ratings: rows.iter().map(|&i| self.ratings[i]).collect(),
            timestamps: if self.timestamps.is_empty() {
                Vec::new()
            } else {
                rows.iter().map(|&i| self.timestamps[i]).collect()
            },
        }
    }
}

/// Each rating's timestamp, in the by-user layout's order. Real timestamps span far less than
/// 2^32 seconds (136 years), so they are kept as u32 offsets from the earliest: half the bytes
/// of an i64, and exact. Wider spans keep the i64s.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Timestamps {
    #[default]
    None,
    Offsets {
        base: i64,
        offsets: Vec<u32>,
    },
    Full(Vec<i64>),
}

impl Timestamps {
    /// `stamps` (file order) gathered through `order` (entry → file row).
    fn gather(stamps: &[i64], order: &[u32]) -> Timestamps {
        if stamps.is_empty() {
            return Timestamps::None;
        }
        let lo = stamps.iter().copied().min().unwrap_or(0);
        let hi = stamps.iter().copied().max().unwrap_or(0);
        // i128: `hi - lo` of two arbitrary i64s can overflow an i64.
        if (hi as i128 - lo as i128) <= u32::MAX as i128 {
            Timestamps::Offsets {
                base: lo,
                offsets: order
                    .iter()
                    .map(|&p| (stamps[p as usize] as i128 - lo as i128) as u32)
                    .collect(),
            }
        } else {
            Timestamps::Full(order.iter().map(|&p| stamps[p as usize]).collect())
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Timestamps::None)
    }

    /// Entry `s`'s timestamp (of a set that has them).
    pub fn get(&self, s: usize) -> i64 {
        match self {
            Timestamps::None => 0,
            // In range by construction: base + offset is one of the original i64s.
            Timestamps::Offsets { base, offsets } => base + offsets[s] as i64,
            Timestamps::Full(v) => v[s],
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        match self {
            Timestamps::None => 0,
            Timestamps::Offsets { offsets, .. } => offsets.len() * 4,
            Timestamps::Full(v) => v.len() * 8,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Dataset {
    /// Shared between a dataset and its splits, so indices mean the same in all of them.
    pub users: Arc<IdMap>,
    pub items: Arc<IdMap>,
    pub catalog: Arc<Catalog>,
    /// Shared with the models trained on this set (their seen ratings), not copied.
    pub by_user: Arc<Csr>,
    pub by_item: Csr,
    /// The file row of each `by_user` entry; empty when entry s is file row s.
    file_rows: Vec<u32>,
    /// Each `by_user` entry's timestamp.
    timestamps: Timestamps,
    /// The mean rating, summed in file order when the set was built (as it always was).
    mean: f64,
    pub report: LoadReport,
}

impl Dataset {
    pub fn new(
        users: Arc<IdMap>,
        items: Arc<IdMap>,
        catalog: Arc<Catalog>,
        triplets: Triplets,
        report: LoadReport,
    ) -> Self {
        let order = RowOrder::new(users.len(), &triplets.users, &triplets.items);
        Self::from_order(users, items, catalog, triplets, report, order)
    }

    /// As `new`, with the user ordering already computed (the loader needs it for duplicates).
    /// Each file-order column is freed as soon as it is gathered into the layout, so the peak
    /// stays near the file-order columns' size instead of their sum with both layouts.
    pub fn from_order(
        users: Arc<IdMap>,
        items: Arc<IdMap>,
        catalog: Arc<Catalog>,
        triplets: Triplets,
        report: LoadReport,
        order: RowOrder,
    ) -> Self {
        let n = triplets.len();
        let mean = if n == 0 {
            0.0
        } else {
            triplets.ratings.iter().map(|&r| r as f64).sum::<f64>() / n as f64
        };
        let Triplets {
            users: rows,
            items: cols,
            ratings,
            timestamps,
        } = triplets;
        // The rows are in `order.indptr` now.
        drop(rows);
        let stamps = Timestamps::gather(&timestamps, &order.order);
        // Not shadowed but dropped: a shadowed Vec would live to the end of the function.
        drop(timestamps);
        let indices = order.gather_column(&cols);
        drop(cols);
        // Coded once in file order (one byte per rating when lossless), then gathered as codes.
        let ratings = Values::new(ratings);
        let values = ratings.gather(&order.order);
        drop(ratings);
        let RowOrder {
            indptr,
            order: file_rows,
        } = order;
        let identity = file_rows.iter().enumerate().all(|(s, &p)| p as usize == s);
        let by_user = Csr {
            indptr,
            indices,
            values,
            ncols: items.len(),
        };
        let by_item = by_user.transpose();
        Dataset {
            users,
            items,
            catalog,
            by_user: Arc::new(by_user),
            by_item,
            file_rows: if identity { Vec::new() } else { file_rows },
            timestamps: stamps,
            mean,
            report,
        }
    }

    /// The file row of `by_user` entry `s`.
    pub fn file_row(&self, s: usize) -> usize {
        if self.file_rows.is_empty() {
            s
        } else {
            self.file_rows[s] as usize
        }
    }

    /// Each `by_user` entry's timestamp ([`Timestamps::None`] when the source had none).
    pub fn timestamps(&self) -> &Timestamps {
        &self.timestamps
    }

    /// The ratings in file order, as columns. A copy of size nnz: for the paths that need the
    /// file's order (splits, exports), not for training.
    pub fn triplets(&self) -> Triplets {
        let n = self.num_ratings();
        let mut t = Triplets {
            users: vec![0; n],
            items: vec![0; n],
            ratings: vec![0.0; n],
            timestamps: if self.timestamps.is_empty() {
                Vec::new()
            } else {
                vec![0; n]
            },
        };
        let b = &self.by_user;
        for u in 0..b.nrows() {
            for s in b.indptr[u]..b.indptr[u + 1] {
                let p = self.file_row(s);
                t.users[p] = u as u32;
                t.items[p] = b.indices[s];
                t.ratings[p] = b.values.get(s);
                if !t.timestamps.is_empty() {
                    t.timestamps[p] = self.timestamps.get(s);
                }
            }
        }
        t
    }

    /// A dataset of these triplets that keeps this one's id maps, catalog and report.
    pub fn with_triplets(&self, triplets: Triplets) -> Dataset {
        let mut report = self.report.clone();
        report.rows_kept = triplets.len();
        Dataset::new(
            self.users.clone(),
            self.items.clone(),
            self.catalog.clone(),
            triplets,
            report,
        )
    }

    /// A dataset of the given rows (file rows, in that order) that keeps this one's id maps and
    /// catalog.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        self.with_triplets(self.triplets().select(rows))
    }

    /// Bytes held per rating (both layouts, file rows, timestamps; not the id maps or catalog).
    pub fn bytes_per_rating(&self) -> f64 {
        let n = self.num_ratings().max(1) as f64;
        let csr = |c: &Csr| c.indices.len() * 4 + c.values.bytes() + c.indptr.len() * 8;
        (csr(&self.by_user)
            + csr(&self.by_item)
            + self.file_rows.len() * 4
            + self.timestamps.bytes()) as f64
            / n
    }

    pub fn num_ratings(&self) -> usize {
        self.by_user.nnz()
    }

    /// Users with at least one rating here.
    pub fn num_active_users(&self) -> usize {
        (0..self.by_user.nrows())
            .filter(|&u| self.by_user.row_len(u) > 0)
            .count()
    }

    /// Movies with at least one rating here.
    pub fn num_active_items(&self) -> usize {
        (0..self.by_item.nrows())
            .filter(|&i| self.by_item.row_len(i) > 0)
            .count()
    }

    pub fn mean_rating(&self) -> f64 {
        self.mean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(t: Triplets, users: usize, items: usize) -> Dataset {
        Dataset::new(
            Arc::new(IdMap::from_raw((0..users as i64).collect())),
            Arc::new(IdMap::from_raw((0..items as i64).collect())),
            Arc::new(Catalog::new()),
            t,
            LoadReport::default(),
        )
    }

    #[test]
    fn file_order_columns_come_back_exactly() {
        let t = Triplets {
            users: vec![2, 0, 2, 1, 0],
            items: vec![1, 3, 0, 2, 0],
            ratings: vec![4.5, -1.25, 37.0, 0.1, 3.0],
            timestamps: vec![5, i64::MIN, 7, 8, 9],
        };
        let d = set(t.clone(), 3, 4);
        // A span past 2^32 seconds keeps the i64s.
        assert!(matches!(d.timestamps(), Timestamps::Full(_)));
        let back = d.triplets();
        assert_eq!(back.users, t.users);
        assert_eq!(back.items, t.items);
        assert_eq!(back.ratings, t.ratings);
        assert_eq!(back.timestamps, t.timestamps);
        let want = t.ratings.iter().map(|&r| r as f64).sum::<f64>() / 5.0;
        assert_eq!(d.mean_rating().to_bits(), want.to_bits());
        // A narrow span is kept as offsets, and still comes back exactly.
        let narrow = Triplets {
            timestamps: vec![1_700_000_000, -5, 1_600_000_000, 0, 3],
            ..t.clone()
        };
        let d = set(narrow.clone(), 3, 4);
        assert!(matches!(
            d.timestamps(),
            Timestamps::Offsets { base: -5, .. }
        ));
        assert_eq!(d.triplets().timestamps, narrow.timestamps);
        let sub = d.subset(&[4, 0, 2]);
        let s = sub.triplets();
        assert_eq!(s.users, [0, 2, 2]);
        assert_eq!(s.ratings, [3.0, 4.5, 37.0]);
        assert_eq!(s.timestamps, [3, 1_700_000_000, 1_600_000_000]);
    }

    #[test]
    fn a_set_in_layout_order_keeps_no_file_rows() {
        let t = Triplets {
            users: vec![0, 0, 1],
            items: vec![0, 2, 1],
            ratings: vec![1.0, 2.0, 3.0],
            timestamps: vec![],
        };
        let d = set(t.clone(), 2, 3);
        assert!(d.file_rows.is_empty());
        assert!(d.timestamps().is_empty());
        assert_eq!(d.triplets().ratings, t.ratings);
        assert_eq!(d.triplets().timestamps, Vec::<i64>::new());
    }
}
