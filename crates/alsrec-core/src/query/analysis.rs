//! The source material's looks at the movie vectors: the longest and shortest ones
//! ("polarizing" and bland movies) and a 2-D map by principal components.
use nalgebra::{DMatrix, SymmetricEigen};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::options::check_n;
use crate::query::stats::QueryStats;
use crate::query::topn::Scored;

/// Rows per partial sum: fixed, so the covariance is the same for any thread count.
const CHUNK: usize = 1024;

pub struct MovieMap {
    pub items: Vec<u32>,
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    /// Fraction of the variance each axis explains.
    pub explained: [f64; 2],
}

impl Model {
    fn movies_with(&self, min_ratings: u32, index: &QueryStats) -> Vec<u32> {
        (0..self.num_items() as u32)
            .filter(|&i| index.item_counts[i as usize] >= min_ratings)
            .collect()
    }

    /// The `n` movies with the largest and the `n` with the smallest vector norm, among those
    /// with at least `min_ratings` training ratings. Scores are the norms.
    pub fn vector_norms(
        &self,
        n: usize,
        min_ratings: u32,
        index: &QueryStats,
    ) -> Result<(Vec<Scored>, Vec<Scored>)> {
        check_n(n)?;
        let mut all: Vec<Scored> = self
            .movies_with(min_ratings, index)
            .into_iter()
            .map(|i| Scored::new(i, index.item_norms[i as usize]))
            .collect();
        all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
        let largest = all.iter().take(n).copied().collect();
        let smallest = all.iter().rev().take(n).copied().collect();
        Ok((largest, smallest))
    }

    /// The movie vectors projected on their first two principal components.
    pub fn movie_map(&self, min_ratings: u32, index: &QueryStats) -> Result<MovieMap> {
        let k = self.k;
        if k < 2 {
            return Err(Error::invalid_argument(
                "a 2-D map needs at least 2 latent factors",
            ));
        }
        let items = self.movies_with(min_ratings, index);
        if items.len() < 2 {
            return Err(Error::invalid_argument(format!(
                "a map needs at least 2 movies with {min_ratings} or more ratings"
            )));
        }
        let count = items.len() as f64;
        let partial = |f: &(dyn Fn(&[f32], &mut [f64]) + Sync), width: usize| -> Vec<f64> {
            let parts: Vec<Vec<f64>> = items
                .par_chunks(CHUNK)
                .map(|chunk| {
                    let mut acc = vec![0f64; width];
                    for &i in chunk {
                        f(self.item_vector(i as usize), &mut acc);
                    }
                    acc
                })
                .collect();
            parts.iter().fold(vec![0f64; width], |mut a, p| {
                a.iter_mut().zip(p).for_each(|(x, y)| *x += y);
                a
            })
        };
        let sum = partial(
            &|v, acc| acc.iter_mut().zip(v).for_each(|(a, &x)| *a += x as f64),
            k,
        );
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let cov = partial(
            &|v, acc| {
                for a in 0..k {
                    let da = v[a] as f64 - mean[a];
                    for b in a..k {
                        acc[a * k + b] += da * (v[b] as f64 - mean[b]);
                    }
                }
            },
            k * k,
        );
        let c = DMatrix::from_fn(k, k, |a, b| {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            cov[lo * k + hi] / count
        });
        let eig = SymmetricEigen::new(c);
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let total: f64 = eig.eigenvalues.iter().map(|e| e.max(0.0)).sum();
        let axis = |j: usize| -> Vec<f64> {
            let col = eig.eigenvectors.column(order[j]);
            // Fix the sign (an eigenvector's sign is arbitrary): largest component positive.
            let big = col
                .iter()
                .copied()
                .fold(0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            let sign = if big < 0.0 { -1.0 } else { 1.0 };
            col.iter().map(|x| x * sign).collect()
        };
        let (ax, ay) = (axis(0), axis(1));
        let project = |axis: &[f64]| -> Vec<f32> {
            items
                .par_iter()
                .map(|&i| {
                    let v = self.item_vector(i as usize);
                    (0..k)
                        .map(|d| (v[d] as f64 - mean[d]) * axis[d])
                        .sum::<f64>() as f32
                })
                .collect()
        };
        let explained = |j: usize| {
            if total > 0.0 {
                eig.eigenvalues[order[j]].max(0.0) / total
            } else {
                0.0
            }
        };
        Ok(MovieMap {
            x: project(&ax),
            y: project(&ay),
            explained: [explained(0), explained(1)],
            items,
        })
    }
}
