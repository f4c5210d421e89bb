//! A set of ratings with its id maps, catalog and both sparse layouts.
use std::sync::Arc;

use crate::data::catalog::Catalog;
use crate::data::ids::IdMap;
use crate::data::report::LoadReport;
use crate::data::sparse::{Csr, RowOrder};

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

#[derive(Debug, Clone)]
pub struct Dataset {
    /// Shared between a dataset and its splits, so indices mean the same in all of them.
    pub users: Arc<IdMap>,
    pub items: Arc<IdMap>,
    pub catalog: Arc<Catalog>,
    pub triplets: Triplets,
    pub by_user: Csr,
    pub by_item: Csr,
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
    pub fn from_order(
        users: Arc<IdMap>,
        items: Arc<IdMap>,
        catalog: Arc<Catalog>,
        triplets: Triplets,
        report: LoadReport,
        order: RowOrder,
    ) -> Self {
        let by_user = order.gather(items.len(), &triplets.items, &triplets.ratings);
        // The permutation is as large as the ratings: free it before the second layout.
        drop(order);
        let by_item = by_user.transpose();
        Dataset {
            users,
            items,
            catalog,
            triplets,
            by_user,
            by_item,
            report,
        }
    }

    /// A dataset of the given rows that keeps this one's id maps and catalog.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        let triplets = self.triplets.select(rows);
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

    pub fn num_ratings(&self) -> usize {
        self.triplets.len()
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
        if self.triplets.is_empty() {
            return 0.0;
        }
        self.triplets.ratings.iter().map(|&r| r as f64).sum::<f64>() / self.triplets.len() as f64
    }
}
